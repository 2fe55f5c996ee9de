"""Preview links in the studio: minted, shown once, opening the draft, revoked."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient

from tests.studio.test_articles import _create
from tests.studio.test_parts import _article, _signed_in

LINK = re.compile(
    r'id="issued-link" class="secret-once__value" type="text" readonly value="([^"]+)"'
)


def _mint(client: FlaskClient, token: str, article_id: str, hours: str = "1"):
    return client.post(
        f"/studio/articles/{article_id}/preview-links", data={"csrf_token": token, "hours": hours}
    )


def test_a_preview_link_opens_the_draft_until_it_is_revoked(
    app: Flask, client: FlaskClient
) -> None:
    token = _signed_in(app, client, "editor")
    article_id = _create(client, token, slug="previewed-in-the-studio")
    minted = _mint(client, token, article_id, hours="8")
    assert minted.status_code == 201
    page = minted.get_data(as_text=True)
    found = LINK.search(page)
    assert found, page
    url = html.unescape(found.group(1))
    assert url.startswith(app.config["CMS_SETTINGS"].api_base_url.rstrip("/") + "/v1/articles/")
    path = url.split("://", 1)[1].split("/", 1)[1]
    opened = client.get("/" + path)
    assert opened.status_code == 200, opened.get_json()
    assert opened.get_json()["title"] == "A studio draft"
    assert (
        opened.headers["Cache-Control"].startswith("private")
        or "no-store" in (opened.headers["Cache-Control"])
    )

    # Listed without its secret afterwards; the secret is not on the page any more.
    shown = client.get(f"/studio/articles/{article_id}/preview").get_data(as_text=True)
    assert url not in html.unescape(shown)
    token_id = re.search(r"/preview-links/([0-9a-f-]{36})/revoke", shown)
    assert token_id
    revoked = client.post(
        f"/studio/articles/{article_id}/preview-links/{token_id.group(1)}/revoke",
        data={"csrf_token": token},
    )
    assert revoked.status_code == 303
    assert client.get("/" + path).status_code == 401
    after = client.get(f"/studio/articles/{article_id}/preview").get_data(as_text=True)
    assert "The preview link no longer opens the article." in after
    assert "No preview link works now." in after


def test_preview_links_refuse_bad_input_and_other_roles(app: Flask, client: FlaskClient) -> None:
    token = _signed_in(app, client, "editor")
    article_id = _create(client, token, slug="guarded-preview")
    refused = _mint(client, token, article_id, hours="9999")
    assert refused.status_code == 422
    assert "Choose how long the link works." in refused.get_data(as_text=True)
    other = _article(app)
    minted = _mint(client, token, str(other.id))
    assert minted.status_code == 201
    page = client.get(f"/studio/articles/{other.id}/preview").get_data(as_text=True)
    token_id = re.search(r"/preview-links/([0-9a-f-]{36})/revoke", page)
    assert token_id
    # A token is revoked from its own article's page only.
    crossed = client.post(
        f"/studio/articles/{article_id}/preview-links/{token_id.group(1)}/revoke",
        data={"csrf_token": token},
    )
    assert crossed.status_code == 404

    viewer_client = app.test_client()
    viewer = _signed_in(app, viewer_client, "viewer")
    assert _mint(viewer_client, viewer, article_id).status_code == 403
    shown = viewer_client.get(f"/studio/articles/{article_id}/preview")
    assert shown.status_code == 200
    assert "Create a preview link" not in shown.get_data(as_text=True)
