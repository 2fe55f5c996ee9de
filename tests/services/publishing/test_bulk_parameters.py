"""A refresh may name more articles than one statement can bind parameters for."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import PublishedDocument
from cms_api.services.publishing import articles as article_documents
from tests.support.seeds import live_article_ids

# PostgreSQL's protocol carries at most 65,535 parameters a statement.
MOST_PARAMETERS = 65_535


def _article_etags() -> dict[uuid.UUID, str]:
    return dict(
        db.session.execute(
            select(PublishedDocument.entity_id, PublishedDocument.etag).where(
                PublishedDocument.kind == "article"
            )
        ).all()
    )


def test_refresh_of_more_articles_than_a_statement_binds(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import of 100,000 articles renders them in one call: the statements that take
    every one of them (which articles link into them, which translate them) bind them as
    one array, not one parameter each."""
    # Fewer, larger batches: the same statements, a few seconds sooner.
    monkeypatch.setattr(article_documents, "RENDER_BATCH", 20_000)
    with app.app_context():
        ids = live_article_ids()
        before = _article_etags()
        assert set(ids) <= before.keys()
        # Ids of no article: each is looked for, and nothing is rendered for it.
        unknown = [uuid.uuid4() for _ in range(MOST_PARAMETERS + 1)]

        article_documents.refresh_articles(unknown + ids)

        assert _article_etags() == before
