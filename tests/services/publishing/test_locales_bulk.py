"""Publishing translations in bulk stores what publishing them one by one does, in a few queries."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, text

from cms_api.database import db
from cms_api.models import (
    Article,
    ArticleAuthor,
    ArticleTopic,
    Faq,
    Person,
    PersonTranslation,
    RelatedLink,
    Section,
    Topic,
    TopicTranslation,
)
from cms_api.services.publishing import articles as article_documents

WHEN = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
NAMESPACE = uuid.UUID("0b6f8f3e-2d0c-4f7e-9a57-8d1e6c4b2a90")
LOCALES = ("es", "fr")


def _id(name: str) -> uuid.UUID:
    """The same ids in every run, so two runs' documents compare row for row."""
    return uuid.uuid5(NAMESPACE, name)


def _works(count: int) -> list[list[uuid.UUID]]:
    """`count` originals, each linking to the next, each translated into Spanish and
    French; one author and one topic, both translated into Spanish. Returns each work's
    ids, the original first."""
    author = Person(id=_id("author"), slug="noor-halvorsen", name="Noor Halvorsen", job_title="GP")
    topic = Topic(id=_id("topic"), slug="night-cramps", name="Night cramps")
    db.session.add_all([author, topic])
    db.session.flush()
    db.session.add_all(
        [
            TopicTranslation(id=_id("topic-es"), topic=topic, locale="es", name="Calambres"),
            PersonTranslation(id=_id("author-es"), person=author, locale="es", job_title="Médica"),
        ]
    )
    works = []
    for index in range(count):
        original = _article(f"cramps-{index}", "en", author, topic)
        # Each original is published as its translations are made from it: revision 1.
        translations = [
            _article(f"cramps-{index}-{locale}", locale, author, topic, source=original)
            for locale in LOCALES
        ]
        works.append([original.id] + [item.id for item in translations])
    db.session.flush()
    for index in range(count - 1):
        db.session.add(
            RelatedLink(
                id=_id(f"link-{index}"),
                source_id=_id(f"cramps-{index}"),
                target_id=_id(f"cramps-{index + 1}"),
                relation="see_also",
            )
        )
    db.session.flush()
    return works


def _article(
    slug: str, locale: str, author: Person, topic: Topic, source: Article | None = None
) -> Article:
    article = Article(
        id=_id(slug),
        slug=slug,
        locale=locale,
        source_id=source.id if source else None,
        source_revision=1 if source else None,
        title=f"Title of {slug}",
        summary="A short summary.",
        status="draft",
        disclaimer="General information only.",
    )
    article.authorships = [ArticleAuthor(person=author)]
    article.topic_links = [ArticleTopic(topic=topic)]
    article.all_sections = [
        Section(id=_id(f"{slug}-section"), key="overview", heading="Overview", body="Text.")
    ]
    db.session.add(article)
    db.session.add(
        Faq(id=_id(f"{slug}-faq"), article=article, locale=locale, question="Why?", answer="So.")
    )
    return article


def _state(after: int) -> dict[str, Any]:
    """The stored documents (in their locales) and each one's change events."""
    documents = db.session.execute(
        text(
            "SELECT kind, entity_id, locale, slug, body, summary, etag, tags, published_at,"
            " updated_at, title, sort_title, topic_slugs, reviewed_on FROM published_documents"
            " ORDER BY kind, entity_id"
        )
    ).all()
    events = db.session.execute(
        text(
            "SELECT kind, entity_id, locale, slug, action FROM change_events WHERE id > :after"
            " ORDER BY id"
        ),
        {"after": after},
    ).all()
    per_entity: dict[tuple[str, uuid.UUID], list[tuple]] = {}
    for row in events:
        per_entity.setdefault((row.kind, row.entity_id), []).append(tuple(row))
    return {
        "documents": documents,
        "feed": {key: items[0] for key, items in per_entity.items()},
        "counts": {key: len(items) for key, items in per_entity.items()},
    }


def _published(publish: Callable[[list[list[uuid.UUID]]], None], count: int) -> dict[str, Any]:
    """Make the works, publish them with `publish`, and read what was stored, leaving the
    database as it was."""
    connection = db.session.get_bind()
    db.session.close()
    undo = connection.begin_nested()
    seen = db.session.scalar(text("SELECT coalesce(max(id), 0) FROM change_events"))
    try:
        publish(_works(count))
        return _state(seen)
    finally:
        db.session.close()
        undo.rollback()


def test_publishing_translations_in_bulk_stores_what_one_by_one_publishing_does(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    def one_by_one(works: list[list[uuid.UUID]]) -> None:
        # Translations first: each original then re-renders the translations of its work.
        for ids in works:
            for article_id in reversed(ids):
                article_documents.publish_articles([article_id], at=WHEN)

    def in_bulk(works: list[list[uuid.UUID]]) -> None:
        article_documents.publish_articles([item for ids in works for item in ids], at=WHEN)

    with app.app_context():
        expected = _published(one_by_one, 4)
        # Small batches: works and links span several of them.
        monkeypatch.setattr(article_documents, "RENDER_BATCH", 2)
        bulk = _published(in_bulk, 4)

    locales = {(row.kind, row.locale) for row in expected["documents"]}
    assert {("article", "es"), ("article", "fr"), ("faq", "es"), ("topic", "es")} <= locales
    assert ("person", "es") in locales and ("person", "fr") not in locales
    assert bulk["documents"] == expected["documents"]
    assert bulk["feed"] == expected["feed"]
    assert {key: n for key, n in bulk["counts"].items() if n != 1} == {}
    assert {row[2] for row in bulk["feed"].values()} >= {"en", "es", "fr"}


@contextmanager
def _statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_publishing_more_works_and_translations_takes_no_more_queries(app) -> None:
    def publish_counted(count: int) -> list[str]:
        with _statements() as seen:
            _published(
                lambda works: article_documents.publish_articles(
                    [item for ids in works for item in ids], at=WHEN
                ),
                count,
            )
        # Left out: savepoints, and the go-live step's flush of each article row made live
        # (one UPDATE per row, as before languages); rendering is what is counted.
        skipped = ("SAVEPOINT", "RELEASE", "ROLLBACK", "UPDATE articles SET")
        return [sql for sql in seen if not sql.startswith(skipped)]

    with app.app_context():
        few, many = publish_counted(2), publish_counted(6)

    # Building the works costs the same statements whatever their number (bulk inserts),
    # and so must rendering them, their translations, their FAQs and their pages.
    assert len(many) == len(few), sorted(set(many) - set(few))
