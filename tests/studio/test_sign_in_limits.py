"""Studio sign-in is limited per client address too: a 429 page that says how long to wait."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cms_api.database import db
from cms_api.ratelimit import limiter
from cms_api.services.accounts import sign_in, users
from cms_api.studio import security

PASSWORD = "a long enough passphrase"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
# The allowance per minute (auth.SIGN_IN_RATE_LIMIT), written out so a change is a decision.
PER_MINUTE = 10
TOO_MANY = "Too many sign-in attempts have come from your network address."


@pytest.fixture(autouse=True)
def _fresh_limits(app: Flask) -> Iterator[None]:
    """Each test starts with the whole allowance, and leaves none of its counts behind."""
    limiter.reset()
    yield
    limiter.reset()


def _make_user(app: Flask) -> str:
    email = f"limited-{uuid.uuid4().hex[:6]}@example.org"
    with app.app_context():
        sign_in.set_password(
            users.create_user(email=email, name="Limited", role="editor"), PASSWORD
        )
        db.session.commit()
    return email


def _csrf(client: FlaskClient, address: str, path: str = "/studio/sign-in") -> str:
    page = client.get(path, environ_base={"REMOTE_ADDR": address})
    assert page.status_code == 200
    found = CSRF_INPUT.search(page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)
    return found.group(1)


def _attempt(client: FlaskClient, address: str, email: str, password: str):
    return client.post(
        "/studio/sign-in",
        data={"email": email, "password": password, "csrf_token": _csrf(client, address)},
        environ_base={"REMOTE_ADDR": address},
    )


def _use_link(client: FlaskClient, address: str, token: str):
    csrf = _csrf(client, address, f"/studio/sign-in/link?token={token}")
    return client.post(
        "/studio/sign-in/link",
        data={"token": token, "csrf_token": csrf},
        environ_base={"REMOTE_ADDR": address},
    )


def _fail_until_limited(client: FlaskClient, address: str) -> None:
    """Use up an address's allowance with unknown accounts, as password spraying would:
    no account's own lock is touched."""
    for n in range(PER_MINUTE):
        refused = _attempt(client, address, f"nobody-{n}@example.org", "not the password")
        assert refused.status_code == 422, n


def test_the_eleventh_failure_in_a_minute_gets_an_html_429_with_retry_after(app: Flask) -> None:
    client = app.test_client()
    _fail_until_limited(client, "203.0.113.10")

    limited = _attempt(client, "203.0.113.10", "nobody-else@example.org", "not the password")

    assert limited.status_code == 429
    assert limited.mimetype == "text/html"
    text = limited.get_data(as_text=True)
    assert "Too Many Requests" in text
    assert TOO_MANY in text
    assert "Please wait a minute, then try again." in text
    # A minute's window, give or take flask-limiter's rounding of its reset up.
    assert 1 <= int(limited.headers["Retry-After"]) <= 61
    assert limited.headers["X-RateLimit-Limit"] == str(PER_MINUTE)
    assert limited.headers["X-RateLimit-Remaining"] == "0"


def test_while_limited_even_the_right_password_is_refused_and_other_addresses_are_not(
    app: Flask,
) -> None:
    email = _make_user(app)
    limited_client = app.test_client()
    _fail_until_limited(limited_client, "203.0.113.20")

    refused = _attempt(limited_client, "203.0.113.20", email, PASSWORD)

    assert refused.status_code == 429
    assert TOO_MANY in refused.get_data(as_text=True)
    assert limited_client.get_cookie(security.SESSION_COOKIE, path="/studio") is None
    other = app.test_client()
    signed_in = _attempt(other, "203.0.113.21", email, PASSWORD)
    assert signed_in.status_code == 303
    assert other.get_cookie(security.SESSION_COOKIE, path="/studio") is not None


def test_a_sign_in_link_is_limited_too_and_a_refused_link_is_not_spent(app: Flask) -> None:
    email = _make_user(app)
    with app.app_context():
        url = sign_in.issue_login_link(users.find_user(email)).url
        db.session.commit()
    token = url.split("token=", 1)[1]
    limited_client = app.test_client()
    for n in range(PER_MINUTE):
        assert _use_link(limited_client, "203.0.113.30", f"not-a-link-{n}").status_code == 422

    refused = _use_link(limited_client, "203.0.113.30", token)

    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    assert TOO_MANY in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) >= 1
    # The link still works once, from where the limit does not hold.
    assert _use_link(app.test_client(), "203.0.113.31", token).status_code == 303


def test_the_sign_in_pages_are_not_limited(app: Flask) -> None:
    client = app.test_client()
    for _ in range(PER_MINUTE + 5):
        page = client.get("/studio/sign-in", environ_base={"REMOTE_ADDR": "203.0.113.40"})
        assert page.status_code == 200
    # None of those pages counted: the first failure leaves all but one attempt.
    first = _attempt(client, "203.0.113.40", "nobody@example.org", "not the password")
    assert first.status_code == 422
    assert first.headers["X-RateLimit-Remaining"] == str(PER_MINUTE - 1)
    # And an address that is held still gets the pages.
    _fail_until_limited(client, "203.0.113.41")
    assert _attempt(client, "203.0.113.41", "nobody@example.org", "nope").status_code == 429
    for path in ("/studio/sign-in", "/studio/sign-in/link?token=anything"):
        page = client.get(path, environ_base={"REMOTE_ADDR": "203.0.113.41"})
        assert page.status_code == 200, path


def test_signing_in_does_not_use_up_the_allowance(app: Flask) -> None:
    email = _make_user(app)
    # More sign-ins than failures are allowed: colleagues behind one office address, each
    # in a browser of their own (a signed-in one would be sent on from the sign-in page).
    for _ in range(PER_MINUTE + 2):
        assert _attempt(app.test_client(), "203.0.113.50", email, PASSWORD).status_code == 303
    refused = _attempt(app.test_client(), "203.0.113.50", email, "not the password")
    assert refused.status_code == 422
    assert refused.headers["X-RateLimit-Remaining"] == str(PER_MINUTE - 1)
