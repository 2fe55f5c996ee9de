"""Checks on every request before routing: its request id, and a body that is JSON, not too deep."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


def test_request_id_is_echoed_or_made_up(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    made_up = client.get("/healthz", headers={"X-Request-ID": "bad id\twith tab"})
    assert made_up.headers["X-Request-ID"] not in ("", "bad id\twith tab")


@pytest.mark.parametrize(
    ("path", "method"),
    [("/v1/questions", "POST"), ("/v1/admin/articles", "POST"), ("/v1/admin/faqs", "POST")],
)
def test_bodies_that_are_too_deep_too_big_or_not_json_are_problems(client, path, method, editor):
    # An admin operation reads its body only for an authenticated caller.
    headers = {"Authorization": f"Bearer {editor}"} if path.startswith("/v1/admin") else {}
    cases = [
        ("[" * 5000 + "]" * 5000, "application/json", 400),
        ('{"a":' * 40 + "1" + "}" * 40, "application/merge-patch+json", 400),
        ("x" * (1024 * 1024 + 1), "application/json", 413),
        ("question=hello", "application/x-www-form-urlencoded", 415),
        ("hello", "text/plain", 415),
    ]
    for number, (body, content_type, status) in enumerate(cases):
        # Each from its own address: every attempt counts against the questions' rate limit.
        response = client.open(
            path,
            method=method,
            data=body,
            content_type=content_type,
            headers=headers,
            environ_base={"REMOTE_ADDR": f"198.51.100.{number + 1}"},
        )
        assert response.status_code == status, (content_type, status, response.get_json())
        assert response.content_type == PROBLEM
        assert response.get_json()["status"] == status
