"""The sample content: loaded by `cms-api seed`, idempotently, through the publishing service."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from cms_api.database import db
from cms_api.models import Article, Faq, Person, PublishedDocument, RelatedLink, Topic
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
        for model in (Article, Person, Topic, Faq, RelatedLink, PublishedDocument)
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
        assert len(articles) == 7
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
