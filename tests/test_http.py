"""HTTP behaviour shared by every endpoint: problems, request ids, CORS, probes, outages."""

from __future__ import annotations

import time

import pytest

from cms_api.config import Settings
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


def test_request_id_is_echoed_or_made_up(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    made_up = client.get("/healthz", headers={"X-Request-ID": "bad id\twith tab"})
    assert made_up.headers["X-Request-ID"] not in ("", "bad id\twith tab")


def test_cors_allows_any_origin_by_default(client):
    response = client.get("/v1/articles", headers={"Origin": "https://frontend.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_cors_allows_only_configured_origins(app):
    settings = Settings(
        database_url=app.config["SQLALCHEMY_DATABASE_URI"],
        cors_origins=["https://www.example-health.org"],
    )
    client = build_app(app.config["SQLALCHEMY_DATABASE_URI"], CMS_SETTINGS=settings).test_client()

    allowed = client.get("/healthz", headers={"Origin": "https://www.example-health.org"})
    other = client.get("/healthz", headers={"Origin": "https://evil.example"})

    assert allowed.headers["Access-Control-Allow-Origin"] == "https://www.example-health.org"
    assert "Access-Control-Allow-Origin" not in other.headers


def test_probes(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready"}


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


def test_docs_page_is_served(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert b"swagger-ui" in response.data


def test_behind_a_trusted_proxy_the_forwarded_client_address_counts(app):
    settings = Settings(
        database_url=app.config["SQLALCHEMY_DATABASE_URI"],
        trusted_proxies=1,
        question_rate_limit="1 per minute",
    )
    client = build_app(app.config["SQLALCHEMY_DATABASE_URI"], CMS_SETTINGS=settings).test_client()
    question = {"question": "Is a mild headache after Botox normal?"}

    def ask(forwarded_for: str) -> int:
        return client.post(
            "/v1/questions", json=question, headers={"X-Forwarded-For": forwarded_for}
        ).status_code

    assert ask("203.0.113.7") == 202
    assert ask("203.0.113.7") == 429
    assert ask("198.51.100.23") == 202, "another reader behind the same balancer"


@pytest.mark.parametrize(
    ("path", "method"),
    [("/v1/questions", "POST"), ("/v1/admin/articles", "POST"), ("/v1/admin/faqs", "POST")],
)
def test_bodies_that_are_too_deep_too_big_or_not_json_are_problems(client, path, method):
    cases = [
        ("[" * 5000 + "]" * 5000, "application/json", 400),
        ('{"a":' * 40 + "1" + "}" * 40, "application/merge-patch+json", 400),
        ("x" * (1024 * 1024 + 1), "application/json", 413),
        ("question=hello", "application/x-www-form-urlencoded", 415),
        ("hello", "text/plain", 415),
    ]
    for body, content_type, status in cases:
        response = client.open(path, method=method, data=body, content_type=content_type)
        assert response.status_code == status, (content_type, status, response.get_json())
        assert response.content_type == PROBLEM
        assert response.get_json()["status"] == status


def test_json_depth_ignores_brackets_inside_strings():
    from cms_api.domain.json_depth import json_depth

    assert json_depth('{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert json_depth('"\\"[[[["') == 0
    assert json_depth("[]") == 1
