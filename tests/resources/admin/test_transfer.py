"""Export and import over HTTP: NDJSON out, NDJSON in, a report or a line-numbered problem."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cms_api.database import db
from cms_api.http.requests import NDJSON_BODY_LIMITS
from cms_api.models import Article
from tests.conftest import bearer

NDJSON = "application/x-ndjson"
ARTICLE = "headache-after-botox"


@pytest.fixture
def admin(make_token) -> dict[str, str]:
    return bearer(make_token("admin"))


def _export(client: FlaskClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/v1/admin/export", headers=headers)
    assert response.status_code == 200
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def _import(client: FlaskClient, headers: dict[str, str], records: list[dict[str, Any]], **query):
    body = "".join(json.dumps(record) + "\n" for record in records)
    return client.post(
        "/v1/admin/import",
        data=body,
        content_type=NDJSON,
        headers=headers,
        query_string=query,
    )


def _events(client: FlaskClient) -> list[dict[str, Any]]:
    return client.get("/v1/changes?limit=100").get_json()["items"]


def _retitled(records: list[dict[str, Any]], title: str) -> list[dict[str, Any]]:
    """The export with the live revision of ARTICLE saying `title`."""
    article = next(r for r in records if r["type"] == "article" and r["slug"] == ARTICLE)
    revision = next(
        r
        for r in records
        if r["type"] == "revision"
        and r["article_id"] == article["id"]
        and r["number"] == article["live_revision"]
    )
    revision["snapshot"]["title"] = title
    return records


def test_an_admin_downloads_all_content_as_ndjson(app, client, admin):
    response = client.get("/v1/admin/export", headers=admin)

    assert response.status_code == 200
    assert response.mimetype == NDJSON
    assert response.headers["Content-Disposition"].startswith('attachment; filename="cms-export-')
    assert response.headers["Cache-Control"] == "no-store"
    records = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert records[0]["type"] == "header" and records[0]["format"] == "cms-api-export"
    assert records[-1]["type"] == "end"
    with app.app_context():
        articles = db.session.scalar(select(func.count()).select_from(Article))
    assert records[-1]["records"]["article"] == articles
    assert sum(r["type"] == "article" for r in records) == articles


def test_importing_a_databases_own_export_changes_nothing(client, admin):
    records = _export(client, admin)
    etag = client.get(f"/v1/articles/{ARTICLE}").headers["ETag"]
    events = _events(client)

    response = _import(client, admin, records)

    assert response.status_code == 200
    report = response.get_json()
    assert report["changed"] is False
    assert report["rendered_articles"] == 0
    assert report["types"]["article"]["unchanged"] == report["types"]["article"]["records"]
    assert client.get(f"/v1/articles/{ARTICLE}").headers["ETag"] == etag
    assert _events(client) == events


def test_an_imported_change_reaches_readers_and_the_change_feed(client, admin):
    records = _retitled(_export(client, admin), "Headaches after Botox: what helps")
    etag = client.get(f"/v1/articles/{ARTICLE}").headers["ETag"]

    response = _import(client, admin, records)

    assert response.status_code == 200
    report = response.get_json()
    assert report["types"]["revision"]["updated"] == 1
    assert report["rendered_articles"] > 0
    article = client.get(f"/v1/articles/{ARTICLE}")
    assert article.get_json()["title"] == "Headaches after Botox: what helps"
    assert article.headers["ETag"] != etag
    assert ("article.updated", ARTICLE) in {(e["type"], e["slug"]) for e in _events(client)}


def test_a_dry_run_reports_the_change_and_applies_nothing(client, admin):
    records = _retitled(_export(client, admin), "Not yet")

    response = _import(client, admin, records, dry_run="true")

    assert response.status_code == 200
    report = response.get_json()
    assert report["dry_run"] is True and report["changed"] is True
    assert report["types"]["revision"]["updated"] == 1
    assert client.get(f"/v1/articles/{ARTICLE}").get_json()["title"] != "Not yet"


def test_a_file_with_a_bad_line_is_a_422_naming_it_and_imports_nothing(client, admin):
    records = _retitled(_export(client, admin), "Must not appear")
    records.insert(-1, {"type": "related_link", "id": str(uuid.uuid4()), "source_id": "x"})
    records[-1]["records"]["related_link"] += 1

    response = _import(client, admin, records)

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "/problems/validation-error"
    assert problem["detail"] == "1 line is invalid; nothing was imported."
    line = str(len(records) - 1)
    assert list(problem["errors"]["lines"]) == [line]
    assert problem["errors"]["lines"][line]["source_id"] == ["Not a valid UUID."]
    assert "target_id" in problem["errors"]["lines"][line]
    assert client.get(f"/v1/articles/{ARTICLE}").get_json()["title"] != "Must not appear"


def test_the_import_takes_ndjson_and_nothing_else(client, admin):
    as_json = client.post("/v1/admin/import", json=[{"type": "header"}], headers=admin)
    unknown = client.post(
        "/v1/admin/import?overwrite=yes", data="\n", content_type=NDJSON, headers=admin
    )

    assert as_json.status_code == 415
    assert as_json.get_json()["type"] == "/problems/unsupported-media-type"
    assert unknown.status_code == 400
    assert unknown.get_json()["type"] == "/problems/invalid-parameter"


def test_a_body_over_the_import_limit_is_413(client, admin, monkeypatch):
    monkeypatch.setitem(NDJSON_BODY_LIMITS, "/v1/admin/import", 1024)

    response = client.post("/v1/admin/import", data="\n" * 2048, content_type=NDJSON, headers=admin)

    assert response.status_code == 413
    assert response.get_json()["type"] == "/problems/payload-too-large"


def test_an_editor_may_neither_export_nor_import(client, make_token):
    editor = bearer(make_token("editor"))

    assert client.get("/v1/admin/export", headers=editor).status_code == 403
    response = client.post("/v1/admin/import", data="\n", content_type=NDJSON, headers=editor)
    assert response.status_code == 403
