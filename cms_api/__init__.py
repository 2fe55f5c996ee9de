"""cms-api: a headless content and FAQ API for medical-information publishers.

Delivery (``/v1/...``) serves published content only, as JSON rendered once at publish
time, with strong ETags and keyset pagination (``?limit=&cursor=``, ``Link: rel="next"``).
Errors are RFC 9457 problem documents. Configuration comes from the environment; see
:mod:`cms_api.config`. The OpenAPI document is at ``/openapi.json`` and rendered at ``/docs``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from cms_api.config import Settings, flask_config

# Seconds a browser may reuse a preflight answer: Chromium's ceiling, so one preflight per
# two hours and per address instead of one before every request that needs one.
CORS_MAX_AGE = 7200


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: config → database → extensions → errors → blueprints."""
    from cms_api import docs, fastpath, observability, ratelimit, remembered_fastpath
    from cms_api.cli import register_commands
    from cms_api.database import db, resolve_database_url
    from cms_api.extensions import api, cors, migrate
    from cms_api.http import connection_drops
    from cms_api.http.converters import LocaleConverter, locale_schema
    from cms_api.http.problems import register_error_handlers
    from cms_api.http.requests import register_request_hooks
    from cms_api.resources import register_blueprints
    from cms_api.services import runtime
    from cms_api.studio import register as register_studio

    app = Flask(__name__, instance_relative_config=False)
    settings: Settings = (test_config or {}).get("CMS_SETTINGS") or Settings.from_environ()
    if settings.password_hashing == "insecure-fast-for-tests":
        logging.getLogger(__name__).warning(
            "CMS_PASSWORD_HASHING=insecure-fast-for-tests: studio passwords set now are "
            "cheap to guess from a stolen hash. Never use it outside a test suite."
        )
    app.config.update(flask_config(settings, test_config))
    if "SQLALCHEMY_DATABASE_URI" not in app.config:
        app.config["SQLALCHEMY_DATABASE_URI"] = resolve_database_url(
            settings.database_url, settings.instance_path
        )
    # Delivery reads are single statements: autocommit spares them a BEGIN and a ROLLBACK.
    # With a streaming replica they read there (see `_delivery_bind`).
    app.config.setdefault("SQLALCHEMY_BINDS", {"delivery": _delivery_bind(app, settings)})

    db.init_app(app)
    delivery = _delivery_engine if settings.database_replica_url else _delivery_bind_engine
    install_runtime(
        app,
        runtime.Runtime(
            settings=lambda: app.config["CMS_SETTINGS"],
            read_connection=lambda: delivery().connect(),
            snapshot_connection=lambda: _snapshot_connection(delivery()),
            document_lookup=fastpath.StoredDocuments(app),
        ),
    )
    migrate.init_app(app, db, directory=_migrations_directory())
    wildcard = settings.cors_origins == ["*"]
    if not wildcard:
        app.after_request(_vary_with_the_origin)
    cors.init_app(
        app,
        origins="*" if wildcard else settings.cors_origins,
        # A literal "*" (rather than the echoed origin) lets shared caches keep one copy.
        send_wildcard=wildcard,
        # With an allow-list every answer varies with Origin, those to other origins and
        # to none included; flask-cors would say so only on some, on a line of its own.
        vary_header=False,
        max_age=CORS_MAX_AGE,
        expose_headers=app.config["CMS_CORS_EXPOSE_HEADERS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Match",
            "X-Preview-Token",
            "X-Request-ID",
        ],
    )
    ratelimit.init_app(app)
    fastpath.install(app)
    remembered_fastpath.install(app)
    # Around the fast path and the views, inside the access log: one line per request.
    connection_drops.install(app)
    observability.install(app)
    if settings.trusted_proxies:
        # Behind N proxies, the client address (for rate limits and logs) is in
        # X-Forwarded-For; without this every reader would share the balancer's address.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.trusted_proxies,
            x_proto=settings.trusted_proxies,
            x_host=settings.trusted_proxies,
        )
    app.config.setdefault("API_SPEC_OPTIONS", docs.spec_options())
    app.url_map.converters["locale"] = LocaleConverter
    api.init_app(app)
    api.register_converter(LocaleConverter, locale_schema)
    docs.document_locales(api, settings.locales)
    register_request_hooks(app)
    register_error_handlers(app, api)
    register_blueprints(api)
    # The editor studio: HTML pages at /studio, outside the OpenAPI document.
    register_studio(app)
    docs.register(app)
    register_commands(app)
    return app


def _vary_with_the_origin(response: Response) -> Response:
    """Under an origin allow-list, `Access-Control-Allow-Origin` depends on the request's
    `Origin`: a shared cache must not hand one origin's copy (or the copy made for a request
    without Origin) to another."""
    response.vary.add("Origin")
    return response


def install_runtime(app: Flask, runtime: Any) -> None:
    """Make `runtime` the services' view of this app whenever one of its contexts is pushed."""
    from flask import appcontext_pushed, g

    from cms_api.services.runtime import EXTENSION_KEY, activate, deactivate, runtime_of

    app.extensions[EXTENSION_KEY] = runtime

    def push(sender: Flask, **_: Any) -> None:
        g.cms_runtime_token = activate(runtime_of(sender))

    def pop(_error: BaseException | None) -> None:
        token = g.pop("cms_runtime_token", None)
        if token is not None:
            deactivate(token)

    appcontext_pushed.connect(push, app, weak=False)
    app.teardown_appcontext(pop)


def _delivery_bind(app: Flask, settings: Settings) -> dict[str, Any]:
    """The `delivery` engine: the primary's URL, or the replica's when one is configured.

    A replica's engine takes the app's pool options, and a ``prepare_threshold`` in its URL
    (``none`` behind a PgBouncer that cannot keep prepared statements in transaction mode)
    as psycopg's, not libpq's."""
    # Flask-SQLAlchemy gives SQLALCHEMY_ENGINE_OPTIONS to the default engine only: the
    # delivery pool takes the same size, timeouts and connect timeout explicitly.
    options = {**app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}), "isolation_level": "AUTOCOMMIT"}
    if not settings.database_replica_url:
        return {**options, "url": app.config["SQLALCHEMY_DATABASE_URI"]}
    from cms_api.database import sqlalchemy_url

    url = sqlalchemy_url(settings.database_replica_url)
    connect_args = dict(options.get("connect_args", {}))
    if "prepare_threshold" in url.query:
        threshold = str(url.query["prepare_threshold"]).strip().lower()
        connect_args["prepare_threshold"] = None if threshold in ("", "none") else int(threshold)
        url = url.difference_update_query(["prepare_threshold"])
    return {
        **options,
        "url": url.render_as_string(hide_password=False),
        "connect_args": connect_args,
    }


def _delivery_bind_engine() -> Any:
    from cms_api.database import db

    return db.engines["delivery"]


def _delivery_engine() -> Any:
    """With a replica: its engine for public reads; the primary's (in autocommit, on its
    pool) for admin requests, previews, requests that write (what they read after their
    write must see it) and work outside a request (the CLI, jobs)."""
    from flask import has_request_context, request

    from cms_api.database import db
    from cms_api.domain.headers import PREVIEW_HEADER_NAME

    if (
        has_request_context()
        and request.method in ("GET", "HEAD", "OPTIONS")
        and not request.path.startswith("/v1/admin")
        and PREVIEW_HEADER_NAME not in request.headers
        and "preview_token" not in request.args
    ):
        return db.engines["delivery"]
    return db.engine.execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def _snapshot_connection(engine: Any) -> Iterator[Any]:
    """A read-only REPEATABLE READ transaction: several statements see one moment."""
    with engine.connect() as connection:
        connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with connection.begin():
            yield connection


def _migrations_directory() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "migrations")
