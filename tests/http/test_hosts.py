"""Absolute URLs the API emits come from CMS_API_BASE_URL, never from the request's Host."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from flask import Flask

from cms_api.config import Settings
from tests.conftest import bearer

EVIL = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
API = "https://api.example-health.org"


@pytest.fixture
def configured(app: Flask) -> Iterator[str]:
    """The app with CMS_API_BASE_URL set, as in production."""
    settings = app.config["CMS_SETTINGS"]
    app.config["CMS_SETTINGS"] = dataclasses.replace(settings, api_base_url=API + "/")
    try:
        yield API
    finally:
        app.config["CMS_SETTINGS"] = settings


def _next(response) -> str:
    link = response.headers["Link"]
    assert link.endswith('>; rel="next"')
    return link[1 : link.index(">")]


@pytest.mark.parametrize("path", ["/v1/articles?limit=1&sort=title", "/v1/faqs?limit=1"])
def test_a_next_link_ignores_the_host_header(client, path):
    response = client.get(path, headers=EVIL)
    assert response.status_code == 200
    assert _next(response).startswith("http://localhost/v1/")
    assert "evil" not in response.headers["Link"]


def test_a_next_link_starts_with_the_configured_base(client, configured):
    response = client.get("/v1/articles?limit=1&sort=title", headers=EVIL)
    link = _next(response)
    assert link.startswith(f"{configured}/v1/articles?")
    assert "limit=1" in link and "sort=title" in link and "cursor=" in link


def _sitemap_index(app: Flask, client, headers: dict[str, str]) -> list[str]:
    settings = app.config["CMS_SETTINGS"]
    app.config["CMS_SETTINGS"] = dataclasses.replace(settings, sitemap_max_urls=5)
    try:
        response = client.get("/sitemap.xml", headers=headers)
    finally:
        app.config["CMS_SETTINGS"] = settings
    assert response.status_code == 200
    root = ET.fromstring(response.data)
    return [item.findtext("sm:loc", namespaces=NS) for item in root]


def test_sitemap_index_locations_ignore_the_host_header(app, client):
    locations = _sitemap_index(app, client, EVIL)
    assert locations[0] == "http://localhost/sitemaps/1.xml"
    assert not any("evil" in location for location in locations)


def test_sitemap_index_locations_start_with_the_configured_base(app, client, configured):
    plain = _sitemap_index(app, client, {})
    assert plain[0] == f"{configured}/sitemaps/1.xml"
    # The index changed with the setting: so does its ETag (a cached copy is not reused).


def test_a_redirect_from_a_former_slug_ignores_the_host_header(client, editor):
    found = client.get("/v1/admin/articles?q=tmj-headache", headers=bearer(editor)).get_json()
    url = f"/v1/admin/articles/{found['items'][0]['id']}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    renamed = client.patch(
        url, json={"slug": "jaw-joint-headache"}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert renamed.status_code == 200, renamed.get_json()

    moved = client.get("/v1/articles/tmj-headache", headers=EVIL)
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/v1/articles/jaw-joint-headache"


def _mint(client, editor: str) -> dict:
    draft = {"slug": "sunburn-relief", "title": "Sunburn Relief", "summary": "Cool the skin."}
    created = client.post("/v1/admin/articles", json=draft, headers=bearer(editor))
    assert created.status_code == 201, created.get_json()
    minted = client.post(
        f"/v1/admin/articles/{created.get_json()['id']}/preview-tokens",
        json={},
        headers={**bearer(editor), **EVIL},
    )
    assert minted.status_code == 201, minted.get_json()
    return minted.get_json()


def test_a_preview_url_ignores_the_host_header(client, editor):
    body = _mint(client, editor)
    assert body["preview_url"] == (
        f"http://localhost/v1/articles/sunburn-relief?preview_token={body['token']}"
    )


def test_a_preview_url_starts_with_the_configured_base(client, editor, configured):
    body = _mint(client, editor)
    assert body["preview_url"] == (
        f"{configured}/v1/articles/sunburn-relief?preview_token={body['token']}"
    )


def test_the_base_url_comes_from_the_environment_and_must_be_absolute():
    assert Settings.from_environ({}).api_base_url == "http://localhost"
    read = Settings.from_environ({"CMS_API_BASE_URL": "https://api.example-health.org/cms/"})
    assert read.api_base_url == "https://api.example-health.org/cms/"
    for wrong in ("api.example-health.org", "ftp://api.example-health.org", "https://x/?a=1"):
        with pytest.raises(ValueError, match="CMS_API_BASE_URL"):
            Settings.from_environ({"CMS_API_BASE_URL": wrong})
