"""cms-api: a headless content and FAQ API for medical-information publishers.

Delivery (``/v1/...``) serves published content only, as JSON rendered once at publish
time, with strong ETags and keyset pagination (``?limit=&cursor=``, ``Link: rel="next"``).
Errors are RFC 9457 problem documents. Configuration comes from the environment; see
:mod:`cms_api.config`. The OpenAPI document is at ``/openapi.json`` and rendered at ``/docs``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from cms_api.config import Settings, flask_config


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: config → database → extensions → errors → blueprints."""
    from cms_api import docs, errors, fastpath, http, observability, ratelimit
    from cms_api.cli import register_commands
    from cms_api.database import resolve_database_url
    from cms_api.extensions import api, cors, db, migrate
    from cms_api.resources import register_blueprints

    app = Flask(__name__, instance_relative_config=False)
    settings: Settings = (test_config or {}).get("CMS_SETTINGS") or Settings.from_environ()
    app.config.update(flask_config(settings, test_config))
    if "SQLALCHEMY_DATABASE_URI" not in app.config:
        app.config["SQLALCHEMY_DATABASE_URI"] = resolve_database_url(
            settings.database_url, settings.instance_path
        )
    # Delivery reads are single statements: autocommit spares them a BEGIN and a ROLLBACK.
    app.config.setdefault(
        "SQLALCHEMY_BINDS",
        {
            "delivery": {
                "url": app.config["SQLALCHEMY_DATABASE_URI"],
                "isolation_level": "AUTOCOMMIT",
            }
        },
    )

    db.init_app(app)
    migrate.init_app(app, db, directory=_migrations_directory())
    cors.init_app(
        app,
        origins="*" if settings.cors_origins == ["*"] else settings.cors_origins,
        # A literal "*" (rather than the echoed origin) lets shared caches keep one copy.
        send_wildcard=settings.cors_origins == ["*"],
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
    api.init_app(app)
    http.register_request_hooks(app)
    errors.register_error_handlers(app)
    register_blueprints(api)
    docs.register(app)
    register_commands(app)
    return app


def _migrations_directory() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "migrations")
