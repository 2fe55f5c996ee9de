"""Fixtures: a migrated, seeded database per run; each test in a rolled-back transaction."""

from __future__ import annotations

import dataclasses
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from psycopg import sql
from sqlalchemy import Connection, orm, text
from werkzeug.serving import make_server

from cms_api import create_app
from cms_api.config import Settings
from cms_api.database import (
    db,
    drop_database,
    embedded_server_url,
    ensure_database,
    libpq_url,
    sqlalchemy_url,
)
from cms_api.services.integrations.seeds import load_seeds
from cms_api.services.runtime import runtime_of
from tests.support.api import REVIEWER_PERSON
from tests.support.api import bearer as bearer  # tests import it from here too

ROOT = Path(__file__).resolve().parent.parent
# Encrypts webhook secrets in tests, so no run writes a development key under instance/.
TEST_SECRET_KEY = "uZqZzO7C8jo2U3gMRLSRBhCauctjm1wTK-UrHTmBhD4="


# Where under the instance folder the test suite's embedded PostgreSQL lives.
TEST_SERVER = "test-server"

# The whole default run is shared out between two processes (pytest-xdist): each has its own
# databases (make_database names are unique, each process seeds its own template) on the one
# server, and a 2-core machine runs the suite in a little over half the time. A chosen file
# or test, a marked group (their servers and timings assume they run alone), `-n`, `--pdb`
# or `-p no:xdist` run in this one process as before.
WORKERS = 2


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(config: pytest.Config) -> Iterator[object]:
    if _runs_the_default_suite(config):
        config.option.numprocesses = WORKERS
    return (yield)


def _runs_the_default_suite(config: pytest.Config) -> bool:
    if not config.pluginmanager.hasplugin("xdist") or hasattr(config, "workerinput"):
        return False
    if config.option.numprocesses is not None or config.option.usepdb:
        return False
    if config.option.collectonly or (os.cpu_count() or 1) < WORKERS:
        return False
    addopts = config.getini("addopts")
    default_marks = addopts[addopts.index("-m") + 1] if "-m" in addopts else ""
    return (
        config.args_source is pytest.Config.ArgsSource.TESTPATHS
        and config.option.markexpr == default_marks
    )


@pytest.fixture(scope="session")
def server_url() -> str:
    """A PostgreSQL server: DATABASE_URL's when set, else the embedded one under instance/."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return str(sqlalchemy_url(configured).set(database="postgres").render_as_string(False))
    instance = Path(os.environ.get("CMS_INSTANCE_PATH", ROOT / "instance"))
    # The suite's own embedded server, beside the one the app runs on. Everything on it is
    # thrown away, so it never waits for the disk: each DROP DATABASE (dozens a run) waits
    # for a checkpoint, which would otherwise flush every dirty page to it. Both settings
    # apply on a reload. An operating system crash in a run can leave it damaged: delete
    # its folder, and the next run makes another.
    url = embedded_server_url(instance / TEST_SERVER)
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        for setting in ("fsync", "full_page_writes"):
            connection.execute(sql.SQL("ALTER SYSTEM SET {} = off").format(sql.Identifier(setting)))
        connection.execute("SELECT pg_reload_conf()")
    return url


@pytest.fixture(scope="session")
def make_database(server_url: str) -> Iterator:
    """Create throwaway databases on the test server; they are dropped at the end."""
    created: list[str] = []

    def make(label: str, template: str | None = None) -> str:
        name = f"cms_test_{label}_{uuid.uuid4().hex[:8]}"
        created.append(name)
        if template is None:
            return ensure_database(server_url, name)
        with psycopg.connect(libpq_url(server_url), autocommit=True) as connection:
            connection.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        return str(sqlalchemy_url(server_url).set(database=name).render_as_string(False))

    yield make
    # Each DROP DATABASE waits for a checkpoint, and drops that wait together share one:
    # dropped side by side, a run's databases go in about the time of one.
    with ThreadPoolExecutor(max_workers=16) as pool:
        for dropped in [pool.submit(drop_database, server_url, name) for name in created]:
            dropped.result()


def build_app(database_url: str, **overrides: object) -> Flask:
    database_url = _commits_without_flush(database_url)
    config: dict[str, object] = {
        "TESTING": True,
        # Generous limits: a whole run searches and writes from one address in a minute;
        # tests/test_rate_limits.py checks the limits themselves.
        "CMS_SETTINGS": Settings(
            database_url=database_url,
            db_connect_timeout=2,
            search_rate_limit="100000 per minute",
            admin_write_rate_limit="100000 per minute",
            secret_keys=[TEST_SECRET_KEY],
            # Hundreds of sign-ins: argon2's production cost would add a minute to a run.
            # tests/services/accounts/test_sign_in.py checks that cost itself.
            password_hashing="insecure-fast-for-tests",
        ),
        "SQLALCHEMY_DATABASE_URI": database_url,
    }
    return create_app({**config, **overrides})


def _commits_without_flush(url: str) -> str:
    """The URL with `synchronous_commit=off` for its sessions: a commit returns before its
    WAL reaches the disk. Every query and lock behaves the same; only a crash of the test
    server could lose the last commits, and a test database is thrown away anyway."""
    parsed = sqlalchemy_url(url)
    if "options" in parsed.query:
        return url
    # No space after -c: libpq reads the option text as is, and a URL would encode one.
    with_option = parsed.update_query_dict({"options": "-csynchronous_commit=off"})
    return with_option.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def app(make_database, seeded_template: str) -> Iterator[Flask]:
    """The application over a database migrated to head and loaded with the seeds: a copy
    of the template that committed apps copy too, so a run migrates and seeds once."""
    application = build_app(make_database("main", template=seeded_template))
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def seeded_template(make_database) -> str:
    """The name of a migrated, seeded database that committed apps start as copies of.

    PostgreSQL copies a template database in a fraction of the time that migrating and
    seeding (images and all) take, and no connection may stay open to it while it does.
    """
    url = make_database("seeded")
    application = build_app(url)
    with application.app_context():
        upgrade()
        load_seeds()
        db.session.commit()
        # Copies keep the planner statistics of their template but not the counts that
        # would get autovacuum to gather them, so the template brings them along.
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    return str(sqlalchemy_url(url).database)


@pytest.fixture(scope="session")
def seeded_copies(make_database, seeded_template: str) -> Iterator[Callable[[], str]]:
    """Hand out fresh copies of the seeded template, each made while the tests before it
    ran: PostgreSQL copies on one core while the tests use the other."""
    with ThreadPoolExecutor(max_workers=1) as copier:
        ahead: Future[str] | None = None

        def take() -> str:
            nonlocal ahead
            url = ahead.result() if ahead else make_database("committed", seeded_template)
            ahead = copier.submit(make_database, "committed", seeded_template)
            return url

        yield take
        if ahead:
            ahead.result()  # made, so dropped with the rest


@pytest.fixture
def committed_app(seeded_copies: Callable[[], str]) -> Iterator[Flask]:
    """An app over a seeded database of its own, whose commits are real.

    For what one rolled-back test transaction cannot show: other connections, announcements
    on commit, several workers at once. Webhook receivers in tests listen on loopback.
    """
    application = build_app(seeded_copies())
    settings = application.config["CMS_SETTINGS"]
    application.config["CMS_SETTINGS"] = dataclasses.replace(settings, webhooks_allow_private=True)
    yield application
    with application.app_context():
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def live_server(committed_app: Flask) -> Iterator[tuple[int, dict[str, str]]]:
    """A threaded HTTP server over the committed app: its port, and an editor's and a
    reviewer's token."""
    from cms_api.services.accounts import users

    with committed_app.app_context():
        tokens = {
            role: users.issue_token(
                users.create_user(
                    email=f"{role}@example.org",
                    name=role,
                    role=role,
                    person_slug=REVIEWER_PERSON if role == "reviewer" else None,
                ),
                name=role,
            ).secret
            for role in ("editor", "reviewer")
        }
        db.session.commit()
    answering = _Answering()
    server = make_server("127.0.0.1", 0, answering.wrap(_buffered(committed_app)), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port, tokens
    finally:
        server.shutdown()
        answering.close(timeout=10)
        server.server_close()
        thread.join(timeout=10)


class _Answering:
    """The requests a live server is answering; once closed, it answers no more.

    The server's request threads outlive `shutdown` (a browser that is still open keeps
    its connections, and sends on them), and one still holding a database connection
    when `committed_app` disposes of its engine leaves that connection to be collected
    unclosed, later: a ResourceWarning the test suite turns into an error of whichever
    test runs then. So the teardown refuses new requests and waits for those begun.
    """

    def __init__(self) -> None:
        self._count = 0
        self._closed = False
        self._idle = threading.Condition()

    def wrap(self, app: Any) -> Any:
        def answered(environ: dict[str, Any], start_response: Any) -> Any:
            with self._idle:
                if self._closed:
                    start_response("503 Service Unavailable", [("Connection", "close")])
                    return [b""]
                self._count += 1
            try:
                return app(environ, start_response)
            finally:
                with self._idle:
                    self._count -= 1
                    self._idle.notify_all()

        return answered

    def close(self, *, timeout: float) -> None:
        with self._idle:
            self._closed = True
            if not self._idle.wait_for(lambda: self._count == 0, timeout):
                raise TimeoutError(f"{self._count} requests still running after {timeout} s")


def _buffered(app: Any) -> Any:
    """The app, its responses read whole and closed before the server writes them.

    Werkzeug's development server skips closing a response when the client drops the
    connection first (a browser leaving a page while its favicon loads): the static
    file it held open is then collected unclosed, a ResourceWarning the test suite turns
    into a failure of whichever test is running. Test responses are small and finite.
    """

    def buffered(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        iterable = app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            if hasattr(iterable, "close"):
                iterable.close()

    return buffered


@pytest.fixture(autouse=True)
def _transaction(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run each test inside a transaction that is rolled back afterwards.

    Sessions join it through savepoints, so a view's own commit or rollback stays inside.
    """
    if "app" not in request.fixturenames:
        yield
        return
    application: Flask = request.getfixturevalue("app")
    with application.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = orm.scoped_session(
        orm.sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ),
        scopefunc=_app_ctx_id,
    )
    # Delivery reads, which use their own autocommit pool in production, share it too:
    # the test's connection is injected as every read source the services and fast path use.
    runtime = runtime_of(application)
    production_sources = {
        "read_connection": runtime.read_connection,
        "snapshot_connection": runtime.snapshot_connection,
        "document_lookup": runtime.document_lookup,
    }
    runtime.read_connection = runtime.snapshot_connection = lambda: nullcontext(connection)
    runtime.document_lookup = lambda sql, kind, key: _lookup_on(connection, sql, kind, key)
    # No app context stays pushed: each request gets its own, and with it its own session
    # that is closed when the request ends, as in production.
    try:
        yield
    finally:
        for name, source in production_sources.items():
            setattr(runtime, name, source)
        db.session = original
        outer.rollback()
        connection.close()


def _lookup_on(connection: Connection, sql: str, kind: str, key: object):
    row = connection.exec_driver_sql(sql, (kind, key)).first()
    return (row[0].encode(), row[1]) if row else None


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def make_token(app: Flask):
    """Create a user with a role (a reviewer linked to a seeded person) and return a token."""
    from cms_api.services.accounts import users

    def make(role: str, *, person_slug: str | None = None, email: str | None = None) -> str:
        with app.app_context():
            if role == "reviewer" and person_slug is None:
                person_slug = "tobias-lindqvist"
            user = users.create_user(
                email=email or f"{role}-{uuid.uuid4().hex[:6]}@example.org",
                name=f"Test {role}",
                role=role,
                person_slug=person_slug,
            )
            secret = users.issue_token(user, name="test").secret
            db.session.commit()
            return secret

    return make


@pytest.fixture
def admin_token(make_token) -> str:
    return make_token("admin")


@pytest.fixture
def editor(make_token) -> str:
    return make_token("editor")


@pytest.fixture(scope="session")
def document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document as served: every operation the API has now, new ones included."""
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    assert response.content_type == "application/json"
    return response.get_json()
