"""`cms-api seed`, `publish-due` and `render`: sample content, due schedules, stored documents."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from cms_api.database import db
from cms_api.services.editorial import workflow
from cms_api.services.integrations.seeds import SeedError, load_seeds
from cms_api.services.publishing import render_format, search_index
from cms_api.services.publishing.cascade import rerender_everything


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Load the sample content in seeds/ (creates only what is missing)."""
    try:
        report = load_seeds()
    except SeedError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    if report.changed:
        created = ", ".join(f"{count} {kind}" for kind, count in report.created.items())
        click.echo(f"Seeded: {created}.")
    else:
        click.echo("Seed content already present; nothing changed.")


@click.command("publish-due")
@with_appcontext
def publish_due_command() -> None:
    """Publish approved articles whose scheduled time has come (safe to run every minute).

    It also re-renders the people whose published credentials show a `valid` flag that
    is wrong today (a credential started or ended), and the articles that show them: the
    flag is computed when rendering, so without this it would go stale.
    """
    published = workflow.publish_due()
    db.session.commit()
    for article in published:
        click.echo(f"Published {article.slug} (revision {article.live_revision}).")
    if not published:
        click.echo("Nothing due.")
    turned = workflow.refresh_credential_validity()
    db.session.commit()
    for person in turned:
        click.echo(f"Re-rendered {person.slug}: a credential's validity changed.")


@click.command("render")
@click.option(
    "--if-outdated",
    is_flag=True,
    help="Only if the stored documents follow an older format of the rendering code "
    "(a step for every deploy, after `cms-api db upgrade`).",
)
@with_appcontext
def render_command(if_outdated: bool) -> None:
    """Render every published document again, e.g. after CMS_PUBLIC_BASE_URL changes."""
    if if_outdated:
        count = render_format.bring_up_to_date()
    else:
        count = rerender_everything()
        render_format.mark_current()
    embedded = search_index.embed_missing()
    db.session.commit()
    if count is None:
        click.echo(f"Stored documents already follow format {render_format.RENDER_FORMAT}.")
    else:
        click.echo(f"Rendered {count} published articles, their FAQs, people and topics.")
    if embedded:
        click.echo(f"Embedded {embedded} answer passages stored without an embedding.")
