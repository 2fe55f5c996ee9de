"""Who has an article open now: heartbeats that count for a minute, never audited."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, false, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import ArticlePresence, User

# A client that has not sent a heartbeat for this long has left (a closed tab sends no
# goodbye); clients send one about every 20 s, so a lost request or two changes nothing.
PRESENCE_TTL_SECONDS = 60


def _cutoff(now: datetime) -> datetime:
    return now - timedelta(seconds=PRESENCE_TTL_SECONDS)


def heartbeat(article_id: uuid.UUID, user_id: uuid.UUID, *, editing: bool | None) -> None:
    """`user_id` has the article open now (`editing`: and is changing it; None leaves it as
    the last heartbeat said). One upsert; then expired entries of anyone are cleared."""
    now = utcnow()
    table = ArticlePresence.__table__
    # A heartbeat after the entry expired starts a new visit: `since` and `editing` anew.
    expired = table.c.last_seen < _cutoff(now)
    statement = insert(table).values(
        article_id=article_id, user_id=user_id, since=now, last_seen=now, editing=bool(editing)
    )
    kept_editing = case((expired, false()), else_=table.c.editing)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.article_id, table.c.user_id],
        set_={
            "last_seen": now,
            "since": case((expired, statement.excluded.since), else_=table.c.since),
            "editing": statement.excluded.editing if editing is not None else kept_editing,
        },
    )
    db.session.execute(statement)
    _forget_expired(now)


def leave(article_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """`user_id` closed the article: the others stop seeing them at once."""
    db.session.execute(
        delete(ArticlePresence).where(
            ArticlePresence.article_id == article_id, ArticlePresence.user_id == user_id
        )
    )
    _forget_expired(utcnow())


def _forget_expired(now: datetime) -> None:
    """Delete expired entries (reads ignore them anyway). Rows another heartbeat is writing
    are skipped, not waited for: the next heartbeat will find them."""
    expired = (
        select(ArticlePresence.article_id, ArticlePresence.user_id)
        .where(ArticlePresence.last_seen < _cutoff(now))
        .with_for_update(skip_locked=True)
    )
    db.session.execute(
        delete(ArticlePresence)
        .where(tuple_(ArticlePresence.article_id, ArticlePresence.user_id).in_(expired))
        .execution_options(synchronize_session=False)
    )


def others(article_id: uuid.UUID, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """Everyone but `user_id` who has the article open now, longest there first."""
    rows = db.session.execute(
        select(
            User.id,
            User.name,
            User.role,
            ArticlePresence.since,
            ArticlePresence.last_seen,
            ArticlePresence.editing,
        )
        .join(User, User.id == ArticlePresence.user_id)
        .where(
            ArticlePresence.article_id == article_id,
            ArticlePresence.user_id != user_id,
            ArticlePresence.last_seen >= _cutoff(utcnow()),
            User.disabled_at.is_(None),
        )
        .order_by(ArticlePresence.since, User.name, User.id)
    )
    fields = ("user_id", "name", "role", "since", "last_seen", "editing")
    return [dict(zip(fields, row, strict=True)) for row in rows]
