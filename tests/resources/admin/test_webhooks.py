"""Admin webhooks over HTTP: registering, editing, deleting, deliveries, redelivery, ping."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import AuditEvent, WebhookDelivery
from cms_api.services.integrations.webhooks import worker
from cms_api.services.publishing import outbox
from tests.conftest import bearer

PROBLEM = "application/problem+json"
PUBLIC_URL = "https://93.184.215.14/hooks/cms"
EVENTS = ["article.published", "article.deleted"]


@pytest.fixture
def admin(make_token) -> str:
    return make_token("admin")


def _create(client, admin: str, **body) -> dict:
    response = client.post(
        "/v1/admin/webhooks",
        json={"url": PUBLIC_URL, "events": EVENTS, **body},
        headers=bearer(admin),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_registering_shows_a_generated_secret_once_and_never_again(client, admin):
    response = client.post(
        "/v1/admin/webhooks",
        json={"url": PUBLIC_URL, "events": EVENTS, "description": "CDN purge"},
        headers=bearer(admin),
    )

    assert response.status_code == 201
    created = response.get_json()
    assert created["secret"].startswith("whsec_")
    assert len(created["secret"]) > 40
    assert created["events"] == EVENTS
    assert created["active"] is True
    assert response.headers["Location"] == f"/v1/admin/webhooks/{created['id']}"
    assert response.headers["ETag"]
    shown = client.get(response.headers["Location"], headers=bearer(admin))
    assert shown.status_code == 200
    assert "secret" not in shown.get_json()
    assert shown.headers["ETag"] == response.headers["ETag"]
    listed = client.get("/v1/admin/webhooks", headers=bearer(admin)).get_json()
    assert created["id"] in {item["id"] for item in listed["items"]}
    assert all("secret" not in item for item in listed["items"])
    assert created["secret"] not in shown.get_data(as_text=True)


def test_a_secret_supplied_by_the_admin_is_not_echoed(client, admin):
    created = _create(client, admin, secret="my-own-secret-of-sufficient-length")

    assert created["secret"] is None


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/hook",
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fe80::1]/hook",
        "https://0.0.0.0/hook",
        "https://localhost/hook",
        "http://93.184.215.14/hook",
    ],
)
def test_private_and_loopback_urls_are_refused_with_422(client, admin, url):
    response = client.post(
        "/v1/admin/webhooks", json={"url": url, "events": EVENTS}, headers=bearer(admin)
    )

    assert response.status_code == 422
    assert response.content_type == PROBLEM
    assert response.get_json()["errors"]["json"]["url"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": PUBLIC_URL, "events": []}, "events"),
        ({"url": PUBLIC_URL, "events": ["article.exploded"]}, "events"),
        ({"url": PUBLIC_URL}, "events"),
        ({"events": EVENTS}, "url"),
        ({"url": PUBLIC_URL, "events": EVENTS, "secret": "short"}, "secret"),
        (
            {"url": PUBLIC_URL, "events": EVENTS, "secret": "has spaces in it, many of them"},
            "secret",
        ),
        ({"url": PUBLIC_URL, "events": EVENTS, "colour": "blue"}, "colour"),
        ({"url": PUBLIC_URL, "events": EVENTS, "secret": "a-long-enough-secret-123\n"}, "secret"),
    ],
)
def test_invalid_bodies_are_422_problems_naming_the_field(client, admin, body, field):
    response = client.post("/v1/admin/webhooks", json=body, headers=bearer(admin))

    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]


def test_editing_needs_if_match_and_rechecks_the_url(client, admin):
    created = _create(client, admin)
    path = f"/v1/admin/webhooks/{created['id']}"
    etag = client.get(path, headers=bearer(admin)).headers["ETag"]

    missing = client.patch(path, json={"active": False}, headers=bearer(admin))
    assert missing.status_code == 428
    refused = client.patch(
        path, json={"url": "https://192.168.0.10/"}, headers=bearer(admin, **{"If-Match": etag})
    )
    assert refused.status_code == 422
    assert "url" in refused.get_json()["errors"]["json"]
    edited = client.patch(
        path,
        json={"events": ["review.due"], "active": False, "secret": "rotated-secret-0123456789abc"},
        headers=bearer(admin, **{"If-Match": etag}),
    )
    assert edited.status_code == 200
    assert edited.get_json()["events"] == ["review.due"]
    assert edited.get_json()["active"] is False
    assert "secret" not in edited.get_json()
    assert edited.headers["ETag"] != etag
    stale = client.patch(path, json={"active": True}, headers=bearer(admin, **{"If-Match": etag}))
    assert stale.status_code == 412


def test_deleting_hides_the_webhook_and_the_audit_log_keeps_no_secret(app, client, admin):
    created = _create(client, admin)
    path = f"/v1/admin/webhooks/{created['id']}"
    etag = client.get(path, headers=bearer(admin)).headers["ETag"]

    assert client.delete(path, headers=bearer(admin)).status_code == 428
    assert client.delete(path, headers=bearer(admin, **{"If-Match": etag})).status_code == 204
    assert client.get(path, headers=bearer(admin)).status_code == 404
    listed = client.get("/v1/admin/webhooks", headers=bearer(admin)).get_json()
    assert created["id"] not in {item["id"] for item in listed["items"]}
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.target_id == created["id"]).order_by(AuditEvent.id)
        ).all()
    assert [event.action for event in events] == ["webhook.create", "webhook.delete"]
    assert all(created["secret"] not in str(event.after) for event in events)


def _queue(app, webhook_id: str, count: int) -> list[str]:
    """Queue `count` review.due events for the webhook; its delivery ids, oldest first."""
    with app.app_context():
        for number in range(count):
            assert outbox.emit("review.due", {"n": number}) == 1
        db.session.commit()
        rows = db.session.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.endpoint_id == uuid.UUID(webhook_id))
            .order_by(WebhookDelivery.created_at)
        ).all()
    return [str(row) for row in rows]


def test_deliveries_are_listed_newest_first_in_keyset_pages(app, client, admin):
    created = _create(client, admin, events=["review.due"])
    _queue(app, created["id"], 3)
    path = f"/v1/admin/webhooks/{created['id']}/deliveries"

    first = client.get(f"{path}?limit=2", headers=bearer(admin))
    assert first.status_code == 200
    body = first.get_json()
    assert body["page"]["total"] == 3
    assert len(body["items"]) == 2
    assert 'rel="next"' in first.headers["Link"]
    second = client.get(
        f"{path}?limit=2&cursor={body['page']['next_cursor']}", headers=bearer(admin)
    ).get_json()
    items = body["items"] + second["items"]
    assert second["page"]["next_cursor"] is None
    assert [item["payload"]["data"]["n"] for item in items] == [2, 1, 0]
    assert all(item["status"] == "pending" and item["attempts"] == [] for item in items)
    assert items[0]["payload"]["id"] == items[0]["event_id"]
    assert items[0]["payload"]["type"] == "review.due"

    assert client.get(f"{path}?status=delivered", headers=bearer(admin)).get_json()["items"] == []
    assert client.get(f"{path}?cursor=nonsense", headers=bearer(admin)).status_code == 400
    assert client.get(f"{path}?status=lost", headers=bearer(admin)).status_code == 400
    unknown = client.get(f"/v1/admin/webhooks/{uuid.uuid4()}/deliveries", headers=bearer(admin))
    assert unknown.status_code == 404


def test_redelivery_requeues_with_the_same_idempotency_key(app, client, admin):
    created = _create(client, admin, events=["review.due"])
    (delivery_id,) = _queue(app, created["id"], 1)
    with app.app_context():
        delivery = db.session.get(WebhookDelivery, uuid.UUID(delivery_id))
        delivery.status, delivery.attempt_count, delivery.last_status_code = "failed", 12, 500
        db.session.commit()
        event_id = str(delivery.event_id)
    path = f"/v1/admin/webhooks/{created['id']}/deliveries/{delivery_id}/redeliver"

    response = client.post(path, headers=bearer(admin))

    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "pending"
    assert body["attempt_count"] == 0
    assert body["event_id"] == event_id
    assert body["next_attempt_at"] is not None
    other = _create(client, admin)
    wrong = f"/v1/admin/webhooks/{other['id']}/deliveries/{delivery_id}/redeliver"
    assert client.post(wrong, headers=bearer(admin)).status_code == 404


def test_a_delivery_being_sent_cannot_be_redelivered(app, client, admin):
    created = _create(client, admin, events=["review.due"])
    (delivery_id,) = _queue(app, created["id"], 1)
    with app.app_context():
        assert worker.claim_next() is not None  # a worker holds it now

    response = client.post(
        f"/v1/admin/webhooks/{created['id']}/deliveries/{delivery_id}/redeliver",
        headers=bearer(admin),
    )

    assert response.status_code == 409
    assert response.content_type == PROBLEM


def test_ping_queues_a_test_event_for_an_active_webhook_only(client, admin):
    created = _create(client, admin)
    path = f"/v1/admin/webhooks/{created['id']}"

    response = client.post(f"{path}/ping", headers=bearer(admin))

    assert response.status_code == 202
    assert response.get_json()["event_type"] == "webhook.ping"
    assert response.get_json()["payload"]["data"]["webhook_id"] == created["id"]
    etag = client.get(path, headers=bearer(admin)).headers["ETag"]
    client.patch(path, json={"active": False}, headers=bearer(admin, **{"If-Match": etag}))
    assert client.post(f"{path}/ping", headers=bearer(admin)).status_code == 409
    assert (
        client.post(f"/v1/admin/webhooks/{uuid.uuid4()}/ping", headers=bearer(admin)).status_code
        == 404
    )


def test_only_admins_manage_webhooks(client, make_token):
    editor = make_token("editor")

    response = client.get("/v1/admin/webhooks", headers=bearer(editor))

    assert response.status_code == 403
    assert response.get_json()["type"] == "/problems/forbidden"
