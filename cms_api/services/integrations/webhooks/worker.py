"""The delivery worker: claim what is due, POST it signed, retry with backoff, give up."""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import urllib3
from sqlalchemy import select, update

from cms_api.database import db, db_now
from cms_api.domain.clock import utcnow
from cms_api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from cms_api.services.integrations.webhooks.addresses import UrlRefused, allow_private, check_url
from cms_api.services.integrations.webhooks.signing import signature, unseal

log = logging.getLogger(__name__)

USER_AGENT = "cms-api-webhooks/1"
# A receiver should answer at once and work afterwards; a slow one is retried later.
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 10.0
RESPONSE_EXCERPT_BYTES = 1024


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
            WebhookDelivery.next_attempt_at <= db_now(),
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
            next_attempt_at=db_now() + timedelta(seconds=policy.lease_seconds),
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
        row.id,
        token,
        row.attempt_count,
        row.event_id,
        row.event_type,
        row.body,
        url,
        unseal(secret),
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
        values |= {
            "status": "delivered",
            "delivered_at": db_now(),
            "finished_at": db_now(),
        }
    elif claim.number >= policy.max_attempts:
        values |= {"status": "failed", "finished_at": db_now()}
    else:
        delay = timedelta(seconds=policy.delay(claim.number))
        values |= {"next_attempt_at": db_now() + delay}
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
