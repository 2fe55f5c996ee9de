"""Import an export: check every line, then apply all of it or nothing, then render."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text
from sqlalchemy import exc as sa_exc

from cms_api.database import db
from cms_api.domain.errors import Conflict
from cms_api.domain.transfer_format import FORMAT_VERSION
from cms_api.services import runtime
from cms_api.services.integrations.transfer import apply, checks, reading
from cms_api.services.integrations.transfer.export import jsonable, schema_revision
from cms_api.services.integrations.transfer.kinds import KINDS
from cms_api.services.integrations.transfer.report import ImportReport, TransferInvalid
from cms_api.services.publishing.render_lock import hold_render_lock


def import_(
    lines: Iterable[bytes | str], schemas: reading.RecordSchemas, *, dry_run: bool = False
) -> ImportReport:
    """Import an export: check every line, then apply all of it or nothing, then render.

    Lines are validated one by one (each against its record type's schema, from
    `schemas`) and loaded into temporary staging tables with COPY; references, slugs and
    the topic tree are then checked in SQL against the file and this database together.
    Only a file with no error at all is applied, in the caller's transaction (the caller
    commits), as a few set-based statements per table. Rows are keyed by id: a row the
    target already has exactly is not written, so importing the same file twice changes
    nothing. Raises TransferInvalid (422) naming the lines at fault, and Conflict (409)
    when the database refuses a row that passed the checks (a concurrent edit took a slug).
    """
    if not dry_run:
        # Before any row is written, as every admin write does: an import re-renders, so
        # it takes its turn with editors (and other imports) rather than deadlock them.
        hold_render_lock()
    db.session.flush()
    connection = db.session.connection()
    reading.create_staging(connection)
    try:
        header, counts = reading.stage(connection, lines, schemas)
        checks.check(connection)
        removed_authors = _forget_unknown_users(connection)
        report = ImportReport(
            dry_run=dry_run,
            source_schema=header["schema"],
            target_schema=schema_revision(connection),
            exported_at=jsonable(header["exported_at"]),
            types={kind.name: apply.diff(connection, kind, counts[kind.name]) for kind in KINDS},
        )
    except TransferInvalid:
        reading.drop_staging(connection)
        raise
    if report.source_schema != report.target_schema:
        report.warnings.append(
            f"The file was exported at migration {report.source_schema}, this database is at "
            f"{report.target_schema}; its records matched format version {FORMAT_VERSION}."
        )
    unserved = _unserved_locales(connection)
    if unserved:
        listed = ", ".join(unserved)
        report.warnings.append(
            f"The file has content in {listed}, which this site does not serve (CMS_LOCALES): "
            "it is imported, but readers cannot ask for it until the site serves that locale."
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
        affected = apply.affected_articles(connection)
        try:
            apply.apply(connection)
        except (sa_exc.IntegrityError, sa_exc.DataError) as error:
            raise Conflict(
                "The database refused a row that passed the checks (another change may have "
                f"taken a slug meanwhile: {apply.constraint(error)}); nothing was imported."
            ) from error
        report.rendered_articles = apply.render(connection, affected)
    reading.drop_staging(connection)
    return report


def _unserved_locales(connection: Connection) -> list[str]:
    """Locales the file's content is in that are not among this site's."""
    found = connection.execute(
        text(
            "SELECT locale FROM pg_temp.transfer_articles"
            " UNION SELECT locale FROM pg_temp.transfer_faqs"
            " UNION SELECT locale FROM pg_temp.transfer_topic_translations"
            " UNION SELECT locale FROM pg_temp.transfer_person_translations"
        )
    ).scalars()
    served = set(runtime.settings().locales)
    return sorted(set(found) - served)


def _forget_unknown_users(connection: Connection) -> int:
    """Clear revision authors that are not users here (users stay in their environment)."""
    return connection.execute(
        text(
            "UPDATE pg_temp.transfer_revisions AS r SET author_id = NULL"
            " WHERE author_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM users AS u WHERE u.id = r.author_id)"
        )
    ).rowcount
