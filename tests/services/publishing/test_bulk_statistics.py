"""A bulk publish gives the planner statistics of what its first batch wrote."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from cms_api.database import db
from cms_api.models import Article
from cms_api.services.publishing import articles as article_documents
from cms_api.services.publishing import search_index

ESTIMATED = "SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)"
WRITTEN = ("published_documents", "listed_articles", "search_entries", "answer_passages")


def _estimates(tables: tuple[str, ...] = WRITTEN) -> dict[str, float]:
    return {table: db.session.scalar(text(ESTIMATED), {"table": table}) for table in tables}


@pytest.mark.parametrize(("batch", "analyzed"), [(2, True), (10_000, False)])
def test_a_refresh_of_several_batches_analyzes_after_the_first(
    app, monkeypatch: pytest.MonkeyPatch, batch: int, analyzed: bool
) -> None:
    with app.app_context():
        public = list(
            db.session.scalars(
                db.select(Article.id).where(Article.live_revision.is_not(None)).limit(6)
            )
        )
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
        db.session.rollback()


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


def test_tables_whose_statistics_count_as_many_rows_as_the_publish_are_not_analyzed_again(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    analyzed = _analyzed(monkeypatch)
    with app.app_context():
        public = list(
            db.session.scalars(
                db.select(Article.id).where(Article.live_revision.is_not(None)).limit(6)
            )
        )
        # The seeded site, analyzed: every table holds more rows than the publish has
        # articles (and what links to them), but answer_passages, analyzed empty.
        db.session.execute(text("DELETE FROM answer_passages"))
        db.session.execute(text("ANALYZE " + ", ".join(search_index._WRITTEN)))
        estimates = _estimates(search_index._WRITTEN)
        assert estimates["answer_passages"] == 0
        publishes: list[int] = []
        analyze_written = search_index.analyze_written

        def recorded(articles: int) -> None:
            publishes.append(articles)
            analyze_written(articles)

        monkeypatch.setattr(search_index, "analyze_written", recorded)
        monkeypatch.setattr(article_documents, "RENDER_BATCH", 2)
        article_documents.refresh_articles(public)

        assert len(publishes) == 1 and publishes[0] >= len(public)
        others = [estimates[table] for table in search_index._WRITTEN if table != "answer_passages"]
        assert min(others) >= publishes[0]
        assert analyzed == ["ANALYZE answer_passages"]
        db.session.rollback()


def test_statistics_counting_enough_rows_leave_a_bulk_publish_without_analyze(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    analyzed = _analyzed(monkeypatch)
    with app.app_context():
        public = list(
            db.session.scalars(
                db.select(Article.id).where(Article.live_revision.is_not(None)).limit(6)
            )
        )
        db.session.execute(text("ANALYZE " + ", ".join(search_index._WRITTEN)))
        monkeypatch.setattr(article_documents, "RENDER_BATCH", 2)
        article_documents.refresh_articles(public)
        assert analyzed == []
        db.session.rollback()
