"""What a revision changes: field by field, and what the revision under review changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, Revision


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per field: the old and new value of every field that differs."""
    return {
        key: {"from": old.get(key), "to": new.get(key)}
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    }


def under_review(article: Article) -> dict[str, Any] | None:
    """For an article awaiting review (or approved, not yet live): what its current revision
    changes from the live one, so the reviewer sees exactly what readers would get.

    With nothing live, `from_revision` is null and every field counts as changed.
    """
    if article.status not in ("in_review", "approved") or not article.revision_number:
        return None
    numbers = {article.revision_number, article.live_revision}
    rows = db.session.execute(
        select(Revision.number, Revision.snapshot).where(
            Revision.article_id == article.id, Revision.number.in_(numbers - {None})
        )
    )
    snapshots: dict[int, dict[str, Any]] = dict(rows.all())
    new = snapshots.get(article.revision_number, {})
    old = snapshots.get(article.live_revision, {}) if article.live_revision else {}
    return {
        "from_revision": article.live_revision,
        "to_revision": article.revision_number,
        "changes": diff(old, new),
    }
