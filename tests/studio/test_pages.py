"""The studio over the test client: cookies, CSRF, headers, error pages, sign-in and out."""

from __future__ import annotations

import dataclasses
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from cms_api.config import Settings
from cms_api.database import db
from cms_api.domain.errors import NotFound, ValidationFailed
from cms_api.models import StudioSession, User
from cms_api.services.accounts import sessions, sign_in, users
from cms_api.studio import actions, pages, security
from tests.support.api import PROBLEM, REVIEWER_PERSON

PASSWORD = "a long enough passphrase"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def _make_user(app: Flask, role: str = "editor", *, email: str | None = None) -> str:
    email = email or f"{role}-{uuid.uuid4().hex[:6]}@example.org"
    with app.app_context():
        user = users.create_user(
            email=email,
            name=f"Studio {role}",
            role=role,
            person_slug=REVIEWER_PERSON if role == "reviewer" else None,
        )
        sign_in.set_password(user, PASSWORD)
        db.session.commit()
    return email


def _csrf(client: FlaskClient, path: str = "/studio/sign-in") -> str:
    page = client.get(path)
    found = CSRF_INPUT.search(page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)
    return found.group(1)


def _sign_in(client: FlaskClient, email: str, password: str = PASSWORD, **extra: str):
    token = _csrf(client)
    return client.post(
        "/studio/sign-in",
        data={"email": email, "password": password, "csrf_token": token, **extra},
    )


def _cookie_header(response, name: str) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return header
    raise AssertionError(f"no {name} cookie in {response.headers.getlist('Set-Cookie')}")


def test_the_sign_in_page_is_html_with_strict_security_headers(client: FlaskClient) -> None:
    response = client.get("/studio/sign-in")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_data(as_text=True)
    assert "<script>" not in body and " on" + "click=" not in body
    assert '<label for="email">' in body and '<label for="password">' in body


def test_the_anonymous_csrf_cookie_has_every_flag(client: FlaskClient) -> None:
    cookie = _cookie_header(client.get("/studio/sign-in"), security.ANONYMOUS_CSRF_COOKIE)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie
    assert "Path=/studio" in cookie


def test_signing_in_sets_a_new_session_cookie_and_lands_on_the_start_page(
    app: Flask, client: FlaskClient
) -> None:
    email = _make_user(app, "editor")
    response = _sign_in(client, email)
    assert response.status_code == 303
    assert response.headers["Location"] == "/studio/"
    cookie = _cookie_header(response, security.SESSION_COOKIE)
    for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/studio"):
        assert flag in cookie
    secret = cookie.split(";", 1)[0].split("=", 1)[1]
    with app.app_context():
        stored = db.session.scalars(select(StudioSession.digest)).all()
        assert secret not in stored
        assert sessions.digest(secret) in stored
    home = client.get("/studio/")
    assert home.status_code == 200
    text = home.get_data(as_text=True)
    assert "Studio editor" in text
    assert "Editor" in text
    assert "Publish, unpublish and archive articles" in text


def test_the_secure_flag_can_be_turned_off(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (
        Settings.from_environ({"CMS_STUDIO_SECURE_COOKIE": "false"}).studio_secure_cookie is False
    )
    assert Settings.from_environ({}).studio_secure_cookie is True
    settings = dataclasses.replace(app.config["CMS_SETTINGS"], studio_secure_cookie=False)
    monkeypatch.setitem(app.config, "CMS_SETTINGS", settings)
    cookie = _cookie_header(client.get("/studio/sign-in"), security.ANONYMOUS_CSRF_COOKIE)
    assert "Secure" not in cookie
    assert "HttpOnly" in cookie


def test_a_post_without_the_csrf_token_is_refused_with_a_403_page(
    app: Flask, client: FlaskClient
) -> None:
    email = _make_user(app)
    client.get("/studio/sign-in")  # the anonymous cookie, but no token in the form
    refused = client.post("/studio/sign-in", data={"email": email, "password": PASSWORD})
    assert refused.status_code == 403
    assert refused.mimetype == "text/html"
    assert "did not come from the studio" in refused.get_data(as_text=True)
    wrong = client.post(
        "/studio/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": "x" * 43}
    )
    assert wrong.status_code == 403


def test_a_signed_in_write_needs_the_sessions_token_in_the_form_or_header(
    app: Flask, client: FlaskClient
) -> None:
    _sign_in(client, _make_user(app))
    anonymous_token = client.get_cookie(security.ANONYMOUS_CSRF_COOKIE, path="/studio")
    assert anonymous_token is None  # dropped at sign-in
    assert client.post("/studio/sign-out").status_code == 403
    assert client.post("/studio/sign-out", headers={"X-CSRF-Token": "nope"}).status_code == 403
    token = _csrf(client, "/studio/")
    assert client.get("/studio/").status_code == 200  # still signed in
    signed_out = client.post("/studio/sign-out", headers={"X-CSRF-Token": token})
    assert signed_out.status_code == 303


def test_a_wrong_password_shows_one_message_and_keeps_the_address(
    app: Flask, client: FlaskClient
) -> None:
    email = _make_user(app)
    wrong = _sign_in(client, email, "not the password")
    unknown = _sign_in(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 422
    for response in (wrong, unknown):
        body = response.get_data(as_text=True)
        assert "do not match an account that can sign in now" in body
        assert "not the password" not in body
        assert security.SESSION_COOKIE not in response.headers.get("Set-Cookie", "")
    assert f'value="{email}"' in wrong.get_data(as_text=True)


def test_an_empty_form_names_the_missing_fields(client: FlaskClient) -> None:
    response = _sign_in(client, "", "")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Enter your e-mail address." in body
    assert 'aria-invalid="true"' in body


def test_signing_out_ends_the_session_and_its_cookie(app: Flask, client: FlaskClient) -> None:
    _sign_in(client, _make_user(app))
    secret = client.get_cookie(security.SESSION_COOKIE, path="/studio").value
    token = _csrf(client, "/studio/")
    response = client.post("/studio/sign-out", data={"csrf_token": token})
    assert response.headers["Location"] == "/studio/sign-in?notice=signed-out"
    assert "You are signed out." in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(
                select(StudioSession).where(StudioSession.digest == sessions.digest(secret))
            )
            is None
        )
    # The old cookie, sent again, opens nothing.
    client.set_cookie(security.SESSION_COOKIE, secret, path="/studio")
    assert client.get("/studio/").status_code == 303


def test_a_page_needs_a_session_and_comes_back_after_sign_in(
    app: Flask, client: FlaskClient
) -> None:
    response = client.get("/studio/")
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/studio/sign-in"
    assert parse_qs(location.query) == {"next": ["/studio/"]}
    signed_in = _sign_in(client, _make_user(app), next="/studio/")
    assert signed_in.headers["Location"] == "/studio/"


@pytest.mark.parametrize(
    "target", ["//evil.example/studio/", "https://evil.example/", "/studio//evil", "/v1/articles"]
)
def test_next_never_leaves_the_studio(app: Flask, client: FlaskClient, target: str) -> None:
    response = _sign_in(client, _make_user(app), next=target)
    assert response.headers["Location"] == "/studio/"


def test_a_login_link_signs_in_once(app: Flask, client: FlaskClient) -> None:
    email = _make_user(app)
    with app.app_context():
        url = sign_in.issue_login_link(users.find_user(email)).url
        db.session.commit()
    path = url.removeprefix("http://localhost")
    landing = client.get(path)
    assert landing.status_code == 200
    token = path.split("token=", 1)[1]
    csrf = CSRF_INPUT.search(landing.get_data(as_text=True)).group(1)
    first = client.post("/studio/sign-in/link", data={"token": token, "csrf_token": csrf})
    assert first.status_code == 303
    assert client.get("/studio/").status_code == 200
    other = client.application.test_client()
    csrf = _csrf(other, path)
    second = other.post("/studio/sign-in/link", data={"token": token, "csrf_token": csrf})
    assert second.status_code == 422
    assert "expired or has already been used" in second.get_data(as_text=True)


def test_signing_in_again_ends_the_previous_session(app: Flask, client: FlaskClient) -> None:
    email = _make_user(app)
    _sign_in(client, email)
    first = client.get_cookie(security.SESSION_COOKIE, path="/studio").value
    with app.app_context():
        url = sign_in.issue_login_link(users.find_user(email)).url
        db.session.commit()
    path = url.removeprefix("http://localhost")
    csrf = _csrf(client, path)
    token = path.split("token=", 1)[1]
    client.post("/studio/sign-in/link", data={"token": token, "csrf_token": csrf})
    second = client.get_cookie(security.SESSION_COOKIE, path="/studio").value
    assert second != first
    with app.app_context():
        assert sessions.resolve(first) is None
        assert sessions.resolve(second) is not None


def test_unknown_studio_addresses_are_html_pages_and_the_api_keeps_problems(
    client: FlaskClient,
) -> None:
    page = client.get("/studio/no-such-page")
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert "There is no page at this address" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    problem = client.get("/v1/no-such-thing")
    assert problem.status_code == 404
    assert problem.mimetype == PROBLEM


def test_static_files_are_served_without_a_cdn(client: FlaskClient) -> None:
    for name in ("htmx.min.js", "studio.js", "studio.css", "htmx.LICENSE"):
        response = client.get(f"/studio/static/studio/{name}")
        assert response.status_code == 200, name
        response.close()
    page = client.get("/studio/sign-in").get_data(as_text=True)
    assert 'src="/studio/static/studio/htmx.min.js"' in page
    assert "http://" not in page and "https://" not in page


def test_the_studio_is_not_in_the_openapi_document(document: dict) -> None:
    assert not [path for path in document["paths"] if path.startswith("/studio")]


def _signed_in_context(app: Flask, role: str) -> tuple[str, User]:
    email = _make_user(app, role)
    with app.app_context():
        user = users.find_user(email)
        issued = sessions.start(user, method="password")
        db.session.commit()
        return issued.secret, user


def test_requires_checks_the_permission_matrix(app: Flask) -> None:
    @security.requires("accounts:manage")
    def manage_accounts() -> str:
        return "managed"

    for role, allowed in (("admin", True), ("editor", False)):
        secret, _ = _signed_in_context(app, role)
        with app.test_request_context("/studio/x", headers={"Cookie": f"x={secret}"}):
            g.studio_session = sessions.resolve(secret)
            if allowed:
                assert manage_accounts() == "managed"
            else:
                with pytest.raises(Forbidden):
                    manage_accounts()
    with app.test_request_context("/studio/x"):
        g.studio_session = None
        assert manage_accounts().status_code == 303


def test_perform_commits_or_returns_a_refusal_for_the_form(app: Flask) -> None:
    secret, user = _signed_in_context(app, "admin")
    with app.test_request_context("/studio/x", method="POST"):
        g.studio_session = sessions.resolve(secret)
        done = actions.perform(
            lambda actor: users.update_user(
                db.session.get(User, user.id), {"name": "Renamed"}, actor=actor
            )
        )
        assert done.ok and done.value is not None

        def refuse(actor):
            raise ValidationFailed("No.", errors={"json": {"name": ["Not this one."]}})

        refused = actions.perform(refuse)
        assert not refused.ok and refused.error is not None
        form = pages.Form(values={"name": "Bad"}).refuse_with(refused.error)
        assert form.invalid
        assert form.message == "No."
        assert form.errors == {"name": ["Not this one."]}
        assert form.value("name") == "Bad"

        def missing(actor):
            raise NotFound("Gone.")

        with pytest.raises(NotFound):
            actions.perform(missing)
    with app.app_context():
        assert db.session.get(User, user.id).name == "Renamed"


@pytest.fixture
def reviewer_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    _sign_in(client, _make_user(app, "reviewer"))
    return client


def test_a_reviewer_sees_a_reviewers_start_page(reviewer_client: FlaskClient) -> None:
    text = reviewer_client.get("/studio/").get_data(as_text=True)
    assert "Medical reviewer" in text
    assert "Approve articles or request changes" in text
    assert "Publish, unpublish and archive articles" not in text
