"""Published lists in keyset pages, in plain SQL; each list's total counted once per change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from cms_api.domain.paging import Page
from cms_api.services.delivery.documents import KEYSETS, SORTS
from cms_api.services.delivery.remembered import (
    EVENTS_SINCE,
    SNAPSHOT_XMIN,
    Memory,
    Version,
    database,
)
from cms_api.services.runtime import reading

# A total is kept per list (kind and filters) with the version of published content it
# was counted at (see `remembered`), and reused while that version is current: a list
# page checks the version in the statement that reads the page, and counts again only
# after a change.
_CHECKED = f"""SELECT %(xmin)s::bigint, {EVENTS_SINCE.format(xmin="%(xmin)s::bigint")},
    NULL::bigint"""
_COUNTED = f"""SELECT snapshot.xmin, {EVENTS_SINCE.format(xmin="snapshot.xmin")},
    (SELECT count(*) FROM published_documents WHERE {{filters}})
FROM (SELECT {SNAPSHOT_XMIN} AS xmin) AS snapshot"""
# The version (and total) row, joined to the page: a page past the end still carries it.
_PAGE = """SELECT stats.*, page.summary, page.sort_value, page.entity_id
FROM ({stats}) AS stats(xmin, events, total)
LEFT JOIN LATERAL (
    SELECT summary, {column} AS sort_value, entity_id
    FROM published_documents
    WHERE {filters}{seek}
    ORDER BY {column} {direction}, entity_id {direction}
    LIMIT %(limit)s
) AS page ON true"""


@dataclass(frozen=True)
class ListedPage(Page[str]):
    """A page of a list, with the version of published content it was read at."""

    version: Version = (0, 0)


# Each list's total: (xmin, events, total), by (database, kind, tags, updated_since).
TOTALS: Memory[tuple[int, int, int]] = Memory(4096)
# (sort, counted, tags, since, after) → the statement: built once, so that a request
# only fills in values (and psycopg prepares it on its fifth run).
_statements: dict[tuple[str, bool, bool, bool, bool], str] = {}


def _statement(sort: str, *, counted: bool, tags: bool, since: bool, after: bool) -> str:
    key = (sort, counted, tags, since, after)
    statement = _statements.get(key)
    if statement is None:
        column, descending, _ = SORTS[sort]
        filters = "kind = %(kind)s"
        if tags:
            filters += " AND tags @> %(tags)s::text[]"
        if since:
            filters += " AND updated_at >= %(since)s"
        seek = ""
        if after:
            seek = (
                f" AND ({column.key}, entity_id) {'<' if descending else '>'} (%(value)s, %(id)s)"
            )
        stats = _COUNTED.format(filters=filters) if counted else _CHECKED
        statement = _PAGE.format(
            stats=stats,
            column=column.key,
            filters=filters,
            seek=seek,
            direction="DESC" if descending else "ASC",
        )
        _statements[key] = statement
    return statement


def list_documents(
    kind: str,
    *,
    tags: list[str],
    sort: str,
    limit: int,
    cursor: str | None = None,
    updated_since: datetime | None = None,
) -> ListedPage:
    """One page of published summaries (JSON text) with the list's total."""
    keyset = KEYSETS[sort]
    after = keyset.decode(cursor)
    params: dict[str, Any] = {"kind": kind, "limit": limit + 1}
    if tags:
        params["tags"] = sorted(tags)
    if updated_since is not None:
        params["since"] = updated_since
    if after is not None:
        params["value"], params["id"] = after
    with reading() as connection:
        key = (database(connection), kind, tuple(sorted(tags)), updated_since)
        known = TOTALS.get(key)
        if known is not None:
            params["xmin"] = known[0]
        rows = _run(connection, sort, params, counted=known is None, after=after is not None)
        xmin, events, total = rows[0][:3]
        if known is not None and events != known[1]:
            # Published documents changed since the total was counted: count again.
            rows = _run(connection, sort, params, counted=True, after=after is not None)
            xmin, events, total = rows[0][:3]
            known = None
        if known is None:
            TOTALS.put(key, (xmin, events, total))
        else:
            total = known[2]
    hits = [row for row in rows if row[5] is not None]
    page = keyset.page(
        hits, limit=limit, total=total, key=lambda row: [_cursor_value(row[4]), str(row[5])]
    )
    return ListedPage(
        items=[row[3] for row in page.items],
        limit=limit,
        next_cursor=page.next_cursor,
        total=total,
        version=(xmin, events),
    )


def _run(
    connection: Connection, sort: str, params: dict[str, Any], *, counted: bool, after: bool
) -> list[Any]:
    statement = _statement(
        sort, counted=counted, tags="tags" in params, since="since" in params, after=after
    )
    return connection.exec_driver_sql(statement, params).all()


def _cursor_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value
