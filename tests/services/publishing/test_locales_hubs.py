"""Topic and person pages per locale: a document per translation, listing its locale's work."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from cms_api.database import db
from cms_api.models import (
    Article,
    ArticleAuthor,
    ArticleTopic,
    ChangeEvent,
    Faq,
    Person,
    PersonTranslation,
    PublishedDocument,
    Section,
    Topic,
    TopicTranslation,
)
from cms_api.services.publishing import articles as article_documents
from cms_api.services.publishing.cascade import person_changed, topic_changed
from cms_api.services.publishing.people import refresh_people
from cms_api.services.publishing.topics import refresh_topics

WHEN = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def _article(slug: str, locale: str, author: Person, topic: Topic, source: Article | None = None):
    article = Article(
        id=uuid.uuid4(),
        slug=slug,
        locale=locale,
        source_id=source.id if source else None,
        source_revision=source.live_revision if source else None,
        title=slug.replace("-", " ").capitalize(),
        summary="A short summary.",
        status="draft",
        disclaimer="General information only.",
    )
    article.authorships = [ArticleAuthor(person=author)]
    article.topic_links = [ArticleTopic(topic=topic)]
    article.all_sections = [Section(key="overview", heading="Overview", body="Text.")]
    db.session.add(article)
    db.session.flush()
    article_documents.publish_articles([article.id], at=WHEN)
    return article


@dataclass(frozen=True)
class Setting:
    author: Person
    topic: Topic
    original: Article
    translation: Article


def _setting() -> Setting:
    """A person and a topic translated into Spanish, with an English original on the topic
    by the person and its Spanish translation."""
    author = Person(
        id=uuid.uuid4(),
        slug="noor-halvorsen",
        name="Noor Halvorsen",
        job_title="Family physician",
        bio="Sees families in a rural practice.",
    )
    topic = Topic(
        id=uuid.uuid4(),
        slug="night-cramps",
        name="Night cramps",
        description="Sudden muscle cramps at night.",
        synonyms=["leg cramps"],
    )
    db.session.add_all([author, topic])
    db.session.flush()
    db.session.add_all(
        [
            TopicTranslation(
                topic=topic,
                locale="es",
                name="Calambres nocturnos",
                description="Calambres musculares repentinos de noche.",
                synonyms=["calambres en las piernas"],
            ),
            PersonTranslation(
                person=author,
                locale="es",
                job_title="Médica de familia",
                bio="Atiende a familias en un consultorio rural.",
            ),
        ]
    )
    db.session.flush()
    # Translations added after the publish would re-render through the cascade; here
    # they exist first, as the publish itself must render them.
    original = _article("night-cramps-explained", "en", author, topic)
    translation = _article("calambres-nocturnos", "es", author, topic, source=original)
    return Setting(author, topic, original, translation)


def _documents(kind: str, slug: str) -> dict[str, tuple[PublishedDocument, dict[str, Any]]]:
    rows = db.session.scalars(
        select(PublishedDocument).where(
            PublishedDocument.kind == kind, PublishedDocument.slug == slug
        )
    ).all()
    return {row.locale: (row, json.loads(row.body)) for row in rows}


def _slugs(listed: dict[str, Any]) -> list[str]:
    return [item["slug"] for item in listed["items"]]


def test_a_topic_has_a_document_per_translation_listing_only_its_locales_articles(app):
    with app.app_context():
        topic = _setting().topic
        documents = _documents("topic", "night-cramps")
        spanish_row = documents["es"][0]
        translation_id = topic.translations[0].id
        spanish_summary = json.loads(spanish_row.summary)

    assert set(documents) == {"en", "es"}
    english_row, english = documents["en"]
    spanish_row, spanish = documents["es"]
    assert english_row.entity_id == topic.id
    assert spanish_row.entity_id == translation_id
    assert (english["locale"], spanish["locale"]) == ("en", "es")
    assert (english["name"], spanish["name"]) == ("Night cramps", "Calambres nocturnos")
    assert spanish["description"] == "Calambres musculares repentinos de noche."
    assert spanish["synonyms"] == ["calambres en las piernas"]
    assert spanish_row.title == "Calambres nocturnos"
    assert spanish_summary["locale"] == "es" and spanish_summary["name"] == "Calambres nocturnos"
    assert _slugs(english["articles"]) == ["night-cramps-explained"]
    assert _slugs(spanish["articles"]) == ["calambres-nocturnos"]
    assert english["articles"]["total"] == spanish["articles"]["total"] == 1


def test_a_person_has_a_profile_per_translation_listing_only_their_work_in_its_locale(app):
    with app.app_context():
        author = _setting().author
        documents = _documents("person", "noor-halvorsen")
        translation_id = author.translations[0].id
        summaries = {locale: json.loads(row.summary) for locale, (row, _) in documents.items()}

    assert set(documents) == {"en", "es"}
    english_row, english = documents["en"]
    spanish_row, spanish = documents["es"]
    assert (english_row.entity_id, spanish_row.entity_id) == (author.id, translation_id)
    assert (english["job_title"], spanish["job_title"]) == ("Family physician", "Médica de familia")
    assert spanish["bio_html"] == "<p>Atiende a familias en un consultorio rural.</p>"
    assert english["bio_html"].startswith("<p>Sees families")
    assert _slugs(english["articles_authored"]) == ["night-cramps-explained"]
    assert _slugs(spanish["articles_authored"]) == ["calambres-nocturnos"]
    assert summaries["es"]["locale"] == "es" and summaries["es"]["job_title"] == "Médica de familia"
    assert summaries["en"]["locale"] == "en"


def test_a_person_without_work_in_a_locale_has_no_profile_there(app):
    with app.app_context():
        setting = _setting()
        author, translation = setting.author, setting.translation
        db.session.add(PersonTranslation(person=author, locale="fr", job_title="Médecin"))
        db.session.flush()
        person_changed(author.id)
        locales = set(_documents("person", "noor-halvorsen"))

        # Its Spanish work withdrawn, the Spanish profile goes too.
        article_documents.unpublish_article(translation.id)
        after = set(_documents("person", "noor-halvorsen"))

    assert locales == {"en", "es"}
    assert after == {"en"}


def test_a_removed_translation_loses_its_document_and_the_feed_says_deleted(app):
    with app.app_context():
        setting = _setting()
        author, topic, translation = setting.author, setting.topic, setting.translation
        topic_translation, person_translation = topic.translations[0], author.translations[0]
        db.session.delete(topic_translation)
        db.session.delete(person_translation)
        db.session.flush()
        db.session.expire_all()
        # The entry points editors' changes call, unchanged, render every locale.
        topic_changed(topic.id)
        person_changed(author.id)
        topics, people = _documents("topic", "night-cramps"), _documents("person", "noor-halvorsen")
        events = {
            entity_id: (action, locale)
            for entity_id, action, locale in db.session.execute(
                select(ChangeEvent.entity_id, ChangeEvent.action, ChangeEvent.locale)
                .where(ChangeEvent.entity_id.in_([topic_translation.id, person_translation.id]))
                .order_by(ChangeEvent.id)
            )
        }
        # The Spanish article now names the topic and its author in the default's words.
        spanish_article = json.loads(
            db.session.scalar(
                select(PublishedDocument.body).where(PublishedDocument.entity_id == translation.id)
            )
        )

    assert set(topics) == set(people) == {"en"}
    assert events == {
        topic_translation.id: ("deleted", "es"),
        person_translation.id: ("deleted", "es"),
    }
    assert spanish_article["topics"][0]["name"] == "Night cramps"
    assert spanish_article["authors"][0]["job_title"] == "Family physician"


def test_a_changed_translation_is_rendered_by_the_existing_refresh_functions(app):
    with app.app_context():
        setting = _setting()
        author, topic = setting.author, setting.topic
        topic.translations[0].name = "Calambres de noche"
        author.translations[0].job_title = "Médica general"
        db.session.flush()
        refresh_topics([topic.id])
        refresh_people([author.id])
        topic_name = _documents("topic", "night-cramps")["es"][1]["name"]
        job_title = _documents("person", "noor-halvorsen")["es"][1]["job_title"]

    assert (topic_name, job_title) == ("Calambres de noche", "Médica general")


def test_a_topic_faq_is_stored_in_its_locale_and_listed_on_that_locales_page(app):
    with app.app_context():
        topic = _setting().topic
        reviewer = db.session.scalars(select(Person).where(Person.slug == "tobias-lindqvist")).one()
        faqs = {
            locale: Faq(
                topic=topic,
                locale=locale,
                question=question,
                answer="Stretch first.",
                live_question=question,
                live_answer="Stretch first.",
                status="published",
                reviewed_by=reviewer,
                reviewed_on=date(2026, 6, 30),
            )
            for locale, question in (("en", "Do cramps pass?"), ("es", "¿Se pasan?"))
        }
        db.session.add_all(faqs.values())
        db.session.flush()
        refresh_topics([topic.id])
        documents = _documents("topic", "night-cramps")
        stored = {
            locale: db.session.scalar(
                select(PublishedDocument).where(
                    PublishedDocument.kind == "faq", PublishedDocument.entity_id == faq.id
                )
            )
            for locale, faq in faqs.items()
        }

    assert [faq["question"] for faq in documents["en"][1]["faqs"]] == ["Do cramps pass?"]
    assert [faq["question"] for faq in documents["es"][1]["faqs"]] == ["¿Se pasan?"]
    assert {locale: row.locale for locale, row in stored.items()} == {"en": "en", "es": "es"}
    spanish = json.loads(stored["es"].body)
    assert spanish["locale"] == "es"
    assert spanish["topic"] == {"slug": "night-cramps", "name": "Calambres nocturnos"}
