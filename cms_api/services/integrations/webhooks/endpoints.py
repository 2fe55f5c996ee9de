"""Webhook endpoints: register, edit and remove them, audited, and present them to admins."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update

from cms_api.database import db, db_now
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import DomainError, NotFound, ValidationFailed
from cms_api.domain.paging import Keyset, Page, aware_datetime, uuid_value
from cms_api.models import WebhookDelivery, WebhookEndpoint
from cms_api.models.webhook import WEBHOOK_EVENTS
from cms_api.services.accounts import audit
from cms_api.services.accounts.audit import Actor
from cms_api.services.integrations.webhooks.addresses import UrlRefused, allow_private, check_url
from cms_api.services.integrations.webhooks.signing import new_secret, reseal, seal, unseal
from cms_api.services.paging import paginate

EVENTS = WEBHOOK_EVENTS
# Endpoints re-encrypted per transaction by `rotate_secrets`.
ROTATION_BATCH = 500
# Newest first: (created_at, id).
ENDPOINTS_KEYSET = Keyset("webhooks", (aware_datetime, uuid_value))


def _refused_url(error: UrlRefused) -> DomainError:
    return ValidationFailed(str(error), errors={"json": {"url": [str(error)]}})


def _events(values: Iterable[str]) -> list[str]:
    chosen = set(values)
    return [event for event in EVENTS if event in chosen]


def present_endpoint(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """The admin representation; the secret is never part of it."""
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": _events(endpoint.events),
        "active": endpoint.active,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


def _state(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """What the audit log keeps: everything but the secret."""
    return {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": _events(endpoint.events),
        "active": endpoint.active,
    }


def audit_change(
    action: str, endpoint_id: uuid.UUID, actor: Actor, before: Any = None, after: Any = None
) -> None:
    """Record an admin's change to an endpoint in the audit log."""
    audit.record(
        actor_id=actor.user_id,
        action=f"webhook.{action}",
        target_type="webhook",
        target_id=endpoint_id,
        before=before,
        after=after,
        request_id=actor.request_id,
    )


def create_endpoint(data: dict[str, Any], actor: Actor) -> tuple[WebhookEndpoint, str | None]:
    """Register an endpoint; returns it and the secret when one was generated for it."""
    try:
        check_url(data["url"], private_allowed=allow_private())
    except UrlRefused as error:
        raise _refused_url(error) from None
    generated = None if data.get("secret") else new_secret()
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        url=data["url"],
        description=data.get("description"),
        events=_events(data["events"]),
        secret=seal(data.get("secret") or generated),
        active=data.get("active", True),
    )
    db.session.add(endpoint)
    db.session.flush()
    audit_change("create", endpoint.id, actor, after=_state(endpoint))
    return endpoint, generated


def get_endpoint(endpoint_id: uuid.UUID, *, for_update: bool = False) -> WebhookEndpoint:
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, WebhookEndpoint.deleted_at.is_(None)
    )
    if for_update:
        # Admins editing the same endpoint queue on its row, so If-Match sees the latest.
        query = query.with_for_update()
    endpoint = db.session.scalar(query)
    if endpoint is None:
        raise NotFound("No webhook has this id.")
    return endpoint


def list_endpoints(*, limit: int, cursor: str | None) -> Page[WebhookEndpoint]:
    """Newest first, keyset-paginated on (created_at, id)."""
    return paginate(
        select(WebhookEndpoint),
        [WebhookEndpoint.deleted_at.is_(None)],
        order=(WebhookEndpoint.created_at, WebhookEndpoint.id),
        descending=True,
        keyset=ENDPOINTS_KEYSET,
        cursor=cursor,
        limit=limit,
    )


def update_endpoint(
    endpoint: WebhookEndpoint, data: dict[str, Any], actor: Actor
) -> WebhookEndpoint:
    """Apply a merge patch; a new `secret` signs every delivery from now on, retries too."""
    before = _state(endpoint)
    if "url" in data and data["url"] != endpoint.url:
        try:
            check_url(data["url"], private_allowed=allow_private())
        except UrlRefused as error:
            raise _refused_url(error) from None
        endpoint.url = data["url"]
    if "events" in data:
        endpoint.events = _events(data["events"])
    for name in ("description", "active"):
        if name in data:
            setattr(endpoint, name, data[name])
    secret_changed = bool(data.get("secret")) and data["secret"] != unseal(endpoint.secret)
    if secret_changed:
        endpoint.secret = seal(data["secret"])
    after = _state(endpoint)
    changed = [key for key in after if after[key] != before[key]]
    if changed or secret_changed:
        endpoint.updated_at = utcnow()
        db.session.flush()
        audit_change(
            "update",
            endpoint.id,
            actor,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed}
            | ({"secret": "changed"} if secret_changed else {}),
        )
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint, actor: Actor) -> None:
    """Stop all deliveries to the endpoint; its history stays, its secret does not."""
    before = _state(endpoint)
    endpoint.deleted_at = utcnow()
    endpoint.active = False
    endpoint.secret = ""
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending")
        .values(status="cancelled", claimed_by=None, finished_at=db_now())
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    audit_change("delete", endpoint.id, actor, before=before)


def rotate_secrets() -> int:
    """Encrypt every stored secret again with the first key; returns how many were.

    Rows are locked one batch at a time, so the worker and admins' edits wait only briefly.
    """
    rotated = 0
    last: uuid.UUID | None = None
    while True:
        query = (
            select(WebhookEndpoint)
            .where(WebhookEndpoint.secret != "")
            .order_by(WebhookEndpoint.id)
            .limit(ROTATION_BATCH)
            .with_for_update()
        )
        if last is not None:
            query = query.where(WebhookEndpoint.id > last)
        batch = list(db.session.scalars(query))
        if not batch:
            return rotated
        for endpoint in batch:
            # A plain UPDATE: re-encrypting changes nothing an admin's If-Match refers to.
            db.session.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id == endpoint.id)
                .values(secret=reseal(endpoint.secret))
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
        rotated += len(batch)
        last = batch[-1].id
