"""The studio's admin screens over the test client: users, tokens, webhooks, import and export."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import ApiToken, User, WebhookEndpoint
from cms_api.services.accounts import sign_in, users
from tests.support.api import REVIEWER_PERSON, bearer

PASSWORD = "a long enough passphrase"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def _make_user(app: Flask, role: str) -> User:
    with app.app_context():
        user = users.create_user(
            email=f"{role}-{uuid.uuid4().hex[:6]}@example.org",
            name=f"Studio {role}",
            role=role,
            person_slug=REVIEWER_PERSON if role == "reviewer" else None,
        )
        sign_in.set_password(user, PASSWORD)
        db.session.commit()
        return user


def _signed_in(app: Flask, client: FlaskClient, role: str = "admin") -> tuple[User, str]:
    """Sign `client` in as a new user with `role`; the user and the session's CSRF token."""
    user = _make_user(app, role)
    page = client.get("/studio/sign-in")
    token = CSRF_INPUT.search(page.get_data(as_text=True)).group(1)
    answer = client.post(
        "/studio/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 303
    home = client.get("/studio/")
    return user, CSRF_INPUT.search(home.get_data(as_text=True)).group(1)


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> str:
    return _signed_in(app, client)[1]


def _user_by_email(app: Flask, email: str) -> User | None:
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


@pytest.mark.parametrize(
    "path",
    [
        ("/studio/admin/users", "/studio/admin/users"),
        ("/studio/admin/webhooks", "/studio/admin/webhooks"),
        ("/studio/admin/transfer", "/studio/admin/transfer/import"),
    ],
)
def test_an_editor_gets_403_on_admin_screens(
    app: Flask, client: FlaskClient, path: tuple[str, str]
) -> None:
    _, csrf = _signed_in(app, client, "editor")
    assert client.get(path[0]).status_code == 403
    assert client.get("/studio/admin/transfer/export").status_code == 403
    answer = client.post(path[1], data={"csrf_token": csrf})
    assert answer.status_code == 403
    assert "may not do this" in answer.get_data(as_text=True)


def test_admin_screens_send_a_stranger_to_sign_in(client: FlaskClient) -> None:
    answer = client.get("/studio/admin/users")
    assert answer.status_code == 303
    assert "/studio/sign-in" in answer.headers["Location"]


def test_creating_a_user_lists_them_and_the_api_sees_them(
    app: Flask, client: FlaskClient, admin: str, admin_token: str
) -> None:
    answer = client.post(
        "/studio/admin/users",
        data={"csrf_token": admin, "email": "New@Example.org", "name": "New one", "role": "editor"},
    )
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"])
    assert "new@example.org was added as editor" in page.get_data(as_text=True)
    listed = client.get("/v1/admin/users", headers=bearer(admin_token)).get_json()["items"]
    assert {"email": "new@example.org", "role": "editor"}.items() <= next(
        u for u in listed if u["email"] == "new@example.org"
    ).items()


def test_a_reviewer_without_a_person_is_refused_in_the_form(
    app: Flask, client: FlaskClient, admin: str
) -> None:
    answer = client.post(
        "/studio/admin/users",
        data={"csrf_token": admin, "email": "rev@example.org", "name": "Rev", "role": "reviewer"},
    )
    assert answer.status_code == 422
    body = answer.get_data(as_text=True)
    assert "A reviewer must be linked to a person" in body
    assert 'value="rev@example.org"' in body
    assert _user_by_email(app, "rev@example.org") is None


def test_a_bad_email_and_a_taken_one_are_form_messages(
    app: Flask, client: FlaskClient, admin: str
) -> None:
    bad = client.post(
        "/studio/admin/users",
        data={"csrf_token": admin, "email": "not an address", "name": "X", "role": "editor"},
    )
    assert bad.status_code == 422
    assert "Not a valid email address." in bad.get_data(as_text=True)
    other = _make_user(app, "viewer")
    taken = client.post(
        "/studio/admin/users",
        data={"csrf_token": admin, "email": other.email, "name": "X", "role": "editor"},
    )
    assert taken.status_code == 422
    assert "exists" in taken.get_data(as_text=True)


def test_the_last_admin_cannot_be_demoted_or_disabled(
    app: Flask, client: FlaskClient, admin: str
) -> None:
    with app.app_context():
        # Leave the signed-in admin as the only active one.
        for other in db.session.scalars(select(User).where(User.role == "admin")):
            if not other.email.startswith("admin-"):
                users.disable_user(other)
        me = db.session.scalar(select(User).where(User.role == "admin", User.disabled_at.is_(None)))
        db.session.commit()
        me_id, version = me.id, me.version
    demoted = client.post(
        f"/studio/admin/users/{me_id}",
        data={"csrf_token": admin, "name": "Me", "role": "editor", "version": version},
    )
    assert demoted.status_code == 422
    assert "last active admin" in demoted.get_data(as_text=True)
    disabled = client.post(
        f"/studio/admin/users/{me_id}/disable", data={"csrf_token": admin, "version": version}
    )
    assert disabled.status_code == 422
    assert "last active admin" in disabled.get_data(as_text=True)
    assert _user_by_email(app, me.email).disabled_at is None


def test_a_stale_version_shows_the_conflict_screen(
    app: Flask, client: FlaskClient, admin: str
) -> None:
    other = _make_user(app, "editor")
    answer = client.post(
        f"/studio/admin/users/{other.id}",
        data={"csrf_token": admin, "name": "Renamed", "role": "viewer", "version": "999"},
    )
    assert answer.status_code == 409
    assert "Changed by someone else" in answer.get_data(as_text=True)
    assert _user_by_email(app, other.email).role == "editor"


def test_changing_a_role_and_disabling_goes_through_the_service(
    app: Flask, client: FlaskClient, admin: str
) -> None:
    other = _make_user(app, "editor")
    answer = client.post(
        f"/studio/admin/users/{other.id}",
        data={"csrf_token": admin, "name": "Renamed", "role": "viewer", "version": other.version},
    )
    assert answer.status_code == 303
    changed = _user_by_email(app, other.email)
    assert (changed.role, changed.name) == ("viewer", "Renamed")
    answer = client.post(
        f"/studio/admin/users/{other.id}/disable",
        data={"csrf_token": admin, "version": changed.version},
    )
    assert answer.status_code == 303
    assert _user_by_email(app, other.email).disabled_at is not None
    link = client.post(f"/studio/admin/users/{other.id}/sign-in-link", data={"csrf_token": admin})
    assert link.status_code == 422
    assert "is disabled; enable the user first" in link.get_data(as_text=True)


def test_a_sign_in_link_is_shown_once(app: Flask, client: FlaskClient, admin: str) -> None:
    other = _make_user(app, "editor")
    answer = client.post(f"/studio/admin/users/{other.id}/sign-in-link", data={"csrf_token": admin})
    assert answer.status_code == 200
    found = re.search(r'value="(https?://[^"]*/studio/sign-in/link\?token=[^"]+)"', answer.text)
    assert found
    assert found.group(1) not in client.get(f"/studio/admin/users/{other.id}").text


def test_issuing_and_revoking_a_token(app: Flask, client: FlaskClient, admin: str) -> None:
    other = _make_user(app, "editor")
    answer = client.post(
        f"/studio/admin/users/{other.id}/tokens", data={"csrf_token": admin, "token_name": "CI"}
    )
    assert answer.status_code == 200
    secret = re.search(r'value="(cms_[^"]+)"', answer.text).group(1)
    assert client.get("/v1/admin/articles", headers=bearer(secret)).status_code == 200
    assert secret not in client.get(f"/studio/admin/users/{other.id}").text
    with app.app_context():
        token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == other.id))
    assert token.name == "CI"
    revoked = client.post(
        f"/studio/admin/users/{other.id}/tokens/{token.id}/revoke", data={"csrf_token": admin}
    )
    assert revoked.status_code == 303
    assert client.get("/v1/admin/articles", headers=bearer(secret)).status_code == 401


def test_token_expiry_beyond_the_limit_is_a_form_message(
    app: Flask, client: FlaskClient, admin: str
) -> None:
    other = _make_user(app, "editor")
    answer = client.post(
        f"/studio/admin/users/{other.id}/tokens",
        data={"csrf_token": admin, "token_name": "CI", "expires_on": "2999-01-01"},
    )
    assert answer.status_code == 422
    assert "Tokens live at most" in answer.text
    past = client.post(
        f"/studio/admin/users/{other.id}/tokens",
        data={"csrf_token": admin, "token_name": "CI", "expires_on": "2001-01-01"},
    )
    assert past.status_code == 422 and "The expiry is in the past." in past.text


def test_unknown_ids_get_the_studio_404_page(app: Flask, client: FlaskClient, admin: str) -> None:
    other = _make_user(app, "editor")
    for path in (
        f"/studio/admin/users/{uuid.uuid4()}",
        f"/studio/admin/webhooks/{uuid.uuid4()}",
    ):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.mimetype == "text/html"
    another = client.post(
        f"/studio/admin/users/{other.id}/tokens/{uuid.uuid4()}/revoke", data={"csrf_token": admin}
    )
    assert another.status_code == 404


def test_registering_a_webhook_shows_its_secret_once(
    app: Flask, client: FlaskClient, admin: str
) -> None:
    answer = client.post(
        "/studio/admin/webhooks",
        data={
            "csrf_token": admin,
            "url": "https://93.184.215.14/hooks/cms",
            "events": ["article.published", "article.updated"],
            "active": "on",
        },
    )
    assert answer.status_code == 201
    secret = re.search(r'value="(whsec_[^"]+)"', answer.text).group(1)
    with app.app_context():
        endpoint = db.session.scalar(
            select(WebhookEndpoint).where(WebhookEndpoint.url == "https://93.184.215.14/hooks/cms")
        )
        assert endpoint.events == ["article.published", "article.updated"] and endpoint.active
    page = client.get(f"/studio/admin/webhooks/{endpoint.id}")
    assert secret not in page.text and "Nothing has been sent" in page.text


def test_a_webhook_to_a_private_address_or_without_events_is_refused(
    app: Flask, client: FlaskClient, admin: str
) -> None:
    private = client.post(
        "/studio/admin/webhooks",
        data={"csrf_token": admin, "url": "https://127.0.0.1/x", "events": ["article.published"]},
    )
    assert private.status_code == 422
    assert 'value="https://127.0.0.1/x"' in private.text
    assert 'aria-invalid="true"' in private.text
    none = client.post(
        "/studio/admin/webhooks", data={"csrf_token": admin, "url": "https://hooks.example.org/"}
    )
    assert none.status_code == 422 and "Choose at least one event." in none.text


def test_editing_rotating_and_deleting_a_webhook(
    app: Flask, client: FlaskClient, admin: str
) -> None:
    client.post(
        "/studio/admin/webhooks",
        data={
            "csrf_token": admin,
            "url": "https://93.184.215.14/a",
            "events": ["article.published"],
        },
    )
    with app.app_context():
        endpoint = db.session.scalar(
            select(WebhookEndpoint).where(WebhookEndpoint.url == "https://93.184.215.14/a")
        )
        webhook_id, version = endpoint.id, endpoint.version
    base = f"/studio/admin/webhooks/{webhook_id}"
    stale = client.post(
        base,
        data={
            "csrf_token": admin,
            "url": "https://93.184.215.14/b",
            "version": "0",
            "events": ["article.deleted"],
        },
    )
    assert stale.status_code == 409
    edited = client.post(
        base,
        data={
            "csrf_token": admin,
            "url": "https://93.184.215.14/b",
            "version": version,
            "events": ["article.deleted"],
        },
    )
    assert edited.status_code == 303
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, webhook_id)
        assert (endpoint.url, endpoint.events, endpoint.active) == (
            "https://93.184.215.14/b",
            ["article.deleted"],
            False,
        )
        version = endpoint.version
    rotated = client.post(f"{base}/rotate-secret", data={"csrf_token": admin, "version": version})
    assert rotated.status_code == 200 and "whsec_" in rotated.text
    ping = client.post(f"{base}/ping", data={"csrf_token": admin})
    assert ping.status_code == 409 and "inactive" in ping.text
    with app.app_context():
        version = db.session.get(WebhookEndpoint, webhook_id).version
    deleted = client.post(f"{base}/delete", data={"csrf_token": admin, "version": version})
    assert deleted.status_code == 303
    assert client.get(base).status_code == 404


def test_export_downloads_the_api_format(client: FlaskClient, admin: str) -> None:
    answer = client.get("/studio/admin/transfer/export")
    assert answer.status_code == 200 and answer.mimetype == "application/x-ndjson"
    assert "attachment" in answer.headers["Content-Disposition"]
    lines = answer.get_data(as_text=True).splitlines()
    assert '"format":"cms-api-export"' in lines[0] and '"type":"end"' in lines[-1]


def test_a_broken_import_file_lists_its_lines_and_imports_nothing(
    client: FlaskClient, admin: str
) -> None:
    import io

    answer = client.post(
        "/studio/admin/transfer/import",
        data={
            "csrf_token": admin,
            "file": (io.BytesIO(b'{"type":"header"}\nnot json\n'), "x.ndjson"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    assert "nothing was imported" in answer.text and "Line 2" in answer.text
    missing = client.post("/studio/admin/transfer/import", data={"csrf_token": admin})
    assert missing.status_code == 422 and "Choose an export file" in missing.text
    gone = client.post(
        "/studio/admin/transfer/import/apply", data={"csrf_token": admin, "staged": "x" * 32}
    )
    assert gone.status_code == 422 and "no longer here" in gone.text
