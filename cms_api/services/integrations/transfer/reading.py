"""Read an import file: check each line against its record type's schema, stage valid records."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any, Protocol

from psycopg.types.json import Jsonb
from sqlalchemy import Connection, text
from sqlalchemy.dialects.postgresql import JSONB

from cms_api.domain.clock import utcnow
from cms_api.domain.errors import ValidationFailed
from cms_api.domain.json_depth import MAX_JSON_DEPTH
from cms_api.services.integrations.transfer.kinds import KIND, KINDS, Kind
from cms_api.services.integrations.transfer.report import LineErrors

COPY_BATCH = 2000  # validated rows sent to a staging table per COPY


class RecordSchemas(Protocol):
    """The schema of every record type of the format (`header`, `end` and each kind).

    The caller supplies it: the schemas that document the format for API users check
    the records too, and services depend on no validation library.
    """

    def load(self, type_: str, record: dict[str, Any]) -> dict[str, Any]:
        """The record's values, typed for their columns (UUIDs, datetimes, dates).

        Raises ValidationFailed with `errors`: the messages by field, as lists (`_schema`
        for the record as a whole).
        """
        ...


def create_staging(connection: Connection) -> None:
    for kind in KINDS:
        # Dropped first: a failed import earlier in this session may have left one.
        connection.execute(text(f"DROP TABLE IF EXISTS {kind.staging}"))
        connection.execute(
            text(
                f"CREATE TEMPORARY TABLE {kind.staging.removeprefix('pg_temp.')} "
                f"(LIKE {kind.table.name}, line integer NOT NULL) ON COMMIT DROP"
            )
        )


def drop_staging(connection: Connection) -> None:
    for kind in KINDS:
        connection.execute(text(f"DROP TABLE IF EXISTS {kind.staging}"))


def stage(
    connection: Connection, lines: Iterable[bytes | str], schemas: RecordSchemas
) -> tuple[dict[str, Any], Counter[str]]:
    """Validate each line and stage the records; raise with every bad line at the end."""
    errors = LineErrors()
    header: dict[str, Any] | None = None
    end: tuple[int, dict[str, int]] | None = None
    declared: Counter[str] = Counter()  # records per type, valid or not, for the end check
    counts: Counter[str] = Counter()
    batches: dict[str, list[tuple[Any, ...]]] = {kind.name: [] for kind in KINDS}
    number = 0
    for number, raw in enumerate(lines, start=1):
        record = _parse(number, raw, errors)
        if record is None:
            continue
        type_ = record.pop("type", None)
        if end is not None:
            errors.add(number, "type", "Nothing may follow the end record.")
        elif header is None:
            header = _header(number, type_, record, errors, schemas)
        elif type_ == "end":
            end = (number, _end(number, record, errors, schemas))
        elif type_ not in KIND:
            known = ", ".join(sorted([*KIND, "end"]))
            errors.add(number, "type", f"Unknown record type {type_!r}; one of: {known}.")
        else:
            kind = KIND[type_]
            declared[kind.name] += 1
            try:
                loaded = schemas.load(kind.name, record)
            except ValidationFailed as error:
                errors.merge(number, error.extra["errors"])
                continue
            counts[kind.name] += 1
            if errors:
                continue  # nothing will be applied: validate the rest, stage nothing more
            batch = batches[kind.name]
            batch.append((*_row(kind, loaded), number))
            if len(batch) >= COPY_BATCH:
                _copy(connection, kind, batch)
                batch.clear()
    if header is None:
        errors.add(max(number, 1), "type", "The file is empty: it must start with a header.")
    elif end is None:
        errors.add(number + 1, "type", "The file ends without its end record: it was cut short.")
    else:
        end_line, expected = end
        for name in sorted(set(expected) | set(declared)):
            if expected.get(name, 0) != declared[name]:
                errors.add(
                    end_line,
                    f"records.{name}",
                    f"Counts {expected.get(name, 0)}, but the file has {declared[name]}.",
                )
    if errors:
        raise errors.problem("invalid")
    for kind in KINDS:
        _copy(connection, kind, batches[kind.name])
    for kind in KINDS:
        # Temporary tables are never analysed automatically; without statistics the
        # checks that follow would be planned as if each staging table had a handful of rows.
        connection.execute(text(f"ANALYZE {kind.staging}"))
    assert header is not None
    return header, counts


def _parse(number: int, raw: bytes | str, errors: LineErrors) -> dict[str, Any] | None:
    """The line's JSON object; None for a blank line or (with an error noted) a bad one."""
    try:
        line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        errors.add(number, "_schema", "Not UTF-8 text.")
        return None
    if not line.strip():
        return None  # a trailing newline, or blank lines between records
    too_deep = f"Nests more than {MAX_JSON_DEPTH} levels deep."
    try:
        record = json.loads(line, parse_constant=_not_json)
    except RecursionError:
        errors.add(number, "_schema", too_deep)
        return None
    except ValueError as error:
        errors.add(number, "_schema", f"Not JSON: {error}.")
        return None
    if not isinstance(record, dict):
        errors.add(number, "_schema", "Not a JSON object.")
        return None
    if _deeper_than(record, MAX_JSON_DEPTH):
        errors.add(number, "_schema", too_deep)
        return None
    return record


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` deep. Validation recurses through
    a record, so depth is bounded first, without recursion."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _not_json(constant: str) -> Any:
    # Python reads NaN and Infinity, which JSON (and PostgreSQL's jsonb) does not have.
    raise ValueError(f"{constant} is not a JSON value")


def _header(
    number: int, type_: Any, record: dict[str, Any], errors: LineErrors, schemas: RecordSchemas
) -> dict[str, Any]:
    if type_ != "header":
        errors.add(number, "type", "The first line must be the header record.")
        return {"schema": None, "exported_at": utcnow()}
    try:
        return schemas.load("header", record)
    except ValidationFailed as error:
        errors.merge(number, error.extra["errors"])
        return {"schema": None, "exported_at": utcnow()}


def _end(
    number: int, record: dict[str, Any], errors: LineErrors, schemas: RecordSchemas
) -> dict[str, int]:
    try:
        return schemas.load("end", record)["records"]
    except ValidationFailed as error:
        errors.merge(number, error.extra["errors"])
        return {}


def _row(kind: Kind, loaded: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        Jsonb(loaded[column.name]) if isinstance(column.type, JSONB) else loaded[column.name]
        for column in kind.table.columns
    )


def _copy(connection: Connection, kind: Kind, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    raw = connection.connection.driver_connection
    columns = ", ".join([*kind.columns, "line"])
    with raw.cursor() as cursor, cursor.copy(f"COPY {kind.staging} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
