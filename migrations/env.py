"""Alembic environment: migrates the database of the current Flask app, one process at a time."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import text

from cms_api.models.answer import include_object

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

# Any constant will do: it keeps two processes (gunicorn workers, a deploy step) from
# migrating the same database at once.
MIGRATION_LOCK = 0xC0FFEE
target_db = current_app.extensions["migrate"].db


def run_migrations_offline() -> None:
    url = target_db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, target_metadata=target_db.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty_revisions(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty_revisions)
    conf_args.setdefault("include_object", include_object)

    with target_db.engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        connection.commit()
        try:
            context.configure(
                connection=connection, target_metadata=target_db.metadata, **conf_args
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
