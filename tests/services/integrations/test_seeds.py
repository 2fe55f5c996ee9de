"""The sample content: loaded by `cms-api seed`, idempotently, through the publishing service."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from cms_api.database import db
from cms_api.models import (
    Article,
    Faq,
    Person,
    PersonTranslation,
    PublishedDocument,
    RelatedLink,
    Topic,
    TopicTranslation,
)
from cms_api.services.integrations.seed_translations import reviews_in
from cms_api.services.integrations.seeds import SEEDS_DIRECTORY, SeedError, load_seeds

REFERENCE_RELATED = {
    "liver-rash",
    "ear-infection-headache",
    "lip-filler-swelling",
    "tmj-headache",
    "headache-with-ear-pain",
    "allergy-headache-relief",
}


def _snapshot() -> dict[str, object]:
    counts = {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (
            Article,
            Person,
            Topic,
            Faq,
            RelatedLink,
            PublishedDocument,
            TopicTranslation,
            PersonTranslation,
        )
    }
    documents = db.session.execute(
        select(
            PublishedDocument.kind,
            PublishedDocument.entity_id,
            PublishedDocument.etag,
            PublishedDocument.rendered_at,
        )
    ).all()
    return {"counts": counts, "documents": sorted(map(tuple, documents), key=str)}


def test_seed_command_twice_changes_nothing(app, runner):
    with app.app_context():
        before = _snapshot()

    result = runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    assert "nothing changed" in result.output
    with app.app_context():
        assert _snapshot() == before


def test_seed_files_cover_the_reference_page():
    article = yaml.safe_load(
        (SEEDS_DIRECTORY / "articles" / "headache-after-botox.yaml").read_text()
    )
    assert {link["target"] for link in article["related"]} == REFERENCE_RELATED
    assert len(article["faqs"]) >= 5
    causes = next(section for section in article["sections"] if section["key"] == "causes")
    assert [s["key"] for s in causes["subsections"]] == [
        "injection",
        "muscle-tension-changes",
        "immune-response",
        "procedure-stress",
    ]
    for slug in REFERENCE_RELATED:
        assert (SEEDS_DIRECTORY / "articles" / f"{slug}.yaml").exists()


def test_every_seeded_article_is_published_and_reviewed_by_a_non_author(app):
    with app.app_context():
        articles = db.session.scalars(select(Article)).all()
        assert len(articles) == 8  # seven originals and a Spanish translation
        for article in articles:
            assert article.status == "published"
            authors = {link.person_id for link in article.authorships}
            reviewers = {review.reviewer_id for review in article.reviews}
            assert reviewers and not authors & reviewers


def test_a_seed_naming_an_unknown_person_is_refused(app, tmp_path: Path):
    for name in ("people.yaml", "topics.yaml"):
        (tmp_path / name).write_text((SEEDS_DIRECTORY / name).read_text())
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "broken.yaml").write_text(
        yaml.safe_dump({"slug": "broken-article", "title": "Broken", "authors": ["nobody"]})
    )
    with app.app_context(), pytest.raises(SeedError, match="unknown person 'nobody'"):
        load_seeds(tmp_path)


def _seeded_translation() -> Article:
    return db.session.scalars(
        select(Article).where(Article.locale == "es", Article.slug == SPANISH)
    ).one()


SPANISH = "dolor-de-cabeza-despues-del-botox"


def test_the_spanish_translation_is_published_from_the_corrected_source(app):
    with app.app_context():
        translation = _seeded_translation()
        source = db.session.get(Article, translation.source_id)

        assert source is not None and source.slug == "headache-after-botox"
        assert source.locale == "en" and source.source_id is None
        # Made from what readers of the source read after its correction.
        assert source.live_revision == 2
        assert translation.source_revision == source.live_revision
        assert translation.status == "published"
        assert translation.live_revision == translation.revision_number == 1
        assert translation.published_at.isoformat() == "2026-11-18T09:00:00+00:00"
        # The parts shared by every language are the source's.
        assert translation.lead_image_id == source.lead_image_id is not None
        assert [link.person_id for link in translation.authorships] == [
            link.person_id for link in source.authorships
        ]
        assert [link.topic_id for link in translation.topic_links] == [
            link.topic_id for link in source.topic_links
        ]
        assert [(c.title, c.url) for c in translation.citations] == [
            (c.title, c.url) for c in source.citations
        ]
        # Its own text, FAQs and review, by a reviewer who reviews in Spanish.
        assert translation.title.startswith("Dolor de cabeza")
        faqs = db.session.scalars(select(Faq).where(Faq.article_id == translation.id)).all()
        assert len(faqs) == 6 and {faq.locale for faq in faqs} == {"es"}
        (review,) = translation.reviews
        assert review.reviewer.slug == "ines-valbuena-soto"
        assert review.reviewer.review_locales == ["es"]
        assert review.revision_number == 1 and review.published_at is not None
        document = db.session.get(PublishedDocument, ("article", translation.id))
        assert document is not None and document.locale == "es"


def test_topics_people_and_topic_faqs_have_their_spanish_text(app):
    with app.app_context():
        topic_names = dict(
            db.session.execute(
                select(Topic.slug, TopicTranslation.name)
                .join(TopicTranslation.topic)
                .where(TopicTranslation.locale == "es")
            ).all()
        )
        titles = dict(
            db.session.execute(
                select(Person.slug, PersonTranslation.job_title)
                .join(PersonTranslation.person)
                .where(PersonTranslation.locale == "es")
            ).all()
        )
        spanish_faqs = db.session.scalars(
            select(Faq).where(Faq.topic_id.is_not(None), Faq.locale == "es")
        ).all()
        english_faqs = db.session.scalars(
            select(Faq).where(Faq.topic_id.is_not(None), Faq.locale == "en")
        ).all()
        spanish_reviewers = {faq.reviewed_by.slug for faq in spanish_faqs}

    assert topic_names["headache"] == "Dolor de cabeza"
    assert len(topic_names) == 5
    assert titles == {
        "miriam-castellanos-reed": "Neuróloga",
        "tobias-lindqvist": "Dermatólogo",
        "ines-valbuena-soto": "Dermatóloga",
    }
    assert len(spanish_faqs) == 2 and english_faqs
    assert all(faq.live_question == faq.question for faq in spanish_faqs)
    assert spanish_reviewers == {"ines-valbuena-soto"}


def _seed_folder(tmp_path: Path) -> Path:
    for name in ("people.yaml", "topics.yaml"):
        (tmp_path / name).write_text((SEEDS_DIRECTORY / name).read_text())
    (tmp_path / "articles").mkdir()
    return tmp_path


def test_translations_are_loaded_only_for_the_sites_other_locales(app, tmp_path: Path):
    folder = _seed_folder(tmp_path)
    # French is not one of the site's locales: its folder is not even read.
    (folder / "translations" / "fr").mkdir(parents=True)
    (folder / "translations" / "fr" / "topics.yaml").write_text(
        yaml.safe_dump([{"slug": "no-such-topic", "name": "Rien"}])
    )
    with app.app_context():
        assert not load_seeds(folder).changed

        (folder / "translations" / "es").mkdir()
        (folder / "translations" / "es" / "topics.yaml").write_text(
            yaml.safe_dump([{"slug": "no-such-topic", "name": "Nada"}])
        )
        with pytest.raises(SeedError, match="unknown topic 'no-such-topic'"):
            load_seeds(folder)


def test_a_translation_of_an_unknown_article_is_refused(app, tmp_path: Path):
    folder = _seed_folder(tmp_path)
    (folder / "translations" / "es" / "articles").mkdir(parents=True)
    (folder / "translations" / "es" / "articles" / "x.yaml").write_text(
        yaml.safe_dump({"translation_of": "nothing-here", "slug": "nada", "title": "Nada"})
    )
    with app.app_context(), pytest.raises(SeedError, match="unknown article 'nothing-here'"):
        load_seeds(folder)


def test_a_reviewer_reviews_in_the_locales_listed_or_any_when_none_are():
    assert reviews_in([], "es")
    assert reviews_in(["es"], "es")
    assert reviews_in(["es"], "es-MX")  # a bare language covers its regions
    assert reviews_in(["ES-mx"], "es-MX")
    assert not reviews_in(["es-MX"], "es")
    assert not reviews_in(["es-MX"], "es-AR")
    assert not reviews_in(["fr"], "es")
