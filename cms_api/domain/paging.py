"""Keyset pagination, the one way every listing pages: opaque cursors that name their listing."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from cms_api.domain.errors import InvalidParameter

# A cursor is the sort key of the last row served, base64url JSON, prefixed with the listing's
# name, so a cursor from one listing (or sort order) is refused by another. Anything that does
# not decode to the listing's key, value by value, is an `InvalidParameter` (a 400), never a
# silent first page.

T = TypeVar("T")
INT_MAX = 2**63 - 1


def encode_cursor(listing: str, values: Sequence[Any]) -> str:
    raw = json.dumps([listing, *values], separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _storable(text: str) -> bool:
    """Whether PostgreSQL can take the text: no NUL, and no lone surrogate (JSON's "\\ud800")."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refused(parameter: str) -> InvalidParameter:
    return InvalidParameter(
        f"Query parameter '{parameter}': not a cursor issued for this listing and sort order.",
        errors={"query": {parameter: ["Invalid cursor."]}},
    )


# -- how each key value is read back; anything else raises and the cursor is refused ---------


def aware_datetime(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(value)
    return moment


def calendar_date(value: Any) -> date:
    return date.fromisoformat(str(value))


def uuid_value(value: Any) -> uuid.UUID:
    return uuid.UUID(str(value))


def whole_number(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= INT_MAX:
        raise ValueError(value)
    return value


def real_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(value)
    return float(value)


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(value)
    return value


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: its items, the cursor of the next page (None on the last)."""

    items: list[T]
    limit: int
    next_cursor: str | None
    total: int


@dataclass(frozen=True)
class Keyset:
    """A listing's keyset: the name its cursors carry and how each key value reads back."""

    listing: str
    parsers: tuple[Callable[[Any], Any], ...]
    parameter: str = "cursor"

    def encode(self, values: Sequence[Any]) -> str:
        return encode_cursor(self.listing, values)

    def decode(self, cursor: str | None) -> tuple[Any, ...] | None:
        """The key after which the page starts; None for the first page; 400 if forged."""
        if cursor is None:
            return None
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            decoded = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        except (ValueError, UnicodeError):
            raise _refused(self.parameter) from None
        if (
            not isinstance(decoded, list)
            or len(decoded) != len(self.parsers) + 1
            or decoded[0] != self.listing
            or not all(isinstance(value, str | int | float) for value in decoded[1:])
            or not all(_storable(value) for value in decoded[1:] if isinstance(value, str))
        ):
            raise _refused(self.parameter)
        try:
            return tuple(
                parse(value) for parse, value in zip(self.parsers, decoded[1:], strict=True)
            )
        except (TypeError, ValueError, OverflowError):
            raise _refused(self.parameter) from None

    def page(
        self,
        rows: Sequence[T],
        *,
        limit: int,
        total: int,
        key: Callable[[T], Sequence[Any]],
    ) -> Page[T]:
        """The page from a query that fetched `limit + 1` rows: the extra row only says
        that another page follows, and the last row served is where it starts."""
        items = list(rows[:limit])
        next_cursor = self.encode(key(items[-1])) if len(rows) > limit else None
        return Page(items=items, limit=limit, next_cursor=next_cursor, total=total)
