"""`cms-api export [FILE|-]` and `cms-api import FILE [--dry-run]`: all content as NDJSON."""

from __future__ import annotations

import time
from typing import IO, Any

import click
from flask.cli import with_appcontext

from cms_api.database import db
from cms_api.domain.errors import DomainError
from cms_api.schemas.admin.transfer import TransferRecords
from cms_api.services.integrations.transfer import export, importer


@click.command("export")
@click.argument("file", type=click.File("w", encoding="utf-8", atomic=True), default="-")
@with_appcontext
def export_command(file: IO[str]) -> None:
    """Write all content to FILE (standard output when - or omitted) as NDJSON."""
    started = time.perf_counter()
    counts = export.export(file)
    summary = ", ".join(f"{count} {name}" for name, count in counts.items() if count)
    # On stderr: standard output may be the export itself.
    click.echo(
        f"Exported {summary or 'nothing'} in {time.perf_counter() - started:.1f}s.", err=True
    )


@click.command("import")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--dry-run", is_flag=True, help="Check the file and count the changes; apply nothing."
)
@with_appcontext
def import_command(file: IO[bytes], dry_run: bool) -> None:
    """Import an export FILE (- for standard input): all of it, or nothing if any line is bad."""
    started = time.perf_counter()
    try:
        report = importer.import_(file, TransferRecords(), dry_run=dry_run)
    except DomainError as error:
        db.session.rollback()
        for line, messages in error.extra.get("errors", {}).get("lines", {}).items():
            click.echo(f"line {line}: {_messages(messages)}", err=True)
        raise click.ClickException(error.detail) from error
    db.session.commit()
    _print_report(report.as_dict())
    verb = "Would change" if dry_run else "Changed"
    outcome = f"{verb} the database." if report.changed else "Nothing to change."
    click.echo(f"{outcome} ({time.perf_counter() - started:.1f}s)")


def _messages(messages: dict[str, Any]) -> str:
    return "; ".join(
        f"{name}: {' '.join(map(str, found)) if isinstance(found, list) else found}"
        if name != "_schema"
        else " ".join(map(str, found))
        for name, found in messages.items()
    )


def _print_report(report: dict[str, Any]) -> None:
    columns = ("records", "inserted", "updated", "unchanged", "deleted")
    click.echo(f"{'type':<16}" + "".join(f"{name:>11}" for name in columns))
    for name, counts in report["types"].items():
        click.echo(f"{name:<16}" + "".join(f"{counts[column]:>11}" for column in columns))
    if report["rendered_articles"]:
        click.echo(f"Rendered {report['rendered_articles']} articles and what shows them.")
    for warning in report["warnings"]:
        click.echo(f"Warning: {warning}", err=True)


TRANSFER_COMMANDS = (export_command, import_command)
