"""Searches are limited per client address, admin writes per token; 429 problems say when."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from flask import Flask

from tests.conftest import bearer

PROBLEM = "application/problem+json"


@pytest.fixture
def limits(app: Flask) -> Iterator[None]:
    settings = app.config["CMS_SETTINGS"]
    app.config["CMS_SETTINGS"] = dataclasses.replace(
        settings, search_rate_limit="3 per minute", admin_write_rate_limit="2 per minute"
    )
    try:
        yield
    finally:
        app.config["CMS_SETTINGS"] = settings


def _assert_limited(response) -> None:
    assert response.status_code == 429
    assert response.content_type == PROBLEM
    assert response.get_json()["type"] == "/problems/rate-limited"
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["X-RateLimit-Remaining"] == "0"


def test_searches_are_limited_per_client_address(client, limits):
    reader = {"REMOTE_ADDR": "203.0.113.7"}
    answers = [client.get("/v1/search?q=botox", environ_base=reader) for _ in range(4)]

    assert [answer.status_code for answer in answers[:3]] == [200, 200, 200]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert answers[2].headers["X-RateLimit-Remaining"] == "0"
    _assert_limited(answers[3])
    other = client.get("/v1/search?q=botox", environ_base={"REMOTE_ADDR": "203.0.113.8"})
    assert other.status_code == 200


def test_admin_writes_are_limited_per_token(client, make_token, limits):
    first, second = make_token("editor"), make_token("editor")
    invalid = {"slug": "Not A Slug"}  # refused with 422 after the limit is counted

    answers = [
        client.post("/v1/admin/articles", json=invalid, headers=bearer(first)) for _ in range(3)
    ]

    assert [answer.status_code for answer in answers[:2]] == [422, 422]
    _assert_limited(answers[2])
    # Another token has its own allowance, and reads are not counted.
    assert (
        client.post("/v1/admin/articles", json=invalid, headers=bearer(second)).status_code == 422
    )
    assert client.get("/v1/admin/articles?limit=1", headers=bearer(first)).status_code == 200
    # A token that does not authenticate gets its 401, never a share of someone's allowance.
    assert (
        client.post("/v1/admin/articles", json=invalid, headers=bearer("nope")).status_code == 401
    )


def test_a_limit_that_is_not_a_rate_limit_is_refused_at_start():
    from cms_api.config import Settings

    with pytest.raises(ValueError, match="CMS_SEARCH_RATE_LIMIT"):
        Settings(search_rate_limit="lots")
