"""Migration 0019 puts everything published before languages in the default locale, unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from cms_api.database import db
from cms_api.services.integrations.seeds import SEEDS_DIRECTORY, load_seeds
from tests.conftest import build_app

# What readers are served and what searches and answers read, by a key that stays put.
PUBLIC_TABLES = {
    "published_documents": "kind, entity_id",
    "search_entries": "kind, entity_id",
    "answer_passages": "kind, entity_id, position",
    "search_words": "word",
}
# Where 0019 records a locale that a page or an answer could come from.
LOCALIZED = (*PUBLIC_TABLES, "articles", "faqs", "change_events", "article_slugs")


def _rows(table: str) -> list[dict[str, Any]]:
    """Every row of `table` with every column but the locale 0019 adds."""
    query = text(f"SELECT * FROM {table} ORDER BY {PUBLIC_TABLES[table]}")
    rows = [dict(row._mapping) for row in db.session.execute(query)]
    for row in rows:
        row.pop("locale", None)
    return rows


def _public() -> dict[str, list[dict[str, Any]]]:
    return {table: _rows(table) for table in PUBLIC_TABLES}


def _locales() -> dict[str, set[str]]:
    return {
        table: set(db.session.scalars(text(f"SELECT DISTINCT locale FROM {table}")))
        for table in LOCALIZED
    }


def _served(app: Flask, documents: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(path, body, ETag) of each published article as delivery answers it."""
    reader = app.test_client()
    answers = []
    for document in documents:
        if document["kind"] != "article":
            continue
        response = reader.get(f"/v1/articles/{document['slug']}")
        assert response.status_code == 200, document["slug"]
        answers.append(
            (document["slug"], response.get_data(as_text=True), response.headers["ETag"])
        )
    return answers


def _seeds_in_one_language(directory: Path) -> Path:
    """The seeds as a site before 0019 could have them: without translations."""
    copy = directory / "seeds"
    shutil.copytree(SEEDS_DIRECTORY, copy, ignore=shutil.ignore_patterns("translations"))
    return copy


def test_upgrading_to_0019_changes_nothing_public_and_a_downgrade_undoes_it(
    make_database, tmp_path
):
    app = build_app(make_database("locales_migration"))
    try:
        with app.app_context():
            upgrade()
            load_seeds(_seeds_in_one_language(tmp_path))
            db.session.commit()
            db.session.remove()
            # The content as a site before 0019 has it: published and indexed.
            downgrade(revision="0018")
            before = _public()
            db.session.remove()

            upgrade(revision="0019")
            after = _public()
            locales = _locales()
            db.session.remove()
            served = _served(app, before["published_documents"])

            downgrade(revision="0018")
            undone = _public()
            db.session.remove()
    finally:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()

    assert {d["kind"] for d in before["published_documents"]} == {
        "article",
        "faq",
        "person",
        "topic",
        "red_flag",
    }
    assert before["search_entries"] and before["answer_passages"] and before["search_words"]
    # Every document, search entry, passage and word is as it was, byte for byte (bodies,
    # ETags, compressed copies, vectors), and all of it is in the default locale.
    assert after == before
    assert all(found == {"en"} for found in locales.values() if found), locales
    assert locales["published_documents"] == locales["search_entries"] == {"en"}
    # Delivery serves each stored article as it was stored.
    stored = {
        d["slug"]: (d["body"], d["etag"])
        for d in before["published_documents"]
        if d["kind"] == "article"
    }
    assert len(served) == len(stored) == 7
    assert all(stored[slug] == (body, etag) for slug, body, etag in served)
    assert undone == before


def test_a_downgrade_keeps_the_default_locale_and_drops_the_others(make_database):
    app = build_app(make_database("locales_downgrade"))
    try:
        with app.app_context():
            upgrade()
            load_seeds()  # Spanish translations, topic and profile texts, topic FAQs
            db.session.commit()
            spanish = db.session.execute(
                text("SELECT count(*) FROM published_documents WHERE locale = 'es'")
            ).scalar_one()
            english = db.session.execute(
                text(
                    "SELECT kind, entity_id FROM published_documents WHERE locale = 'en'"
                    " ORDER BY 1, 2"
                )
            ).all()
            db.session.remove()

            downgrade(revision="0018")
            kept = db.session.execute(
                text("SELECT kind, entity_id FROM published_documents ORDER BY 1, 2")
            ).all()
            articles = db.session.execute(text("SELECT count(*) FROM articles")).scalar_one()
            tables = set(
                db.session.scalars(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            )
            db.session.remove()

            upgrade()
            again = _locales()
    finally:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()

    assert spanish > 0
    assert kept == english
    assert articles == 7
    assert not tables & {"topic_translations", "person_translations"}
    assert again["published_documents"] == again["articles"] == {"en"}
