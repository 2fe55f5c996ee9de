"""A webhook's deliveries as admins see them: listed with their attempts, sent again, pinged."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from cms_api.database import db, db_now
from cms_api.domain.errors import Conflict, NotFound
from cms_api.domain.paging import Keyset, Page, aware_datetime, uuid_value
from cms_api.models import WebhookDelivery, WebhookEndpoint
from cms_api.models.webhook import PING_EVENT
from cms_api.services.accounts.audit import Actor
from cms_api.services.integrations.webhooks.endpoints import audit_change
from cms_api.services.paging import paginate
from cms_api.services.publishing import outbox

# Newest first: (created_at, id).
DELIVERIES_KEYSET = Keyset("webhook-deliveries", (aware_datetime, uuid_value))


def present_delivery(delivery: WebhookDelivery) -> dict[str, Any]:
    pending = delivery.status == "pending"
    return {
        "id": delivery.id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempt_count": delivery.attempt_count,
        "next_attempt_at": delivery.next_attempt_at if pending else None,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
        "payload": json.loads(delivery.body),
        "attempts": [
            {
                "number": attempt.number,
                "attempted_at": attempt.attempted_at,
                "duration_ms": attempt.duration_ms,
                "succeeded": attempt.succeeded,
                "status_code": attempt.status_code,
                "error": attempt.error,
                "response_excerpt": attempt.response_excerpt,
            }
            for attempt in delivery.attempts
        ],
    }


def list_deliveries(
    endpoint: WebhookEndpoint,
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> Page[WebhookDelivery]:
    """Newest first, keyset-paginated on (created_at, id), each with its attempts."""
    conditions = [WebhookDelivery.endpoint_id == endpoint.id]
    if status:
        conditions.append(WebhookDelivery.status == status)
    return paginate(
        select(WebhookDelivery),
        conditions,
        order=(WebhookDelivery.created_at, WebhookDelivery.id),
        descending=True,
        keyset=DELIVERIES_KEYSET,
        cursor=cursor,
        limit=limit,
        options=[selectinload(WebhookDelivery.attempts)],
    )


def _delivery(delivery_id: uuid.UUID) -> WebhookDelivery:
    delivery = db.session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .options(selectinload(WebhookDelivery.attempts))
        .execution_options(populate_existing=True)
    )
    assert delivery is not None
    return delivery


def _require_active(endpoint: WebhookEndpoint) -> None:
    if not endpoint.active:
        raise Conflict("The webhook is inactive; activate it (PATCH active=true) first.")


def redeliver(endpoint: WebhookEndpoint, delivery_id: uuid.UUID, actor: Actor) -> WebhookDelivery:
    """Queue a delivery again, now, with a fresh retry budget and the same idempotency key."""
    _require_active(endpoint)
    delivery = db.session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id)
        .with_for_update()
    )
    if delivery is None:
        raise NotFound("This webhook has no delivery with this id.")
    in_flight = db.session.scalar(
        select(
            (WebhookDelivery.claimed_by.is_not(None)) & (WebhookDelivery.next_attempt_at > db_now())
        ).where(WebhookDelivery.id == delivery.id)
    )
    if delivery.status == "pending" and in_flight:
        raise Conflict("A worker is sending this delivery right now; look again in a moment.")
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id)
        .values(
            status="pending",
            attempt_count=0,
            next_attempt_at=db_now(),
            claimed_by=None,
            finished_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    audit_change("redeliver", endpoint.id, actor, after={"delivery_id": str(delivery.id)})
    return _delivery(delivery.id)


def ping(endpoint: WebhookEndpoint, actor: Actor) -> WebhookDelivery:
    """Queue a `webhook.ping` event to this endpoint alone, to try a receiver."""
    _require_active(endpoint)
    (delivery_id,) = outbox.enqueue(
        [endpoint.id],
        PING_EVENT,
        {"webhook_id": str(endpoint.id), "message": "A test event sent on request."},
        (),
    )
    audit_change("ping", endpoint.id, actor, after={"delivery_id": str(delivery_id)})
    return _delivery(delivery_id)
