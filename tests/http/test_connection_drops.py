"""Dropped database connections: a saved write answers its outcome, a safe read is retried once."""

from __future__ import annotations

import time

import psycopg
import pytest
from flask import Flask
from sqlalchemy import exc as sa_exc
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from cms_api.database import db, libpq_url
from cms_api.fastpath import statements
from cms_api.models import Topic
from cms_api.services.accounts import users
from cms_api.services.runtime import runtime_of
from tests.conftest import bearer, build_app
from tests.resources.admin.test_topics import TOPIC
from tests.support.api import PROBLEM, REVIEWER_PERSON

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:9/cms"


def _terminate(app: Flask, *pids: int) -> int:
    """End backends of the app's database (all but this one's when no pid is named), and
    wait until they are gone; how many ended."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        query = (
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()"
        )
        parameters: tuple = (url.database,)
        if pids:
            query += " AND pid = ANY(%s)"
            parameters = (url.database, list(pids))
        return len(connection.execute(query, parameters).fetchall())


def _token(app: Flask, role: str = "editor") -> str:
    with app.app_context():
        user = users.create_user(
            email=f"{role}@example.org",
            name=role,
            role=role,
            person_slug=REVIEWER_PERSON if role == "reviewer" else None,
        )
        secret = users.issue_token(user, name=role).secret
        db.session.commit()
    return secret


def test_a_write_saved_before_its_connection_dropped_answers_its_outcome(committed_app):
    token = _token(committed_app)
    terminated: list[int] = []

    @committed_app.after_request
    def drop_the_connection(response):
        if terminated:
            return response
        # After the view committed: the session's connection dies before teardown.
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        terminated.append(_terminate(committed_app, pid))
        return response

    client = committed_app.test_client()
    created = client.post("/v1/admin/topics", json=TOPIC, headers=bearer(token))

    assert terminated == [1]
    assert created.status_code == 201, created.get_data(as_text=True)
    with committed_app.app_context():
        saved = db.session.scalar(select(Topic).where(Topic.slug == TOPIC["slug"]))
        assert saved is not None
    # The dead connection went with the request: the next write (never retried) gets another.
    second = {**TOPIC, "slug": "tension-headache", "name": "Tension headache", "codes": []}
    assert client.post("/v1/admin/topics", json=second, headers=bearer(token)).status_code == 201


def test_a_session_read_after_every_backend_ended_is_answered(committed_app):
    token = _token(committed_app)
    client = committed_app.test_client()
    assert client.get("/v1/admin/topics", headers=bearer(token)).status_code == 200

    assert _terminate(committed_app) >= 1
    again = client.get("/v1/admin/topics", headers=bearer(token))

    assert again.status_code == 200, again.get_data(as_text=True)


def test_a_delivery_read_after_every_backend_ended_is_answered(committed_app):
    client = committed_app.test_client()
    assert client.get("/v1/topics").status_code == 200
    assert client.get("/v1/articles").status_code == 200

    assert _terminate(committed_app) >= 1

    assert client.get("/v1/topics").status_code == 200
    assert client.head("/v1/articles").status_code == 200


def test_a_stored_document_read_after_every_backend_ended_is_answered(committed_app):
    client = committed_app.test_client()
    lookup = runtime_of(committed_app).document_lookup
    assert client.get("/v1/people/tobias-lindqvist").status_code == 200

    assert _terminate(committed_app) >= 1
    # Not one the worker keeps in memory: this one is read from PostgreSQL.
    default = committed_app.config["CMS_SETTINGS"].default_locale
    found = lookup(statements(default).brotli["slug"], "person", "miriam-castellanos-reed")

    assert found is not None
    assert client.get("/v1/topics/headache").status_code == 200


def test_a_write_is_not_retried(committed_app):
    token = _token(committed_app)
    client = committed_app.test_client()
    assert client.get("/v1/admin/topics", headers=bearer(token)).status_code == 200

    assert _terminate(committed_app) >= 1
    refused = client.post("/v1/admin/topics", json=TOPIC, headers=bearer(token))

    # The client decides whether to send it again; the next attempt gets a fresh connection.
    assert refused.status_code == 503
    assert refused.content_type == PROBLEM
    assert client.post("/v1/admin/topics", json=TOPIC, headers=bearer(token)).status_code == 201


def _dropping_app() -> tuple[Flask, list[str]]:
    """An app with a route whose every connection drops, counting the attempts."""
    app = build_app(UNREACHABLE)
    attempts: list[str] = []

    def drop() -> str:
        attempts.append("attempt")
        raise sa_exc.OperationalError(
            "SELECT 1",
            {},
            psycopg.OperationalError("server closed the connection"),
            connection_invalidated=True,
        )

    app.add_url_rule("/dropping", "dropping", drop, methods=["GET", "HEAD", "POST"])
    return app, attempts


@pytest.mark.parametrize(("method", "tries"), [("GET", 2), ("HEAD", 2), ("POST", 1)])
def test_a_safe_read_is_tried_once_more_and_no_more(method, tries):
    app, attempts = _dropping_app()

    response = app.test_client().open("/dropping", method=method)

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert len(attempts) == tries


def test_an_unreachable_server_is_not_asked_twice():
    app = build_app(UNREACHABLE)
    client = app.test_client()

    started = time.monotonic()
    response = client.get("/v1/topics")

    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.get_json()["type"] == "/problems/database-unavailable"
