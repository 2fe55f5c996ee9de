"""Translations as published: each article in its locale, naming the rest of its work."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

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
    RelatedLink,
    Section,
    Topic,
    TopicTranslation,
)
from cms_api.services.publishing import articles as article_documents
from cms_api.services.publishing import jsonld, revisions

BASE = "https://www.example-health.org"
WHEN = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def _author_and_topic() -> tuple[Person, Topic]:
    """An author and a topic of their own, so the seeds' translations stay out of the way."""
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
    return author, topic


def _original(slug: str, author: Person, topic: Topic, title: str) -> Article:
    article = Article(
        id=uuid.uuid4(),
        slug=slug,
        locale="en",
        title=title,
        summary=f"{title}: what helps.",
        status="draft",
        disclaimer="General information only.",
    )
    article.authorships = [ArticleAuthor(person=author)]
    article.topic_links = [ArticleTopic(topic=topic)]
    article.all_sections = [Section(key="overview", heading="Overview", body=f"About {title}.")]
    db.session.add(article)
    db.session.add(Faq(article=article, locale="en", question=f"Is {title} common?", answer="Yes."))
    db.session.flush()
    return article


def _translation(source: Article, slug: str, title: str, locale: str = "es") -> Article:
    """A translation as editors make one: the source's content in a new row of its own."""
    article = Article(
        id=uuid.uuid4(),
        slug=slug,
        locale=locale,
        source_id=source.id,
        source_revision=source.live_revision or source.revision_number,
        title=title,
        summary=f"{title}: qué ayuda.",
        status="draft",
        disclaimer="Información general.",
    )
    article.authorships = [ArticleAuthor(person_id=item.person_id) for item in source.authorships]
    article.topic_links = [ArticleTopic(topic_id=item.topic_id) for item in source.topic_links]
    article.all_sections = [Section(key="overview", heading="Resumen", body=f"Sobre {title}.")]
    db.session.add(article)
    db.session.add(Faq(article=article, locale=locale, question=f"¿{title}?", answer="Sí."))
    db.session.flush()
    return article


def _publish(*articles: Article) -> None:
    article_documents.publish_articles([article.id for article in articles], at=WHEN)


def _stored(kind: str, entity_id: uuid.UUID) -> PublishedDocument | None:
    return db.session.scalar(
        select(PublishedDocument).where(
            PublishedDocument.kind == kind, PublishedDocument.entity_id == entity_id
        )
    )


def _body(kind: str, entity_id: uuid.UUID) -> dict[str, Any]:
    stored = _stored(kind, entity_id)
    assert stored is not None, (kind, entity_id)
    return json.loads(stored.body)


def _page(slug: str, locale: str | None = None) -> str:
    prefix = f"/{locale}" if locale and locale != "en" else ""
    return f"{BASE}{prefix}/articles/{slug}"


def _node(graph: dict[str, Any], type_name: str) -> dict[str, Any]:
    [node] = [node for node in graph["@graph"] if node["@type"] == type_name]
    return node


def test_an_original_and_its_translation_are_stored_in_their_locales_naming_each_other(
    app,
):
    with app.app_context():
        author, topic = _author_and_topic()
        original = _original("night-cramps-explained", author, topic, "Night cramps")
        _publish(original)
        translation = _translation(original, "calambres-nocturnos", "Calambres nocturnos")
        _publish(translation)

        stored = {item.entity_id: item for item in [_stored("article", original.id)]}
        stored[translation.id] = _stored("article", translation.id)
        english, spanish = _body("article", original.id), _body("article", translation.id)
        summaries = {key: json.loads(item.summary) for key, item in stored.items()}
        faq = db.session.scalar(select(Faq).where(Faq.article_id == translation.id))
        faq_document = _stored("faq", faq.id)
        english_graph = json.loads(jsonld.published("night-cramps-explained").body)
        spanish_graph = json.loads(jsonld.published("calambres-nocturnos", "es").body)

    assert (stored[original.id].locale, stored[translation.id].locale) == ("en", "es")
    assert (summaries[original.id]["locale"], summaries[translation.id]["locale"]) == ("en", "es")
    assert english["locale"] == "en" and spanish["locale"] == "es"
    assert summaries[translation.id]["url"] == "/v1/articles/calambres-nocturnos?locale=es"
    assert summaries[original.id]["url"] == "/v1/articles/night-cramps-explained"

    assert english["translations"] == [
        {"locale": "es", "slug": "calambres-nocturnos", "url": _page("calambres-nocturnos", "es")}
    ]
    assert english["translation_of"] is None and english["outdated"] is False
    assert spanish["translations"] == [
        {"locale": "en", "slug": "night-cramps-explained", "url": _page("night-cramps-explained")}
    ]
    assert spanish["translation_of"] == {
        "locale": "en",
        "slug": "night-cramps-explained",
        "revision": 1,
    }
    assert spanish["outdated"] is False

    # Its FAQ is stored in its locale, naming the article at its address in that locale.
    assert faq_document is not None and faq_document.locale == faq.locale == "es"
    faq_body = json.loads(faq_document.body)
    assert faq_body["locale"] == "es"
    assert faq_body["article"]["url"] == "/v1/articles/calambres-nocturnos?locale=es"

    english_page, english_article = (
        _node(english_graph, "MedicalWebPage"),
        _node(english_graph, "Article"),
    )
    spanish_page, spanish_article = (
        _node(spanish_graph, "MedicalWebPage"),
        _node(spanish_graph, "Article"),
    )
    assert english_page["inLanguage"] == english_article["inLanguage"] == "en"
    assert spanish_page["inLanguage"] == spanish_article["inLanguage"] == "es"
    assert english_article["workTranslation"] == [{"@id": _page("calambres-nocturnos", "es")}]
    assert "translationOfWork" not in english_article
    assert spanish_article["translationOfWork"] == {"@id": _page("night-cramps-explained")}
    assert "workTranslation" not in spanish_article
    # The translation's own page and node ids are its locale's address.
    assert spanish_page["url"] == _page("calambres-nocturnos", "es")
    assert spanish_page["@id"] == _page("calambres-nocturnos", "es") + "#webpage"
    assert spanish_page["breadcrumb"]["itemListElement"][-1]["item"] == _page(
        "calambres-nocturnos", "es"
    )


def test_a_newer_revision_of_the_source_makes_its_published_translation_outdated(
    app,
):
    with app.app_context():
        author, topic = _author_and_topic()
        original = _original("night-cramps-explained", author, topic, "Night cramps")
        _publish(original)
        translation = _translation(original, "calambres-nocturnos", "Calambres nocturnos")
        _publish(translation)
        assert _body("article", translation.id)["outdated"] is False

        original.title = "Night cramps, revised"
        revisions.record(original, reason="edit")
        _publish(original)  # only the source: its translation is re-rendered with it
        outdated = _body("article", translation.id)
        source_events = _events(translation.id)

        # Translated again from the new revision, and published: current again.
        translation.source_revision = original.live_revision
        revisions.record(translation, reason="edit")
        _publish(translation)
        current = _body("article", translation.id)

    assert outdated["outdated"] is True
    assert outdated["translation_of"] == {
        "locale": "en",
        "slug": "night-cramps-explained",
        "revision": 1,
    }
    assert ("updated", "es") in source_events
    assert current["outdated"] is False
    assert current["translation_of"]["revision"] == 2


def _events(entity_id: uuid.UUID) -> list[tuple[str, str]]:
    return [
        (action, locale)
        for action, locale in db.session.execute(
            select(ChangeEvent.action, ChangeEvent.locale)
            .where(ChangeEvent.entity_id == entity_id)
            .order_by(ChangeEvent.id)
        )
    ]


def test_unpublishing_a_translation_takes_it_out_of_the_others_lists_and_the_feed_says_so(
    app,
):
    with app.app_context():
        author, topic = _author_and_topic()
        original = _original("night-cramps-explained", author, topic, "Night cramps")
        _publish(original)
        spanish = _translation(original, "calambres-nocturnos", "Calambres nocturnos")
        french = _translation(original, "crampes-nocturnes", "Crampes nocturnes", locale="fr")
        _publish(spanish, french)
        both = _body("article", original.id)["translations"]
        french_sees = _body("article", french.id)["translations"]

        article_documents.unpublish_article(spanish.id)
        after = _body("article", original.id)["translations"]
        french_after = _body("article", french.id)["translations"]
        gone = _stored("article", spanish.id)
        events = _events(spanish.id)
        faq = db.session.scalar(select(Faq.id).where(Faq.article_id == spanish.id))
        faq_events = _events(faq)
        graph = json.loads(jsonld.published("night-cramps-explained").body)

    assert [item["locale"] for item in both] == ["es", "fr"]
    assert [item["locale"] for item in french_sees] == ["en", "es"]
    assert [item["locale"] for item in after] == ["fr"]
    assert [item["locale"] for item in french_after] == ["en"]
    assert gone is None
    assert events == [("published", "es"), ("unpublished", "es")]
    assert faq_events == [("published", "es"), ("unpublished", "es")]
    assert _node(graph, "Article")["workTranslation"] == [
        {"@id": f"{BASE}/fr/articles/crampes-nocturnes"}
    ]


def test_a_translations_related_articles_are_the_originals_links_in_its_locale(
    app,
):
    with app.app_context():
        author, topic = _author_and_topic()
        linking = _original("night-cramps-explained", author, topic, "Night cramps")
        translated = _original("magnesium-and-cramps", author, topic, "Magnesium and cramps")
        untranslated = _original("stretching-before-bed", author, topic, "Stretching before bed")
        for position, target in enumerate([translated, untranslated]):
            db.session.add(
                RelatedLink(
                    source_id=linking.id,
                    target_id=target.id,
                    relation="see_also",
                    anchor_text=f"More on {target.title}",
                    position=position,
                )
            )
        _publish(linking, translated, untranslated)
        linking_es = _translation(linking, "calambres-nocturnos", "Calambres nocturnos")
        _publish(linking_es)
        before_target = _body("article", linking_es.id)["related"]

        # Publishing the target's translation re-renders the translations linking to it.
        translated_es = _translation(translated, "magnesio-y-calambres", "Magnesio y calambres")
        _publish(translated_es)
        related_es = _body("article", linking_es.id)["related"]
        related_en = _body("article", linking.id)["related"]

        article_documents.unpublish_article(translated_es.id)
        after_unpublishing = _body("article", linking_es.id)["related"]

    assert before_target == []
    assert [item["article"]["slug"] for item in related_en] == [
        "magnesium-and-cramps",
        "stretching-before-bed",
    ]
    [shown] = related_es
    assert shown["article"]["slug"] == "magnesio-y-calambres"
    assert shown["article"]["locale"] == "es"
    assert shown["url"] == f"{BASE}/es/articles/magnesio-y-calambres"
    # The original's anchor text is English: the translation shows the target's title.
    assert shown["anchor_text"] == "Magnesio y calambres"
    assert after_unpublishing == []


def test_an_articles_topics_and_people_are_named_in_its_locale(app):
    with app.app_context():
        author, topic = _author_and_topic()
        db.session.add_all(
            [
                TopicTranslation(topic=topic, locale="es", name="Calambres nocturnos"),
                PersonTranslation(person=author, locale="es", job_title="Médica de familia"),
            ]
        )
        original = _original("night-cramps-explained", author, topic, "Night cramps")
        _publish(original)
        spanish = _translation(original, "calambres-nocturnos", "Calambres nocturnos")
        french = _translation(original, "crampes-nocturnes", "Crampes nocturnes", locale="fr")
        _publish(spanish, french)
        documents = {
            locale: (
                _body("article", article.id),
                json.loads(_stored("article", article.id).summary),
            )
            for locale, article in (("en", original), ("es", spanish), ("fr", french))
        }
        spanish_graph = json.loads(jsonld.published("calambres-nocturnos", "es").body)
        french_graph = json.loads(jsonld.published("crampes-nocturnes", "fr").body)

    def labels(stored: tuple[dict[str, Any], dict[str, Any]]) -> tuple[str, str, str]:
        document, summary = stored
        return (
            document["topics"][0]["name"],
            summary["topics"][0]["name"],
            document["authors"][0]["job_title"],
        )

    assert labels(documents["en"]) == ("Night cramps", "Night cramps", "Family physician")
    assert labels(documents["es"]) == (
        "Calambres nocturnos",
        "Calambres nocturnos",
        "Médica de familia",
    )
    # No French text: navigation labels fall back to the default locale's.
    assert labels(documents["fr"]) == ("Night cramps", "Night cramps", "Family physician")

    spanish_topic = _node(spanish_graph, "MedicalEntity")
    assert spanish_topic["name"] == "Calambres nocturnos"
    assert spanish_topic["url"] == f"{BASE}/es/topics/night-cramps"
    assert "description" not in spanish_topic  # no Spanish description: none
    spanish_person = _node(spanish_graph, "Person")
    assert spanish_person["url"] == f"{BASE}/es/people/noor-halvorsen"
    assert spanish_person["jobTitle"] == "Médica de familia"
    # Without a French translation, their pages are the default locale's.
    assert _node(french_graph, "MedicalEntity")["url"] == f"{BASE}/topics/night-cramps"
    assert _node(french_graph, "Person")["url"] == f"{BASE}/people/noor-halvorsen"
    # Descriptions are not navigation labels: none in another language's page.
    assert "description" not in _node(french_graph, "MedicalEntity")


def test_a_translations_former_slug_is_kept_in_its_locale(app):
    with app.app_context():
        author, topic = _author_and_topic()
        original = _original("night-cramps-explained", author, topic, "Night cramps")
        _publish(original)
        spanish = _translation(original, "calambres-nocturnos", "Calambres nocturnos")
        _publish(spanish)

        article_documents.change_slug(spanish.id, "calambres-de-noche")
        former = db.session.execute(
            text("SELECT locale, slug FROM article_slugs WHERE article_id = :id"),
            {"id": spanish.id},
        ).all()
        listed = _body("article", original.id)["translations"]

    assert [tuple(row) for row in former] == [("es", "calambres-nocturnos")]
    assert listed == [
        {"locale": "es", "slug": "calambres-de-noche", "url": _page("calambres-de-noche", "es")}
    ]
