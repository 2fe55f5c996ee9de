"""SQL injection: hostile query parameters, path segments and written text stay plain data."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from flask import Flask
from sqlalchemy import text

from cms_api.database import db
from tests.conftest import bearer
from tests.support.api import NO_ID, PROBLEM, SEEDED_ARTICLE
from tests.support.openapi import (
    base_query,
    is_public,
    operations,
    path_parameters,
    query_parameters,
)

SQL_INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE articles; --",
    "%27",
    "\\",
    "\u2019 OR \u20191\u2019=\u20191",  # typographic quotes
    "\uff07 OR 1=1 --",  # a fullwidth apostrophe
    '" OR ""="',
    "1) OR (1=1",
    "$$; DROP TABLE faqs; $$",
    "headache'; SELECT pg_sleep(3); --",
    "%_%",
    "a\u0000b",
]
TABLES = ("articles", "faqs", "people", "topics", "users", "api_tokens", "published_documents")
LEAKY_TEXT = ("psycopg", "sqlalchemy", "SQLSTATE", "syntax error", "Traceback", 'File "/')


def _table_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {table: db.session.scalar(text(f"SELECT count(*) FROM {table}")) for table in TABLES}


def _check_answer(response: Any, allowed: set[int], what: str, failures: list[str]) -> None:
    body = response.get_data(as_text=True)
    if response.status_code not in allowed:
        failures.append(f"{what}: {response.status_code} {body[:300]}")
    elif response.status_code >= 400 and response.content_type != PROBLEM:
        failures.append(f"{what}: {response.status_code} as {response.content_type}")
    leaked = [needle for needle in LEAKY_TEXT if needle in body]
    if leaked:
        failures.append(f"{what}: the answer mentions {leaked}")


def test_sql_injection_in_every_query_parameter_and_path_segment(
    app, client, document, admin_token
):
    before = _table_counts(app)
    failures: list[str] = []
    swept_parameters = swept_paths = 0
    for method, path, operation in operations(document):
        headers = bearer(admin_token) if not is_public(path) else {}
        parameters = query_parameters(operation)
        names = path_parameters(path)
        if method == "GET" and not names:
            for parameter in parameters:
                swept_parameters += 1
                for payload in SQL_INJECTIONS:
                    query = {
                        **base_query(parameters, parameter["name"]),
                        parameter["name"]: payload,
                    }
                    started = time.monotonic()
                    response = client.get(path, query_string=query, headers=headers)
                    what = f"GET {path}?{parameter['name']}={payload!r}"
                    _check_answer(response, {200, 400, 404}, what, failures)
                    if time.monotonic() - started > 2:
                        failures.append(f"{what}: took {time.monotonic() - started:.1f}s")
        for name in names:
            swept_paths += 1
            for payload in SQL_INJECTIONS:
                concrete = path
                for other in names:
                    value = quote(payload, safe="") if other == name else NO_ID
                    concrete = concrete.replace(f"{{{other}}}", value)
                response = client.open(concrete, method=method, headers=headers)
                what = f"{method} {path} with {name}={payload!r}"
                _check_answer(response, {400, 404, 405}, what, failures)

    assert not failures, "\n".join(failures)
    assert swept_parameters >= 40 and swept_paths >= 40, (swept_parameters, swept_paths)
    assert _table_counts(app) == before, "every table is still there, with the same rows"
    assert client.get(f"/v1/articles/{SEEDED_ARTICLE}").status_code == 200


def test_sql_injection_in_written_text_is_stored_as_text(client, make_token):
    editor = make_token("editor")
    hostile = "Robert'); DROP TABLE articles; --"
    created = client.post(
        "/v1/admin/articles",
        json={"slug": "little-bobby", "title": hostile, "summary": "' OR '1'='1"},
        headers=bearer(editor),
    )
    assert created.status_code == 201, created.get_json()
    again = client.get(created.headers["Location"], headers=bearer(editor)).get_json()
    assert (again["title"], again["summary"]) == (hostile, "' OR '1'='1")
    found = client.get(
        "/v1/admin/articles", query_string={"q": "Robert');"}, headers=bearer(editor)
    )
    assert [item["slug"] for item in found.get_json()["items"]] == ["little-bobby"]
    for slug in ("' OR '1'='1", "a'; DROP TABLE articles; --", "ok\\"):
        response = client.post(
            "/v1/admin/articles", json={"slug": slug, "title": "T"}, headers=bearer(editor)
        )
        assert response.status_code == 422, slug
        assert "slug" in response.get_json()["errors"]["json"]
