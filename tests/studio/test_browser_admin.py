"""Admin journeys in Chromium: users, tokens, disabling, webhooks, import and export, access."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, User, WebhookDelivery
from cms_api.services.accounts import users
from cms_api.services.integrations.webhooks import worker
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
    """A webhook receiver on loopback: it keeps each request's headers and body, and
    answers every one with `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.received.append((headers, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

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


def _signed_with(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """A receiver's check of `Webhook-Signature`, written from the documented scheme (not
    with the app's own signing code): HMAC-SHA256 of "{t}.{body}", and a recent t."""
    fields = dict(part.split("=", 1) for part in headers["webhook-signature"].split(","))
    stamp = fields.get("t", "")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
        return False
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(fields.get("v1", ""), expected.hexdigest())


def _register_webhook(page: Page, studio: Studio, url: str) -> str:
    """Register a webhook for article.published in the studio; its signing secret."""
    page.goto(studio.url("/studio/admin/webhooks"))
    page.get_by_label("Address (URL)").fill(url)
    page.get_by_label("article.published").check()
    page.get_by_role("button", name="Register webhook").click()
    secret = page.get_by_role("textbox", name="Signing secret").input_value()
    assert secret.startswith("whsec_")
    return secret


def _deliver_due(studio: Studio, policy: worker.RetryPolicy = worker.DEFAULT_RETRY) -> int:
    """One run of the delivery worker, in this process, over the live server's database."""
    with studio.app.app_context():
        return worker.deliver_due(policy)


def _cells(row: Locator) -> dict[str, Locator]:
    """A delivery row's cells by their column (the last one holds the Redeliver button)."""
    cells = row.get_by_role("cell")
    return {"status": cells.nth(2), "attempts": cells.nth(3), "answer": cells.nth(4)}


def _delivery(studio: Studio, event_type: str) -> WebhookDelivery:
    with studio.app.app_context():
        found = db.session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.event_type == event_type)
        )
        assert found is not None
        return found


def test_a_publish_is_delivered_signed_and_listed_as_delivered(page: Page, studio: Studio) -> None:
    receiver = _Receiver(status=200)
    try:
        _sign_in(page, studio)
        secret = _register_webhook(page, studio, receiver.url)
        with studio.app.app_context():
            article = db.session.scalar(
                select(Article).where(Article.status == "published").limit(1)
            )
            article_id = article.id
            unpublish_article(article_id, status="approved")
            publish_article(article_id)
            db.session.commit()
        page.goto(studio.url("/studio/admin/webhooks"))
        page.get_by_role("link", name=receiver.url).click()
        row = page.get_by_role("row").filter(has_text="article.published")
        expect(_cells(row)["status"]).to_have_text("pending")
        expect(row.get_by_role("button", name="Redeliver")).to_be_visible()
        assert receiver.received == []  # queued with the publish, sent by the worker only

        assert _deliver_due(studio) == 1

        page.reload()
        expect(_cells(row)["status"]).to_have_text("delivered")
        expect(_cells(row)["attempts"]).to_have_text("1")
        expect(_cells(row)["answer"]).to_have_text("200")
        ((headers, body),) = receiver.received
        assert _signed_with(secret, headers, body)
        assert not _signed_with(secret, headers, body + b" ")  # the check can refuse
        event = json.loads(body)
        delivery = _delivery(studio, "article.published")
        assert event["type"] == headers["webhook-event"] == "article.published"
        assert event["id"] == headers["webhook-id"] == str(delivery.event_id)
        assert event["data"]["id"] == str(article_id)
        assert delivery.status == "delivered"
        assert delivery.last_status_code == 200
    finally:
        receiver.close()


def test_a_failed_delivery_is_shown_and_redelivered_from_the_studio(
    page: Page, studio: Studio
) -> None:
    receiver = _Receiver(status=500)
    try:
        _sign_in(page, studio)
        secret = _register_webhook(page, studio, receiver.url)
        page.get_by_role("button", name="Send a test event").click()
        expect(page.get_by_text("A test event is queued.")).to_be_visible()

        # One attempt allowed, so the receiver's 500 fails the delivery at once.
        assert _deliver_due(studio, worker.RetryPolicy(max_attempts=1)) == 1

        page.reload()
        row = page.get_by_role("row").filter(has_text="webhook.ping")
        expect(_cells(row)["status"]).to_have_text("failed")
        expect(_cells(row)["attempts"]).to_have_text("1")
        expect(_cells(row)["answer"]).to_contain_text("500")
        row.get_by_role("button", name="Redeliver").click()
        expect(page.get_by_text("The delivery is queued again.")).to_be_visible()
        expect(_cells(row)["status"]).to_have_text("pending")
        expect(_cells(row)["attempts"]).to_have_text("0")
        queued = _delivery(studio, "webhook.ping")
        assert (queued.status, queued.attempt_count, queued.finished_at) == ("pending", 0, None)

        # The receiver is back: the worker's next run delivers the same event.
        receiver.status = 200
        assert _deliver_due(studio) == 1
        page.reload()
        expect(_cells(row)["status"]).to_have_text("delivered")
        expect(_cells(row)["answer"]).to_have_text("200")
        assert len(receiver.received) == 2
        for headers, body in receiver.received:
            assert _signed_with(secret, headers, body)
            assert headers["webhook-id"] == str(queued.event_id)  # one idempotency key
        assert _delivery(studio, "webhook.ping").status == "delivered"
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
