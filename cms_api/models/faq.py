"""Frequently asked questions, attached to an article or to a topic."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms_api.models.article import Article
from cms_api.models.base import Base, created_at, updated_at, uuid_pk
from cms_api.models.topic import Topic

FAQ_STATUSES = ("draft", "published")


class Faq(Base):
    __tablename__ = "faqs"
    __table_args__ = (
        CheckConstraint("num_nonnulls(article_id, topic_id) = 1", name="one_owner"),
        CheckConstraint("status IN ('draft', 'published')", name="status_known"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    article_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    topic_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)
    # An article's FAQs are seen when the article is published and the FAQ is too.
    status: Mapped[str] = mapped_column(String(20), default="published")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    article: Mapped[Article | None] = relationship()
    topic: Mapped[Topic | None] = relationship()
