"""The search index: what indexing stores, in how many statements, and the 0003 backfill."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import event, func, select, text

from cms_api.database import db
from cms_api.models import Article, ArticleAuthor, Faq, Person, SearchEntry, SearchWord, Section
from cms_api.models import PublishedDocument as Doc
from cms_api.services import vectors
from cms_api.services.discovery import spelling
from cms_api.services.integrations.seeds import load_seeds
from cms_api.services.publishing import search_index
from cms_api.services.publishing.articles import publish_article, unpublish_article
from tests.conftest import build_app

SEARCHABLE = Doc.kind.in_(["article", "faq"])


def _keys(*criteria) -> list[tuple[str, uuid.UUID]]:
    rows = db.session.execute(select(Doc.kind, Doc.entity_id).where(*criteria)).all()
    return [(kind, entity_id) for kind, entity_id in rows]


@contextmanager
def _counting_statements() -> Iterator[list[str]]:
    statements: list[str] = []
    engine = db.engine

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _draft(slug: str, title: str, body: str = "Some text.") -> Article:
    author = db.session.scalars(select(Person).order_by(Person.slug)).first()
    article = Article(id=uuid.uuid4(), slug=slug, title=title, summary="Kitchen burns, briefly.")
    article.authorships = [ArticleAuthor(person=author)]
    article.all_sections = [Section(key="first-aid", heading="First aid", body=body)]
    db.session.add(article)
    db.session.flush()
    return article


def _entry_versions() -> dict[uuid.UUID, str]:
    # A row rewritten by UPDATE gets a new physical location (ctid).
    rows = db.session.execute(text("SELECT entity_id, ctid::text FROM search_entries")).all()
    return dict(rows)


def test_indexing_takes_four_statements_whatever_the_batch_size(app: Flask):
    """Three write the index: drop the stale passages, write the search entries and cut the
    new passages (each section's text made once for both), add the words; a fourth looks
    for passages to embed (none here: a fifth stores the embeddings of new ones)."""
    with app.app_context():
        everything = _keys(SEARCHABLE)
        assert len(everything) > 20
        # Whether the table has pgvector's column is asked once per process, not counted.
        vectors.has_pgvector_column(db.session.connection())
        with _counting_statements() as one:
            search_index.index_documents(everything[:1])
        with _counting_statements() as many:
            search_index.index_documents(everything)

        assert len(one) == len(many) == 4
        assert db.session.scalar(select(func.count()).select_from(SearchEntry)) == len(everything)


def test_other_kinds_are_ignored(app: Flask):
    with app.app_context():
        others = _keys(Doc.kind.in_(["person", "topic"]))
        assert others
        with _counting_statements() as statements:
            search_index.index_documents(others)

        assert statements == []
        assert set(db.session.scalars(select(SearchEntry.kind))) == {"article", "faq"}


def test_publishing_indexes_an_article_and_its_faqs(app: Flask):
    with app.app_context():
        article = _draft("hiccups", "Hiccups that will not stop")
        db.session.add(
            Faq(article=article, question="Does holding my breath help?", answer="A bit.")
        )
        db.session.flush()

        publish_article(article.id)

        indexed = db.session.execute(
            select(SearchEntry.kind, SearchEntry.title).where(
                SearchEntry.title.in_(
                    ["Hiccups that will not stop", "Does holding my breath help?"]
                )
            )
        ).all()
        assert sorted(indexed) == [
            ("article", "Hiccups that will not stop"),
            ("faq", "Does holding my breath help?"),
        ]


def test_reindexing_an_unchanged_document_rewrites_nothing(app: Flask):
    with app.app_context():
        everything = _keys(SEARCHABLE)
        search_index.index_documents(everything)
        before = _entry_versions()
        search_index.index_documents(everything)

        assert _entry_versions() == before


def test_an_entry_holds_plain_text_and_weighted_words(app: Flask):
    with app.app_context():
        article = _draft(
            "entities-and-tags",
            "Crème brûlée & burns",
            body="Cool the burn for **20 minutes**; AT&T says 5 < 6 &amp; <b>no</b> ice.",
        )
        publish_article(article.id)

        entry = db.session.get(SearchEntry, ("article", article.id))
        assert entry is not None
        assert entry.title == "Crème brûlée & burns"
        # Markdown rendered and sanitized at publishing, read back as text in passages.
        assert entry.passages == [
            "Kitchen burns, briefly.",
            "First aid: Cool the burn for 20 minutes; AT&T says 5 < 6 & <b>no</b> ice.",
        ]
        weights = dict(
            db.session.execute(
                text(
                    "SELECT lexeme, weights[1] FROM search_entries, unnest(vector) "
                    "WHERE entity_id = :id"
                ),
                {"id": article.id},
            ).all()
        )
        assert (weights["creme"], weights["kitchen"], weights["aid"], weights["cool"]) == (
            "A",
            "B",
            "C",
            "D",
        )
        words = db.session.execute(
            select(SearchWord.word, SearchWord.lexeme).where(
                SearchWord.word.in_(["creme", "brulee", "minutes", "the"])
            )
        ).all()
        assert dict(words) == {"creme": "creme", "brulee": "brule", "minutes": "minut"}


def test_withdrawn_documents_leave_the_index(app: Flask):
    with app.app_context():
        search_index.index_documents(_keys(SEARCHABLE))
        article_id = db.session.scalar(
            select(Article.id).where(Article.slug == "headache-after-botox")
        )
        unpublish_article(article_id)

        remaining = set(db.session.scalars(select(SearchEntry.entity_id)))
        assert article_id not in remaining
        assert remaining == {entity_id for _, entity_id in _keys(SEARCHABLE)}


@pytest.mark.parametrize(
    ("typed", "known", "distance"),
    [("botxo", "botox", 1), ("headake", "headache", 2), ("headake", "head", 3), ("", "ab", 2)],
)
def test_edit_distance_counts_a_swap_as_one_edit(typed, known, distance):
    assert spelling.edit_distance(typed, known) == distance


def test_the_migration_backfills_published_articles_and_faqs(make_database):
    app = build_app(make_database("search_backfill"))
    try:
        with app.app_context():
            upgrade()
            load_seeds()
            db.session.commit()
            downgrade(revision="0002")
            upgrade()

            published = db.session.scalar(select(func.count()).select_from(Doc).where(SEARCHABLE))
            indexed = db.session.scalar(select(func.count()).select_from(SearchEntry))
            assert published == indexed > 20
            assert db.session.scalar(select(func.count()).select_from(SearchWord)) > 500
        page = app.test_client().get("/v1/search?q=botxo headake").get_json()
        assert page["items"][0]["slug"] == "headache-after-botox"
    finally:
        with app.app_context():
            for engine in db.engines.values():  # the delivery pool served the request
                engine.dispose()
