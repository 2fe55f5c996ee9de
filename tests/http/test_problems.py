"""Errors as RFC 9457 problems: bad parameters, odd paths, wrong methods, a database outage."""

from __future__ import annotations

import time

import pytest

from tests.conftest import build_app

PROBLEM = "application/problem+json"


def test_unknown_query_parameter_is_a_400_problem_naming_it(client):
    response = client.get("/v1/articles?colour=blue")

    assert response.status_code == 400
    assert response.content_type == PROBLEM
    problem = response.get_json()
    assert problem["type"] == "/problems/invalid-parameter"
    assert "colour" in problem["detail"]
    assert problem["instance"] == "/v1/articles"
    assert problem["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=abc",
        "limit=99999999999999999999999",
        "sort=random",
        "cursor=not-a-cursor",
        "cursor=" + "A" * 600,
        "code=icd9:123",
        "topic=Bad Slug",
        "author=%00",
        "updated_since=yesterday",
        "updated_since=2026-01-01T00:00:00",
    ],
)
def test_malformed_parameters_are_400_problems(client, query):
    response = client.get(f"/v1/articles?{query}")

    assert response.status_code == 400, response.get_json()
    assert response.content_type == PROBLEM
    assert response.get_json()["errors"]["query"]


def test_a_cursor_from_another_sort_is_refused(client):
    cursor = client.get("/v1/articles?limit=1&sort=title").get_json()["page"]["next_cursor"]
    response = client.get(f"/v1/articles?limit=1&cursor={cursor}")
    assert response.status_code == 400
    assert "cursor" in response.get_json()["detail"]


@pytest.mark.parametrize(
    "path",
    ["/v1/articles/%00", "/v1/articles/" + "a" * 5000, "/v1/articles/%F0%9F%98%80", "/v1/nope"],
)
def test_odd_paths_are_404_problems(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.content_type == PROBLEM


def test_wrong_method_is_405_with_allow(client):
    response = client.post("/v1/articles", json={})

    assert response.status_code == 405
    assert response.content_type == PROBLEM
    assert "GET" in response.headers["Allow"]


def test_database_outage_is_a_quick_503_problem_not_a_500():
    # Nothing listens on port 9 of this machine: every connection attempt is refused.
    app = build_app("postgresql+psycopg://postgres@127.0.0.1:9/cms")
    client = app.test_client()
    for path in ("/v1/articles/headache-after-botox", "/v1/articles", "/readyz"):
        started = time.monotonic()
        response = client.get(path)
        assert time.monotonic() - started < 5
        assert response.status_code == 503
        assert response.content_type == PROBLEM
        assert response.headers["Retry-After"].isdigit()
        assert response.get_json()["type"] == "/problems/database-unavailable"
    assert client.get("/healthz").status_code == 200
