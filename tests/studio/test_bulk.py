"""Bulk actions on the studio's article list: each article its own write, refusals named."""

from __future__ import annotations

import re
import threading
import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from cms_api.database import db
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial import articles as editorial
from cms_api.services.publishing import render_lock
from tests.studio.test_articles import _create
from tests.studio.test_parts import _api_article, _signed_in

CHOSEN = re.compile(r'name="chosen" value="([0-9a-f-]{36}@\d+)"')


def _listed(client: FlaskClient, query: str) -> dict[str, str]:
    """The list's tick boxes by article id: their value (id@version)."""
    page = client.get(f"/studio/articles{query}").get_data(as_text=True)
    return {value.split("@")[0]: value for value in CHOSEN.findall(page)}


def _bulk(client: FlaskClient, token: str, action: str, values: list[str], back: str = ""):
    return client.post(
        "/studio/articles/bulk",
        data={"csrf_token": token, "action": action, "chosen": values, "back": back},
    )


def test_trash_and_restore_several_at_once(
    app: Flask, client: FlaskClient, admin_token: str
) -> None:
    token = _signed_in(app, client, "editor")
    ids = [_create(client, token, slug=f"bulk-{n}") for n in range(3)]
    boxes = _listed(client, "?q=bulk-")
    assert set(ids) <= set(boxes)
    back = "/studio/articles?q=bulk-"
    moved = _bulk(client, token, "trash", [boxes[i] for i in ids[:2]], back=back)
    assert moved.status_code == 303 and moved.headers["Location"] == back
    assert "Moved 2 articles to the trash." in client.get(back).get_data(as_text=True)
    assert _api_article(client, admin_token, ids[2])["deleted_at"] is None
    for article_id in ids[:2]:
        assert _api_article(client, admin_token, article_id)["deleted_at"] is not None

    trashed = _listed(client, "?q=bulk-&trashed=1")
    assert set(trashed) == set(ids[:2])
    restored = _bulk(client, token, "restore", list(trashed.values()))
    assert restored.status_code == 303 and restored.headers["Location"] == "/studio/articles"
    assert all(_api_article(client, admin_token, i)["deleted_at"] is None for i in ids)


def test_a_refusal_names_its_article_and_the_others_are_done(
    app: Flask, client: FlaskClient, admin_token: str
) -> None:
    token = _signed_in(app, client, "editor")
    ready = _create(client, token, slug="bulk-ready")
    stale = _create(client, token, slug="bulk-stale")
    boxes = _listed(client, "?q=bulk-")
    # Someone edits one after the list was loaded: it is left alone, the other goes on.
    edited = client.patch(
        f"/v1/admin/articles/{stale}",
        json={"summary": "Changed meanwhile."},
        headers={
            "Authorization": f"Bearer {admin_token}",
            "If-Match": client.get(
                f"/v1/admin/articles/{stale}", headers={"Authorization": f"Bearer {admin_token}"}
            ).headers["ETag"],
            "Content-Type": "application/merge-patch+json",
        },
    )
    assert edited.status_code == 200, edited.get_json()
    sent = _bulk(client, token, "submit", [boxes[ready], boxes[stale]])
    assert sent.status_code == 303
    page = client.get("/studio/articles").get_data(as_text=True)
    assert "Submitted 1 article for medical review." in page
    assert "Not done for 1 article:" in page and "changed since the list was loaded" in page
    assert _api_article(client, admin_token, ready)["status"] == "in_review"
    assert _api_article(client, admin_token, stale)["status"] == "draft"

    # Publishing a draft is refused by the workflow, with its reason, and nothing moves.
    again = _listed(client, "?q=bulk-stale")
    _bulk(client, token, "publish", [again[stale]])
    page = client.get("/studio/articles").get_data(as_text=True)
    assert "“A studio draft”:" in page
    assert _api_article(client, admin_token, stale)["status"] == "draft"


def test_bulk_input_is_checked_and_roles_apply(app: Flask, client: FlaskClient) -> None:
    token = _signed_in(app, client, "editor")
    article_id = _create(client, token, slug="bulk-guarded")
    assert _bulk(client, token, "explode", [f"{article_id}@1"]).status_code == 400
    assert _bulk(client, token, "trash", ["not-an-id@x"]).status_code == 400
    too_many = [f"{uuid.uuid4()}@1" for _ in range(101)]
    assert _bulk(client, token, "trash", too_many).status_code == 400
    nothing = _bulk(client, token, "trash", [])
    assert nothing.status_code == 303
    assert "Tick the articles to act on first." in client.get("/studio/articles").get_data(
        as_text=True
    )
    # Somewhere else than the list is no place to go back to.
    away = _bulk(client, token, "restore", [f"{article_id}@2"], back="https://evil.example/")
    assert away.headers["Location"] == "/studio/articles"

    viewer_client = app.test_client()
    viewer = _signed_in(app, viewer_client, "viewer")
    assert 'id="bulk-form"' not in viewer_client.get("/studio/articles").get_data(as_text=True)
    assert _bulk(viewer_client, viewer, "trash", [f"{article_id}@1"]).status_code == 403


def test_when_other_writes_hold_the_content_the_rest_is_left_and_said(
    app: Flask, client: FlaskClient, admin_token: str, monkeypatch
) -> None:
    token = _signed_in(app, client, "editor")
    # Written by the service, not the studio: a studio write would take the render lock
    # itself, and this test's transaction holds what it takes until the test ends.
    with app.app_context():
        ids = [
            str(
                editorial.create_article(
                    {"title": f"Busy {n}", "slug": f"bulk-busy-{n}", "summary": ""}, Actor(None)
                ).id
            )
            for n in range(3)
        ]
        db.session.commit()
    boxes = _listed(client, "?q=bulk-busy-")
    monkeypatch.setattr(render_lock, "WAIT_SECONDS", 0.3, raising=False)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:  # another writer, publishing for a long while
        with app.app_context(), db.engine.connect() as connection, connection.begin():
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": render_lock.RENDER_LOCK}
            )
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        sent = _bulk(client, token, "trash", [boxes[i] for i in ids])
    finally:
        release.set()
        holder.join()
    assert sent.status_code == 303
    page = client.get("/studio/articles").get_data(as_text=True)
    assert "Not done for 3 articles: 3 articles left undone, as the content is busy" in page
    assert all(_api_article(client, admin_token, i)["deleted_at"] is None for i in ids)
