"""A bulk publish lets go of each batch of articles once it is live."""

from __future__ import annotations

import gc
import uuid

import pytest

from cms_api.database import db
from cms_api.models import Article
from cms_api.services.publishing import articles as article_documents
from tests.support.seeds import live_article_ids


def _articles_held() -> int:
    """Articles still alive in the session (it holds them weakly, once flushed)."""
    gc.collect()
    return sum(isinstance(item, Article) for item in db.session.identity_map.values())


def test_rendering_starts_with_no_more_loaded_than_one_batch(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call with 100,000 articles would otherwise keep every one loaded, with its
    sections, FAQs, citations and reviews, until the publish returns."""
    monkeypatch.setattr(article_documents, "RENDER_BATCH", 2)
    held_when_rendering: list[int] = []
    refresh = article_documents.refresh_articles

    def counted_refresh(article_ids: list[uuid.UUID]) -> None:
        held_when_rendering.append(_articles_held())
        refresh(article_ids)

    monkeypatch.setattr(article_documents, "refresh_articles", counted_refresh)
    with app.app_context():
        ids = live_article_ids()
        assert len(ids) >= 6
        assert _articles_held() == 0  # nothing loaded before the publish

        article_documents.publish_articles(ids)

    assert len(held_when_rendering) == 1
    assert held_when_rendering[0] <= 2, f"{held_when_rendering[0]} of {len(ids)} still loaded"
