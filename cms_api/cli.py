"""Command line: `flask seed`, and the `cms-api` entry point that migrates, seeds and serves."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from datetime import timedelta
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from flask_migrate import upgrade
from gunicorn.app.base import BaseApplication
from sqlalchemy import select

from cms_api import create_app
from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import DomainError
from cms_api.models import ApiToken, User
from cms_api.services.accounts import users as accounts
from cms_api.services.editorial import workflow
from cms_api.services.integrations.seeds import SeedError, load_seeds
from cms_api.services.publishing import documents as publishing
from cms_api.transfer_cli import TRANSFER_COMMANDS
from cms_api.webhook_cli import webhooks_group


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


users_group = AppGroup("users", help="Manage admin API users.")
tokens_group = AppGroup("tokens", help="Manage bearer tokens.")


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "editor", "reviewer", "viewer"]))
@click.option("--person", "person_slug", help="Slug of the person a reviewer signs off as.")
@click.option(
    "--token/--no-token",
    default=True,
    show_default=True,
    help="Also issue a bearer token and print it (shown once).",
)
def create_user_command(
    email: str, name: str, role: str, person_slug: str | None, token: bool
) -> None:
    """Create a user (and, by default, a first token)."""

    try:
        user = accounts.create_user(email=email, name=name, role=role, person_slug=person_slug)
        issued = accounts.issue_token(user, name="cli") if token else None
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.detail) from error
    db.session.commit()
    click.echo(f"Created {role} {user.email} ({user.id}).")
    if issued:
        click.echo(f"Token (shown once, keep it secret): {issued.secret}")


@tokens_group.command("create")
@click.argument("user")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option("--expires-in-days", type=click.IntRange(min=1), help="Expire after N days.")
def create_token_command(user: str, name: str, expires_in_days: int | None) -> None:
    """Issue a token for USER (an email or id); it is printed once."""

    owner = accounts.find_user(user)
    if owner is None:
        raise click.ClickException(f"No user {user!r}.")
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    issued = accounts.issue_token(owner, name=name, expires_at=expires_at)
    db.session.commit()
    click.echo(f"Token {issued.token.id} for {owner.email} (shown once, keep it secret):")
    click.echo(issued.secret)


@tokens_group.command("revoke")
@click.argument("token_id", type=click.UUID)
def revoke_token_command(token_id: uuid.UUID) -> None:
    """Revoke a token by its id."""

    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"No token {token_id}.")
    accounts.revoke_token(token)
    db.session.commit()
    click.echo(f"Revoked {token_id}.")


@tokens_group.command("list")
@click.option("--user", help="Only this user's tokens (email or id).")
def list_tokens_command(user: str | None) -> None:
    """List tokens: id, owner, name, prefix, state, expiry and last use."""

    query = select(ApiToken, User).join(User).order_by(User.email, ApiToken.created_at)
    if user:
        owner = accounts.find_user(user)
        if owner is None:
            raise click.ClickException(f"No user {user!r}.")
        query = query.where(ApiToken.user_id == owner.id)
    now = utcnow()
    for token, owner in db.session.execute(query):
        state = (
            "revoked"
            if token.revoked_at
            else "expired"
            if token.expires_at and token.expires_at <= now
            else "active"
        )
        click.echo(
            f"{token.id}  {owner.email}  {token.name}  {token.prefix}…  {state}  "
            f"expires={token.expires_at or '-'}  last_used={token.last_used_at or '-'}"
        )


@click.command("publish-due")
@with_appcontext
def publish_due_command() -> None:
    """Publish approved articles whose scheduled time has come (safe to run every minute)."""
    published = workflow.publish_due()
    db.session.commit()
    for article in published:
        click.echo(f"Published {article.slug} (revision {article.live_revision}).")
    if not published:
        click.echo("Nothing due.")


@click.command("render")
@with_appcontext
def render_command() -> None:
    """Render every published document again, e.g. after CMS_PUBLIC_BASE_URL changes."""
    count = publishing.rerender_everything()
    db.session.commit()
    click.echo(f"Rendered {count} published articles, their FAQs, people and topics.")


def register_commands(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(render_command)
    app.cli.add_command(publish_due_command)
    app.cli.add_command(users_group)
    app.cli.add_command(tokens_group)
    app.cli.add_command(webhooks_group)
    for command in TRANSFER_COMMANDS:  # export, import
        app.cli.add_command(command)


cli = FlaskGroup(
    create_app=create_app,
    add_version_option=False,
    help="cms-api: run `cms-api serve` to migrate, seed and serve the API.",
)


@cli.command("serve")
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="Address to listen on.")
@click.option(
    "--workers",
    type=int,
    default=lambda: int(os.environ.get("WEB_CONCURRENCY", "3")),
    show_default="WEB_CONCURRENCY or 3",
    help="gunicorn worker processes.",
)
@click.option(
    "--seed/--no-seed", default=True, show_default=True, help="Load the sample content first."
)
@with_appcontext
def serve_command(bind: str, workers: int, seed: bool) -> None:
    """Apply migrations, load the sample content and serve the API with gunicorn."""
    upgrade()
    if seed:
        current_app.cli.commands["seed"].callback()  # type: ignore[misc]
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    db.engine.dispose()  # workers open their own connections after the fork
    # Workers use this process's database, including an embedded server it started.
    os.environ["DATABASE_URL"] = url
    from cms_api import gunicorn_conf

    _Gunicorn({**gunicorn_conf.SETTINGS, "bind": bind, "workers": workers}).run()


class _Gunicorn:
    """gunicorn, in this process, so an embedded database outlives the workers."""

    def __init__(self, options: dict[str, Any]) -> None:
        class Application(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                for key, value in options.items():
                    self.cfg.set(key, value)

            def load(self) -> Any:
                return create_app()

        self._application = Application()

    def run(self) -> None:
        self._application.run()


def main() -> None:
    # Before the app (and its metrics) exist, so that every gunicorn worker of
    # `cms-api serve` writes its metrics where /metrics can add them up.
    if sys.argv[1:2] == ["serve"]:
        os.environ.setdefault(
            "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="cms-api-metrics-")
        )
    cli.main()
