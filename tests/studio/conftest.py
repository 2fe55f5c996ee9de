"""The studio in a real browser: Debian's Chromium, driven by Playwright, over a live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from cms_api.database import db
from cms_api.services.accounts import sign_in, users

# Debian's package, which .ci/run installs; Playwright never downloads a browser here.
CHROMIUM = Path(os.environ.get("CMS_TEST_CHROMIUM", "/usr/bin/chromium"))
PASSWORD = "a long enough passphrase"


@dataclass(frozen=True)
class Studio:
    """A live server's studio: its address, and the people who can sign in to it."""

    base_url: str
    app: Flask
    emails: dict[str, str]  # role -> e-mail address, each with PASSWORD

    def url(self, path: str) -> str:
        return self.base_url + path

    def login_link(self, role: str) -> str:
        with self.app.app_context():
            issued = sign_in.issue_login_link(users.find_user(self.emails[role]))
            db.session.commit()
        return issued.url


@pytest.fixture
def studio(committed_app: Flask, live_server: tuple[int, dict[str, str]]) -> Studio:
    """The live server, with an admin, an editor and a reviewer who have passwords."""
    port, _tokens = live_server
    base_url = f"http://127.0.0.1:{port}"
    emails = {"editor": "editor@example.org", "reviewer": "reviewer@example.org"}
    with committed_app.app_context():
        users.create_user(email="admin@example.org", name="Studio admin", role="admin")
        emails["admin"] = "admin@example.org"
        for email in emails.values():
            sign_in.set_password(users.find_user(email), PASSWORD)
        db.session.commit()
    # Links the app prints name its base URL: this server.
    settings = committed_app.config["CMS_SETTINGS"]
    committed_app.config["CMS_SETTINGS"] = replace(settings, api_base_url=base_url)
    return Studio(base_url=base_url, app=committed_app, emails=emails)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; CI installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser, studio: Studio) -> Iterator[BrowserContext]:
    """A fresh browser profile per test: no cookie carries over. It is closed before the
    live server stops, so no request of the browser's is still running on it then."""
    created = browser.new_context()
    yield created
    created.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
