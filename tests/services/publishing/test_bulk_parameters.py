"""A refresh may name more articles, or people, than one statement can bind parameters for."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import PublishedDocument
from cms_api.services.publishing import articles as article_documents
from cms_api.services.publishing.people import refresh_people
from tests.support.seeds import live_article_ids

# PostgreSQL's protocol carries at most 65,535 parameters a statement.
MOST_PARAMETERS = 65_535


def _etags(kind: str) -> dict[uuid.UUID, str]:
    return dict(
        db.session.execute(
            select(PublishedDocument.entity_id, PublishedDocument.etag).where(
                PublishedDocument.kind == kind
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
        before = _etags("article")
        assert set(ids) <= before.keys()
        # Ids of no article: each is looked for, and nothing is rendered for it.
        unknown = [uuid.uuid4() for _ in range(MOST_PARAMETERS + 1)]

        article_documents.refresh_articles(unknown + ids)

        assert _etags("article") == before


def test_profiles_of_more_people_than_a_statement_binds(app) -> None:
    """An import renders the profile of every person it brings, in one call."""
    with app.app_context():
        before = _etags("person")
        assert before
        unknown = [uuid.uuid4() for _ in range(MOST_PARAMETERS + 1)]

        refresh_people([*unknown, *before])

        assert _etags("person") == before
