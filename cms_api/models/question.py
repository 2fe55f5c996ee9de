"""Questions sent by readers, which editors answer, reject or turn into FAQs."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cms_api.models.base import Base, created_at, updated_at, uuid_pk

QUESTION_STATUSES = ("new", "answered", "rejected", "promoted")


class ReaderQuestion(Base):
    __tablename__ = "reader_questions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('new', 'answered', 'rejected', 'promoted')", name="status_known"
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    question: Mapped[str] = mapped_column(Text)
    article_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    topic_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("topics.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    answer: Mapped[str | None] = mapped_column(Text)
    faq_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("faqs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
