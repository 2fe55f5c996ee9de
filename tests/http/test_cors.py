"""CORS: every answer under an origin allow-list varies with `Origin`; preflights are cached."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cms_api.config import Settings
from tests.conftest import build_app

ALLOWED = "https://www.example-health.org"
ARTICLE = "/v1/articles/headache-after-botox"


@pytest.fixture(scope="module")
def allow_list_app(app: Flask) -> Iterator[Flask]:
    """An app over the seeded database that allows one origin only."""
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    settings = Settings(database_url=database_url, cors_origins=[ALLOWED])
    application = build_app(database_url, CMS_SETTINGS=settings)
    yield application
    from cms_api.database import db

    with application.app_context():
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def allow_list_client(allow_list_app: Flask) -> FlaskClient:
    return allow_list_app.test_client()


def _vary(response) -> set[str]:
    return {
        value.strip().lower()
        for line in response.headers.getlist("Vary")
        for value in line.split(",")
    }


@pytest.mark.parametrize("origin", [None, ALLOWED, "https://elsewhere.example"])
@pytest.mark.parametrize("path", ["/v1/articles", ARTICLE, "/v1/articles/no-such-article"])
def test_every_answer_under_an_allow_list_varies_with_the_origin(allow_list_client, origin, path):
    headers = {"Origin": origin} if origin else {}
    response = allow_list_client.get(path, headers=headers)
    assert "origin" in _vary(response)
    # One Vary line: a cache that reads only the first would miss the rest.
    assert len(response.headers.getlist("Vary")) == 1
    if origin == ALLOWED:
        assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    elif origin is not None:
        assert "Access-Control-Allow-Origin" not in response.headers


def test_an_article_varies_with_both_the_origin_and_the_preview_token(allow_list_client):
    response = allow_list_client.get(ARTICLE, headers={"Origin": ALLOWED})
    assert _vary(response) == {"origin", "x-preview-token"}


def test_the_wildcard_needs_no_vary_on_origin(client):
    response = client.get("/v1/articles", headers={"Origin": "https://elsewhere.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "origin" not in _vary(response)


PREFLIGHT = {
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "X-Preview-Token",
}


def test_a_preflight_answer_says_how_long_browsers_may_keep_it(client, allow_list_client):
    for tested, origin in ((client, "https://elsewhere.example"), (allow_list_client, ALLOWED)):
        response = tested.options(ARTICLE, headers={"Origin": origin, **PREFLIGHT})
        assert response.status_code == 200
        assert int(response.headers["Access-Control-Max-Age"]) == 7200
        assert "X-Preview-Token".lower() in response.headers["Access-Control-Allow-Headers"].lower()
