"""Command line: `flask seed`, and the `cms-api` entry point that migrates, seeds and serves."""

from __future__ import annotations

import os
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from cms_api.extensions import db


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Load the sample content in seeds/ (creates only what is missing)."""
    from cms_api.services.seeding import SeedError, load_seeds

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


def register_commands(app: Flask) -> None:
    app.cli.add_command(seed_command)


def _create_app() -> Flask:
    from cms_api import create_app

    return create_app()


cli = FlaskGroup(
    create_app=_create_app,
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
    from flask_migrate import upgrade

    upgrade()
    if seed:
        current_app.cli.commands["seed"].callback()  # type: ignore[misc]
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    db.engine.dispose()  # workers open their own connections after the fork
    # Workers use this process's database, including an embedded server it started.
    os.environ["DATABASE_URL"] = url
    _Gunicorn({"bind": bind, "workers": workers, "accesslog": "-"}).run()


class _Gunicorn:
    """gunicorn, in this process, so an embedded database outlives the workers."""

    def __init__(self, options: dict[str, Any]) -> None:
        from gunicorn.app.base import BaseApplication

        class Application(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                for key, value in options.items():
                    self.cfg.set(key, value)

            def load(self) -> Any:
                return _create_app()

        self._application = Application()

    def run(self) -> None:
        self._application.run()


def main() -> None:
    cli.main()
