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
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from cms_api.models.base import DEFAULT_LOCALE_SQL, Base


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
            "ix_answer_passages_heading_trgm",
            "heading",
            postgresql_using="gin",
            postgresql_ops={"heading": "gin_trgm_ops"},
        ),
    )

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # Sections in document order, then the article's FAQs from 100000.
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The ETag of the document cut: an unchanged document is not cut again.
    etag: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(35), server_default=DEFAULT_LOCALE_SQL)
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
    # The sentence embedding of heading and text (services.embedding): float32,
    # little-endian; NULL until embedded. Where the server has pgvector the same vector is
    # also in `embedding_vector` (see SERVER_DEPENDENT).
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)


# What migration 0017 adds only where the server has pgvector: the vector column and its
# HNSW index. The models leave them out, so one metadata describes both kinds of server.
SERVER_DEPENDENT = frozenset({"embedding_vector", "ix_answer_passages_embedding_vector"})


class PgVector(UserDefinedType):
    """pgvector's `vector`, known to reflection so comparing schemas meets no unknown type."""

    cache_ok = True

    def __init__(self, dimensions: int | None = None) -> None:
        self.dimensions = dimensions

    def get_col_spec(self, **kw: Any) -> str:
        return f"vector({self.dimensions})" if self.dimensions else "vector"


ischema_names.setdefault("vector", PgVector)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's comparison filter: what SERVER_DEPENDENT names is not schema drift."""
    return not (reflected and compare_to is None and name in SERVER_DEPENDENT)


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
        UniqueConstraint("locale", "normalized"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, default=uuid.uuid4, server_default=text("gen_random_uuid()")
    )
    locale: Mapped[str] = mapped_column(String(35), server_default=DEFAULT_LOCALE_SQL)
    normalized: Mapped[str] = mapped_column(Text)
    # As first asked.
    text: Mapped[str] = mapped_column(Text)
    asked_count: Mapped[int] = mapped_column(Integer)
    first_asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
