"""Admin journeys in Chromium: users, tokens, disabling, webhooks, import and export, access."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, User, WebhookDelivery
from cms_api.services.accounts import users
from cms_api.services.publishing.articles import publish_article, unpublish_article
from tests.studio.conftest import PASSWORD, Studio

pytestmark = pytest.mark.browser


def _sign_in(page: Page, studio: Studio, role: str = "admin") -> None:
    page.goto(studio.url("/studio/sign-in"))
    page.get_by_label("E-mail address").fill(studio.emails[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(studio.url("/studio/"))


def _serious_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']}"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def _api_get(url: str, token: str) -> tuple[int, object]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, None


def _admin_token(studio: Studio) -> str:
    with studio.app.app_context():
        secret = users.issue_token(users.find_user(studio.emails["admin"]), name="t").secret
        db.session.commit()
    return secret


def test_creating_a_user_shows_them_in_the_api(page: Page, studio: Studio) -> None:
    _sign_in(page, studio)
    page.get_by_role("link", name="Users").first.click()
    page.get_by_label("E-mail address").fill("writer@example.org")
    page.get_by_label("Name").fill("New writer")
    page.get_by_label("Role").select_option("editor")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New writer")
    expect(page.get_by_text("writer@example.org was added as editor.")).to_be_visible()
    status, body = _api_get(studio.url("/v1/admin/users"), _admin_token(studio))
    assert status == 200
    assert any(u["email"] == "writer@example.org" and u["role"] == "editor" for u in body["items"])


def test_an_issued_token_works_until_revoked(page: Page, studio: Studio) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    _sign_in(page, studio)
    with studio.app.app_context():
        editor_id = users.find_user(studio.emails["editor"]).id
    page.goto(studio.url(f"/studio/admin/users/{editor_id}"))
    page.get_by_label("Token name").fill("Deploy")
    page.get_by_role("button", name="Issue token").click()
    secret = page.get_by_role("textbox", name="New API token").input_value()
    assert secret.startswith("cms_")
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    articles = studio.url("/v1/admin/articles")
    assert _api_get(articles, secret)[0] == 200
    page.get_by_role("button", name="Revoke the token Deploy").click()
    expect(page.get_by_text("is revoked.")).to_be_visible()
    assert _api_get(articles, secret)[0] == 401


def test_disabling_a_user_ends_their_studio_session(
    browser: Browser, page: Page, studio: Studio
) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    editor_context = browser.new_context()
    try:
        editor = editor_context.new_page()
        _sign_in(editor, studio, "editor")
        _sign_in(page, studio)
        with studio.app.app_context():
            editor_id = users.find_user(studio.emails["editor"]).id
        page.goto(studio.url(f"/studio/admin/users/{editor_id}"))
        page.get_by_role("button", name="Disable").click()
        expect(page.get_by_text("is disabled: their tokens are revoked")).to_be_visible()
        editor.goto(studio.url("/studio/"))
        expect(editor).to_have_url(studio.url("/studio/sign-in?next=%2Fstudio%2F"))
        with studio.app.app_context():
            assert db.session.get(User, editor_id).disabled_at is not None
    finally:
        editor_context.close()


class _Receiver:
    """A webhook receiver on loopback that acknowledges everything."""

    def __init__(self) -> None:
        received: list[bytes] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()


def test_a_webhook_lists_the_delivery_of_a_publish(page: Page, studio: Studio) -> None:
    receiver = _Receiver()
    try:
        _sign_in(page, studio)
        page.goto(studio.url("/studio/admin/webhooks"))
        page.get_by_label("Address (URL)").fill(receiver.url)
        page.get_by_label("article.published").check()
        page.get_by_role("button", name="Register webhook").click()
        assert page.get_by_role("textbox", name="Signing secret").input_value().startswith("whsec_")
        with studio.app.app_context():
            article = db.session.scalar(
                select(Article).where(Article.status == "published").limit(1)
            )
            unpublish_article(article.id, status="approved")
            publish_article(article.id)
            db.session.commit()
        page.goto(studio.url("/studio/admin/webhooks"))
        page.get_by_role("link", name=receiver.url).click()
        row = page.get_by_role("row").filter(has_text="article.published")
        expect(row).to_contain_text("pending")
        expect(row.get_by_role("button", name="Redeliver")).to_be_visible()
        with studio.app.app_context():
            assert db.session.scalar(
                select(WebhookDelivery).where(WebhookDelivery.event_type == "article.published")
            )
    finally:
        receiver.close()


def test_export_then_import_round_trip(page: Page, studio: Studio, tmp_path: Path) -> None:
    _sign_in(page, studio)
    page.goto(studio.url("/studio/admin/transfer"))
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the export").click()
    exported = tmp_path / "export.ndjson"
    info.value.save_as(exported)
    assert exported.read_text().startswith('{"type":"header"')
    # One change, so the import has something to restore.
    with studio.app.app_context():
        article = db.session.scalar(select(Article).where(Article.deleted_at.is_(None)).limit(1))
        article_id, title = article.id, article.title
        article.title = "Changed since the export"
        db.session.commit()
    page.get_by_label("Export file (.ndjson)").set_input_files(str(exported))
    page.get_by_role("button", name="Check the file").click()
    expect(
        page.get_by_role("heading", name="What importing this file would change")
    ).to_be_visible()
    with studio.app.app_context():
        assert db.session.get(Article, article_id).title == "Changed since the export"
    page.get_by_role("button", name="Import this file").click()
    expect(page.get_by_text("The file is imported.")).to_be_visible()
    with studio.app.app_context():
        assert db.session.get(Article, article_id).title == title


def test_an_editor_gets_403_on_admin_screens(page: Page, studio: Studio) -> None:
    _sign_in(page, studio, "editor")
    expect(page.get_by_role("link", name="Users")).to_have_count(0)
    for path in ("/studio/admin/users", "/studio/admin/webhooks", "/studio/admin/transfer"):
        answer = page.goto(studio.url(path))
        assert answer is not None and answer.status == 403
        expect(page.get_by_role("heading", level=1)).to_have_text("Forbidden")


def test_the_users_and_webhooks_pages_pass_axe(page: Page, studio: Studio) -> None:
    _sign_in(page, studio)
    with studio.app.app_context():
        editor_id = users.find_user(studio.emails["editor"]).id
    for path in (
        "/studio/admin/users",
        f"/studio/admin/users/{editor_id}",
        "/studio/admin/webhooks",
        "/studio/admin/transfer",
    ):
        page.goto(studio.url(path))
        assert _serious_violations(page) == [], path
