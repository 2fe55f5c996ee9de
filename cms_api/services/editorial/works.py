"""An article's work as editors see it: the original it translates, its sibling translations."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import aliased

from cms_api.database import db
from cms_api.models import Article


@dataclass(frozen=True)
class Work:
    """Where one article stands in its work (an original and all its translations)."""

    # The original a translation was made from ({id, locale, slug}); None for an original.
    source: dict[str, Any] | None = None
    # The source published a revision newer than the one the translation was made from.
    outdated: bool = False
    # The work's other articles outside the trash: [{id, locale, slug, status}] by locale.
    translations: list[dict[str, Any]] = field(default_factory=list)


# What `preload` found for the articles of a page, each taken once by `work_of`: presenting
# a page then costs one query for all its works, not one per article.
_preloaded: WeakKeyDictionary[Article, Work] = WeakKeyDictionary()


def works(articles: Iterable[Article]) -> dict[uuid.UUID, Work]:
    """The work of each article, by article id, in one query."""
    chosen = list(articles)
    roots = {article.source_id or article.id for article in chosen}
    if not roots:
        return {}
    rows = db.session.execute(
        select(
            Article.id,
            Article.source_id,
            Article.locale,
            Article.slug,
            Article.status,
            Article.live_revision,
            Article.deleted_at,
        ).where(or_(Article.id.in_(roots), Article.source_id.in_(roots)))
    ).all()
    by_id = {row.id: row for row in rows}
    members: dict[uuid.UUID, list[Any]] = {}
    for row in rows:
        members.setdefault(row.source_id or row.id, []).append(row)
    found = {}
    for article in chosen:
        source = by_id.get(article.source_id) if article.source_id else None
        others = [
            {"id": row.id, "locale": row.locale, "slug": row.slug, "status": row.status}
            for row in members.get(article.source_id or article.id, [])
            if row.id != article.id and row.deleted_at is None
        ]
        found[article.id] = Work(
            source=(
                {"id": source.id, "locale": source.locale, "slug": source.slug}
                if source is not None
                else None
            ),
            outdated=source is not None
            and is_outdated(source.live_revision, article.source_revision),
            translations=sorted(others, key=lambda item: (item["locale"], str(item["id"]))),
        )
    return found


def is_outdated(source_live_revision: int | None, source_revision: int | None) -> bool:
    """Whether readers of the source see a newer revision than the translation was made from."""
    return (
        source_live_revision is not None
        and source_revision is not None
        and source_live_revision > source_revision
    )


def preload(articles: Iterable[Article]) -> None:
    """Find the works of a page of articles at once, for `work_of` to hand out."""
    chosen = list(articles)
    found = works(chosen)
    for article in chosen:
        _preloaded[article] = found[article.id]


def work_of(article: Article) -> Work:
    """The article's work: preloaded with its page, else read now."""
    preloaded = _preloaded.pop(article, None)
    if preloaded is not None:
        return preloaded
    return works([article])[article.id]


def outdated_condition() -> ColumnElement[bool]:
    """SQL: the article is a translation whose source has published a newer revision."""
    source = aliased(Article)
    return exists().where(
        and_(
            source.id == Article.source_id,
            source.live_revision.is_not(None),
            source.live_revision > Article.source_revision,
        )
    )
