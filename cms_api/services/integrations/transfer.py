"""Move all content between databases as NDJSON: a streamed export, and an all-or-nothing import."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any

import marshmallow as ma
from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Table, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import JSONB

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import Conflict, DomainError
from cms_api.domain.json_depth import MAX_JSON_DEPTH
from cms_api.models import (
    Article,
    ArticleAuthor,
    ArticleSlug,
    ArticleTopic,
    Citation,
    Credential,
    Faq,
    MedicalCode,
    MedicalReview,
    Person,
    RelatedLink,
    Revision,
    Section,
    Topic,
)
from cms_api.schemas import transfer as records
from cms_api.services import runtime
from cms_api.services.publishing import documents as publishing

FORMAT, FORMAT_VERSION = records.FORMAT, records.FORMAT_VERSION
EXPORT_BATCH = 1000  # rows fetched per round trip from the export's server-side cursor
COPY_BATCH = 2000  # validated rows sent to a staging table per COPY
MAX_REPORTED = 100  # invalid lines an error report lists (it says when there were more)


@dataclass(frozen=True)
class Kind:
    """One record type: its table, its schema, how its rows are identified and exported."""

    name: str
    table: Table
    schema: ma.Schema
    key: tuple[str, ...] = ("id",)
    # The aggregate a row belongs to, as (column, record type). An imported article brings
    # all of its sections: those the file no longer has are deleted from the target.
    # Rows without an owner (people, topics, articles, FAQs, links) are only ever upserted.
    owner: tuple[str, str] | None = None
    order_by: str = "id"
    # A query listing the table's rows in export order, when ORDER BY alone cannot.
    query: str | None = None

    @property
    def columns(self) -> list[str]:
        return [column.name for column in self.table.columns]

    @property
    def staging(self) -> str:
        return f"pg_temp.transfer_{self.table.name}"

    @property
    def compared(self) -> list[str]:
        """The columns whose difference makes a row "changed" (a version is the target's own)."""
        return [name for name in self.columns if name not in self.key and name != "version"]

    def export_query(self) -> str:
        columns = ", ".join(self.columns)
        if self.query:
            return self.query.format(columns=columns)
        return f"SELECT {columns} FROM {self.table.name} ORDER BY {self.order_by}"


def _tree_query(table: str, label: str, order_by: str) -> str:
    """Rows with each parent before its children, siblings by position (a depth-first walk);
    rows no walk from a root reaches (a corrupt loop) come last, so none is left out."""
    return (
        "WITH RECURSIVE tree AS ("
        f" SELECT id, ARRAY[ROW(position, {label})] AS path FROM {table} WHERE parent_id IS NULL"
        f" UNION ALL SELECT child.id, tree.path || ROW(child.position, child.{label})"
        f" FROM {table} AS child JOIN tree ON child.parent_id = tree.id"
        f") SELECT {{columns}} FROM {table} LEFT JOIN tree USING (id)"
        f" ORDER BY {order_by}tree.path NULLS LAST, id"
    )


def _kind(name: str, model: Any, schema: type[ma.Schema], **options: Any) -> Kind:
    return Kind(name, model.__table__, schema(), **options)


# Parents before children: a file read from the top never names a row before it defines it.
KINDS: tuple[Kind, ...] = (
    _kind("person", Person, records.PersonRecord, order_by="slug"),
    _kind(
        "credential",
        Credential,
        records.CredentialRecord,
        owner=("person_id", "person"),
        order_by="person_id, position, id",
    ),
    _kind("topic", Topic, records.TopicRecord, query=_tree_query("topics", "slug", "")),
    _kind(
        "medical_code",
        MedicalCode,
        records.MedicalCodeRecord,
        owner=("topic_id", "topic"),
        order_by="topic_id, system, code",
    ),
    _kind("article", Article, records.ArticleRecord, order_by="slug"),
    _kind(
        "former_slug",
        ArticleSlug,
        records.FormerSlugRecord,
        key=("slug",),
        owner=("article_id", "article"),
        order_by="article_id, slug",
    ),
    _kind(
        "section",
        Section,
        records.SectionRecord,
        owner=("article_id", "article"),
        query=_tree_query("sections", "key", "article_id, "),
    ),
    _kind(
        "citation",
        Citation,
        records.CitationRecord,
        owner=("article_id", "article"),
        order_by="article_id, position, id",
    ),
    _kind(
        "article_author",
        ArticleAuthor,
        records.ArticleAuthorRecord,
        key=("article_id", "person_id"),
        owner=("article_id", "article"),
        order_by="article_id, position, person_id",
    ),
    _kind(
        "article_topic",
        ArticleTopic,
        records.ArticleTopicRecord,
        key=("article_id", "topic_id"),
        owner=("article_id", "article"),
        order_by="article_id, position, topic_id",
    ),
    _kind(
        "medical_review",
        MedicalReview,
        records.MedicalReviewRecord,
        owner=("article_id", "article"),
        order_by="article_id, reviewed_at, id",
    ),
    _kind(
        "faq",
        Faq,
        records.FaqRecord,
        order_by="article_id NULLS LAST, topic_id, position, id",
    ),
    _kind(
        "related_link", RelatedLink, records.RelatedLinkRecord, order_by="source_id, position, id"
    ),
    _kind(
        "revision",
        Revision,
        records.RevisionRecord,
        owner=("article_id", "article"),
        order_by="article_id, number",
    ),
)
KIND = {kind.name: kind for kind in KINDS}
# References to rows that need not be in the file: the target may already have them.
# (A row's owner, by contrast, must be in the file: aggregates move whole.)
SHARED_REFERENCES = (
    ("topic", "parent_id", "topic"),
    ("article_author", "person_id", "person"),
    ("article_topic", "topic_id", "topic"),
    ("medical_review", "reviewer_id", "person"),
    ("faq", "article_id", "article"),
    ("faq", "topic_id", "topic"),
    ("related_link", "source_id", "article"),
    ("related_link", "target_id", "article"),
)
# Unique constraints (besides keys) that the rows of a file must respect among themselves.
UNIQUE_IN_FILE = (
    ("person", ("slug",)),
    ("topic", ("slug",)),
    ("article", ("slug",)),
    ("section", ("article_id", "key")),
    ("medical_code", ("topic_id", "system", "code")),
    ("revision", ("article_id", "number")),
    ("related_link", ("source_id", "target_id")),
)


# -- export --------------------------------------------------------------------------------


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
                "exported_at": _jsonable(utcnow()),
            }
        )
        for kind in KINDS:
            counts[kind.name] = 0
            statement = text(kind.export_query()).execution_options(yield_per=EXPORT_BATCH)
            result = connection.execute(statement)
            try:
                for row in result:
                    record = {"type": kind.name}
                    record.update(zip(kind.columns, map(_jsonable, row), strict=True))
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


def _jsonable(value: Any) -> Any:
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


# -- import: reports -----------------------------------------------------------------------


class TransferInvalid(DomainError):
    """The file cannot be imported; `errors.lines` names each offending line."""

    status = 422
    kind = "validation-error"


@dataclass
class _Errors:
    lines: dict[int, dict[str, Any]] = field(default_factory=dict)
    more: bool = False  # lines past MAX_REPORTED were invalid too

    def add(self, line: int, name: str, message: str) -> None:
        self.merge(line, {name: [message]})

    def merge(self, line: int, messages: dict[str, Any]) -> None:
        """Note marshmallow-shaped messages (field → list of messages) against a line."""
        if line not in self.lines:
            if len(self.lines) >= MAX_REPORTED:
                self.more = True
                return
            self.lines[line] = {}
        for name, found in messages.items():
            known = self.lines[line].get(name)
            if isinstance(known, list) and isinstance(found, list):
                known.extend(found)
            else:
                self.lines[line][name] = found

    def __bool__(self) -> bool:
        return bool(self.lines)

    def problem(self, what: str) -> TransferInvalid:
        count = len(self.lines)
        amount = f"{count} lines are" if count != 1 else "1 line is"
        if self.more:
            amount = f"More than {count} lines are"
        listed = f" (the first {count} are listed)" if self.more else ""
        return TransferInvalid(
            f"{amount} {what}{listed}; nothing was imported.",
            errors={"lines": {str(line): self.lines[line] for line in sorted(self.lines)}},
        )


@dataclass
class TypeCounts:
    records: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def unchanged(self) -> int:
        return self.records - self.inserted - self.updated


@dataclass
class ImportReport:
    dry_run: bool
    source_schema: str | None
    target_schema: str | None
    exported_at: str
    types: dict[str, TypeCounts]
    rendered_articles: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(item.inserted or item.updated or item.deleted for item in self.types.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "source_schema": self.source_schema,
            "target_schema": self.target_schema,
            "exported_at": self.exported_at,
            "types": {
                name: {
                    "records": item.records,
                    "inserted": item.inserted,
                    "updated": item.updated,
                    "unchanged": item.unchanged,
                    "deleted": item.deleted,
                }
                for name, item in self.types.items()
            },
            "changed": self.changed,
            "rendered_articles": self.rendered_articles,
            "warnings": self.warnings,
        }


# -- import --------------------------------------------------------------------------------


def import_(lines: Iterable[bytes | str], *, dry_run: bool = False) -> ImportReport:
    """Import an export: check every line, then apply all of it or nothing, then render.

    Lines are validated one by one (each against its record type's schema) and loaded into
    temporary staging tables with COPY; references, slugs and the topic tree are then
    checked in SQL against the file and this database together. Only a file with no error
    at all is applied, in the caller's transaction (the caller commits), as a few
    set-based statements per table. Rows are keyed by id: a row the target already has
    exactly is not written, so importing the same file twice changes nothing.
    Raises TransferInvalid (422) naming the lines at fault, and Conflict (409) when the
    database refuses a row that passed the checks (a concurrent edit took a slug).
    """
    if not dry_run:
        # Before any row is written, as every admin write does: an import re-renders, so
        # it takes its turn with editors (and other imports) rather than deadlock them.
        publishing.hold_render_lock()
    db.session.flush()
    connection = db.session.connection()
    _create_staging(connection)
    try:
        header, counts = _load(connection, lines)
        _check(connection)
        removed_authors = _forget_unknown_users(connection)
        report = ImportReport(
            dry_run=dry_run,
            source_schema=header["schema"],
            target_schema=schema_revision(connection),
            exported_at=_jsonable(header["exported_at"]),
            types={kind.name: _diff(connection, kind, counts[kind.name]) for kind in KINDS},
        )
    except TransferInvalid:
        _drop_staging(connection)
        raise
    if report.source_schema != report.target_schema:
        report.warnings.append(
            f"The file was exported at migration {report.source_schema}, this database is at "
            f"{report.target_schema}; its records matched format version {FORMAT_VERSION}."
        )
    if removed_authors:
        revisions = (
            "1 revision names" if removed_authors == 1 else f"{removed_authors} revisions name"
        )
        report.warnings.append(
            f"{revisions} an author (a user) this database does not have; imported without "
            "one, as users are not content."
        )
    if not dry_run and report.changed:
        affected = _affected_articles(connection)
        try:
            _apply(connection)
        except (sa_exc.IntegrityError, sa_exc.DataError) as error:
            raise Conflict(
                "The database refused a row that passed the checks (another change may have "
                f"taken a slug meanwhile: {_constraint(error)}); nothing was imported."
            ) from error
        report.rendered_articles = _render(connection, affected)
    _drop_staging(connection)
    return report


def _create_staging(connection: Connection) -> None:
    for kind in KINDS:
        # Dropped first: a failed import earlier in this session may have left one.
        connection.execute(text(f"DROP TABLE IF EXISTS {kind.staging}"))
        connection.execute(
            text(
                f"CREATE TEMPORARY TABLE {kind.staging.removeprefix('pg_temp.')} "
                f"(LIKE {kind.table.name}, line integer NOT NULL) ON COMMIT DROP"
            )
        )


def _drop_staging(connection: Connection) -> None:
    for kind in KINDS:
        connection.execute(text(f"DROP TABLE IF EXISTS {kind.staging}"))


def _load(
    connection: Connection, lines: Iterable[bytes | str]
) -> tuple[dict[str, Any], Counter[str]]:
    """Validate each line and stage the records; raise with every bad line at the end."""
    errors = _Errors()
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
            header = _header(number, type_, record, errors)
        elif type_ == "end":
            end = (number, _end(number, record, errors))
        elif type_ not in KIND:
            known = ", ".join(sorted([*KIND, "end"]))
            errors.add(number, "type", f"Unknown record type {type_!r}; one of: {known}.")
        else:
            kind = KIND[type_]
            declared[kind.name] += 1
            try:
                loaded = kind.schema.load(record)
            except ma.ValidationError as error:
                errors.merge(number, error.messages)
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
        # checks below would be planned as if each staging table had a handful of rows.
        connection.execute(text(f"ANALYZE {kind.staging}"))
    assert header is not None
    return header, counts


def _parse(number: int, raw: bytes | str, errors: _Errors) -> dict[str, Any] | None:
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


def _header(number: int, type_: Any, record: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    if type_ != "header":
        errors.add(number, "type", "The first line must be the header record.")
        return {"schema": None, "exported_at": utcnow()}
    try:
        return records.HeaderRecord().load(record)
    except ma.ValidationError as error:
        errors.merge(number, error.messages)
        return {"schema": None, "exported_at": utcnow()}


def _end(number: int, record: dict[str, Any], errors: _Errors) -> dict[str, int]:
    try:
        return records.EndRecord().load(record)["records"]
    except ma.ValidationError as error:
        errors.merge(number, error.messages)
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


# -- import: checks across records ---------------------------------------------------------


def _check(connection: Connection) -> None:
    """Checks no single line can make: references, uniqueness, ownership, the tree."""
    errors = _Errors()
    for sql, name, message in _checks():
        rows = connection.execute(text(sql + f" LIMIT {MAX_REPORTED}")).all()
        for line, *values in rows:
            errors.add(line, name, message.format(*values))
    if errors:
        raise errors.problem("inconsistent with the file or with this database")


def _checks() -> Iterator[tuple[str, str, str]]:
    """(SQL selecting the line and the message's values, the field, the message)."""
    for kind in KINDS:
        yield _duplicates(kind, kind.key, f"The same {kind.name} is on line {{0}}.")
    for name, columns in UNIQUE_IN_FILE:
        kind = KIND[name]
        listed = " and ".join(columns)
        yield _duplicates(kind, columns, f"The {listed} of line {{0}} again.")
    for kind in KINDS:
        if kind.owner:
            column, owner = kind.owner
            yield _missing(kind, column, owner, in_database=False)
    for name, column, target in SHARED_REFERENCES:
        yield _missing(KIND[name], column, target, in_database=True)
    yield from _ownership_checks()
    yield from _slug_checks()
    yield from _structure_checks()


def _duplicates(kind: Kind, columns: tuple[str, ...], message: str) -> tuple[str, str, str]:
    listed = ", ".join(columns)
    return (
        f"SELECT line, first FROM (SELECT line, min(line) OVER (PARTITION BY {listed}) AS first"
        f" FROM {kind.staging}) AS found WHERE line <> first ORDER BY line",
        columns[-1],
        message,
    )


def _missing(kind: Kind, column: str, target: str, *, in_database: bool) -> tuple[str, str, str]:
    parent = KIND[target]
    sql = (
        f"SELECT line, {column} FROM {kind.staging} AS s WHERE {column} IS NOT NULL"
        f" AND NOT EXISTS (SELECT 1 FROM {parent.staging} AS p WHERE p.id = s.{column})"
    )
    if in_database:
        sql += f" AND NOT EXISTS (SELECT 1 FROM {parent.table.name} AS p WHERE p.id = s.{column})"
        where = "neither in the file nor in this database"
    else:
        where = f"not in the file, and a {kind.name} comes with its {target}"
    return sql + " ORDER BY line", column, f"Unknown {target} {{0}}: {where}."


def _ownership_checks() -> Iterator[tuple[str, str, str]]:
    # A row the target has under another owner that the file leaves alone would be taken
    # from it: the file describes one aggregate and would silently change another.
    for kind in KINDS:
        if not kind.owner or kind.owner[0] in kind.key:
            continue
        column, owner = kind.owner
        joined = " AND ".join(f"t.{name} = s.{name}" for name in kind.key)
        yield (
            f"SELECT s.line, t.{column} FROM {kind.staging} AS s"
            f" JOIN {kind.table.name} AS t ON {joined}"
            f" WHERE t.{column} <> s.{column}"
            f" AND NOT EXISTS (SELECT 1 FROM {KIND[owner].staging} AS o WHERE o.id = t.{column})"
            " ORDER BY s.line",
            column,
            f"In this database this {kind.name} belongs to {owner} {{0}}, which the file "
            "does not include.",
        )
    # The same for a pair of articles: one link joins them, whichever file it came from.
    yield (
        "SELECT s.line, t.id FROM pg_temp.transfer_related_links AS s"
        " JOIN related_links AS t ON t.source_id = s.source_id AND t.target_id = s.target_id"
        " WHERE t.id <> s.id"
        " AND NOT EXISTS (SELECT 1 FROM pg_temp.transfer_related_links AS o WHERE o.id = t.id)"
        " ORDER BY s.line",
        "target_id",
        "This database already links these articles, with link {0}.",
    )


def _slug_checks() -> Iterator[tuple[str, str, str]]:
    for name in ("person", "topic", "article"):
        kind = KIND[name]
        yield (
            f"SELECT s.line, s.slug, t.id FROM {kind.staging} AS s"
            f" JOIN {kind.table.name} AS t ON t.slug = s.slug AND t.id <> s.id"
            f" WHERE NOT EXISTS (SELECT 1 FROM {kind.staging} AS o WHERE o.id = t.id)"
            " ORDER BY s.line",
            "slug",
            f"The slug {{0!r}} belongs to another {name} ({{1}}) in this database.",
        )
    # A slug answers for one article: as its current slug, or as a redirect to it.
    yield (
        "SELECT f.line, f.slug, a.line FROM pg_temp.transfer_article_slugs AS f"
        " JOIN pg_temp.transfer_articles AS a ON a.slug = f.slug ORDER BY f.line",
        "slug",
        "{0!r} is also the current slug of the article on line {1}.",
    )
    yield (
        "SELECT a.line, a.slug, f.article_id FROM pg_temp.transfer_articles AS a"
        " JOIN article_slugs AS f ON f.slug = a.slug"
        " WHERE NOT EXISTS"
        " (SELECT 1 FROM pg_temp.transfer_articles AS o WHERE o.id = f.article_id)"
        " ORDER BY a.line",
        "slug",
        "{0!r} redirects to article {1} in this database.",
    )
    yield (
        "SELECT f.line, f.slug, a.id FROM pg_temp.transfer_article_slugs AS f"
        " JOIN articles AS a ON a.slug = f.slug"
        " WHERE NOT EXISTS (SELECT 1 FROM pg_temp.transfer_articles AS o WHERE o.id = a.id)"
        " ORDER BY f.line",
        "slug",
        "{0!r} is the current slug of article {1} in this database.",
    )


def _structure_checks() -> Iterator[tuple[str, str, str]]:
    yield (
        "SELECT s.line, s.parent_id FROM pg_temp.transfer_sections AS s"
        " WHERE s.parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_temp.transfer_sections"
        " AS p WHERE p.id = s.parent_id AND p.article_id = s.article_id) ORDER BY s.line",
        "parent_id",
        "Unknown section {0}: a subsection's parent is a section of the same article.",
    )
    # Rendering reads the live revision; the working copy is the revision editors edit.
    for column in ("live_revision", "revision_number"):
        yield (
            f"SELECT a.line, a.{column} FROM pg_temp.transfer_articles AS a"
            f" WHERE a.{column} > 0 AND NOT EXISTS (SELECT 1 FROM pg_temp.transfer_revisions"
            f" AS r WHERE r.article_id = a.id AND r.number = a.{column}) ORDER BY a.line",
            column,
            "The file has no revision {0} of this article.",
        )
    # Walking up from each imported topic through the tree the import would leave must
    # end at a root; rendering walks the same way to build breadcrumbs.
    yield (
        _loops(
            "SELECT id, parent_id FROM pg_temp.transfer_topics UNION ALL SELECT id, parent_id"
            " FROM topics AS t WHERE NOT EXISTS"
            " (SELECT 1 FROM pg_temp.transfer_topics AS o WHERE o.id = t.id)",
            "pg_temp.transfer_topics",
        ),
        "parent_id",
        "Its parents lead back to it (through topic {0}).",
    )
    yield (
        _loops("SELECT id, parent_id FROM pg_temp.transfer_sections", "pg_temp.transfer_sections"),
        "parent_id",
        "Its parents lead back to it (through section {0}).",
    )


def _loops(tree: str, staged: str) -> str:
    """Lines of staged rows whose chain of parents repeats a row."""
    return (
        f"WITH RECURSIVE tree AS ({tree}),"
        f" walk(start, node, seen, looped) AS ("
        f" SELECT id, parent_id, ARRAY[id], false FROM {staged} WHERE parent_id IS NOT NULL"
        " UNION ALL SELECT walk.start, tree.parent_id, walk.seen || tree.id,"
        " tree.id = ANY(walk.seen) FROM walk JOIN tree ON tree.id = walk.node"
        " WHERE NOT walk.looped)"
        f" SELECT s.line, walk.seen[cardinality(walk.seen)] FROM walk"
        f" JOIN {staged} AS s ON s.id = walk.start"
        " WHERE walk.looped ORDER BY s.line"
    )


def _forget_unknown_users(connection: Connection) -> int:
    """Clear revision authors that are not users here (users stay in their environment)."""
    return connection.execute(
        text(
            "UPDATE pg_temp.transfer_revisions AS r SET author_id = NULL"
            " WHERE author_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM users AS u WHERE u.id = r.author_id)"
        )
    ).rowcount


# -- import: what changes, and applying it -------------------------------------------------


def _matches(kind: Kind, left: str, right: str) -> str:
    return " AND ".join(f"{left}.{name} = {right}.{name}" for name in kind.key)


def _compare(kind: Kind, left: str, right: str, operator: str) -> str:
    def row(alias: str) -> str:
        return "ROW(" + ", ".join(f"{alias}.{name}" for name in kind.compared) + ")"

    return f"{row(left)} {operator} {row(right)}"


def _same(kind: Kind, left: str, right: str) -> str:
    return _compare(kind, left, right, "IS NOT DISTINCT FROM")


def _differs(kind: Kind, left: str, right: str) -> str:
    return _compare(kind, left, right, "IS DISTINCT FROM")


def _diff(connection: Connection, kind: Kind, records_: int) -> TypeCounts:
    """How the staged rows of a kind differ from the target's rows."""
    present = f"t.{kind.key[0]} IS NOT NULL"
    inserted, updated = connection.execute(
        text(
            f"SELECT count(*) FILTER (WHERE NOT ({present})),"
            f" count(*) FILTER (WHERE {present} AND {_differs(kind, 't', 's')})"
            f" FROM {kind.staging} AS s LEFT JOIN {kind.table.name} AS t"
            f" ON {_matches(kind, 't', 's')}"
        )
    ).one()
    deleted = 0
    if kind.owner:
        deleted = connection.execute(
            text(f"SELECT count(*) FROM {kind.table.name} AS t WHERE {_orphaned(kind)}")
        ).scalar_one()
    return TypeCounts(records=records_, inserted=inserted, updated=updated, deleted=deleted)


def _orphaned(kind: Kind, *, or_changed: bool = False) -> str:
    """Rows `t` of imported owners that the file does not have (or has otherwise)."""
    assert kind.owner is not None
    column, owner = kind.owner
    condition = _matches(kind, "s", "t")
    if or_changed:
        condition += f" AND {_same(kind, 's', 't')}"
    return (
        f"t.{column} IN (SELECT id FROM {KIND[owner].staging})"
        f" AND NOT EXISTS (SELECT 1 FROM {kind.staging} AS s WHERE {condition})"
    )


def _apply(connection: Connection) -> None:
    for name in ("person", "topic", "article"):
        kind = KIND[name]
        # Slugs that change step aside first, so two rows can swap slugs: uniqueness is
        # checked row by row, and the checks above already vouch for the end state.
        connection.execute(
            text(
                f"UPDATE {kind.table.name} AS t SET slug = t.id::text FROM {kind.staging} AS s"
                " WHERE s.id = t.id AND s.slug <> t.slug"
            )
        )
    for kind in reversed(KINDS):
        if kind.owner:
            # Changed rows go too and come back below: owned rows are replaced, not
            # updated, so a section's new key never collides with its sibling's old one.
            connection.execute(
                text(f"DELETE FROM {kind.table.name} AS t WHERE {_orphaned(kind, or_changed=True)}")
            )
    for kind in KINDS:
        connection.execute(text(_insert_owned(kind) if kind.owner else _upsert(kind)))


def _upsert(kind: Kind) -> str:
    columns = ", ".join(kind.columns)
    updates = [f"{name} = excluded.{name}" for name in kind.compared]
    if "version" in kind.columns:
        # A changed row gets a version the target never issued, so an editor's ETag from
        # before the import cannot match it.
        updates.append("version = greatest(t.version + 1, excluded.version)")
    # Rows the target has are written before new ones: a link that moves off a pair of
    # articles frees it before a new link to the same pair arrives.
    return (
        f"INSERT INTO {kind.table.name} AS t ({columns}) SELECT {columns} FROM {kind.staging}"
        f" AS s ORDER BY EXISTS (SELECT 1 FROM {kind.table.name} AS x WHERE x.id = s.id) DESC,"
        f" s.line ON CONFLICT (id) DO UPDATE SET {', '.join(updates)}"
        f" WHERE {_differs(kind, 't', 'excluded')}"
    )


def _insert_owned(kind: Kind) -> str:
    columns = ", ".join(kind.columns)
    return (
        f"INSERT INTO {kind.table.name} ({columns}) SELECT {columns} FROM {kind.staging} AS s"
        f" WHERE NOT EXISTS (SELECT 1 FROM {kind.table.name} AS t"
        f" WHERE {_matches(kind, 't', 's')}) ORDER BY s.line"
    )


def _affected_articles(connection: Connection) -> set[uuid.UUID]:
    """Articles whose documents may change: read before the import (a FAQ or link moving
    away from an article changes that article too)."""
    return set(
        connection.execute(
            text(
                "SELECT f.article_id FROM faqs AS f JOIN pg_temp.transfer_faqs AS s"
                " ON s.id = f.id WHERE f.article_id IS NOT NULL"
                " UNION SELECT l.source_id FROM related_links AS l"
                " JOIN pg_temp.transfer_related_links AS s ON s.id = l.id"
            )
        ).scalars()
    )


def _render(connection: Connection, affected: set[uuid.UUID]) -> int:
    """Render what the import may have changed through the publishing service, as an
    editor's save would: published documents, FAQs, profiles, topic pages, the change
    feed and search. Documents that come out identical are not rewritten."""
    articles = affected | set(
        connection.execute(
            text(
                "SELECT id FROM pg_temp.transfer_articles"
                " UNION SELECT article_id FROM pg_temp.transfer_faqs WHERE article_id IS NOT NULL"
                " UNION SELECT source_id FROM pg_temp.transfer_related_links"
                " UNION SELECT article_id FROM article_authors"
                " WHERE person_id IN (SELECT id FROM pg_temp.transfer_people)"
                " UNION SELECT article_id FROM medical_reviews"
                " WHERE reviewer_id IN (SELECT id FROM pg_temp.transfer_people)"
                " UNION SELECT article_id FROM article_topics"
                " WHERE topic_id IN (SELECT id FROM pg_temp.transfer_topics)"
            )
        ).scalars()
    )
    people = connection.execute(text("SELECT id FROM pg_temp.transfer_people")).scalars().all()
    # The ORM may hold rows from before the import; rendering must read what it wrote.
    db.session.expire_all()
    publishing.refresh_articles(sorted(articles))
    publishing.refresh_people(people)
    publishing.refresh_topics()  # topics are few, and each lists its subtree
    db.session.flush()
    return len(articles)


def _constraint(error: sa_exc.DBAPIError) -> str:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None) or "a constraint"
