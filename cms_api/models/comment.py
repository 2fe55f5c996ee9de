"""Review comments: editors and medical reviewers discuss an article, section by section."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms_api.models.base import Base, created_at, uuid_pk
from cms_api.models.user import User

COMMENT_BODY_MAX = 5000


class ReviewComment(Base):
    """A comment on an article, anchored to one of its sections (or to the whole article), or
    a reply to such a comment. Replies are one level deep: a thread is a top-level comment
    and its replies, and it is the thread that is resolved."""

    __tablename__ = "review_comments"
    __table_args__ = (
        CheckConstraint(f"char_length(body) BETWEEN 1 AND {COMMENT_BODY_MAX}", name="body_length"),
        CheckConstraint("parent_id IS NULL OR resolved_at IS NULL", name="reply_not_resolved"),
        # An article's threads, oldest first: the list and its keyset.
        Index(
            "ix_review_comments_threads",
            "article_id",
            "created_at",
            "id",
            postgresql_where=text("parent_id IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    article_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    # The thread's first comment. No ON DELETE: a comment with replies cannot be deleted.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("review_comments.id"), index=True
    )
    author_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Plain text, kept as written: clients show it escaped, never as HTML or Markdown.
    body: Mapped[str] = mapped_column(Text)
    # A section's key when the comment was written (None: the whole article). The section
    # may be removed later; the comment stays, and says its anchor is missing.
    section_key: Mapped[str | None] = mapped_column(String(80))
    # The article's revision the comment was written against.
    revision_number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at()
    # When its author last changed the body.
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
