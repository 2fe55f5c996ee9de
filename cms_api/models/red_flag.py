"""Red flags: editor-owned trigger phrases and the reviewed urgent guidance they show."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms_api.models.base import Base, created_at, updated_at, uuid_pk
from cms_api.models.person import Person

# `draft` (being written, or edited since its approval) → `in_review` → `approved` (a
# reviewer with a valid credential signed the words off) → `published` (readers are shown
# this guidance when what they type matches a trigger).
RED_FLAG_STATUSES = ("draft", "in_review", "approved", "published")


class RedFlag(Base):
    __tablename__ = "red_flags"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'in_review', 'approved', 'published')", name="status_known"
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # One locale today; the column lets guidance per locale come later without a rewrite.
    locale: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    # Lower first: the order triggers are tried in, and the public list's order.
    priority: Mapped[int] = mapped_column(default=100)
    # Each trigger is "alternative | alternative + alternative | ...": every `+` group must
    # be present, any one alternative of a group will do; an alternative may be a phrase.
    triggers: Mapped[list[str]] = mapped_column(JSONB, default=list)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    action_label: Mapped[str] = mapped_column(String(200))
    action_url: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    reviewed_by: Mapped[Person | None] = relationship()
