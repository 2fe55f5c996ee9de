"""The change feed read back: what publishing did to public content, in commit order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from cms_api.domain.formats import iso_datetime
from cms_api.domain.paging import Keyset, whole_number
from cms_api.services import runtime
from cms_api.services.delivery.documents import reading

# (transaction id, event id): events in commit order; a poll always gets a cursor back.
FEED_KEYSET = Keyset("changes", (whole_number, whole_number), parameter="since")
# Where each kind of document is read from delivery once the feed names it.
_DELIVERY_PATHS = {
    "article": "/v1/articles/{slug}",
    "person": "/v1/people/{slug}",
    "topic": "/v1/topics/{slug}",
    "faq": "/v1/faqs/{id}",
    "red_flag": "/v1/red-flags/{slug}",
}

# Events of transactions still running, or older than one still running, are held back:
# `transaction_id < xmin` means every transaction that could write a smaller id has ended,
# so nothing can later appear before a cursor already handed out. A transaction does see
# its own events (`pg_current_xact_id_if_assigned`); delivery reads never write, so they
# have no id and that branch only matters to a writer reading its own feed.
_PAGE = """
SELECT id, transaction_id, occurred_at, kind, entity_id, slug, action, locale
FROM change_events
WHERE (transaction_id, id) > (%(transaction_id)s, %(id)s)
  AND (transaction_id < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint
       OR transaction_id = (pg_current_xact_id_if_assigned()::text)::bigint){locale}
ORDER BY transaction_id, id
LIMIT %(limit)s
"""
# The cursor is a place in the one stream of every locale's events, so the same cursor
# serves a reader following one locale or all of them.
_EVERY_LOCALE = _PAGE.format(locale="")
_ONE_LOCALE = _PAGE.format(locale="\n  AND locale = %(locale)s")


@dataclass(frozen=True)
class FeedPage:
    items: list[dict[str, Any]]
    limit: int
    next_cursor: str
    has_more: bool


def read(since: str | None, limit: int, locale: str | None = None) -> FeedPage:
    """Events after the cursor `since` (from the beginning without one), oldest first:
    of every locale, or of `locale` only."""
    transaction_id, event_id = FEED_KEYSET.decode(since) or (0, 0)
    parameters = {"transaction_id": transaction_id, "id": event_id, "limit": limit + 1}
    with reading() as connection:
        if locale is None:
            rows = connection.exec_driver_sql(_EVERY_LOCALE, parameters).all()
        else:
            rows = connection.exec_driver_sql(_ONE_LOCALE, {**parameters, "locale": locale}).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    if rows:
        transaction_id, event_id = rows[-1][1], rows[-1][0]
    default_locale = runtime.settings().default_locale
    return FeedPage(
        items=[_item(*row, default_locale=default_locale) for row in rows],
        limit=limit,
        # Always a cursor, even on an empty page: it is where the next poll starts.
        next_cursor=FEED_KEYSET.encode([transaction_id, event_id]),
        has_more=has_more,
    )


def _item(
    event_id: int,
    transaction_id: int,
    occurred_at: Any,
    kind: str,
    entity_id: uuid.UUID,
    slug: str | None,
    action: str,
    locale: str,
    *,
    default_locale: str,
) -> dict[str, Any]:
    return {
        "type": f"{kind}.{action}",
        "kind": kind,
        "action": action,
        "id": str(entity_id),
        "slug": slug,
        "locale": locale,
        "url": delivery_url(kind, slug, entity_id, locale, default_locale),
        "occurred_at": iso_datetime(occurred_at),
    }


def delivery_url(
    kind: str, slug: str | None, entity_id: uuid.UUID, locale: str, default_locale: str
) -> str:
    """Where delivery serves a document: in another locale than the default, with the
    `?locale=` that reads it there."""
    path = _DELIVERY_PATHS[kind].format(slug=slug, id=entity_id)
    return path if locale == default_locale else f"{path}?locale={locale}"
