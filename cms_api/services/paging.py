"""Keyset pages of ORM objects: filter, count, seek past the cursor, fetch one row more."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from cms_api.database import db
from cms_api.domain.paging import Keyset, Page


def paginate(
    query: Select[Any],
    conditions: Sequence[ColumnElement[bool]],
    *,
    order: Sequence[InstrumentedAttribute[Any]],
    descending: bool,
    keyset: Keyset,
    cursor: str | None,
    limit: int,
    options: Sequence[Any] = (),
) -> Page[Any]:
    """One page of `query` in `order` (a unique key, last column the id), with the total.

    The cursor holds the last row's `order` values, so page 5,000 costs what page 1 costs.
    """
    after = keyset.decode(cursor)
    total = db.session.scalar(select(func.count()).select_from(query.where(*conditions).subquery()))
    seek = list(conditions)
    if after is not None:
        key = tuple_(*order)
        seek.append(key < after if descending else key > after)
    ordering = [column.desc() if descending else column.asc() for column in order]
    fetch = query.where(*seek).order_by(*ordering).limit(limit + 1).options(*options)
    rows = db.session.scalars(fetch).all()
    return keyset.page(
        rows,
        limit=limit,
        total=total or 0,
        key=lambda row: [_plain(getattr(row, column.key)) for column in order],
    )


def _plain(value: Any) -> Any:
    return value if isinstance(value, int | float | str) else str(value)
