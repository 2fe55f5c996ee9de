"""Frequently asked questions, attached to an article or to a topic."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms_api.models.article import Article
from cms_api.models.base import DEFAULT_LOCALE_SQL, Base, created_at, updated_at, uuid_pk
from cms_api.models.person import Person
from cms_api.models.topic import Topic

# An article's FAQ is part of the article's content and is reviewed with it: `published`
# puts it in the article's next revision (readers see it once that revision is approved
# and published), `draft` keeps it out. A topic FAQ is reviewed on its own: `draft` (being
# written, or edited since its approval) → `in_review` → `published` (approved: its text
# is the live text readers see).
FAQ_STATUSES = ("draft", "in_review", "published")


class Faq(Base):
    __tablename__ = "faqs"
    __table_args__ = (
        CheckConstraint("num_nonnulls(article_id, topic_id) = 1", name="one_owner"),
        CheckConstraint("status IN ('draft', 'in_review', 'published')", name="status_known"),
        CheckConstraint(
            "article_id IS NULL OR status <> 'in_review'", name="reviewed_with_article"
        ),
        CheckConstraint("(live_question IS NULL) = (live_answer IS NULL)", name="live_text_whole"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    article_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    topic_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), index=True
    )
    # An article's FAQs are in the article's locale; a topic FAQ is written in one.
    locale: Mapped[str] = mapped_column(String(35), server_default=DEFAULT_LOCALE_SQL)
    question: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)
    # See FAQ_STATUSES: what the working text is on its way to.
    status: Mapped[str] = mapped_column(String(20), default="published")
    # Set by publishing (an article's) or by approval (a topic's), never by rendering.
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A topic FAQ's approved text, which readers see; an article's FAQs live in revisions.
    live_question: Mapped[str | None] = mapped_column(String(500))
    live_answer: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    # When the text readers see last changed.
    live_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The article revision that recorded an article FAQ's latest change.
    article_revision: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    # Not stored: set when this write's article revision cancelled the article's schedule.
    schedule_cancelled = False

    article: Mapped[Article | None] = relationship()
    topic: Mapped[Topic | None] = relationship()
    reviewed_by: Mapped[Person | None] = relationship()
