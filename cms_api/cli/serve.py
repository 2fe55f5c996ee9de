"""`cms-api serve`: apply migrations, load the sample content and serve the API with gunicorn."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from gunicorn.app.base import BaseApplication

from cms_api import create_app, ratelimit
from cms_api.database import db
from cms_api.services.accounts import sign_in, users

# The sample site's administrator, made with the sample content, so that the first
# `cms-api serve` prints a link that signs in to the studio.
SAMPLE_ADMIN_EMAIL = "admin@example.org"
SAMPLE_ADMIN_NAME = "Sample Administrator"


@click.command("serve")
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="Address to listen on.")
@click.option(
    "--workers",
    type=int,
    default=None,
    show_default="WEB_CONCURRENCY, else 3 with REDIS_URL and 1 without",
    help="gunicorn worker processes. More than one needs REDIS_URL, where they share "
    "rate-limit counters (or CMS_RATE_LIMITS_PER_WORKER=true).",
)
@click.option(
    "--seed/--no-seed", default=True, show_default=True, help="Load the sample content first."
)
@with_appcontext
def serve_command(bind: str, workers: int | None, seed: bool) -> None:
    """Apply migrations, load the sample content and serve the API with gunicorn."""
    settings = current_app.config["CMS_SETTINGS"]
    if workers is None:
        workers = int(os.environ.get("WEB_CONCURRENCY") or (3 if settings.redis_url else 1))
    # Before migrating: a refusal should cost nothing (gunicorn_conf checks it again).
    problem = ratelimit.worker_problem(workers, settings)
    if problem is not None:
        raise click.UsageError(problem)
    # Unset, the address served here is the API's public one: its links must lead back
    # here, those that published documents embed (image URLs) included, so it is set
    # before anything is rendered.
    if not os.environ.get("CMS_API_BASE_URL") and not bind.startswith(("unix:", "fd:")):
        host, _, port = bind.rpartition(":") if ":" in bind else (bind, "", "8000")
        host = "localhost" if host in ("", "0.0.0.0", "[::]") else host
        os.environ["CMS_API_BASE_URL"] = f"http://{host}:{port}"
        current_app.config["CMS_SETTINGS"] = dataclasses.replace(
            settings, api_base_url=os.environ["CMS_API_BASE_URL"]
        )
    upgrade()
    # Documents stored by an older version of this code get what it renders now.
    current_app.cli.commands["render"].callback(if_outdated=True)  # type: ignore[misc]
    if seed:
        current_app.cli.commands["seed"].callback()  # type: ignore[misc]
        _print_studio_link()
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    db.engine.dispose()  # workers open their own connections after the fork
    # Workers use this process's database, including an embedded server it started.
    os.environ["DATABASE_URL"] = url
    from cms_api import gunicorn_conf

    _Gunicorn({**gunicorn_conf.SETTINGS, "bind": bind, "workers": workers}).run()


def _print_studio_link() -> None:
    """Make the sample administrator if missing, and print a one-time studio sign-in link."""
    admin = users.find_user(SAMPLE_ADMIN_EMAIL)
    if admin is None:
        admin = users.create_user(email=SAMPLE_ADMIN_EMAIL, name=SAMPLE_ADMIN_NAME, role="admin")
    if admin.disabled_at is not None:
        db.session.rollback()
        return
    issued = sign_in.issue_login_link(admin)
    db.session.commit()
    minutes = int(sign_in.LINK_LIFETIME.total_seconds() // 60)
    click.echo(
        f"Editor studio: sign in as {SAMPLE_ADMIN_EMAIL} with this link (once, within "
        f"{minutes} minutes; `cms-api users login-link {SAMPLE_ADMIN_EMAIL}` makes another):"
    )
    click.echo(f"  {issued.url}")


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
