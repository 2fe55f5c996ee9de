"""Editors mint preview tokens for an article, see which are out there, and revoke them."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

import pytest

from cms_api.database import db
from cms_api.models import PreviewToken
from tests.conftest import bearer

DRAFT = {"slug": "sunburn-relief", "title": "Sunburn Relief", "summary": "Cool the skin."}


@pytest.fixture
def article_id(client, editor) -> str:
    created = client.post("/v1/admin/articles", json=DRAFT, headers=bearer(editor))
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def _mint(client, token: str, article_id: str, body: dict | None = None):
    return client.post(
        f"/v1/admin/articles/{article_id}/preview-tokens",
        json=body if body is not None else {},
        headers=bearer(token),
    )


def _expires_in(body: dict) -> timedelta:
    return datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(body["created_at"])


def test_an_editor_mints_a_token_shown_once_with_a_ready_preview_url(
    app, client, editor, article_id
):
    minted = _mint(client, editor, article_id)

    assert minted.status_code == 201, minted.get_json()
    assert minted.headers["Cache-Control"] == "no-store"
    body = minted.get_json()
    secret = body["token"]
    assert secret.startswith("cmspv_")
    assert secret.startswith(body["prefix"])
    assert body["article_id"] == article_id
    assert body["active"] is True
    assert abs(_expires_in(body) - timedelta(hours=1)) < timedelta(seconds=5)
    assert body["preview_url"] == (
        f"http://localhost/v1/articles/sunburn-relief?preview_token={secret}"
    )
    # The token's own address answers without the secret.
    shown = client.get(minted.headers["Location"], headers=bearer(editor))
    assert shown.status_code == 200
    assert shown.get_json()["id"] == body["id"]
    assert "token" not in shown.get_json()
    # Only a digest is kept.
    with app.app_context():
        stored = db.session.get(PreviewToken, uuid.UUID(body["id"]))
        assert stored.digest == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in {str(value) for value in vars(stored).values()}


def test_expires_in_chooses_the_lifetime_within_a_day(client, editor, article_id):
    two_hours = _mint(client, editor, article_id, {"expires_in": 7200})
    day = _mint(client, editor, article_id, {"expires_in": 86400})

    assert two_hours.status_code == 201
    assert abs(_expires_in(two_hours.get_json()) - timedelta(hours=2)) < timedelta(seconds=5)
    assert day.status_code == 201
    for wrong in (86401, 59, 0, -5, "soon", None):
        refused = _mint(client, editor, article_id, {"expires_in": wrong})
        assert refused.status_code == 422, wrong
        assert refused.content_type == "application/problem+json"
        assert "expires_in" in refused.get_json()["errors"]["json"]
    unknown = _mint(client, editor, article_id, {"expires_at": "2030-01-01T00:00:00Z"})
    assert unknown.status_code == 422


def test_a_mint_without_a_body_takes_the_default(client, editor, article_id):
    minted = client.post(f"/v1/admin/articles/{article_id}/preview-tokens", headers=bearer(editor))

    assert minted.status_code == 201, minted.get_json()
    assert abs(_expires_in(minted.get_json()) - timedelta(hours=1)) < timedelta(seconds=5)


def test_unknown_and_trashed_articles_get_no_token(client, editor, article_id):
    missing = _mint(client, editor, str(uuid.uuid4()))
    url = f"/v1/admin/articles/{article_id}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    assert client.delete(url, headers=bearer(editor, **{"If-Match": etag})).status_code == 204
    trashed = _mint(client, editor, article_id)

    assert missing.status_code == 404
    assert trashed.status_code == 404
    assert trashed.content_type == "application/problem+json"


@pytest.mark.parametrize(("role", "status"), [("admin", 201), ("viewer", 403), ("reviewer", 403)])
def test_only_admins_and_editors_mint(client, make_token, article_id, role, status):
    response = _mint(client, make_token(role), article_id)

    assert response.status_code == status
    if status == 403:
        assert response.get_json()["type"] == "/problems/forbidden"
        assert "token" not in response.get_json()


def test_the_list_shows_active_tokens_and_revoking_takes_one_off(client, editor, article_id):
    first = _mint(client, editor, article_id).get_json()
    second = _mint(client, editor, article_id).get_json()
    listing = f"/v1/admin/articles/{article_id}/preview-tokens"

    listed = client.get(listing, headers=bearer(editor))
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert [item["id"] for item in items] == [second["id"], first["id"]]
    assert all("token" not in item for item in items)

    revoked = client.post(f"/v1/admin/preview-tokens/{first['id']}/revoke", headers=bearer(editor))
    again = client.post(f"/v1/admin/preview-tokens/{first['id']}/revoke", headers=bearer(editor))

    assert revoked.status_code == 200
    assert revoked.get_json()["active"] is False
    assert revoked.get_json()["revoked_at"] is not None
    assert again.get_json()["revoked_at"] == revoked.get_json()["revoked_at"]
    remaining = client.get(listing, headers=bearer(editor)).get_json()["items"]
    assert [item["id"] for item in remaining] == [second["id"]]
    preview = client.get("/v1/articles/sunburn-relief", headers={"X-Preview-Token": first["token"]})
    assert preview.status_code == 401
    unknown = client.post(f"/v1/admin/preview-tokens/{uuid.uuid4()}/revoke", headers=bearer(editor))
    assert unknown.status_code == 404


def test_minting_and_revoking_are_in_the_audit_log(client, editor, make_token, article_id):
    minted = _mint(client, editor, article_id).get_json()
    client.post(f"/v1/admin/preview-tokens/{minted['id']}/revoke", headers=bearer(editor))

    events = client.get(
        f"/v1/admin/audit?target_type=article&target_id={article_id}",
        headers=bearer(make_token("admin")),
    ).get_json()["items"]

    actions = {event["action"]: event for event in events}
    assert {"preview_token.create", "preview_token.revoke"} <= set(actions)
    assert actions["preview_token.create"]["after"]["token_id"] == minted["id"]
    assert minted["token"] not in str(events)
