"""Serving media files: immutable caching, strong ETags, nosniff, 404 for what is not served."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event

from cms_api.database import db
from tests.support.api import PROBLEM, bearer
from tests.support.media import media_settings, open_bytes, picture


@pytest.fixture
def media_root(app: Flask, tmp_path: Path) -> Path:
    with media_settings(app, media_root=str(tmp_path)):
        yield tmp_path


@pytest.fixture
def uploaded(client, editor, media_root) -> dict:
    response = client.post(
        "/v1/admin/images",
        data={"file": (io.BytesIO(picture(1000, 800)), "p.jpg"), "alt_text": "Halves"},
        headers=bearer(editor),
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_every_file_is_served_with_its_type_and_immutable_caching(client, uploaded):
    for item in uploaded["files"]:
        response = client.get(f"/v1/media/{item['key']}")

        assert response.status_code == 200
        assert response.mimetype == item["media_type"]
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["ETag"] == '"' + item["key"].split(".")[0] + '"'
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert len(response.data) == item["byte_size"]
        assert open_bytes(response.data).size == (item["width"], item["height"])


def test_if_none_match_answers_304_without_the_body(client, uploaded):
    key = uploaded["files"][0]["key"]
    etag = client.get(f"/v1/media/{key}").headers["ETag"]

    response = client.get(f"/v1/media/{key}", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    "key",
    [
        "0" * 64 + ".jpg",  # well formed, unknown
        "abc.jpg",
        "0" * 64 + ".gif",
        "0" * 64 + ".JPG",
        "..%2F..%2Fetc%2Fpasswd",
        "%2E%2E%2Fsecret",
        "0" * 63 + "g.jpg",
        "0" * 64 + ".jpg.exe",
    ],
)
def test_unknown_and_malformed_keys_are_404_problems(client, media_root, key):
    response = client.get(f"/v1/media/{key}")

    assert response.status_code == 404
    assert response.content_type == PROBLEM
    assert response.get_json()["type"] == "/problems/not-found"


def test_a_malformed_key_never_reaches_the_database(app, client, media_root):
    statements: list[str] = []

    def count(*args, **kwargs) -> None:
        statements.append(args[2])

    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get("/v1/media/..%2F..%2Fetc%2Fpasswd")
        traversal = [s for s in statements if "image_files" in s]
        known = client.get("/v1/media/" + "0" * 64 + ".webp")
        lookups = [s for s in statements if "image_files" in s]
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)

    assert response.status_code == 404
    assert traversal == []
    assert known.status_code == 404
    assert len(lookups) == 1  # one indexed query per request


def test_files_of_a_trashed_image_are_404(client, editor, uploaded):
    key = uploaded["files"][-1]["key"]
    etag = client.get(f"/v1/admin/images/{uploaded['id']}", headers=bearer(editor)).headers["ETag"]

    client.delete(
        f"/v1/admin/images/{uploaded['id']}", headers=bearer(editor, **{"If-Match": etag})
    )

    response = client.get(f"/v1/media/{key}")
    assert response.status_code == 404
    assert response.content_type == PROBLEM


def test_a_query_string_is_refused(client, uploaded):
    key = uploaded["files"][0]["key"]

    response = client.get(f"/v1/media/{key}?width=5000")

    assert response.status_code == 400
    assert response.get_json()["type"] == "/problems/invalid-parameter"
