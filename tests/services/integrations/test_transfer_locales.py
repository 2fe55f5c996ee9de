"""Export and import carry every language: translations, their sources, and per-locale slugs."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select, text

from cms_api import document_cache
from cms_api.database import db
from cms_api.domain.errors import DomainError
from cms_api.models import Article, TopicTranslation
from cms_api.schemas.admin.transfer import TransferRecords
from cms_api.services.integrations.transfer import export, importer
from cms_api.services.publishing.articles import change_slug
from tests.conftest import build_app

SOURCE = "headache-after-botox"
SPANISH = "dolor-de-cabeza-despues-del-botox"
RENAMED = "dolor-de-cabeza-tras-el-botox"


def _dispose(app: Flask) -> None:
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture(scope="module")
def source(make_database, seeded_template: str) -> Iterator[Flask]:
    """The seeds (a Spanish translation, Spanish topics, profiles and topic FAQs), with
    the translation renamed so that it has a former slug in Spanish."""
    app = build_app(make_database("locales_source", template=seeded_template))
    with app.app_context():
        translation = db.session.scalars(
            select(Article).where(Article.locale == "es", Article.slug == SPANISH)
        ).one()
        change_slug(translation.id, RENAMED)
        db.session.commit()
    yield app
    _dispose(app)


@pytest.fixture(scope="module")
def exported(source: Flask) -> str:
    with source.app_context():
        stream = io.StringIO()
        export.export(stream)
    return stream.getvalue()


@pytest.fixture(scope="module")
def target_database(make_database) -> Iterator[Flask]:
    app = build_app(make_database("locales_target"))
    with app.app_context():
        upgrade()
    yield app
    _dispose(app)


@pytest.fixture
def target(target_database: Flask) -> Flask:
    """Migrated and empty, emptied again for each test."""
    with target_database.app_context():
        tables = ", ".join(table.name for table in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.execute(text("NOTIFY cms_documents"))
        db.session.commit()
    document_cache.clear_local()
    return target_database


def _records(data: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines()]


def _lines(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def _import(app: Flask, data: str) -> dict[str, Any]:
    with app.app_context():
        report = importer.import_(io.BytesIO(data.encode()), TransferRecords())
        db.session.commit()
        return report.as_dict()


def _refused(app: Flask, data: str) -> dict[str, Any]:
    with app.app_context():
        with pytest.raises(DomainError) as refused:
            importer.import_(io.BytesIO(data.encode()), TransferRecords())
        db.session.rollback()
    assert refused.value.status == 422
    return refused.value.extra["errors"]["lines"]


def _table(app: Flask, sql: str) -> list[dict[str, Any]]:
    with app.app_context():
        return [dict(row._mapping) for row in db.session.execute(text(sql))]


def _line(records: list[dict[str, Any]], record: dict[str, Any]) -> str:
    return str(records.index(record) + 1)


def _spanish(records: list[dict[str, Any]]) -> dict[str, Any]:
    return next(r for r in records if r["type"] == "article" and r["locale"] == "es")


def test_the_export_names_locales_and_lists_a_translation_after_its_source(exported):
    records = _records(exported)
    articles = [r for r in records if r["type"] == "article"]
    translation = _spanish(records)
    original = next(r for r in articles if r["id"] == translation["source_id"])

    assert original["slug"] == SOURCE and original["locale"] == "en"
    assert original["source_id"] is None and original["source_revision"] is None
    assert translation["slug"] == RENAMED
    assert translation["source_revision"] == original["live_revision"] == 2
    assert articles.index(original) < articles.index(translation)
    former = [r for r in records if r["type"] == "former_slug"]
    assert {(r["locale"], r["slug"]) for r in former} == {("es", SPANISH)}
    kinds = [r["type"] for r in records]
    assert kinds.index("topic_translation") > max(i for i, k in enumerate(kinds) if k == "topic")
    assert kinds.index("person_translation") > max(i for i, k in enumerate(kinds) if k == "person")
    spanish_faqs = [r for r in records if r["type"] == "faq" and r["locale"] == "es"]
    assert {r["article_id"] for r in spanish_faqs} == {translation["id"], None}
    reviewer = next(r for r in records if r.get("slug") == "ines-valbuena-soto")
    assert reviewer["review_locales"] == ["es"]


def test_translations_move_with_their_documents_and_former_slugs(source, exported, target):
    report = _import(target, exported)

    assert report["types"]["topic_translation"]["inserted"] == 5
    assert report["types"]["person_translation"]["inserted"] == 3
    assert not any("does not serve" in warning for warning in report["warnings"])
    for table in ("topic_translations", "person_translations", "article_slugs"):
        query = (
            f"SELECT * FROM {table} ORDER BY id"
            if table != "article_slugs"
            else ("SELECT * FROM article_slugs ORDER BY locale, slug")
        )
        assert _table(target, query) == _table(source, query), table
    columns = "id, slug, locale, source_id, source_revision, live_revision, status"
    query = f"SELECT {columns} FROM articles ORDER BY id"
    assert _table(target, query) == _table(source, query)
    faqs = "SELECT id, locale, article_id, topic_id FROM faqs ORDER BY id"
    assert _table(target, faqs) == _table(source, faqs)
    # Rendered again by the target, every document of every locale is the source's.
    documents = "SELECT kind, entity_id, locale, slug, etag, body FROM published_documents"
    by_key = {(d["kind"], d["entity_id"]): d for d in _table(target, documents)}
    assert by_key == {(d["kind"], d["entity_id"]): d for d in _table(source, documents)}
    assert {d["locale"] for d in by_key.values()} == {"en", "es"}


def test_an_original_and_a_translation_may_share_a_slug(exported, target):
    with target.app_context():
        # A Spanish draft with the English original's slug: slugs are a locale's own.
        db.session.add(Article(id=uuid.uuid4(), slug=SOURCE, locale="es", title="Borrador"))
        db.session.commit()

    report = _import(target, exported)

    assert report["changed"]
    with target.app_context():
        slugs = db.session.execute(
            select(Article.locale, Article.slug).where(Article.slug == SOURCE)
        ).all()
    assert sorted(slugs) == [("en", SOURCE), ("es", SOURCE)]


def test_a_slug_another_article_of_the_locale_answers_to_is_refused(exported, target):
    with target.app_context():
        current = Article(id=uuid.uuid4(), slug=RENAMED, locale="es", title="Otro borrador")
        former = Article(id=uuid.uuid4(), slug=SPANISH, locale="es", title="Y otro")
        db.session.add_all([current, former])
        db.session.commit()
        current_id, former_id = current.id, former.id
    records = _records(exported)
    translation = _spanish(records)
    former_slug = next(r for r in records if r["type"] == "former_slug")

    lines = _refused(target, exported)

    assert lines[_line(records, translation)]["slug"] == [
        f"The slug '{RENAMED}' belongs to another article ({current_id}) in this database."
    ]
    assert lines[_line(records, former_slug)]["slug"] == [
        f"'{SPANISH}' is the current slug of article {former_id} in this database."
    ]


def test_what_makes_a_translation_is_checked_across_the_file(exported, target):
    records = _records(exported)
    translation = _spanish(records)
    original = next(r for r in records if r.get("id") == translation["source_id"])
    # A second Spanish translation of the same original.
    twin = dict(translation, id=str(uuid.uuid4()), slug="otra-traduccion")
    # A translation of the translation.
    chained = dict(translation, id=str(uuid.uuid4()), slug="traduccion-encadenada")
    chained.update(locale="pt-BR", source_id=translation["id"], live_revision=None)
    chained.update(status="draft", revision_number=0)
    # An English "translation" of an English original.
    same_locale = dict(chained, id=str(uuid.uuid4()), slug="same-locale", locale="en")
    same_locale["source_id"] = original["id"]
    for added in (twin, chained, same_locale):
        records.insert(records.index(translation) + 1, added)
    twin["live_revision"], twin["status"], twin["revision_number"] = None, "draft", 0
    # A topic translation in the site's default locale, and a former slug and a FAQ in
    # another locale than their article's.
    topic_translation = next(r for r in records if r["type"] == "topic_translation")
    topic_translation["locale"] = "en"
    former = next(r for r in records if r["type"] == "former_slug")
    former["locale"] = "en"
    faq = next(r for r in records if r["type"] == "faq" and r["article_id"] == translation["id"])
    faq["locale"] = "en"
    records[-1]["records"]["article"] += 3

    lines = _refused(target, _lines(records))

    def errors(record: dict[str, Any]) -> dict[str, list[str]]:
        return lines[_line(records, record)]

    assert errors(twin)["locale"] == [
        f"Article {translation['id']} already translates the same source into this locale."
    ]
    assert f"Article {twin['id']} already translates" in errors(translation)["locale"][0]
    assert errors(chained)["source_id"] == [
        f"Article {translation['id']} is itself a translation: a translation is made from "
        "the original."
    ]
    assert errors(same_locale)["locale"] == [
        "The same locale as its source (en): a translation is in another one."
    ]
    assert errors(topic_translation) == {
        "locale": ["'en' is this site's default locale, whose text is the topic's own."]
    }
    assert errors(former) == {
        "locale": ["Its article is in 'es': a former slug is in its article's locale."]
    }
    assert errors(faq) == {
        "locale": ["Its article is in 'es': an article's FAQs are in its locale."]
    }


def test_a_locale_is_a_language_tag_in_its_normal_form(exported, target):
    records = _records(exported)
    translation = _spanish(records)
    translation["locale"] = "ES"
    person = next(r for r in records if r["type"] == "person")
    person["review_locales"] = ["en_GB"]

    lines = _refused(target, _lines(records))

    message = "Not a BCP 47 language tag in its normal form, such as 'es-MX'."
    assert lines[_line(records, translation)] == {"locale": [message]}
    assert lines[_line(records, person)] == {"review_locales": {0: [message]}}


def test_content_in_a_locale_the_site_does_not_serve_comes_with_a_warning(exported, target):
    data = exported.replace('"locale":"es"', '"locale":"fr"')

    report = _import(target, data)

    assert report["changed"]
    assert any(
        warning.startswith("The file has content in fr, which this site does not serve")
        for warning in report["warnings"]
    )
    assert _table(target, "SELECT count(*) AS n FROM articles WHERE locale = 'fr'") == [{"n": 1}]


def test_an_edited_topic_translation_is_restored_with_a_version_never_issued(exported, target):
    _import(target, exported)
    with target.app_context():
        name = db.session.scalars(
            select(TopicTranslation).where(TopicTranslation.locale == "es")
        ).first()
        assert name is not None
        original, translation_id = name.name, name.id
        name.name = "Cefalea (editado)"
        db.session.commit()
        edited_version = name.version

    report = _import(target, exported)

    assert report["types"]["topic_translation"]["updated"] == 1
    with target.app_context():
        restored = db.session.get(TopicTranslation, translation_id)
        assert restored is not None
        assert restored.name == original
        assert restored.version == edited_version + 1
