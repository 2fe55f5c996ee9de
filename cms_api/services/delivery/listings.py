"""Published lists in keyset pages, in plain SQL, per locale; each list's total counted once
per change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from cms_api.domain.paging import Keyset, Page
from cms_api.services import runtime
from cms_api.services.delivery.documents import KEYSETS, SORTS
from cms_api.services.delivery.remembered import (
    EVENTS_SINCE,
    SNAPSHOT_XMIN,
    Memory,
    Version,
    database,
)
from cms_api.services.runtime import reading

# A total is kept per list (kind, locale and filters) with the version of published
# content it was counted at (see `remembered`), and reused while that version is current:
# a list page checks the version in the statement that reads the page, and counts again
# only after a change.
_CHECKED = f"""SELECT %(xmin)s::bigint, {EVENTS_SINCE.format(xmin="%(xmin)s::bigint")},
    NULL::bigint"""
_COUNTED = f"""SELECT snapshot.xmin, {EVENTS_SINCE.format(xmin="snapshot.xmin")},
    ({{count}})
FROM (SELECT {SNAPSHOT_XMIN} AS xmin) AS snapshot"""
_COUNT = "SELECT count(*) FROM published_documents WHERE {filters}"
# The version (and total) row, joined to the page: a page past the end still carries it.
# Every list filters on (kind, locale) first, so it reads its (kind, locale, <order>,
# entity_id) index in order and stops at the page's end.
_PAGE = """SELECT stats.*, page.summary, page.sort_value, page.entity_id
FROM ({stats}) AS stats(xmin, events, total)
LEFT JOIN LATERAL ({rows}) AS page ON true"""
_ROWS = """
    SELECT summary, {column} AS sort_value, entity_id
    FROM published_documents AS d
    WHERE {filters}{seek}
    ORDER BY {column} {direction}, entity_id {direction}
    LIMIT %(limit)s"""
# With the default locale as fallback: the locale's documents, and the default locale's
# of what has none in the locale (topics and people keep one slug in every locale), each
# read in its index's order and merged.
_MISSING = """ AND NOT EXISTS (
        SELECT 1 FROM published_documents AS t
        WHERE t.kind = %(kind)s AND t.locale = %(locale)s AND t.slug = d.slug)"""
_MERGED = """
    SELECT * FROM (({own}) UNION ALL ({fallback})) AS merged
    ORDER BY sort_value {direction}, entity_id {direction}
    LIMIT %(limit)s"""


@dataclass(frozen=True)
class ListedPage(Page[str]):
    """A page of a list, with the version of published content it was read at."""

    version: Version = (0, 0)


# Each list's total: (xmin, events, total), by (database, kind, locale, fallback, tags,
# updated_since).
TOTALS: Memory[tuple[int, int, int]] = Memory(4096)
# (sort, counted, tags, since, after, fallback) → the statement: built once, so that a
# request only fills in values (and psycopg prepares it on its fifth run).
_statements: dict[tuple[str, bool, bool, bool, bool, bool], str] = {}
# Cursors name their listing: the sort, and for another locale than the default the
# locale too (and the fallback), so a cursor is refused (400) by another locale's list.
_keysets: dict[tuple[str, str, bool], Keyset] = {}


def keyset(sort: str, locale: str, fallback: bool, default: str) -> Keyset:
    """The keyset of a list in `locale`: the default locale's cursors are as they were."""
    if locale == default and not fallback:
        return KEYSETS[sort]
    key = (sort, locale, fallback)
    found = _keysets.get(key)
    if found is None:
        listing = f"{sort}@{locale}" + ("+default" if fallback else "")
        found = _keysets[key] = Keyset(listing, KEYSETS[sort].parsers)
    return found


def _statement(
    sort: str, *, counted: bool, tags: bool, since: bool, after: bool, fallback: bool
) -> str:
    key = (sort, counted, tags, since, after, fallback)
    statement = _statements.get(key)
    if statement is None:
        column, descending, _ = SORTS[sort]
        others = ""
        if tags:
            others += " AND tags @> %(tags)s::text[]"
        if since:
            others += " AND updated_at >= %(since)s"
        own = "kind = %(kind)s AND locale = %(locale)s" + others
        default = "kind = %(kind)s AND locale = %(default)s" + others + _MISSING
        seek = ""
        if after:
            seek = (
                f" AND ({column.key}, entity_id) {'<' if descending else '>'} (%(value)s, %(id)s)"
            )
        direction = "DESC" if descending else "ASC"

        def rows(filters: str) -> str:
            return _ROWS.format(column=column.key, filters=filters, seek=seek, direction=direction)

        count = _COUNT.format(filters=own)
        if fallback:
            count = (
                f"SELECT ({count}) + (SELECT count(*) FROM published_documents AS d "
                f"WHERE {default})"
            )
            page = _MERGED.format(own=rows(own), fallback=rows(default), direction=direction)
        else:
            page = rows(own)
        stats = _COUNTED.format(count=count) if counted else _CHECKED
        statement = _PAGE.format(stats=stats, rows=page)
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
    locale: str | None = None,
    fallback: bool = False,
) -> ListedPage:
    """One page of published summaries (JSON text) in `locale` (default: the site's), with
    the list's total. With `fallback`, what has no document in `locale` is listed in the
    default locale (navigation text: topics and people)."""
    default = runtime.settings().default_locale
    locale = locale or default
    fallback = fallback and locale != default
    pages = keyset(sort, locale, fallback, default)
    after = pages.decode(cursor)
    params: dict[str, Any] = {"kind": kind, "locale": locale, "limit": limit + 1}
    if fallback:
        params["default"] = default
    if tags:
        params["tags"] = sorted(tags)
    if updated_since is not None:
        params["since"] = updated_since
    if after is not None:
        params["value"], params["id"] = after
    with reading() as connection:
        key = (database(connection), kind, locale, fallback, tuple(sorted(tags)), updated_since)
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
    page = pages.page(
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
        sort,
        counted=counted,
        tags="tags" in params,
        since="since" in params,
        after=after,
        fallback="default" in params,
    )
    return connection.exec_driver_sql(statement, params).all()


def _cursor_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value
