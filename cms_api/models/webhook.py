"""Webhooks: endpoints admins register, the outbox of deliveries, and every attempt made."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms_api.models.base import Base, created_at, updated_at, uuid_pk

WEBHOOK_EVENTS = (
    "article.published",
    "article.updated",
    "article.unpublished",
    "article.deleted",
    "review.due",
    "question.received",
)
# Sent only on request (`POST .../ping`), whatever the endpoint subscribes to.
PING_EVENT = "webhook.ping"
DELIVERY_STATUSES = ("pending", "delivered", "failed", "cancelled")


class WebhookEndpoint(Base):
    """A URL that receives signed event notifications.

    The secret is stored encrypted (Fernet, with the first of CMS_SECRET_KEYS); the worker
    decrypts it to sign, and the API never shows it again after creation. Deleting an
    endpoint keeps the row for its delivery history, wipes the secret and cancels what was
    still pending.
    """

    __tablename__ = "webhook_endpoints"
    __table_args__ = (CheckConstraint("cardinality(events) > 0", name="events_not_empty"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(500))
    events: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    # Ciphertext: a 200-character secret becomes about 360 characters.
    secret: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class WebhookDelivery(Base):
    """One event for one endpoint: the outbox row, written in the transaction of the change.

    `event_id` is the idempotency key (the `Webhook-Id` header and the payload's `id`): the
    same for every retry and redelivery, so a receiver can process each event once. `body`
    is the exact JSON sent, so every attempt carries the same bytes.

    A worker claims a due row by moving `next_attempt_at` a lease ahead and setting
    `claimed_by`; it then sends without holding a transaction open, and only the holder of
    the claim may record the outcome. A worker that dies mid-send leaves the row to be
    retried when the lease runs out.

    Finished rows (and their attempts) are deleted once `finished_at` is older than the
    retention (`CMS_WEBHOOK_RETENTION_DAYS`); pending ones are kept however old.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'delivered', 'failed', 'cancelled')", name="status_known"
        ),
        # One delivery per event and endpoint: re-emitting an event (a rerun of the
        # review notice) finds the row there and adds nothing.
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at", "id"),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        # What pruning scans for rows past their retention: only the finished ones.
        Index(
            "ix_webhook_deliveries_finished",
            "finished_at",
            postgresql_where=text("status <> 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # Attempts since the delivery was (re)queued: what the retry schedule counts.
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    claimed_by: Mapped[uuid.UUID | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The clock, not the transaction start: deliveries list newest first, to the moment.
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When it was delivered, given up or cancelled (null while pending): retention counts
    # from here, and a redelivery clears it, so the row's retention starts over.
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    attempts: Mapped[list[WebhookAttempt]] = relationship(
        order_by="WebhookAttempt.id", viewonly=True
    )


class WebhookAttempt(Base):
    """One POST to an endpoint (or one refusal to make it), kept for the admins."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    # The delivery's attempt_count when it was made (1 for the first after a (re)queue).
    number: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int] = mapped_column(Integer)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    # The start of the receiver's answer, to debug a refusal without its logs.
    response_excerpt: Mapped[str | None] = mapped_column(Text)
