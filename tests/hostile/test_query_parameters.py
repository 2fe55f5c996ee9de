"""Odd and private query parameters get a deliberate answer; a private field, a 400 naming it."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.api import AUTHOR_PERSON, NO_ID, PROBLEM, SEEDED_ARTICLE
from tests.support.openapi import base_query, is_public, operations, query_parameters

PRIVATE_PARAMETERS = [
    ("email", "reader@example.org"),
    ("token", "cms_x"),
    ("token_hash", "0" * 64),
    ("digest", "0" * 64),
    ("prefix", "cms_"),
    ("status", "draft"),
    ("include", "drafts"),
    ("include", "email"),
    ("fields", "email"),
    ("expand", "authors.email"),
    ("filter[email]", "x"),
    ("where", "email IS NOT NULL"),
    ("trashed", "true"),
    ("deleted", "true"),
    ("user", NO_ID),
    ("password", "x"),
]
PRIVATE_SORTS = ["email", "-email", "token_hash", "digest", "status", "deleted_at", "title;--"]


def test_public_operations_refuse_filters_sorts_and_includes_on_private_fields(client, document):
    failures: list[str] = []
    public_gets = [
        (path, operation)
        for method, path, operation in operations(document)
        # Content, not the probes (which read no parameters and show nothing). Infobutton
        # requests ignore what they do not read, as the HL7 guide expects; it reads no field.
        if method == "GET" and path.startswith("/v1/") and is_public(path)
        if path != "/v1/infobutton"
    ]
    for path, operation in public_gets:
        parameters = query_parameters(operation)
        base = base_query(parameters)
        concrete = _public_example_path(path)
        known = {parameter["name"] for parameter in parameters}
        attempts = [(name, value) for name, value in PRIVATE_PARAMETERS if name not in known]
        if "sort" in known:
            attempts += [("sort", value) for value in PRIVATE_SORTS]
        for name, value in attempts:
            response = client.get(concrete, query_string={**base, name: value})
            problem = response.get_json(silent=True) or {}
            if response.status_code != 400 or response.content_type != PROBLEM:
                failures.append(f"{path}?{name}={value}: {response.status_code}")
            elif name not in problem.get("detail", ""):
                failures.append(f"{path}?{name}={value}: detail {problem.get('detail')!r}")
    assert len(public_gets) >= 15
    assert not failures, "\n".join(failures)


def _public_example_path(path: str) -> str:
    return (
        path.replace("/v1/articles/{slug}", f"/v1/articles/{SEEDED_ARTICLE}")
        .replace("/v1/people/{slug}", f"/v1/people/{AUTHOR_PERSON}")
        .replace("/v1/topics/{slug}", "/v1/topics/headache")
        .replace("/sitemaps/{number}", "/sitemaps/1")
        .replace("{faq_id}", NO_ID)
    )


def _cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


# Requests no schema-driven generator is likely to build, with the status each deserves.
HOSTILE_REQUESTS = [
    ("/v1/articles?limit=99999999999999999999999999999999", 400),
    ("/v1/articles?limit=-1", 400),
    ("/v1/articles?limit=1&limit=2", 400),
    ("/v1/articles?topic=%00", 400),
    ("/v1/articles?code=icd10cm:R51%00", 400),
    ("/v1/articles?updated_since=0001-01-01T00:00:00%2B01:00", 200),
    ("/v1/articles?updated_since=9999-12-31T23:59:59-01:00", 200),
    ("/v1/articles?updated_since=2026-12-31t23:59:60z", 200),
    ("/v1/articles?updated_since=2026-12-31T23:59:59", 400),
    ("/v1/articles?cursor=%00", 400),
    ("/v1/articles?cursor=" + "A" * 5000, 400),
    ("/v1/articles?sort=title&cursor=" + _cursor("title", "\ud800", NO_ID), 400),
    ("/v1/articles?sort=title&cursor=" + _cursor("title", "\x00", NO_ID), 400),
    ("/v1/articles?cursor=" + _cursor("-published_at", "not a time", NO_ID), 400),
    ("/v1/articles?cursor=" + _cursor("-published_at", "2026-01-01T00:00:00Z", "x"), 400),
    ("/v1/articles/%00", 404),
    ("/v1/articles/" + "a" * 5000, 404),
    ("/v1/articles/%F0%9F%98%80", 404),
    ("/v1/articles/%FF%FE", 404),
    (f"/v1/articles/{SEEDED_ARTICLE}?sections=%00", 400),
    (f"/v1/articles/{SEEDED_ARTICLE}?sections=causes&sections=treatment", 400),
    (f"/v1/articles/{SEEDED_ARTICLE}?sections=" + ",".join(["causes"] * 500), 400),
    (f"/v1/articles/{SEEDED_ARTICLE}/faqs?unexpected=1", 400),
    (f"/v1/faqs/{NO_ID}?%FF=%FF", 400),
    ("/v1/faqs?article=%F0%9F%98%80", 400),
    ("/v1/people?role=%00", 400),
    ("/v1/topics/" + "%E2%80%AE" * 200, 404),
]


@pytest.mark.parametrize(("url", "status"), HOSTILE_REQUESTS)
def test_hostile_requests_get_a_deliberate_answer(client: FlaskClient, url: str, status: int):
    response = client.get(url)

    assert response.status_code == status, response.get_data(as_text=True)
    if status >= 400:
        assert response.content_type == "application/problem+json"
        assert response.get_json()["status"] == status
