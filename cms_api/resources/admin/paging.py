"""Keyset pages for admin lists: read a cursor back, cut the look-ahead row, build the envelope."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from cms_api.errors import InvalidParameter
from cms_api.http import decode_cursor, encode_cursor, next_link

T = TypeVar("T")
LINK_HEADER = {
    "Link": {
        "description": 'RFC 8288 link to the next page: `<...>; rel="next"`; absent on the '
        "last page.",
        "schema": {"type": "string"},
    }
}
INT_MAX = 2**31 - 1


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= INT_MAX:
        raise ValueError(value)
    return value


def _aware(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(value)
    return moment


def _uuid(value: Any) -> uuid.UUID:
    return uuid.UUID(str(value))


def after(args: dict[str, Any], listing: str, *parsers: Callable[[Any], Any]) -> tuple | None:
    """The keyset values of the request's cursor, read with `parsers`; None on page one."""
    if "cursor" not in args:
        return None
    values = decode_cursor(args["cursor"], listing, len(parsers))
    try:
        return tuple(parse(value) for parse, value in zip(parsers, values, strict=True))
    except (TypeError, ValueError, OverflowError):
        raise InvalidParameter(
            "Query parameter 'cursor': invalid cursor.",
            errors={"query": {"cursor": ["Invalid cursor."]}},
        ) from None


def after_changed(args: dict[str, Any], listing: str) -> tuple[datetime, uuid.UUID] | None:
    """For lists ordered by most recently changed: (updated_at, id)."""
    return after(args, listing, _aware, _uuid)


def after_position(args: dict[str, Any], listing: str) -> tuple[int, uuid.UUID] | None:
    """For lists in display order: (position, id)."""
    return after(args, listing, _int, _uuid)


def page(
    rows: Sequence[T],
    *,
    limit: int,
    total: int,
    listing: str,
    key: Callable[[T], list[Any]],
    present: Callable[[T], dict[str, Any]],
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The list envelope and its `Link` header, from a query that fetched `limit + 1` rows."""
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(listing, key(rows[-1]))
    body = {
        "items": [present(row) for row in rows],
        "page": {"limit": limit, "next_cursor": next_cursor, "total": total},
    }
    return body, 200, next_link(next_cursor)


def changed_key(row: Any) -> list[Any]:
    return [row.updated_at.isoformat(), str(row.id)]
