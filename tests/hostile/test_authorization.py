"""Other roles' objects and dead tokens: admin-only accounts, no self-review, viewers only read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import ApiToken, User
from cms_api.ratelimit import limiter
from tests.conftest import bearer
from tests.support.api import AUTHOR_PERSON, CLINICAL, PROBLEM, REVIEWER_PERSON, expect_created


def _token_row(app: Flask, secret: str) -> ApiToken:
    with app.app_context():
        return db.session.scalar(select(ApiToken).where(ApiToken.prefix == secret[:12]))


@pytest.mark.parametrize("role", ["editor", "reviewer", "viewer"])
def test_only_admins_reach_users_and_tokens_even_by_id(app, client, make_token, role):
    admin, other = make_token("admin"), make_token(role)
    admin_row = _token_row(app, admin)
    me = _token_row(app, other)

    attempts = [
        ("GET", "/v1/admin/users", None),
        ("GET", "/v1/admin/tokens", None),
        ("POST", "/v1/admin/users", {"email": "x@example.org", "name": "X", "role": "admin"}),
        # Minting a token for the admin, or for oneself, is an admin's act.
        ("POST", "/v1/admin/tokens", {"user_id": str(admin_row.user_id), "name": "mine"}),
        ("POST", "/v1/admin/tokens", {"user_id": str(me.user_id), "name": "another"}),
        ("POST", f"/v1/admin/tokens/{admin_row.id}/revoke", None),
        ("POST", f"/v1/admin/tokens/{me.id}/revoke", None),
    ]
    for method, path, body in attempts:
        response = client.open(path, method=method, json=body, headers=bearer(other))
        assert response.status_code == 403, (role, method, path, response.get_json())
        assert response.content_type == PROBLEM
        assert "token" not in response.get_json() and "items" not in response.get_json()

    assert client.get("/v1/admin/users", headers=bearer(admin)).status_code == 200
    assert _token_row(app, admin).revoked_at is None
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None


def test_a_reviewer_cannot_approve_an_article_they_wrote(client, make_token):
    editor = make_token("editor")
    author = make_token("reviewer", person_slug=AUTHOR_PERSON)
    created = client.post(
        "/v1/admin/articles", json={"slug": "self-review", "title": "Mine"}, headers=bearer(editor)
    )
    url = created.headers["Location"]
    client.put(
        f"{url}/authors",
        json={"authors": [REVIEWER_PERSON, AUTHOR_PERSON]},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    client.post(f"{url}/submit", headers=bearer(editor))

    response = client.post(f"{url}/approve", json=CLINICAL, headers=bearer(author))

    assert response.status_code in (403, 409), response.get_json()
    assert response.content_type == PROBLEM
    after = client.get(url, headers=bearer(editor)).get_json()
    assert (after["status"], after["approval_current"], after["reviews"]) == (
        "in_review",
        False,
        [],
    )
    assert client.post(f"{url}/publish", json={}, headers=bearer(editor)).status_code == 409


def test_a_viewer_reads_drafts_but_changes_nothing(app, client, make_token):
    editor, viewer = make_token("editor"), make_token("viewer")
    created = client.post(
        "/v1/admin/articles", json={"slug": "look-only", "title": "Look"}, headers=bearer(editor)
    )
    url, etag = created.headers["Location"], created.headers["ETag"]
    faq = expect_created(
        client.post(
            "/v1/admin/faqs",
            json={"question": "Q?", "answer": "A.", "article_id": created.get_json()["id"]},
            headers=bearer(editor),
        ),
        "faq",
    )
    writes = [
        ("PATCH", url, {"title": "Changed"}),
        ("DELETE", url, None),
        ("PUT", f"{url}/authors", {"authors": [AUTHOR_PERSON]}),
        ("POST", f"{url}/submit", None),
        ("POST", f"{url}/publish", {}),
        ("POST", f"{url}/revisions/1/restore", None),
        ("PATCH", f"/v1/admin/faqs/{faq['id']}", {"answer": "Changed."}),
        ("POST", "/v1/admin/articles", {"slug": "viewer-made", "title": "V"}),
    ]
    for method, path, body in writes:
        response = client.open(
            path, method=method, json=body, headers=bearer(viewer, **{"If-Match": etag})
        )
        assert response.status_code == 403, (method, path, response.get_json())

    seen = client.get(url, headers=bearer(viewer))
    assert seen.status_code == 200
    assert seen.headers["ETag"] == etag, "nothing changed"
    assert seen.get_json()["title"] == "Look"


@pytest.mark.parametrize("role", ["editor", "reviewer", "viewer"])
def test_roles_that_do_not_answer_questions_never_see_the_readers_email(client, make_token, role):
    limiter.reset()
    asked = client.post(
        "/v1/questions",
        json={"question": "Is my address kept private?", "email": "reader-private@example.org"},
    )
    question_id = asked.get_json()["id"]
    token = make_token(role)
    listed = client.get("/v1/admin/questions?limit=100", headers=bearer(token)).get_json()["items"]
    single = client.get(f"/v1/admin/questions/{question_id}", headers=bearer(token)).get_json()
    mine = next(item for item in listed if item["id"] == question_id)

    expected = "reader-private@example.org" if role == "editor" else None
    assert mine["email"] == single["email"] == expected


def test_revoked_expired_and_deactivated_users_tokens_answer_401(app, client, make_token):
    admin = make_token("admin")
    revoked, expired, disabled, spare = (make_token("editor") for _ in range(4))
    assert client.get("/v1/admin/articles", headers=bearer(revoked)).status_code == 200

    revoke = client.post(
        f"/v1/admin/tokens/{_token_row(app, revoked).id}/revoke", headers=bearer(admin)
    )
    assert revoke.status_code == 200
    with app.app_context():
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.prefix == expired[:12])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        disabled_user = _token_row(app, disabled).user_id
        db.session.execute(
            update(User).where(User.id == disabled_user).values(disabled_at=utcnow())
        )
        db.session.commit()
    # A second token the deactivated user got before: it dies with the account.
    second = client.post(
        "/v1/admin/tokens", json={"user_id": str(disabled_user), "name": "b"}, headers=bearer(admin)
    )
    assert second.status_code == 201

    for token in (revoked, expired, disabled, second.get_json()["token"]):
        for method, path in (("GET", "/v1/admin/articles"), ("POST", "/v1/admin/articles")):
            response = client.open(
                path, method=method, json={"slug": "x", "title": "x"}, headers=bearer(token)
            )
            assert response.status_code == 401, (method, path)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/v1/admin/articles", headers=bearer(spare)).status_code == 200
