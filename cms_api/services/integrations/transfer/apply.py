"""Apply a checked import: count what differs, write it in a few set-based statements, render."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, select, text
from sqlalchemy import exc as sa_exc

from cms_api.database import db, one_of
from cms_api.models import RedFlag
from cms_api.services.integrations.transfer.kinds import KIND, KINDS, Kind
from cms_api.services.integrations.transfer.report import TypeCounts
from cms_api.services.publishing import red_flags
from cms_api.services.publishing.articles import refresh_articles
from cms_api.services.publishing.people import refresh_people
from cms_api.services.publishing.topics import refresh_topics


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


def diff(connection: Connection, kind: Kind, records: int) -> TypeCounts:
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
    return TypeCounts(records=records, inserted=inserted, updated=updated, deleted=deleted)


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


def apply(connection: Connection) -> None:
    """Write the staged rows: upsert those without an owner, replace owned ones."""
    for name in ("person", "red_flag", "topic", "article"):
        kind = KIND[name]
        # Slugs that change step aside first, so two rows can swap slugs: uniqueness is
        # checked row by row, and the import's checks already vouch for the end state.
        # (An article's slug is unique in its locale, so one changing locale moves too.)
        moved = " OR s.locale <> t.locale" if name == "article" else ""
        connection.execute(
            text(
                f"UPDATE {kind.table.name} AS t SET slug = t.id::text FROM {kind.staging} AS s"
                f" WHERE s.id = t.id AND (s.slug <> t.slug{moved})"
            )
        )
    for kind in KINDS:
        if kind.owner and "version" in kind.columns:
            # Owned rows are replaced, not updated: a changed one comes back with a version
            # the target never issued, as an updated row does, so a stale ETag cannot match.
            connection.execute(
                text(
                    f"UPDATE {kind.staging} AS s SET version = greatest(s.version, t.version + 1)"
                    f" FROM {kind.table.name} AS t WHERE {_matches(kind, 't', 's')}"
                    f" AND {_differs(kind, 't', 's')}"
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


def affected_articles(connection: Connection) -> set[uuid.UUID]:
    """Articles whose documents may change: read before the import (a FAQ or link moving
    away from an article changes that article too)."""
    return set(
        connection.execute(
            text(
                "SELECT f.article_id FROM faqs AS f JOIN pg_temp.transfer_faqs AS s"
                " ON s.id = f.id WHERE f.article_id IS NOT NULL"
                " UNION SELECT l.source_id FROM related_links AS l"
                " JOIN pg_temp.transfer_related_links AS s ON s.id = l.id"
                # The translations of a work list each other: one leaving a work changes
                # the others' documents.
                " UNION " + _SAME_WORK.format(imported="SELECT id FROM pg_temp.transfer_articles")
            )
        ).scalars()
    )


# The articles of the same work (an original and its translations) as the articles listed
# by `imported`, as this database has them.
_SAME_WORK = (
    "SELECT other.id FROM articles AS other JOIN articles AS a"
    " ON coalesce(other.source_id, other.id) = coalesce(a.source_id, a.id)"
    " WHERE a.id IN ({imported})"
)


def render(connection: Connection, affected: set[uuid.UUID]) -> int:
    """Render what the import may have changed through the publishing service, as an
    editor's save would: published documents, FAQs, profiles, topic pages, red flags'
    guidance, the change feed and search. Documents that come out identical are not
    rewritten."""
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
                " UNION " + _SAME_WORK.format(imported="SELECT id FROM pg_temp.transfer_articles")
            )
        ).scalars()
    )
    people = connection.execute(text("SELECT id FROM pg_temp.transfer_people")).scalars().all()
    # The ORM may hold rows from before the import; rendering must read what it wrote.
    db.session.expire_all()
    refresh_articles(sorted(articles))
    refresh_people(people)
    refresh_topics()  # topics are few, and each lists its subtree
    _render_red_flags(connection)
    db.session.flush()
    return len(articles)


def _render_red_flags(connection: Connection) -> None:
    """Publish the guidance of imported red flags that are published, withdraw that of the
    others; and re-render guidance naming an imported person as its reviewer."""
    ids = connection.execute(
        text(
            "SELECT id FROM pg_temp.transfer_red_flags UNION SELECT id FROM red_flags"
            " WHERE reviewed_by_id IN (SELECT id FROM pg_temp.transfer_people)"
        )
    ).scalars()
    found = db.session.scalars(select(RedFlag).where(one_of(RedFlag.id, ids))).all()
    live = [flag for flag in found if flag.status == "published" and flag.deleted_at is None]
    red_flags.publish_documents(live)
    for flag in found:
        if flag not in live:
            red_flags.withdraw(flag, "deleted" if flag.deleted_at else "unpublished")


def constraint(error: sa_exc.DBAPIError) -> str:
    """The name of the constraint the database refused a row by, for the 409's message."""
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None) or "a constraint"
