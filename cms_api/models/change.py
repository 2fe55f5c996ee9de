"""The change feed: every publish, update, unpublish and deletion of published content."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from cms_api.models.base import DEFAULT_LOCALE_SQL, Base

CHANGE_ACTIONS = ("published", "updated", "unpublished", "deleted")


class ChangeEvent(Base):
    """One change to what readers see, written in the transaction that made it.

    `transaction_id` is the writing transaction's 64-bit id. A reader only ever serves
    events of transactions older than every transaction still running (the snapshot's
    xmin), so a slow transaction that commits late can never slip in behind a cursor.
    """

    __tablename__ = "change_events"
    __table_args__ = (Index("ix_change_events_feed_order", "transaction_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    transaction_id: Mapped[int] = mapped_column(
        BigInteger, server_default=text("(pg_current_xact_id()::text)::bigint")
    )
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[uuid.UUID]
    slug: Mapped[str | None] = mapped_column(String(120))
    locale: Mapped[str] = mapped_column(String(35), server_default=DEFAULT_LOCALE_SQL)
    action: Mapped[str] = mapped_column(String(16))
