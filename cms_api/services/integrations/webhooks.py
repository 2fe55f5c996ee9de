"""Signed webhooks: endpoints, an outbox written with each change, and the delivery worker."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import random
import re
import secrets
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import urllib3
from sqlalchemy import DateTime, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import Conflict, DomainError, NotFound
from cms_api.domain.paging import Keyset, Page, aware_datetime, uuid_value
from cms_api.models import (
    Article,
    ArticleAuthor,
    ArticleTopic,
    MedicalReview,
    Person,
    PublishedDocument,
    ReaderQuestion,
    Topic,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from cms_api.models.webhook import PING_EVENT, WEBHOOK_EVENTS
from cms_api.services import runtime
from cms_api.services.accounts import audit
from cms_api.services.accounts.audit import Actor
from cms_api.services.paging import paginate
from cms_api.services.publishing.render import article_path, iso_date, iso_datetime

log = logging.getLogger(__name__)

EVENTS = WEBHOOK_EVENTS
SECRET_PREFIX = "whsec_"
USER_AGENT = "cms-api-webhooks/1"
# A receiver should answer at once and work afterwards; a slow one is retried later.
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 10.0
RESPONSE_EXCERPT_BYTES = 1024
# review.due event ids derive from (article, due date): a rerun finds its rows already there.
REVIEW_DUE_NAMESPACE = uuid.UUID("6f1c2a4e-9b7d-4f3e-8a15-3c0d9e2b7a61")
_PRINTABLE_URL = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed delivery is tried again, and when it is given up.

    The n-th retry waits `base * 2**(n-1)` seconds, capped, times a random factor in
    [0.5, 1] so that receivers coming back after an outage are not hit by every worker at
    the same instant. The defaults try 12 times over about half a day.
    """

    base_seconds: float = 30.0
    cap_seconds: float = 6 * 3600.0
    max_attempts: int = 12
    # How long a claimed row stays hidden from other workers: far beyond one attempt's
    # timeouts, so only a worker that died mid-send lets another take it over.
    lease_seconds: float = 300.0

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** min(attempt - 1, 32))
        return ceiling * random.uniform(0.5, 1.0)


DEFAULT_RETRY = RetryPolicy()


def _clock() -> Any:
    # The database's clock, not the transaction's start: workers on several machines
    # agree on what is due, and a long transaction does not freeze time.
    return func.clock_timestamp(type_=DateTime(timezone=True))


def allow_private() -> bool:
    return runtime.settings().webhooks_allow_private


# -- addresses ------------------------------------------------------------------------------

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class UrlRefused(Exception):
    """A webhook URL that may not be used, and why."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries, which is where a packet would really go."""
    embedded: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        embedded.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        embedded.append(address.sixtofour)
    if address.teredo is not None:
        embedded.extend(address.teredo)
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return embedded


def refusal(address: IPAddress) -> str | None:
    """Why a webhook may not be sent to this address; None when it is a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        for inner in _embedded_ipv4(address):
            reason = refusal(inner)
            if reason is not None:
                return f"{reason} (it embeds {inner})"
    for flag, label in (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(address, flag):
            return label
    if not address.is_global:
        return "not a public address"
    return None


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Target:
    """Where a delivery goes: the checked addresses to connect to and what to say there."""

    scheme: str
    host: str
    port: int
    host_header: str
    path: str
    addresses: list[str]


def _resolve(host: str, port: int) -> list[str]:
    if _is_literal(host):
        return [str(ipaddress.ip_address(host))]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as error:
        raise UrlRefused(f"The host {host!r} does not resolve.") from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(url: str, *, private_allowed: bool) -> Target:
    """The delivery target of `url`, or UrlRefused saying what is wrong with it.

    Every address the host resolves to must be public (unless private targets are allowed):
    a name with one private address among public ones is refused, since any could be used.
    """
    if not _PRINTABLE_URL.fullmatch(url):
        raise UrlRefused(
            "Must be printable ASCII without spaces (write international names in punycode)."
        )
    parts = urlsplit(url)
    schemes = ("https", "http") if private_allowed else ("https",)
    if parts.scheme not in schemes:
        raise UrlRefused("Must be an https URL.")
    if "@" in parts.netloc:
        raise UrlRefused("Must not carry credentials; the signature authenticates the sender.")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise UrlRefused("The port is not a number from 1 to 65535.")
    port = port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname
    if not host:
        raise UrlRefused("Must name a host.")
    addresses = _resolve(host, port)
    if not addresses:
        raise UrlRefused(f"The host {host!r} does not resolve.")
    if not private_allowed:
        for address in addresses:
            reason = refusal(ipaddress.ip_address(address.split("%", 1)[0]))
            if reason is not None:
                shown = address if _is_literal(host) else f"{host} resolves to {address}, which"
                raise UrlRefused(f"{shown} is {reason}; webhooks only go to public addresses.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, parts.netloc, path, addresses)


def _refused_url(error: UrlRefused) -> DomainError:
    return DomainError(
        str(error), status=422, kind="validation-error", errors={"json": {"url": [str(error)]}}
    )


# -- endpoints ------------------------------------------------------------------------------


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


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


def _audit(
    action: str, endpoint_id: uuid.UUID, actor: Actor, before: Any = None, after: Any = None
) -> None:
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
        secret=data.get("secret") or generated,
        active=data.get("active", True),
    )
    db.session.add(endpoint)
    db.session.flush()
    _audit("create", endpoint.id, actor, after=_state(endpoint))
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


# Newest first: (created_at, id).
ENDPOINTS_KEYSET = Keyset("webhooks", (aware_datetime, uuid_value))
DELIVERIES_KEYSET = Keyset("webhook-deliveries", (aware_datetime, uuid_value))


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
    secret_changed = bool(data.get("secret")) and data["secret"] != endpoint.secret
    if secret_changed:
        endpoint.secret = data["secret"]
    after = _state(endpoint)
    changed = [key for key in after if after[key] != before[key]]
    if changed or secret_changed:
        endpoint.updated_at = utcnow()
        db.session.flush()
        _audit(
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
        .values(status="cancelled", claimed_by=None, finished_at=_clock())
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    _audit("delete", endpoint.id, actor, before=before)


# -- emitting events (in the caller's transaction) -----------------------------------------


def _subscribers(event_types: set[str]) -> list[tuple[uuid.UUID, set[str]]]:
    rows = db.session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.events).where(
            WebhookEndpoint.active.is_(True),
            WebhookEndpoint.deleted_at.is_(None),
            WebhookEndpoint.events.overlap(sorted(event_types)),
        )
    ).all()
    return [(endpoint_id, set(events)) for endpoint_id, events in rows]


def _enqueue(
    endpoint_ids: Sequence[uuid.UUID],
    event_type: str,
    data: dict[str, Any],
    surrogate_keys: Iterable[str],
    *,
    event_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Write one outbox row per endpoint; an (endpoint, event) already there is kept."""
    if not endpoint_ids:
        return []
    event_id = event_id or uuid.uuid4()
    body = json.dumps(
        {
            "id": str(event_id),
            "type": event_type,
            "created_at": iso_datetime(utcnow()),
            "data": data,
            "surrogate_keys": sorted(set(surrogate_keys)),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    rows = [
        {
            "id": uuid.uuid4(),
            "endpoint_id": endpoint_id,
            "event_id": event_id,
            "event_type": event_type,
            "body": body,
            "status": "pending",
            "attempt_count": 0,
        }
        for endpoint_id in endpoint_ids
    ]
    written = db.session.scalars(
        insert(WebhookDelivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
        .returning(WebhookDelivery.id)
    ).all()
    return list(written)


def emit(
    event_type: str,
    data: dict[str, Any],
    surrogate_keys: Iterable[str] = (),
    *,
    event_id: uuid.UUID | None = None,
) -> int:
    """Queue an event for every active endpoint subscribed to it, in the current
    transaction: it is sent if and only if the transaction commits. Returns the rows added."""
    subscribers = [endpoint_id for endpoint_id, _ in _subscribers({event_type})]
    return len(_enqueue(subscribers, event_type, data, surrogate_keys, event_id=event_id))


def _topic_ancestry() -> Callable[[uuid.UUID], list[str]]:
    topics = {
        row.id: row for row in db.session.execute(select(Topic.id, Topic.parent_id, Topic.slug))
    }

    def slugs(topic_id: uuid.UUID) -> list[str]:
        found: list[str] = []
        current: uuid.UUID | None = topic_id
        while current is not None and current in topics and len(found) <= len(topics):
            found.append(topics[current].slug)
            current = topics[current].parent_id
        return found

    return slugs


def article_surrogate_keys(article_ids: set[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """The cache keys of what shows each article: itself, its topics' pages (with their
    ancestors, whose lists include it) and its authors' and reviewers' profiles.

    A published article's keys come from its published document's tags. One whose
    document is gone (unpublished, deleted) gets them from its authors, reviews and topics
    as they are now; those are what the document showed unless a draft changed them since.
    """
    keys: dict[uuid.UUID, set[str]] = {
        article_id: {f"article:{article_id}"} for article_id in article_ids
    }
    documented = db.session.execute(
        select(PublishedDocument.entity_id, PublishedDocument.tags).where(
            PublishedDocument.kind == "article", PublishedDocument.entity_id.in_(article_ids)
        )
    ).all()
    for article_id, tags in documented:
        for tag in tags:
            kind, _, value = tag.partition(":")
            if kind == "topic":
                keys[article_id].add(tag)
            elif kind in ("author", "reviewer"):
                keys[article_id].add(f"person:{value}")
    missing = article_ids - {article_id for article_id, _ in documented}
    if not missing:
        return keys
    people = select(ArticleAuthor.article_id, Person.slug).join(
        Person, Person.id == ArticleAuthor.person_id
    )
    reviewers = select(MedicalReview.article_id, Person.slug).join(
        Person, Person.id == MedicalReview.reviewer_id
    )
    for query, column in ((people, ArticleAuthor), (reviewers, MedicalReview)):
        for article_id, slug in db.session.execute(query.where(column.article_id.in_(missing))):
            keys[article_id].add(f"person:{slug}")
    topic_rows = db.session.execute(
        select(ArticleTopic.article_id, ArticleTopic.topic_id).where(
            ArticleTopic.article_id.in_(missing)
        )
    ).all()
    if topic_rows:
        ancestry = _topic_ancestry()
        for article_id, topic_id in topic_rows:
            keys[article_id] |= {f"topic:{slug}" for slug in ancestry(topic_id)}
    return keys


def content_changed(events: Iterable[dict[str, Any]]) -> None:
    """Queue `article.*` events for change-feed entries (kind, entity_id, slug, action)."""
    changes = [event for event in events if event["kind"] == "article"]
    if not changes:
        return
    subscribers = _subscribers({f"article.{event['action']}" for event in changes})
    if not subscribers:
        return
    keys = article_surrogate_keys({event["entity_id"] for event in changes})
    occurred_at = iso_datetime(utcnow())
    for event in changes:
        event_type = f"article.{event['action']}"
        targets = [endpoint_id for endpoint_id, types in subscribers if event_type in types]
        data = {
            "id": str(event["entity_id"]),
            "slug": event["slug"],
            "url": article_path(event["slug"]),
            "action": event["action"],
            "occurred_at": occurred_at,
        }
        _enqueue(targets, event_type, data, keys[event["entity_id"]])


def question_received(question: ReaderQuestion) -> None:
    """Queue `question.received`. The reader's email stays out: it is for editors only."""
    if not _subscribers({"question.received"}):
        return
    article = db.session.get(Article, question.article_id) if question.article_id else None
    topic = db.session.get(Topic, question.topic_id) if question.topic_id else None
    emit(
        "question.received",
        {
            "id": str(question.id),
            "question": question.question,
            "article": article.slug if article else None,
            "topic": topic.slug if topic else None,
            "received_at": iso_datetime(utcnow()),
            "admin_url": f"/v1/admin/questions/{question.id}",
        },
    )


def notify_reviews_due(articles: Iterable[Article]) -> int:
    """Queue one `review.due` per article and due date; a rerun adds nothing, and an
    endpoint registered later still hears of reviews that are due. Returns rows added."""
    subscribers = [endpoint_id for endpoint_id, _ in _subscribers({"review.due"})]
    if not subscribers:
        return 0
    added = 0
    for article in articles:
        if article.next_review_due is None:
            continue
        due = iso_date(article.next_review_due)
        data = {
            "id": str(article.id),
            "slug": article.slug,
            "title": article.title,
            "url": article_path(article.slug),
            "next_review_due": due,
            "last_reviewed_at": iso_date(article.last_reviewed_at),
        }
        event_id = uuid.uuid5(REVIEW_DUE_NAMESPACE, f"{article.id}:{due}")
        added += len(_enqueue(subscribers, "review.due", data, (), event_id=event_id))
    return added


# -- deliveries (admin) --------------------------------------------------------------------


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
            (WebhookDelivery.claimed_by.is_not(None)) & (WebhookDelivery.next_attempt_at > _clock())
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
            next_attempt_at=_clock(),
            claimed_by=None,
            finished_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    _audit("redeliver", endpoint.id, actor, after={"delivery_id": str(delivery.id)})
    return _delivery(delivery.id)


def ping(endpoint: WebhookEndpoint, actor: Actor) -> WebhookDelivery:
    """Queue a `webhook.ping` event to this endpoint alone, to try a receiver."""
    _require_active(endpoint)
    (delivery_id,) = _enqueue(
        [endpoint.id],
        PING_EVENT,
        {"webhook_id": str(endpoint.id), "message": "A test event sent on request."},
        (),
    )
    _audit("ping", endpoint.id, actor, after={"delivery_id": str(delivery_id)})
    return _delivery(delivery_id)


# -- the delivery worker -------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Webhook-Signature` value: HMAC-SHA256 over "{timestamp}.{body}"."""
    signed = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class Claim:
    delivery_id: uuid.UUID
    token: uuid.UUID
    number: int
    event_id: uuid.UUID
    event_type: str
    body: str
    url: str
    secret: str


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    status_code: int | None = None
    error: str | None = None
    excerpt: str | None = None


def claim_next(policy: RetryPolicy = DEFAULT_RETRY) -> Claim | None:
    """Take the most overdue delivery no other worker holds, in a short transaction.

    SKIP LOCKED makes concurrent workers pass over a row another is claiming, and the
    claim moves the row's next attempt a lease ahead, so once committed it is not due to
    anyone else while this worker sends it.
    """
    due = (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= _clock(),
            WebhookEndpoint.active.is_(True),
            WebhookEndpoint.deleted_at.is_(None),
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(1)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
        .scalar_subquery()
    )
    token = uuid.uuid4()
    row = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == due)
        .values(
            attempt_count=WebhookDelivery.attempt_count + 1,
            claimed_by=token,
            next_attempt_at=_clock() + timedelta(seconds=policy.lease_seconds),
        )
        .returning(
            WebhookDelivery.id,
            WebhookDelivery.attempt_count,
            WebhookDelivery.event_id,
            WebhookDelivery.event_type,
            WebhookDelivery.body,
            WebhookDelivery.endpoint_id,
        )
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if row is None:
        db.session.commit()  # nothing was written; this only ends the transaction
        return None
    url, secret = db.session.execute(
        select(WebhookEndpoint.url, WebhookEndpoint.secret).where(
            WebhookEndpoint.id == row.endpoint_id
        )
    ).one()
    db.session.commit()
    return Claim(
        row.id, token, row.attempt_count, row.event_id, row.event_type, row.body, url, secret
    )


def _describe(error: Exception) -> str:
    reason = getattr(error, "reason", None)
    text = str(reason or error) or error.__class__.__name__
    return f"{error.__class__.__name__}: {text}"[:500]


def _excerpt(data: bytes) -> str:
    # PostgreSQL text cannot hold NUL; the excerpt is for a human reading the log.
    return data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def send(claim: Claim, *, private_allowed: bool) -> Outcome:
    """POST the delivery to the address checked just now, never following a redirect.

    The host is resolved and checked again here, and the connection goes to that checked
    address (TLS still verifies the certificate against the host name), so a name that
    was public at registration and points inside now is refused, not followed.
    """
    try:
        target = check_url(claim.url, private_allowed=private_allowed)
    except UrlRefused as error:
        return Outcome(False, error=f"Refused: {error}")
    body = claim.body.encode("utf-8")
    timestamp = int(time.time())
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Webhook-Id": str(claim.event_id),
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signature(claim.secret, timestamp, body),
        "Webhook-Event": claim.event_type,
        "Webhook-Attempt": str(claim.number),
    }
    timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT_SECONDS, read=READ_TIMEOUT_SECONDS)
    error: Exception | None = None
    for address in target.addresses:
        pool: urllib3.HTTPConnectionPool
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address,
                target.port,
                timeout=timeout,
                retries=False,
                cert_reqs="CERT_REQUIRED",
                server_hostname=target.host,
                assert_hostname=target.host,
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False)
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=headers,
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
            )
            try:
                excerpt = _excerpt(response.read(RESPONSE_EXCERPT_BYTES))
            except urllib3.exceptions.HTTPError:
                excerpt = None  # the status is the answer; a body cut short changes nothing
            finally:
                response.release_conn()
            status = response.status
            succeeded = 200 <= status < 300
            reason = None
            if not succeeded:
                reason = f"HTTP {status}" + (
                    " (redirects are not followed)" if 300 <= status < 400 else ""
                )
            return Outcome(succeeded, status, reason, excerpt)
        except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError) as e:
            error = e  # this address does not answer: try the host's next one
        except urllib3.exceptions.HTTPError as e:
            return Outcome(False, error=_describe(e))
        finally:
            pool.close()
    assert error is not None
    return Outcome(False, error=_describe(error))


def record_outcome(
    claim: Claim,
    outcome: Outcome,
    *,
    attempted_at: datetime,
    duration_ms: int,
    policy: RetryPolicy = DEFAULT_RETRY,
) -> str:
    """Log the attempt and settle the delivery: delivered, retried later, or failed.

    Only the worker still holding the claim changes the delivery's state. Returns it.
    """
    db.session.add(
        WebhookAttempt(
            delivery_id=claim.delivery_id,
            number=claim.number,
            attempted_at=attempted_at,
            duration_ms=duration_ms,
            succeeded=outcome.succeeded,
            status_code=outcome.status_code,
            error=outcome.error,
            response_excerpt=outcome.excerpt,
        )
    )
    values: dict[str, Any] = {
        "claimed_by": None,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
    }
    if outcome.succeeded:
        values |= {"status": "delivered", "delivered_at": _clock(), "finished_at": _clock()}
    elif claim.number >= policy.max_attempts:
        values |= {"status": "failed", "finished_at": _clock()}
    else:
        delay = timedelta(seconds=policy.delay(claim.number))
        values |= {"next_attempt_at": _clock() + delay}
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == claim.delivery_id, WebhookDelivery.claimed_by == claim.token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return values.get("status", "pending")


def deliver_due(
    policy: RetryPolicy = DEFAULT_RETRY, *, should_stop: Callable[[], bool] = lambda: False
) -> int:
    """Send every delivery that is due, one at a time, until none is or asked to stop.

    Returns how many attempts were made. Safe to run in several processes at once.
    """
    attempts = 0
    for claim in _claims(policy, should_stop):
        attempted_at = utcnow()
        started = time.monotonic()
        outcome = send(claim, private_allowed=allow_private())
        duration_ms = int((time.monotonic() - started) * 1000)
        status = record_outcome(
            claim, outcome, attempted_at=attempted_at, duration_ms=duration_ms, policy=policy
        )
        log.info(
            "webhook delivery %s (%s) attempt %d: %s",
            claim.delivery_id,
            claim.event_type,
            claim.number,
            status if outcome.succeeded else f"{status}, {outcome.error}",
        )
        attempts += 1
    return attempts


def _claims(policy: RetryPolicy, should_stop: Callable[[], bool]) -> Iterator[Claim]:
    while not should_stop():
        claim = claim_next(policy)
        if claim is None:
            return
        yield claim


# -- retention -----------------------------------------------------------------------------

# Rows per DELETE, each in its own transaction: a large backlog never holds one long
# transaction or locks millions of rows at once.
PRUNE_BATCH_SIZE = 5000
# How often a long-running worker prunes; each worker does, and they skip each other's rows.
PRUNE_INTERVAL = timedelta(hours=1)


def retention() -> timedelta:
    return timedelta(days=runtime.settings().webhook_retention_days)


def prune_deliveries(
    older_than: timedelta | None = None,
    *,
    batch_size: int = PRUNE_BATCH_SIZE,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Delete deliveries that finished (delivered, failed, cancelled) longer than
    `older_than` ago (default: the retention setting), with their attempts. Returns how many.

    Pending deliveries are never deleted, however old. Each batch commits on its own, and
    rows another process holds (a redelivery, a concurrent prune) are skipped, not waited for.
    """
    # A value, fixed for the run: the clock function would keep the index from bounding
    # the scan, and rows finishing meanwhile would keep the loop going.
    cutoff = db.session.scalar(
        select(_clock() - (retention() if older_than is None else older_than))
    )
    removed = 0
    while not should_stop():
        expired = (
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status != "pending", WebhookDelivery.finished_at < cutoff)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        # The attempts go with their delivery: the foreign key cascades on delete.
        deleted = db.session.execute(
            delete(WebhookDelivery)
            .where(WebhookDelivery.id.in_(expired))
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        removed += deleted
        if deleted < batch_size:
            break
    return removed


@dataclass
class PruneSchedule:
    """Pruning from the delivery worker: at most once per `interval`, never fatal to it."""

    interval: timedelta = PRUNE_INTERVAL
    last_run: datetime | None = None

    def run_if_due(self, *, should_stop: Callable[[], bool] = lambda: False) -> int | None:
        """Prune if the interval has passed since the last run; how many went, or None
        when it was not due or the database failed (logged; tried again next interval)."""
        now = utcnow()
        if self.last_run is not None and now - self.last_run < self.interval:
            return None
        self.last_run = now
        try:
            removed = prune_deliveries(should_stop=should_stop)
        except SQLAlchemyError as error:
            db.session.rollback()
            log.warning("webhook pruning: database error: %s", error.__class__.__name__)
            return None
        if removed:
            log.info("webhook pruning: removed %d finished deliveries", removed)
        return removed
