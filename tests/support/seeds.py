"""Every text of the seeded site, for tests that run text-handling code over all of it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, text

from cms_api.database import db
from cms_api.models import Article
from cms_api.services.publishing import search_index

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def seed_texts() -> list[str]:
    """Each distinct string of the seed files (bodies, answers, bios, disclaimers, titles...)."""
    texts: set[str] = set()
    for path in sorted(SEEDS.rglob("*.yaml")):
        texts.update(_strings(yaml.safe_load(path.read_text())))
    return sorted(texts)


def live_article_ids() -> list[uuid.UUID]:
    """The seeded articles that have a live revision, in id order (for publishing again)."""
    return list(
        db.session.scalars(
            select(Article.id).where(Article.live_revision.is_not(None)).order_by(Article.id)
        )
    )


def indexed_documents() -> list[tuple[tuple[str, uuid.UUID], search_index.SearchTexts]]:
    """Each published article and FAQ of the database, as (kind, entity id), with the
    search texts publishing hands the index for it; in an app context."""
    rows = db.session.execute(
        text(
            "SELECT kind, entity_id, body, locale FROM published_documents"
            " WHERE kind IN ('article', 'faq') ORDER BY kind, entity_id"
        )
    ).all()
    return [
        ((kind, entity_id), search_index.search_texts(kind, json.loads(body), locale))
        for kind, entity_id, body, locale in rows
    ]
