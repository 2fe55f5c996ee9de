"""Reading published content per locale: `?locale=`, Content-Language, 404s that point elsewhere."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import (
    Article,
    ArticleAuthor,
    ArticleTopic,
    Faq,
    Person,
    PersonTranslation,
    PublishedDocument,
    Section,
    Topic,
    TopicTranslation,
)
from cms_api.services.delivery import listings
from cms_api.services.publishing import store
from cms_api.services.publishing.articles import change_slug, publish_article
from tests.support.api import PROBLEM

SITE = "https://www.example-health.org"


@dataclass(frozen=True)
class Translated:
    """A published article and its published Spanish translation."""

    original: str
    translation: str
    original_id: uuid.UUID
    translation_id: uuid.UUID


def untranslated_original(locale: str = "es") -> Article:
    """A published original in the default locale with no translation in `locale` yet."""
    translated = select(Article.source_id).where(
        Article.locale == locale, Article.source_id.is_not(None)
    )
    return db.session.scalars(
        select(Article)
        .where(
            Article.locale == "en",
            Article.source_id.is_(None),
            Article.live_revision.is_not(None),
            Article.deleted_at.is_(None),
            Article.id.not_in(translated),
        )
        .order_by(Article.slug)
    ).first()


def publish_translation(
    original: Article, slug: str, *, title: str, locale: str = "es"
) -> uuid.UUID:
    """A translation of `original` as an ordinary article row in `locale` (content copied,
    text in the new language), published through the publishing service."""
    translation = Article(
        id=uuid.uuid4(),
        slug=slug,
        locale=locale,
        source_id=original.id,
        source_revision=original.live_revision,
        title=title,
        summary="Un resumen escrito para lectores hispanohablantes.",
        status="approved",
        disclaimer="Información general; no sustituye a una consulta médica.",
        review_interval_months=original.review_interval_months,
    )
    translation.all_sections = [
        Section(
            key=section.key,
            heading=f"Apartado {number}",
            body=f"Texto del apartado {number}, revisado en español.",
            position=section.position,
        )
        for number, section in enumerate(original.sections, start=1)
    ]
    translation.authorships = [
        ArticleAuthor(person_id=link.person_id, position=link.position)
        for link in original.authorships
    ]
    translation.topic_links = [
        ArticleTopic(topic_id=link.topic_id, position=link.position)
        for link in original.topic_links
    ]
    db.session.add(translation)
    db.session.add(
        Faq(
            article=translation,
            locale=locale,
            question="¿Cuándo conviene pedir cita?",
            answer="Si empeora o no mejora en unos días.",
            position=0,
        )
    )
    db.session.flush()
    publish_article(translation.id)
    return translation.id


def translate_and_publish(app: Flask, slug: str = "prueba-traduccion") -> Translated:
    with app.app_context():
        original = untranslated_original()
        assert original is not None, "the seeds have an untranslated published article"
        translation_id = publish_translation(original, slug, title="Una traducción de prueba")
        db.session.commit()
        return Translated(original.slug, slug, original.id, translation_id)


@pytest.fixture
def translated(app: Flask) -> Translated:
    return translate_and_publish(app)


def _stored(kind: str, locale: str) -> set[str]:
    return set(
        db.session.scalars(
            select(PublishedDocument.slug).where(
                PublishedDocument.kind == kind, PublishedDocument.locale == locale
            )
        )
    )


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    return response.get_json()


# -- articles ---------------------------------------------------------------------------


def test_a_list_in_a_locale_holds_only_that_locale(app, client, translated):
    spanish = client.get("/v1/articles?locale=es&limit=100")
    default = client.get("/v1/articles?limit=100")

    assert spanish.status_code == 200
    assert spanish.headers["Content-Language"] == "es"
    slugs = {item["slug"] for item in spanish.get_json()["items"]}
    with app.app_context():
        assert slugs == _stored("article", "es")
        assert _stored("article", "es").isdisjoint(_stored("article", "en") - {translated.original})
    assert translated.translation in slugs
    assert translated.original not in slugs
    assert spanish.get_json()["page"]["total"] == len(slugs)
    assert default.headers["Content-Language"] == "en"
    assert translated.translation not in {item["slug"] for item in default.get_json()["items"]}
    assert translated.original in {item["slug"] for item in default.get_json()["items"]}


def test_the_default_locale_answers_as_before(client, translated):
    implicit = client.get("/v1/articles?limit=5")
    explicit = client.get("/v1/articles?limit=5&locale=en")
    detail = client.get(f"/v1/articles/{translated.original}")

    assert implicit.get_data() == explicit.get_data()
    assert implicit.headers["ETag"] == explicit.headers["ETag"]
    assert detail.status_code == 200
    assert detail.headers["Content-Language"] == "en"
    assert "Accept-Language" not in detail.headers.get("Vary", "")
    assert client.get(f"/v1/articles/{translated.original}?locale=en").get_data() == (
        detail.get_data()
    )


def test_a_translation_is_read_in_its_locale(app, client, translated):
    address = f"/v1/articles/{translated.translation}?locale=es"

    response = client.get(address)

    assert response.status_code == 200
    assert response.headers["Content-Language"] == "es"
    with app.app_context():
        stored = db.session.get(PublishedDocument, ("article", translated.translation_id))
        assert stored.locale == "es"
        assert response.get_data(as_text=True) == stored.body
        assert response.headers["ETag"] == stored.etag
    assert response.get_json()["title"] == "Una traducción de prueba"
    revalidated = client.get(address, headers={"If-None-Match": response.headers["ETag"]})
    assert revalidated.status_code == 304
    assert revalidated.headers["Content-Language"] == "es"
    # Each locale's ETag names its own document.
    original = client.get(f"/v1/articles/{translated.original}")
    assert original.headers["ETag"] != response.headers["ETag"]
    crossed = client.get(address, headers={"If-None-Match": original.headers["ETag"]})
    assert crossed.status_code == 200


def test_a_translations_parts_are_read_in_its_locale(client, translated):
    base = f"/v1/articles/{translated.translation}"

    faqs = client.get(f"{base}/faqs?locale=es")
    related = client.get(f"{base}/related?locale=es")
    jsonld = client.get(f"{base}/jsonld?locale=es")
    sections = client.get(f"{base}?locale=es&sections={_first_section(client, translated)}")

    for answer in (faqs, related, jsonld, sections):
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.headers["Content-Language"] == "es"
    assert [faq["question"] for faq in faqs.get_json()["items"]] == ["¿Cuándo conviene pedir cita?"]
    article = client.get(f"{base}?locale=es").get_json()
    assert json.loads(jsonld.get_data(as_text=True)) == article["structured_data"]
    assert jsonld.content_type == "application/ld+json"
    revalidated = client.get(
        f"{base}/jsonld?locale=es", headers={"If-None-Match": jsonld.headers["ETag"]}
    )
    assert revalidated.status_code == 304
    assert revalidated.headers["Content-Language"] == "es"
    # The default locale has no article at the translation's slug.
    assert client.get(f"{base}/faqs").status_code == 404
    assert client.get(f"{base}/jsonld").status_code == 404


def _first_section(client, translated: Translated) -> str:
    article = client.get(f"/v1/articles/{translated.translation}?locale=es").get_json()
    return article["sections"][0]["key"]


def test_a_slug_of_another_locale_is_a_404_naming_the_translations(client, translated):
    spanish_slug = client.get(f"/v1/articles/{translated.original}?locale=es")
    english_slug = client.get(f"/v1/articles/{translated.translation}")

    both = [
        {
            "locale": "en",
            "slug": translated.original,
            "url": f"{SITE}/articles/{translated.original}",
        },
        {
            "locale": "es",
            "slug": translated.translation,
            "url": f"{SITE}/es/articles/{translated.translation}",
        },
    ]
    for response in (spanish_slug, english_slug):
        problem = _problem(response, 404)
        assert problem["type"] == "/problems/not-found"
        assert [entry for entry in problem["translations"] if entry in both] == both
        assert "Content-Language" not in response.headers
    # Anywhere else: nothing to follow.
    assert _problem(client.get("/v1/articles/no-such-work?locale=es"), 404)["translations"] == []


def test_a_work_without_a_translation_names_its_original(app, client):
    with app.app_context():
        original = untranslated_original().slug

    problem = _problem(client.get(f"/v1/articles/{original}?locale=es"), 404)

    assert problem["translations"] == [
        {"locale": "en", "slug": original, "url": f"{SITE}/articles/{original}"}
    ]


def test_a_former_slug_redirects_within_its_locale(app, client, translated):
    with app.app_context():
        change_slug(translated.translation_id, "prueba-renombrada")
        db.session.commit()

    moved = client.get(f"/v1/articles/{translated.translation}/faqs?locale=es")
    elsewhere = client.get(f"/v1/articles/{translated.translation}")

    assert moved.status_code == 301
    assert moved.headers["Location"].endswith("/v1/articles/prueba-renombrada/faqs?locale=es")
    assert client.get("/v1/articles/prueba-renombrada?locale=es").status_code == 200
    # Not an address in the default locale: the work is found by its former slug.
    listed = _problem(elsewhere, 404)["translations"]
    assert {"locale": "es", "slug": "prueba-renombrada"} in [
        {"locale": entry["locale"], "slug": entry["slug"]} for entry in listed
    ]


@pytest.mark.parametrize(
    "address",
    [
        "/v1/articles?locale=fr",
        "/v1/articles?locale=english",
        "/v1/articles?locale=es-",
        "/v1/articles/headache-after-botox?locale=de",
        "/v1/articles/headache-after-botox/faqs?locale=x",
        "/v1/articles/headache-after-botox/jsonld?locale=fr",
        "/v1/faqs?locale=fr",
        "/v1/topics?locale=fr",
        "/v1/topics/headache?locale=zz",
        "/v1/people?locale=fr",
        "/v1/people/tobias-lindqvist?locale=pt-BR",
        "/v1/red-flags?locale=fr",
        "/v1/red-flags/thunderclap-headache?locale=1",
        "/v1/topics?fallback=english",
    ],
)
def test_a_malformed_or_unoffered_locale_is_a_400_problem(client, address):
    problem = _problem(client.get(address), 400)

    assert problem["type"] == "/problems/invalid-parameter"
    assert set(problem["errors"]["query"]) <= {"locale", "fallback"}


def test_a_locale_is_read_in_any_case(client, translated):
    response = client.get(f"/v1/articles/{translated.translation}?locale=ES")

    assert response.status_code == 200
    assert response.headers["Content-Language"] == "es"


def test_a_cursor_belongs_to_its_locales_list(app, client, translated):
    with app.app_context():
        publish_translation(
            untranslated_original(), "segunda-prueba", title="Otra traducción de prueba"
        )
        db.session.commit()

    spanish = client.get("/v1/articles?locale=es&limit=1").get_json()
    default = client.get("/v1/articles?limit=1").get_json()
    spanish_cursor, default_cursor = spanish["page"]["next_cursor"], default["page"]["next_cursor"]
    assert spanish_cursor and default_cursor

    following = client.get(f"/v1/articles?locale=es&limit=1&cursor={spanish_cursor}")
    assert following.status_code == 200
    assert following.get_json()["items"][0]["slug"] != spanish["items"][0]["slug"]
    crossed = [
        client.get(f"/v1/articles?limit=1&cursor={spanish_cursor}"),
        client.get(f"/v1/articles?locale=en&limit=1&cursor={spanish_cursor}"),
        client.get(f"/v1/articles?locale=es&limit=1&cursor={default_cursor}"),
    ]
    for response in crossed:
        assert _problem(response, 400)["errors"] == {"query": {"cursor": ["Invalid cursor."]}}
    # The default locale's cursors are those it always gave.
    assert json.loads(_decoded(default_cursor))[0] == "-published_at"


def _decoded(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()


INDEXES = {
    "-published_at": "ix_published_documents_kind_published",
    "-updated_at": "ix_published_documents_kind_updated",
    "title": "ix_published_documents_kind_title",
    "-last_reviewed_at": "ix_published_documents_kind_reviewed",
}


@pytest.mark.parametrize(
    ("kind", "sort", "fallback"),
    [
        *(("article", sort, False) for sort in INDEXES),
        ("faq", "-published_at", False),
        ("topic", "name", False),
        ("topic", "name", True),
        ("person", "name", True),
    ],
)
def test_lists_read_their_locales_index_in_order(app, kind, sort, fallback):
    """A list page reads its (kind, locale, <order>, entity_id) index in order and stops
    at the page's end, with no sort (with the fallback, each locale's part is read so, and
    only their pages are merged)."""
    statement = listings._statement(
        sort, counted=False, tags=False, since=False, after=True, fallback=fallback
    )
    params = {
        "kind": kind,
        "locale": "es",
        "default": "en",
        "xmin": 0,
        "limit": 21,
        "value": "2030-01-01" if "_at" in sort else "a",
        "id": uuid.uuid4(),
    }
    with app.app_context():
        connection = db.session.connection()
        # The seeded tables are small enough for a scan and a sort to cost less; what
        # matters here is that the index serves the list's order, as it must at scale.
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql("SET LOCAL enable_sort = off")
        plan = "\n".join(
            row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, params)
        )

    index = INDEXES.get(sort, "ix_published_documents_kind_title")
    assert plan.count(f"using {index} on published_documents d") == (1 + fallback), plan
    assert "Sort  (" not in plan, plan


# -- topics and people ------------------------------------------------------------------


def _translate_document(kind: str, slug: str, entity_id: uuid.UUID, **changes: Any) -> None:
    """Store the `kind` document at `slug` in Spanish, as publishing does for a translation
    (its own entity id, the shared slug), from the default locale's with these changes."""
    stored = db.session.scalars(
        select(PublishedDocument).where(
            PublishedDocument.kind == kind,
            PublishedDocument.locale == "en",
            PublishedDocument.slug == slug,
        )
    ).one()
    body = {**json.loads(stored.body), **changes, "locale": "es"}
    summary = {**json.loads(stored.summary), **changes, "locale": "es"}
    store.upsert(
        [
            store.row(
                kind,
                entity_id,
                slug=slug,
                document=body,
                summary=summary,
                tags=set(stored.tags),
                published_at=stored.published_at,
                updated_at=utcnow(),
                title=changes.get("name", stored.title),
                reviewed_on=stored.reviewed_on,
                locale="es",
            )
        ]
    )


def _untranslated_root_topic() -> Topic:
    translated = select(PublishedDocument.slug).where(
        PublishedDocument.kind == "topic", PublishedDocument.locale == "es"
    )
    return db.session.scalars(
        select(Topic)
        .join(
            PublishedDocument,
            (PublishedDocument.kind == "topic")
            & (PublishedDocument.entity_id == Topic.id)
            & PublishedDocument.tags.contains(["root"]),
        )
        .where(Topic.slug.not_in(translated))
        .order_by(Topic.slug)
    ).first()


@pytest.fixture
def spanish_topic(app: Flask) -> str:
    with app.app_context():
        topic = _untranslated_root_topic()
        assert topic is not None
        translation = db.session.scalars(
            select(TopicTranslation).where(
                TopicTranslation.topic_id == topic.id, TopicTranslation.locale == "es"
            )
        ).first() or TopicTranslation(topic_id=topic.id, locale="es", name="Síntomas de prueba")
        translation.name = "Síntomas de prueba"
        db.session.add(translation)
        db.session.flush()
        _translate_document("topic", topic.slug, translation.id, name="Síntomas de prueba")
        db.session.commit()
        return topic.slug


def test_topics_in_a_locale_and_with_the_default_as_fallback(app, client, spanish_topic):
    spanish = client.get("/v1/topics?locale=es&limit=100")
    fallback = client.get("/v1/topics?locale=es&fallback=default&limit=100")
    default = client.get("/v1/topics?limit=100")

    assert spanish.headers["Content-Language"] == "es"
    assert fallback.headers["Content-Language"] == "es"
    own = spanish.get_json()["items"]
    assert spanish_topic in {item["slug"] for item in own}
    assert all(item["locale"] == "es" for item in own)
    mixed = {item["slug"]: item for item in fallback.get_json()["items"]}
    roots = {item["slug"]: item for item in default.get_json()["items"]}
    # Every root topic once: in Spanish where it has a translation, else in English.
    assert set(mixed) == set(roots) | {item["slug"] for item in own}
    assert len(mixed) == len(fallback.get_json()["items"]) == fallback.get_json()["page"]["total"]
    assert mixed[spanish_topic]["name"] == "Síntomas de prueba"
    untranslated = next(slug for slug in roots if slug not in {item["slug"] for item in own})
    assert mixed[untranslated]["name"] == roots[untranslated]["name"]
    names = [item["name"].casefold() for item in fallback.get_json()["items"]]
    assert names == sorted(names)
    # Without the fallback, the default locale's list is as it was.
    assert spanish_topic in roots and roots[spanish_topic]["name"] != "Síntomas de prueba"


def test_the_fallback_list_pages_by_its_own_cursors(client, spanish_topic):
    whole = client.get("/v1/topics?locale=es&fallback=default&limit=100").get_json()["items"]
    walked, cursor = [], None
    while True:
        address = "/v1/topics?locale=es&fallback=default&limit=2"
        page = client.get(address + (f"&cursor={cursor}" if cursor else "")).get_json()
        walked += page["items"]
        cursor = page["page"]["next_cursor"]
        if not cursor:
            break
        refused = client.get(f"/v1/topics?locale=es&limit=2&cursor={cursor}")
        assert refused.status_code == 400

    assert [item["slug"] for item in walked] == [item["slug"] for item in whole]


def test_a_topic_is_read_in_the_locales_it_is_published_in(client, spanish_topic):
    spanish = client.get(f"/v1/topics/{spanish_topic}?locale=es")
    default = client.get(f"/v1/topics/{spanish_topic}")

    assert spanish.status_code == 200
    assert spanish.headers["Content-Language"] == "es"
    assert spanish.get_json()["name"] == "Síntomas de prueba"
    assert default.headers["Content-Language"] == "en"
    assert default.get_json()["name"] != "Síntomas de prueba"
    revalidated = client.get(
        f"/v1/topics/{spanish_topic}?locale=es", headers={"If-None-Match": spanish.headers["ETag"]}
    )
    assert revalidated.status_code == 304
    assert revalidated.headers["Content-Language"] == "es"


def test_a_topic_missing_in_a_locale_is_a_404_naming_where_it_is(app, client, spanish_topic):
    with app.app_context():
        untranslated = next(
            slug
            for slug in _stored("topic", "en")
            if slug not in _stored("topic", "es") and slug != spanish_topic
        )

    problem = _problem(client.get(f"/v1/topics/{untranslated}?locale=es"), 404)
    unknown = _problem(client.get("/v1/topics/no-such-topic?locale=es"), 404)

    assert problem["translations"] == [
        {"locale": "en", "slug": untranslated, "url": f"{SITE}/topics/{untranslated}"}
    ]
    assert unknown["translations"] == []


@pytest.fixture
def spanish_person(app: Flask) -> str:
    with app.app_context():
        translated = select(PublishedDocument.slug).where(
            PublishedDocument.kind == "person", PublishedDocument.locale == "es"
        )
        person = db.session.scalars(
            select(Person)
            .join(PublishedDocument, PublishedDocument.entity_id == Person.id)
            .where(PublishedDocument.kind == "person", Person.slug.not_in(translated))
            .order_by(Person.slug)
        ).first()
        assert person is not None
        translation = PersonTranslation(person_id=person.id, locale="es", job_title="Neuróloga")
        existing = db.session.scalars(
            select(PersonTranslation).where(
                PersonTranslation.person_id == person.id, PersonTranslation.locale == "es"
            )
        ).first()
        translation = existing or translation
        db.session.add(translation)
        db.session.flush()
        _translate_document("person", person.slug, translation.id, job_title="Neuróloga")
        db.session.commit()
        return person.slug


def test_people_in_a_locale_with_and_without_the_fallback(client, spanish_person):
    spanish = client.get("/v1/people?locale=es")
    fallback = client.get("/v1/people?locale=es&fallback=default")
    default = client.get("/v1/people").get_json()["items"]
    profile = client.get(f"/v1/people/{spanish_person}?locale=es")

    assert spanish.headers["Content-Language"] == "es"
    assert spanish_person in {item["slug"] for item in spanish.get_json()["items"]}
    mixed = {item["slug"]: item for item in fallback.get_json()["items"]}
    assert set(mixed) >= {item["slug"] for item in default}
    assert mixed[spanish_person]["job_title"] == "Neuróloga"
    assert profile.status_code == 200
    assert profile.headers["Content-Language"] == "es"
    assert profile.get_json()["job_title"] == "Neuróloga"


def test_a_person_missing_in_a_locale_is_a_404_naming_where_they_are(app, client, spanish_person):
    with app.app_context():
        untranslated = sorted(_stored("person", "en") - _stored("person", "es"))[0]

    problem = _problem(client.get(f"/v1/people/{untranslated}?locale=es"), 404)

    assert problem["translations"] == [
        {"locale": "en", "slug": untranslated, "url": f"{SITE}/people/{untranslated}"}
    ]


# -- FAQs and red flags -----------------------------------------------------------------


def test_faqs_are_listed_and_read_in_their_own_locale(app, client, translated):
    spanish = client.get("/v1/faqs?locale=es&limit=100")
    default = client.get("/v1/faqs?limit=100")

    assert spanish.headers["Content-Language"] == "es"
    assert default.headers["Content-Language"] == "en"
    with app.app_context():
        stored = {
            str(entity_id): locale
            for entity_id, locale in db.session.execute(
                text("SELECT entity_id, locale FROM published_documents WHERE kind = 'faq'")
            )
        }
    listed = [item["id"] for item in spanish.get_json()["items"]]
    assert {stored[faq] for faq in listed} <= {"es"}
    assert sorted(listed) == sorted(faq for faq, locale in stored.items() if locale == "es")
    english = default.get_json()["items"][0]["id"]
    assert stored[english] == "en"
    read = client.get(f"/v1/faqs/{english}")
    assert read.status_code == 200
    assert read.headers["Content-Language"] == "en"
    assert _problem(client.get(f"/v1/faqs/{english}?locale=es"), 404)["type"] == (
        "/problems/not-found"
    )


def test_red_flags_exist_in_the_default_locale_only(client):
    default = client.get("/v1/red-flags")
    spanish = client.get("/v1/red-flags?locale=es")
    slug = default.get_json()["items"][0]["slug"]

    assert default.headers["Content-Language"] == "en"
    assert spanish.status_code == 200
    assert spanish.headers["Content-Language"] == "es"
    assert spanish.get_json()["items"] == []
    assert spanish.get_json()["page"]["total"] == 0
    assert client.get(f"/v1/red-flags/{slug}").headers["Content-Language"] == "en"
    assert client.get(f"/v1/red-flags/{slug}?locale=es").status_code == 404


# -- the document -----------------------------------------------------------------------

PUBLIC_READS = [
    "/v1/articles",
    "/v1/articles/{slug}",
    "/v1/articles/{slug}/faqs",
    "/v1/articles/{slug}/related",
    "/v1/articles/{slug}/jsonld",
    "/v1/faqs",
    "/v1/faqs/{faq_id}",
    "/v1/people",
    "/v1/people/{slug}",
    "/v1/topics",
    "/v1/topics/{slug}",
    "/v1/red-flags",
    "/v1/red-flags/{slug}",
]


def _resolved(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_every_public_read_documents_its_locale_and_content_language(document):
    for path in PUBLIC_READS:
        operation = document["paths"][path]["get"]
        locale = next(p for p in operation["parameters"] if p["name"] == "locale")
        assert locale["in"] == "query" and "example" in locale["schema"] | locale, path
        for status in ("200", "304"):
            headers = _resolved(document, operation["responses"][status])["headers"]
            assert "Content-Language" in headers, (path, status)
    for path in ("/v1/topics", "/v1/people"):
        names = {p["name"] for p in document["paths"][path]["get"]["parameters"]}
        assert "fallback" in names
    problem = document["components"]["schemas"]["Problem"]["properties"]
    assert problem["translations"]["type"] == "array"
