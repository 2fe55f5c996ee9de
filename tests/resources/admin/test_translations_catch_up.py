"""A translation catches up with its original: editors say so, reviewers approve, readers see it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from cms_api.database import db
from cms_api.services.publishing.articles import refresh_articles
from tests.conftest import bearer
from tests.support.api import CLINICAL, PROBLEM, PUBLISHABLE


def _send(client, method: str, url: str, token: str, body: Any = None, *, match: str = ""):
    """Send a write; `match` names the resource whose current ETag goes in If-Match."""
    headers = bearer(token)
    if match:
        headers["If-Match"] = client.get(match, headers=bearer(token)).headers["ETag"]
    response = client.open(url, method=method, json=body, headers=headers)
    assert response.status_code < 300, (method, url, response.get_json())
    return response


def _patch(client, url: str, token: str, body: dict[str, Any]):
    etag = client.get(url, headers=bearer(token)).headers["ETag"]
    return client.patch(url, json=body, headers=bearer(token, **{"If-Match": etag}))


def _approve_and_publish(client, url: str, editor: str, reviewer: str) -> dict[str, Any]:
    _send(client, "POST", f"{url}/approve", reviewer, CLINICAL)
    return _send(client, "POST", f"{url}/publish", editor, {}).get_json()


def _published_original(client, editor: str, reviewer: str, slug: str) -> str:
    created = client.post(
        "/v1/admin/articles",
        json={"slug": slug, "title": "Sunburn: Cooling the Skin", **PUBLISHABLE},
        headers=bearer(editor),
    )
    assert created.status_code == 201, created.get_json()
    url = created.headers["Location"]
    _send(client, "PUT", f"{url}/authors", editor, {"authors": ["rafael-oyelaran"]}, match=url)
    _send(client, "POST", f"{url}/submit", editor)
    _approve_and_publish(client, url, editor, reviewer)
    return url


def _published_translation(client, url: str, editor: str, reviewer: str, slug: str) -> str:
    made = client.post(
        f"{url}/translations", json={"locale": "es", "slug": slug}, headers=bearer(editor)
    )
    assert made.status_code == 201, made.get_json()
    translation_url = made.headers["Location"]
    _send(client, "POST", f"{translation_url}/submit", editor)
    _approve_and_publish(client, translation_url, editor, reviewer)
    return translation_url


def _new_live_revision(client, url: str, editor: str, reviewer: str, summary: str) -> int:
    """The original edited, reviewed and published again: its new live revision."""
    _send(client, "PATCH", url, editor, {"summary": summary}, match=url)
    return _approve_and_publish(client, url, editor, reviewer)["live_revision"]


def _public(client, slug: str) -> dict[str, Any]:
    response = client.get(f"/v1/articles/{slug}", query_string={"locale": "es"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    assert response.content_type == PROBLEM
    return response.get_json()


def test_readers_see_the_translation_caught_up_once_its_revision_goes_live(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = _published_original(client, editor, reviewer, "sunburn-cooling")
    first = client.get(url, headers=bearer(editor)).get_json()["live_revision"]
    translation_url = _published_translation(client, url, editor, reviewer, "quemadura-solar")
    assert _public(client, "quemadura-solar")["translation_of"]["revision"] == first
    assert _public(client, "quemadura-solar")["outdated"] is False

    newer = _new_live_revision(client, url, editor, reviewer, "Cool water and shade first.")

    assert newer > first
    translation = client.get(translation_url, headers=bearer(editor)).get_json()
    assert (translation["outdated"], translation["source_revision"]) == (True, first)
    document = _public(client, "quemadura-solar")
    assert document["outdated"] is True
    assert document["translation_of"] == {
        "locale": "en",
        "slug": "sunburn-cooling",
        "revision": first,
    }

    # The editor brings the text up to date and says which revision it now reflects.
    caught_up = _patch(
        client,
        translation_url,
        editor,
        {"summary": "Primero agua fresca y sombra.", "source_revision": newer},
    )

    assert caught_up.status_code == 200, caught_up.get_json()
    body = caught_up.get_json()
    assert body["source_revision"] == newer
    assert body["outdated"] is False  # the working copy reflects the live original
    assert body["status"] == "in_review"
    assert body["revision_number"] == translation["revision_number"] + 1
    assert body["review_diff"]["changes"]["source_revision"] == {"from": first, "to": newer}
    snapshot = client.get(
        f"{translation_url}/revisions/{body['revision_number']}", headers=bearer(editor)
    ).get_json()["snapshot"]
    assert snapshot["source_revision"] == newer
    # Not reviewed yet, so readers are still told the translation lags behind.
    assert _public(client, "quemadura-solar")["outdated"] is True

    _send(client, "POST", f"{translation_url}/approve", reviewer, CLINICAL)
    approved = _public(client, "quemadura-solar")
    assert (approved["outdated"], approved["translation_of"]["revision"]) == (True, first)

    _send(client, "POST", f"{translation_url}/publish", editor, {})

    live = _public(client, "quemadura-solar")
    assert live["outdated"] is False
    assert live["translation_of"]["revision"] == newer
    assert live["summary"] == "Primero agua fresca y sombra."
    listed = client.get(
        "/v1/admin/articles",
        query_string={"outdated": "true", "limit": 100},
        headers=bearer(editor),
    ).get_json()["items"]
    assert body["id"] not in {item["id"] for item in listed}


def test_source_revision_alone_is_an_edit_to_review(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = _published_original(client, editor, reviewer, "sunburn-blisters")
    first = client.get(url, headers=bearer(editor)).get_json()["live_revision"]
    translation_url = _published_translation(client, url, editor, reviewer, "ampollas-solares")
    newer = _new_live_revision(client, url, editor, reviewer, "Leave blisters unbroken.")
    before = client.get(translation_url, headers=bearer(editor)).get_json()

    response = _patch(client, translation_url, editor, {"source_revision": newer})

    assert response.status_code == 200, response.get_json()
    after = response.get_json()
    assert (after["revision_number"], after["status"]) == (
        before["revision_number"] + 1,
        "in_review",
    )
    assert after["live_revision"] == before["live_revision"]
    history = client.get(f"{translation_url}/revisions", headers=bearer(editor)).get_json()
    assert history["items"][0]["reason"] == "edit"
    audit = client.get(
        "/v1/admin/audit", query_string={"target_id": after["id"]}, headers=bearer(editor)
    ).get_json()["items"]
    update = next(item for item in audit if item["action"] == "article.update")
    assert (update["before"]["source_revision"], update["after"]["source_revision"]) == (
        first,
        newer,
    )

    # Saying it again changes nothing: no new revision.
    again = _patch(client, translation_url, editor, {"source_revision": newer})
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["revision_number"] == after["revision_number"]


def test_source_revision_errors_are_problems(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = _published_original(client, editor, reviewer, "sunburn-errors")
    first = client.get(url, headers=bearer(editor)).get_json()["live_revision"]
    made = client.post(
        f"{url}/translations",
        json={"locale": "es", "slug": "quemadura-errores"},
        headers=bearer(editor),
    )
    translation_url = made.headers["Location"]
    newer = _new_live_revision(client, url, editor, reviewer, "Shade, water, rest.")

    original = _problem(_patch(client, url, editor, {"source_revision": first}), 422)
    assert "source_revision" in original["errors"]["json"]
    unknown = _problem(_patch(client, translation_url, editor, {"source_revision": 999}), 422)
    assert "source_revision" in unknown["errors"]["json"]
    for bad in (0, "2", None, 1.5):
        _problem(_patch(client, translation_url, editor, {"source_revision": bad}), 422)
    # Nothing was changed by the refused edits.
    unchanged = client.get(translation_url, headers=bearer(editor)).get_json()
    assert (unchanged["source_revision"], unchanged["revision_number"]) == (first, 1)
    original_now = client.get(url, headers=bearer(editor)).get_json()
    assert original_now["source_revision"] is None

    assert _patch(client, translation_url, editor, {"source_revision": newer}).status_code == 200
    older = _problem(_patch(client, translation_url, editor, {"source_revision": first}), 422)
    assert "source_revision" in older["errors"]["json"]
    assert client.get(translation_url, headers=bearer(editor)).get_json()["source_revision"] == (
        newer
    )
    forbidden = client.patch(
        translation_url,
        json={"source_revision": newer},
        headers=bearer(make_token("viewer"), **{"If-Match": "*"}),
    )
    assert forbidden.status_code == 403


def test_restoring_an_old_revision_restores_what_it_reflected(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = _published_original(client, editor, reviewer, "sunburn-restore")
    first = client.get(url, headers=bearer(editor)).get_json()["live_revision"]
    made = client.post(
        f"{url}/translations",
        json={"locale": "es", "slug": "quemadura-restaurada"},
        headers=bearer(editor),
    )
    translation_url = made.headers["Location"]
    newer = _new_live_revision(client, url, editor, reviewer, "Aloe after the sun.")
    _send(
        client,
        "PATCH",
        translation_url,
        editor,
        {"summary": "Aloe después del sol.", "source_revision": newer},
        match=translation_url,
    )

    restored = _send(
        client, "POST", f"{translation_url}/revisions/1/restore", editor, match=translation_url
    ).get_json()

    assert restored["source_revision"] == first
    assert restored["outdated"] is True
    assert restored["revision_number"] == 3


def test_documents_rendered_from_older_snapshots_fall_back_to_the_article(app, client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = _published_original(client, editor, reviewer, "sunburn-legacy")
    translation_url = _published_translation(client, url, editor, reviewer, "quemadura-antigua")
    newer = _new_live_revision(client, url, editor, reviewer, "Fluids and shade.")
    translation_id = uuid.UUID(translation_url.rsplit("/", 1)[1])
    with app.app_context():
        # A live revision saved before revisions recorded what they reflect.
        db.session.execute(
            text(
                "UPDATE revisions SET snapshot = snapshot - 'source_revision' "
                "WHERE article_id = :id"
            ),
            {"id": translation_id},
        )
        db.session.execute(
            text("UPDATE articles SET source_revision = :number WHERE id = :id"),
            {"number": newer, "id": translation_id},
        )
        refresh_articles([translation_id])
        db.session.commit()

    document = _public(client, "quemadura-antigua")

    assert document["translation_of"]["revision"] == newer
    assert document["outdated"] is False
