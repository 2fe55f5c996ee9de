"""Webhook delivery end to end: a real receiver verifies signatures and sees each event once."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask
from sqlalchemy import func, select

from cms_api.database import db
from cms_api.models import Article, WebhookDelivery, WebhookEndpoint
from cms_api.services.accounts.audit import Actor
from cms_api.services.integrations.webhooks import endpoints, signing
from cms_api.services.integrations.webhooks import worker as webhook_worker
from cms_api.services.publishing import outbox
from cms_api.services.publishing.articles import publish_article, unpublish_article
from tests.conftest import ROOT, TEST_SECRET_KEY, bearer

ARTICLE = "headache-after-botox"
FAST = webhook_worker.RetryPolicy(base_seconds=0.01, cap_seconds=0.05, max_attempts=5)
SIGNATURE_TOLERANCE = 300


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """A receiver's check, written from the API description (admin_webhooks tag)."""
    pairs = [item.split("=", 1) for item in headers.get("Webhook-Signature", "").split(",")]
    values = [(pair[0].strip(), pair[1].strip()) for pair in pairs if len(pair) == 2]
    stamps = [value for key, value in values if key == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    if abs(time.time() - int(stamps[0])) > SIGNATURE_TOLERANCE:
        return False
    expected = hmac.new(
        secret.encode("utf-8"), stamps[0].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return any(hmac.compare_digest(expected, value) for key, value in values if key == "v1")


class Receiver:
    """A webhook endpoint on 127.0.0.1 that fails the first attempts of every event.

    It acts on an event the first time it accepts its `Webhook-Id` and answers 2xx to
    repeats without acting again, as the documentation asks of receivers.
    """

    def __init__(self, *, fail_first: int = 0, status: int = 200, delay: float = 0.0) -> None:
        self.secret = ""
        self.fail_first = fail_first
        self.status = status
        self.delay = delay
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.seen: Counter[str] = Counter()
        self.processed: Counter[str] = Counter()
        self.in_flight: set[str] = set()
        self.overlaps: list[str] = []
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.handle(self, body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/cms?source=test"

    def handle(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = dict(request.headers.items())
        key = headers.get("Webhook-Id", "")
        with self.lock:
            self.requests.append({"path": request.path, "headers": headers, "body": body})
            if not verify(self.secret, headers, body):
                self.bad_signatures += 1
                status = 401
            else:
                if key in self.in_flight:
                    self.overlaps.append(key)
                self.in_flight.add(key)
                self.seen[key] += 1
                status = 500 if self.seen[key] <= self.fail_first else self.status
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.in_flight.discard(key)
            if 200 <= status < 300 and not self.processed[key]:
                self.processed[key] += 1
        request.send_response(status)
        if 300 <= status < 400:
            request.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/else")
        reply = b"nope" if status >= 300 else b"ok"
        request.send_header("Content-Length", str(len(reply)))
        request.end_headers()
        request.wfile.write(reply)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def private_targets(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Allow 127.0.0.1 receivers, as CMS_WEBHOOKS_ALLOW_PRIVATE=true does."""
    settings = dataclasses.replace(app.config["CMS_SETTINGS"], webhooks_allow_private=True)
    monkeypatch.setitem(app.config, "CMS_SETTINGS", settings)


def _register(client, admin: str, url: str, events: list[str]) -> tuple[str, str]:
    response = client.post(
        "/v1/admin/webhooks", json={"url": url, "events": events}, headers=bearer(admin)
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"], response.get_json()["secret"]


def _deliver_until_settled(
    app: Flask, policy: webhook_worker.RetryPolicy, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            webhook_worker.deliver_due(policy)
            pending = db.session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.status == "pending")
            )
            db.session.commit()
            if not pending:
                return
            time.sleep(0.02)
    raise AssertionError("deliveries still pending")


def _republish(app: Flask, slug: str) -> None:
    """Unpublish and publish an article again, committed: two article events."""
    with app.app_context():
        article_id = db.session.scalar(select(Article.id).where(Article.slug == slug))
        unpublish_article(article_id, status="approved")
        db.session.commit()
        publish_article(article_id)
        db.session.commit()


def test_each_event_reaches_the_receiver_once_per_key_despite_failed_attempts(
    app, client, make_token, private_targets
):
    admin = make_token("admin")
    with Receiver(fail_first=2) as receiver:
        webhook_id, receiver.secret = _register(
            client, admin, receiver.url, ["article.published", "article.unpublished"]
        )
        _republish(app, ARTICLE)

        _deliver_until_settled(app, FAST)

    assert receiver.bad_signatures == 0
    keys = {request["headers"]["Webhook-Id"] for request in receiver.requests}
    assert len(keys) == 2
    # Three attempts per event (two answered 500, then 200), each acted on exactly once.
    assert receiver.seen == dict.fromkeys(keys, 3)
    assert receiver.processed == dict.fromkeys(keys, 1)
    by_key: dict[str, list[dict]] = {}
    for request in receiver.requests:
        by_key.setdefault(request["headers"]["Webhook-Id"], []).append(request)
    for key, requests in by_key.items():
        assert len({request["body"] for request in requests}) == 1  # the same bytes each time
        assert [r["headers"]["Webhook-Attempt"] for r in requests] == ["1", "2", "3"]
        payload = json.loads(requests[0]["body"])
        assert payload["id"] == key
        assert requests[0]["headers"]["Webhook-Event"] == payload["type"]
        assert requests[0]["headers"]["Content-Type"] == "application/json"
        assert requests[0]["path"] == "/hooks/cms?source=test"
    types = sorted(json.loads(rs[0]["body"])["type"] for rs in by_key.values())
    assert types == ["article.published", "article.unpublished"]

    listing = client.get(f"/v1/admin/webhooks/{webhook_id}/deliveries", headers=bearer(admin))
    assert listing.status_code == 200
    for delivery in listing.get_json()["items"]:
        assert delivery["status"] == "delivered"
        assert [attempt["status_code"] for attempt in delivery["attempts"]] == [500, 500, 200]
        assert [attempt["succeeded"] for attempt in delivery["attempts"]] == [False, False, True]
        assert delivery["attempts"][0]["response_excerpt"] == "nope"


def test_a_tampered_body_or_another_secret_fails_verification():
    body = b'{"id":"x"}'
    stamp = int(time.time())
    header = signing.signature("whsec_right-secret-of-enough-length", stamp, body)
    good = {"Webhook-Signature": header}

    assert verify("whsec_right-secret-of-enough-length", good, body)
    assert not verify("whsec_right-secret-of-enough-length", good, body + b" ")
    assert not verify("whsec_wrong-secret-of-enough-length", good, body)
    old = signing.signature("whsec_right-secret-of-enough-length", stamp - 3600, body)
    assert not verify("whsec_right-secret-of-enough-length", {"Webhook-Signature": old}, body)


def test_a_receiver_that_keeps_failing_gets_max_attempts_then_a_redelivery(
    app, client, make_token, private_targets
):
    admin = make_token("admin")
    with Receiver(fail_first=FAST.max_attempts) as receiver:
        webhook_id, receiver.secret = _register(client, admin, receiver.url, ["article.published"])
        _republish(app, ARTICLE)
        _deliver_until_settled(app, FAST)

        listing = client.get(f"/v1/admin/webhooks/{webhook_id}/deliveries", headers=bearer(admin))
        (delivery,) = listing.get_json()["items"]
        assert delivery["status"] == "failed"
        assert delivery["attempt_count"] == FAST.max_attempts
        assert delivery["last_status_code"] == 500
        assert len(delivery["attempts"]) == FAST.max_attempts
        assert not receiver.processed

        response = client.post(
            f"/v1/admin/webhooks/{webhook_id}/deliveries/{delivery['id']}/redeliver",
            headers=bearer(admin),
        )
        assert response.status_code == 202
        assert response.get_json()["status"] == "pending"
        _deliver_until_settled(app, FAST)

    assert receiver.processed == {delivery["event_id"]: 1}
    listing = client.get(f"/v1/admin/webhooks/{webhook_id}/deliveries", headers=bearer(admin))
    (delivery,) = listing.get_json()["items"]
    assert delivery["status"] == "delivered"
    assert len(delivery["attempts"]) == FAST.max_attempts + 1


def test_redirects_are_not_followed(app, client, make_token, private_targets):
    admin = make_token("admin")
    with Receiver(status=302) as receiver:
        webhook_id, receiver.secret = _register(client, admin, receiver.url, ["article.published"])
        _republish(app, ARTICLE)
        with app.app_context():
            webhook_worker.deliver_due(webhook_worker.DEFAULT_RETRY)

    assert [request["path"] for request in receiver.requests] == ["/hooks/cms?source=test"]
    listing = client.get(f"/v1/admin/webhooks/{webhook_id}/deliveries", headers=bearer(admin))
    (attempt,) = listing.get_json()["items"][0]["attempts"]
    assert attempt["status_code"] == 302
    assert not attempt["succeeded"]
    assert "redirects are not followed" in attempt["error"]


def test_a_name_rebound_to_a_private_address_is_refused_at_delivery(
    app, client, make_token, monkeypatch
):
    admin = make_token("admin")
    answers = {"hooks.example.org": "93.184.215.14"}

    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    webhook_id, _ = _register(client, admin, "https://hooks.example.org/cms", ["article.published"])
    _republish(app, ARTICLE)
    answers["hooks.example.org"] = "127.0.0.1"  # DNS rebinding, after registration
    with app.app_context():
        assert webhook_worker.deliver_due(webhook_worker.DEFAULT_RETRY) == 1

    listing = client.get(f"/v1/admin/webhooks/{webhook_id}/deliveries", headers=bearer(admin))
    (delivery,) = listing.get_json()["items"]
    assert delivery["status"] == "pending"  # retried later, in case DNS is fixed
    (attempt,) = delivery["attempts"]
    assert attempt["status_code"] is None
    assert not attempt["succeeded"]
    assert "resolves to 127.0.0.1, which is a loopback address" in attempt["error"]


def test_the_deliver_command_sends_what_is_due_and_exits_with_once(
    app, client, runner, make_token, private_targets
):
    admin = make_token("admin")
    with Receiver() as receiver:
        _, receiver.secret = _register(client, admin, receiver.url, ["article.published"])
        _republish(app, ARTICLE)

        result = runner.invoke(args=["webhooks", "deliver", "--once"])

    assert result.exit_code == 0, result.output
    assert "Made 1 delivery attempt." in result.output
    assert len(receiver.processed) == 1


# -- concurrency, over committed data in a database of its own ------------------------------

EVENTS = 40


def test_two_workers_at_once_never_send_one_delivery_twice(committed_app):
    app = committed_app
    with Receiver(fail_first=1, delay=0.01) as receiver:
        with app.app_context():
            endpoint, receiver.secret = endpoints.create_endpoint(
                {"url": receiver.url, "events": ["review.due"]}, Actor(user_id=None)
            )
            for number in range(EVENTS):
                outbox.emit("review.due", {"n": number})
            db.session.commit()
            assert receiver.secret
        barrier = threading.Barrier(2)
        attempts: dict[str, int] = {}
        errors: list[BaseException] = []

        def work(name: str) -> None:
            try:
                with app.app_context():
                    barrier.wait()
                    made = 0
                    deadline = time.monotonic() + 60
                    while time.monotonic() < deadline:
                        made += webhook_worker.deliver_due(FAST)
                        pending = db.session.scalar(
                            select(func.count())
                            .select_from(WebhookDelivery)
                            .where(
                                WebhookDelivery.status == "pending",
                                WebhookDelivery.endpoint_id == endpoint.id,
                            )
                        )
                        db.session.commit()
                        if not pending:
                            break
                        time.sleep(0.01)
                    attempts[name] = made
            except BaseException as error:  # reported below, not lost in the thread
                errors.append(error)

        workers = [threading.Thread(target=work, args=(name,)) for name in ("a", "b")]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=90)

    assert errors == []
    assert receiver.bad_signatures == 0
    # Every event: one failed attempt, one accepted; never two requests for one at once.
    assert len(receiver.seen) == EVENTS
    assert set(receiver.seen.values()) == {2}
    assert set(receiver.processed.values()) == {1}
    assert receiver.overlaps == []
    assert sum(attempts.values()) == 2 * EVENTS
    assert all(attempts.values()), attempts  # both workers took part
    with app.app_context():
        statuses = db.session.scalars(
            select(WebhookDelivery.status).where(WebhookDelivery.endpoint_id == endpoint.id)
        ).all()
        assert statuses == ["delivered"] * EVENTS
        db.session.execute(
            WebhookEndpoint.__table__.delete().where(WebhookEndpoint.id == endpoint.id)
        )
        db.session.commit()


def test_a_rolled_back_change_queues_nothing_and_a_committed_one_does(committed_app):
    app = committed_app
    with app.app_context():
        endpoint, _ = endpoints.create_endpoint(
            {"url": "http://127.0.0.1:9/hook", "events": ["review.due"]}, Actor(user_id=None)
        )
        db.session.commit()
        endpoint_id = endpoint.id
        rolled_back, committed = uuid.uuid4(), uuid.uuid4()
        outbox.emit("review.due", {"n": 1}, event_id=rolled_back)
        db.session.rollback()
        outbox.emit("review.due", {"n": 2}, event_id=committed)
        db.session.commit()
    with app.app_context():
        stored = db.session.scalars(
            select(WebhookDelivery.event_id).where(WebhookDelivery.endpoint_id == endpoint_id)
        ).all()
        db.session.execute(
            WebhookEndpoint.__table__.delete().where(WebhookEndpoint.id == endpoint_id)
        )
        db.session.commit()
    assert stored == [committed]


@pytest.mark.multiprocess
def test_the_worker_runs_until_sigterm_then_finishes_cleanly(committed_app):
    app = committed_app
    with Receiver() as receiver:
        with app.app_context():
            endpoint, receiver.secret = endpoints.create_endpoint(
                {"url": receiver.url, "events": ["review.due"]}, Actor(user_id=None)
            )
            endpoint_id = endpoint.id
            outbox.emit("review.due", {"n": 1})
            db.session.commit()
        environment = {
            **os.environ,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "CMS_WEBHOOKS_ALLOW_PRIVATE": "true",
            # The key the test app sealed the endpoint's secret with.
            "CMS_SECRET_KEYS": TEST_SECRET_KEY,
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "webhooks", "deliver"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not receiver.processed and time.monotonic() < deadline:
                time.sleep(0.05)
            assert receiver.processed, "the worker delivered nothing"
            worker.send_signal(signal.SIGTERM)
            output, errors = worker.communicate(timeout=30)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
                worker.communicate()

    assert worker.returncode == 0, errors
    assert "Made 1 delivery attempt." in output
    with app.app_context():
        db.session.execute(
            WebhookEndpoint.__table__.delete().where(WebhookEndpoint.id == endpoint_id)
        )
        db.session.commit()
