"""The `cms-api` command: `cms-api serve` migrates, seeds and serves; other commands run tasks."""

from __future__ import annotations

import os
import sys
import tempfile

from flask import Flask
from flask.cli import FlaskGroup

from cms_api import create_app
from cms_api.cli.accounts import tokens_group, users_group
from cms_api.cli.content import publish_due_command, render_command, seed_command
from cms_api.cli.serve import serve_command
from cms_api.cli.transfer import TRANSFER_COMMANDS
from cms_api.cli.webhooks import webhooks_group


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
cli.add_command(serve_command)


def main() -> None:
    # Before the app (and its metrics) exist, so that every gunicorn worker of
    # `cms-api serve` writes its metrics where /metrics can add them up.
    if sys.argv[1:2] == ["serve"]:
        os.environ.setdefault(
            "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="cms-api-metrics-")
        )
    cli.main()
