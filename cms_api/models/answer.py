"""Answer passages quoted by instant answers, and the questions no passage answered."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from cms_api.models.base import Base


class AnswerPassage(Base):
    """One section of a published article, one of its FAQs, or a topic FAQ, as stored.

    Rows are cut from `published_documents` by `services.publishing.passages` whenever the
    search index is built, and leave with their document (the foreign key cascades).
    """

    __tablename__ = "answer_passages"
    __table_args__ = (
        ForeignKeyConstraint(
            ["kind", "entity_id"],
            ["published_documents.kind", "published_documents.entity_id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("kind IN ('article', 'faq')", name="kind_answerable"),
        Index("ix_answer_passages_vector", "vector", postgresql_using="gin"),
        Index(
            "ix_answer_passages_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # Sections in document order, then the article's FAQs from 100000.
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The ETag of the document cut: an unchanged document is not cut again.
    etag: Mapped[str] = mapped_column(String(40))
    # The public page quoted ("article" or "topic") and the section's HTML id on it.
    page_kind: Mapped[str] = mapped_column(String(16))
    page_slug: Mapped[str] = mapped_column(String(120))
    anchor: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    # The section heading or the FAQ's question.
    heading: Mapped[str] = mapped_column(Text)
    # The stored sanitized HTML, and its text: what an answer quotes, unchanged.
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text)
    vector: Mapped[str] = mapped_column(TSVECTOR)
    # The review of record: [{name, slug}], its date, and when the next one is due.
    reviewers: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    review_due: Mapped[date | None] = mapped_column(Date)


class UnansweredQuestion(Base):
    """A question /v1/answers found no confident answer to, folded to its normal form."""

    __tablename__ = "unanswered_questions"
    # Most asked first, read backwards.
    __table_args__ = (
        Index(
            "ix_unanswered_questions_open",
            "asked_count",
            "id",
            postgresql_where=text("dismissed_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, default=uuid.uuid4, server_default=text("gen_random_uuid()")
    )
    normalized: Mapped[str] = mapped_column(Text, unique=True)
    # As first asked.
    text: Mapped[str] = mapped_column(Text)
    asked_count: Mapped[int] = mapped_column(Integer)
    first_asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
