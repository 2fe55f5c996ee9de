"""Journeys through the studio in Chromium: sign-in, lockout, links, sign-out, CSRF, roles."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import User
from cms_api.services.accounts import sign_in
from cms_api.studio import security
from tests.studio.conftest import PASSWORD, Studio

pytestmark = pytest.mark.browser

REFUSED = "do not match an account that can sign in now"


def _sign_in(page: Page, studio: Studio, email: str, password: str = PASSWORD) -> None:
    page.goto(studio.url("/studio/sign-in"))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _serious_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']}"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def test_signing_in_with_a_password_lands_on_the_start_page(page: Page, studio: Studio) -> None:
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    _sign_in(page, studio, studio.emails["editor"])
    expect(page).to_have_url(studio.url("/studio/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, editor")
    expect(page.get_by_text("Publish, unpublish and archive articles")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # htmx loaded from the app itself, and nothing broke the Content-Security-Policy. It is
    # a deferred script: on a busy machine it runs after the heading is already shown.
    page.wait_for_load_state("load")
    assert page.evaluate("typeof window.htmx") == "object"
    assert problems == []


def test_signing_in_works_on_localhost_with_secure_cookies(page: Page, studio: Studio) -> None:
    localhost = studio.base_url.replace("127.0.0.1", "localhost")
    page.goto(localhost + "/studio/sign-in")
    page.get_by_label("E-mail address").fill(studio.emails["editor"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(localhost + "/studio/")
    cookie = next(c for c in page.context.cookies() if c["name"] == security.SESSION_COOKIE)
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/studio"


def test_a_wrong_password_shows_a_message_and_keeps_the_address(page: Page, studio: Studio) -> None:
    _sign_in(page, studio, studio.emails["editor"], "not the password")
    expect(page.get_by_role("alert")).to_contain_text(REFUSED)
    expect(page.get_by_label("E-mail address")).to_have_value(studio.emails["editor"])
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_label("Password")).to_be_focused()


def test_five_failures_lock_the_account(page: Page, studio: Studio) -> None:
    for _ in range(sign_in.MAX_FAILURES):
        _sign_in(page, studio, studio.emails["editor"], "a wrong guess")
        expect(page.get_by_role("alert")).to_contain_text(REFUSED)
    # Now even the right password is refused, with the same words.
    _sign_in(page, studio, studio.emails["editor"])
    expect(page.get_by_role("alert")).to_contain_text(REFUSED)
    expect(page).to_have_url(studio.url("/studio/sign-in"))
    with studio.app.app_context():
        user = db.session.scalar(select(User).where(User.email == studio.emails["editor"]))
        assert user is not None and user.locked_until is not None


def test_a_login_link_signs_in_once_and_not_twice(
    page: Page, context: BrowserContext, studio: Studio
) -> None:
    link = studio.login_link("reviewer")
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(studio.url("/studio/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, reviewer")
    again = context.browser.new_context()
    try:
        other = again.new_page()
        other.goto(link)
        other.get_by_role("button", name="Sign in").click()
        expect(other.get_by_role("alert")).to_contain_text("expired or has already been used")
        other.goto(studio.url("/studio/"))
        expect(other).to_have_url(re.compile(r"/studio/sign-in"))
    finally:
        again.close()


def test_signing_out_ends_the_session(page: Page, context: BrowserContext, studio: Studio) -> None:
    _sign_in(page, studio, studio.emails["editor"])
    expect(page).to_have_url(studio.url("/studio/"))
    old = next(c for c in context.cookies() if c["name"] == security.SESSION_COOKIE)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    # Back: the start page is asked for again (no-store), and the server says sign in.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/studio/sign-in"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    # The old cookie, put back by hand, opens nothing either.
    context.add_cookies([old])
    page.goto(studio.url("/studio/"))
    expect(page).to_have_url(re.compile(r"/studio/sign-in\?next="))


def test_a_post_without_the_csrf_token_is_refused(page: Page, studio: Studio) -> None:
    _sign_in(page, studio, studio.emails["editor"])
    expect(page).to_have_url(studio.url("/studio/"))
    # The browser's own cookies go with it, but no token: as a forged cross-site form would.
    refused = page.request.post(studio.url("/studio/sign-out"), form={"next": "/studio/"})
    assert refused.status == 403
    assert "did not come from the studio" in refused.text()
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, editor")


@pytest.mark.parametrize(
    ("role", "label", "can", "cannot"),
    [
        (
            "reviewer",
            "Medical reviewer",
            "Approve articles or request changes as a medical reviewer",
            "Publish, unpublish and archive articles",
        ),
        (
            "editor",
            "Editor",
            "Publish, unpublish and archive articles",
            "Approve articles or request changes as a medical reviewer",
        ),
    ],
)
def test_each_role_sees_its_own_start_page(
    page: Page, studio: Studio, role: str, label: str, can: str, cannot: str
) -> None:
    _sign_in(page, studio, studio.emails[role])
    expect(page.locator(".lead")).to_contain_text(label)
    expect(page.get_by_text(can)).to_be_visible()
    expect(page.get_by_text(cannot)).to_have_count(0)


def test_the_sign_in_and_start_pages_pass_axe(page: Page, studio: Studio) -> None:
    page.goto(studio.url("/studio/sign-in"))
    assert _serious_violations(page) == []
    _sign_in(page, studio, studio.emails["editor"], "not the password")
    expect(page.get_by_role("alert")).to_be_visible()
    assert _serious_violations(page) == []  # with its error message
    _sign_in(page, studio, studio.emails["admin"])
    expect(page).to_have_url(studio.url("/studio/"))
    assert _serious_violations(page) == []
