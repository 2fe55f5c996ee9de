"""Write all content as NDJSON, streamed from one snapshot of the database."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import IO, Any

from sqlalchemy import Connection, text

from cms_api.domain.clock import utcnow
from cms_api.domain.transfer_format import FORMAT, FORMAT_VERSION
from cms_api.services import runtime
from cms_api.services.integrations.transfer.kinds import KINDS

EXPORT_BATCH = 1000  # rows fetched per round trip from the export's server-side cursor


def export(stream: IO[str]) -> dict[str, int]:
    """Write every piece of content to `stream` as NDJSON; return the records per type."""
    counts: dict[str, int] = {}
    for line in export_lines(counts):
        stream.write(line)
    return counts


def export_lines(counts: dict[str, int] | None = None) -> Iterator[str]:
    """The export, line by line, read from one snapshot of the database.

    Rows come from server-side cursors a batch at a time, so memory stays flat whatever
    the number of articles. `counts` (when given) is filled with the records per type.
    """
    counts = {} if counts is None else counts
    with _snapshot() as connection:
        yield _line(
            {
                "type": "header",
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "schema": schema_revision(connection),
                "exported_at": jsonable(utcnow()),
            }
        )
        for kind in KINDS:
            counts[kind.name] = 0
            statement = text(kind.export_query()).execution_options(yield_per=EXPORT_BATCH)
            result = connection.execute(statement)
            try:
                for row in result:
                    record = {"type": kind.name}
                    record.update(zip(kind.columns, map(jsonable, row), strict=True))
                    yield _line(record)
                    counts[kind.name] += 1
            finally:
                result.close()  # a client that hangs up mid-stream leaves no open cursor
        yield _line({"type": "end", "records": counts})


@contextmanager
def _snapshot() -> Iterator[Connection]:
    """A connection whose reads all see one moment (REPEATABLE READ), so an editor saving
    during a long export cannot leave it with a section whose article it lacks."""
    with runtime.snapshot() as connection:
        yield connection


def schema_revision(connection: Connection) -> str | None:
    """The migration the database is at (several, comma-separated, on a branched history)."""
    return connection.execute(
        text("SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version")
    ).scalar()


def jsonable(value: Any) -> Any:
    """A column's value as the file writes it."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        # UTC, with microseconds: an import must restore the exact instant.
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
