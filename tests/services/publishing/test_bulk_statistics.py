"""A bulk publish gives the planner statistics of what its first batch wrote."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from cms_api.database import db
from cms_api.services.publishing import articles as article_documents
from cms_api.services.publishing import search_index
from tests.support.seeds import live_article_ids

ESTIMATED = "SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)"
WRITTEN = ("published_documents", "listed_articles", "search_entries", "answer_passages")


def _estimates(tables: tuple[str, ...] = WRITTEN) -> dict[str, float]:
    return {table: db.session.scalar(text(ESTIMATED), {"table": table}) for table in tables}


@pytest.mark.parametrize(("batch", "analyzed"), [(2, True), (10_000, False)])
def test_a_refresh_of_several_batches_analyzes_after_the_first(
    app, monkeypatch: pytest.MonkeyPatch, batch: int, analyzed: bool
) -> None:
    with app.app_context():
        public = live_article_ids()[:6]
        assert len(public) == 6
        # Statistics taken while the tables were empty, as on a first import.
        for table in WRITTEN:
            db.session.execute(text(f"DELETE FROM {table}"))
        db.session.execute(text("ANALYZE " + ", ".join(WRITTEN)))
        assert set(_estimates().values()) == {0}

        monkeypatch.setattr(article_documents, "RENDER_BATCH", batch)
        article_documents.refresh_articles(public)

        estimates = _estimates()
        if analyzed:
            # Counted after the first batch of two: its rows, in this very transaction.
            assert all(estimate > 0 for estimate in estimates.values()), estimates
            assert estimates["published_documents"] < db.session.scalar(
                text("SELECT count(*) FROM published_documents")
            )
        else:
            assert set(estimates.values()) == {0}  # one batch: nothing to plan better
        _put_statistics_back()


def _analyzed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ANALYZE statements the index thread runs from now on."""
    ran: list[str] = []
    original = search_index._statement

    def recorded(connection: Any, statement: str) -> None:
        original(connection, statement)
        if statement.startswith("ANALYZE"):
            ran.append(statement)

    monkeypatch.setattr(search_index, "_statement", recorded)
    return ran


def _published_counts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The article counts `analyze_written` is called with from now on."""
    counts: list[int] = []
    analyze_written = search_index.analyze_written

    def recorded(articles: int) -> None:
        counts.append(articles)
        analyze_written(articles)

    monkeypatch.setattr(search_index, "analyze_written", recorded)
    return counts


@pytest.mark.parametrize(
    ("emptied", "expected"),
    [(("answer_passages",), ["ANALYZE answer_passages"]), ((), [])],
    ids=["one-analyzed-empty", "none-small"],
)
def test_only_tables_whose_statistics_count_fewer_rows_than_the_publish_are_analyzed(
    app, monkeypatch: pytest.MonkeyPatch, emptied: tuple[str, ...], expected: list[str]
) -> None:
    analyzed = _analyzed(monkeypatch)
    counts = _published_counts(monkeypatch)
    with app.app_context():
        public = live_article_ids()[:6]
        try:
            # The seeded site, analyzed: its tables hold more rows than the publish has
            # articles (and articles linking to them), but those emptied first.
            for table in emptied:
                db.session.execute(text(f"DELETE FROM {table}"))
            db.session.execute(text("ANALYZE " + ", ".join(search_index._WRITTEN)))
            estimates = _estimates(search_index._WRITTEN)

            monkeypatch.setattr(article_documents, "RENDER_BATCH", 2)
            article_documents.refresh_articles(public)

            assert len(counts) == 1 and counts[0] >= len(public)
            assert all(estimates[table] == 0 for table in emptied)
            kept = [estimates[table] for table in search_index._WRITTEN if table not in emptied]
            assert min(kept) >= counts[0]
            assert analyzed == expected
        finally:
            _put_statistics_back()


def _put_statistics_back() -> None:
    """ANALYZE writes a table's row count in place: a rollback leaves it. Count the rows
    the rollback restored, for the tests after this one."""
    db.session.rollback()
    db.session.execute(text("ANALYZE " + ", ".join(search_index._WRITTEN)))
