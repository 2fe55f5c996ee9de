"""Presence: heartbeats say who has an article open; entries lapse a minute after the last."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import ArticlePresence
from cms_api.services.editorial import presence
from tests.conftest import bearer
from tests.support.api import NO_ID, PROBLEM, SEEDED_ARTICLE


@pytest.fixture
def url(client: FlaskClient, editor: str) -> str:
    found = client.get(f"/v1/admin/articles?q={SEEDED_ARTICLE}", headers=bearer(editor))
    return f"/v1/admin/articles/{found.get_json()['items'][0]['id']}/presence"


def _beat(client: FlaskClient, url: str, token: str, body: Any = None) -> dict[str, Any]:
    response = client.put(url, json=body, headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def _others(client: FlaskClient, url: str, token: str) -> list[dict[str, Any]]:
    response = client.get(url, headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def _stored(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ArticlePresence))


def test_each_sees_the_others_who_have_the_article_open_but_not_themselves(
    client, url, make_token, editor
):
    reviewer, viewer = make_token("reviewer"), make_token("viewer")

    first = _beat(client, url, editor, {"editing": True})
    assert first == {"items": [], "expires_after_seconds": 60}
    # A heartbeat answers who else is there; a viewer may send one, and without a body.
    (seen_by_viewer,) = _beat(client, url, viewer)["items"]
    assert seen_by_viewer["name"] == "Test editor"
    assert (seen_by_viewer["role"], seen_by_viewer["editing"]) == ("editor", True)
    assert seen_by_viewer["since"] == seen_by_viewer["last_seen"]
    _beat(client, url, reviewer, {"editing": False})

    by_editor = _others(client, url, editor)
    assert [(item["role"], item["editing"]) for item in by_editor] == [
        ("viewer", False),
        ("reviewer", False),
    ]
    assert {"user_id", "name", "role", "since", "last_seen", "editing"} == set(by_editor[0])
    assert [item["role"] for item in _others(client, url, reviewer)] == ["editor", "viewer"]


def test_a_heartbeat_keeps_since_and_editing_unless_told(client, url, make_token, editor):
    reviewer = make_token("reviewer")
    _beat(client, url, editor, {"editing": True})
    (before,) = _others(client, url, reviewer)

    _beat(client, url, editor)
    (kept,) = _others(client, url, reviewer)
    assert kept["since"] == before["since"]
    assert kept["last_seen"] >= before["last_seen"]
    assert kept["editing"] is True, "left out: as the last heartbeat said"
    _beat(client, url, editor, {"editing": False})
    assert _others(client, url, reviewer)[0]["editing"] is False


def test_closing_the_article_leaves_at_once(app, client, url, make_token, editor):
    reviewer = make_token("reviewer")
    _beat(client, url, editor)
    _beat(client, url, reviewer)

    closed = client.delete(url, headers=bearer(editor))
    assert closed.status_code == 204
    assert _others(client, url, reviewer) == []
    assert client.delete(url, headers=bearer(editor)).status_code == 204, "closing twice is fine"
    assert _stored(app) == 1


def test_an_entry_lapses_a_minute_after_its_last_heartbeat(
    app, client, url, make_token, editor, monkeypatch
):
    reviewer, viewer = make_token("reviewer"), make_token("viewer")
    now = utcnow()
    # The reviewer's last heartbeat was just over a minute ago, the viewer's just under.
    monkeypatch.setattr(presence, "utcnow", lambda: now - timedelta(seconds=61))
    _beat(client, url, reviewer, {"editing": True})
    monkeypatch.setattr(presence, "utcnow", lambda: now - timedelta(seconds=59))
    _beat(client, url, viewer)
    monkeypatch.setattr(presence, "utcnow", lambda: now)

    assert [item["role"] for item in _others(client, url, editor)] == ["viewer"]
    assert _stored(app) == 2, "reads leave expired entries alone"
    # A heartbeat clears everyone's expired entries.
    _beat(client, url, editor)
    assert _stored(app) == 2
    assert sorted(item["role"] for item in _others(client, url, reviewer)) == ["editor", "viewer"]

    # Coming back starts a new visit: a new `since`, and not editing until said.
    _beat(client, url, reviewer)
    back = next(item for item in _others(client, url, editor) if item["role"] == "reviewer")
    assert (back["since"], back["editing"]) == (back["last_seen"], False)


def test_an_expired_entry_is_renewed_in_place_by_its_own_heartbeat(
    app, client, url, make_token, editor, monkeypatch
):
    reviewer = make_token("reviewer")
    now = utcnow()
    monkeypatch.setattr(presence, "utcnow", lambda: now - timedelta(minutes=5))
    _beat(client, url, reviewer, {"editing": True})
    monkeypatch.setattr(presence, "utcnow", lambda: now)

    _beat(client, url, reviewer)

    (entry,) = _others(client, url, editor)
    assert entry["since"] == entry["last_seen"]
    assert entry["editing"] is False
    assert _stored(app) == 1


def test_presence_is_not_audited(client, url, make_token, editor):
    before = client.get("/v1/admin/audit?limit=1", headers=bearer(editor)).get_json()
    _beat(client, url, editor, {"editing": True})
    client.delete(url, headers=bearer(editor))

    after = client.get("/v1/admin/audit?limit=1", headers=bearer(editor)).get_json()
    assert after["page"]["total"] == before["page"]["total"]


def test_tokens_ids_and_bodies_are_checked(client, url, make_token, editor):
    for method in ("GET", "PUT", "DELETE"):
        response = client.open(url, method=method)
        assert response.status_code == 401, method
        assert response.content_type == PROBLEM
        for address in (
            f"/v1/admin/articles/{NO_ID}/presence",
            "/v1/admin/articles/not-a-uuid/presence",
        ):
            missing = client.open(address, method=method, headers=bearer(editor))
            assert missing.status_code == 404, (method, address)
            assert missing.content_type == PROBLEM
    for body in ({"editing": "yes"}, {"editing": 1}, {"editing": True, "typing": True}, []):
        response = client.put(url, json=body, headers=bearer(editor))
        assert response.status_code == 422, body
        assert response.content_type == PROBLEM
    malformed = client.put(
        url, data=b'{"editing": tr', content_type="application/json", headers=bearer(editor)
    )
    assert malformed.status_code == 400
    assert _others(client, url, make_token("viewer")) == []
