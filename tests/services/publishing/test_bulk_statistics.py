"""A bulk publish gives the planner statistics of what its first batch wrote."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cms_api.database import db
from cms_api.models import Article
from cms_api.services.publishing import articles as article_documents

ESTIMATED = "SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)"
WRITTEN = ("published_documents", "listed_articles", "search_entries", "answer_passages")


def _estimates() -> dict[str, float]:
    return {table: db.session.scalar(text(ESTIMATED), {"table": table}) for table in WRITTEN}


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
