"""Articles and what belongs to them: slugs, sections, citations, people, reviews, topics, links."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cms_api.models.base import DEFAULT_LOCALE_SQL, Base, created_at, updated_at, uuid_pk
from cms_api.models.person import Person
from cms_api.models.topic import Topic

ARTICLE_STATUSES = ("draft", "in_review", "approved", "published", "archived")
REVIEW_KINDS = ("clinical", "correction")
LINK_RELATIONS = (
    "see_also",
    "similar_symptom",
    "complication_of",
    "treatment_for",
    "differential",
)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        CheckConstraint(f"status IN {_in(ARTICLE_STATUSES)}", name="status_known"),
        CheckConstraint("review_interval_months BETWEEN 1 AND 60", name="review_interval_range"),
        UniqueConstraint("locale", "slug"),
        # One translation of an article per locale.
        Index(
            "uq_articles_source_locale",
            "source_id",
            "locale",
            unique=True,
            postgresql_where=text("source_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    slug: Mapped[str] = mapped_column(String(120))
    # A BCP 47 tag (cms_api.domain.locales), in its normal form.
    locale: Mapped[str] = mapped_column(String(35), server_default=DEFAULT_LOCALE_SQL)
    # A translation: the article it translates, and the source revision it was made from
    # (a newer reviewed revision of the source makes the translation outdated).
    source_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL")
    )
    source_revision: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    disclaimer: Mapped[str | None] = mapped_column(Text)
    # [{"key", "kind", "title", "body", "button_label", "url"}], in display order.
    call_to_actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    meta_title: Mapped[str | None] = mapped_column(String(120))
    meta_description: Mapped[str | None] = mapped_column(String(320))
    canonical_url: Mapped[str | None] = mapped_column(String(2048))
    # The picture shown at the top of the page and in previews (JSON-LD `image`).
    lead_image_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL"), index=True
    )
    review_interval_months: Mapped[int] = mapped_column(Integer, default=12)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last substantive change readers can see; not bumped by workflow moves.
    content_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_reviewed_at: Mapped[date | None] = mapped_column(Date)
    next_review_due: Mapped[date | None] = mapped_column(Date)
    publish_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The approved revision `publish_at` publishes; an edit cancels the schedule.
    publish_at_revision: Mapped[int | None] = mapped_column(Integer)
    # {"sponsor": {...}, "funder": {...}, "conflicts_of_interest": "..."}: reviewed content.
    disclosures: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The revision holding the current content; approvals name the revision they saw.
    revision_number: Mapped[int] = mapped_column(Integer, default=0)
    # The revision readers see; None while the article is not published.
    live_revision: Mapped[int | None] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}

    # Set (not stored) when a new revision cancelled the schedule, for the answer to say so.
    schedule_cancelled = False

    sections: Mapped[list[Section]] = relationship(
        primaryjoin="and_(Section.article_id == Article.id, Section.parent_id.is_(None))",
        order_by="Section.position",
        viewonly=True,
    )
    all_sections: Mapped[list[Section]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="Section.position"
    )
    citations: Mapped[list[Citation]] = relationship(
        order_by="Citation.position", cascade="all, delete-orphan"
    )
    authorships: Mapped[list[ArticleAuthor]] = relationship(
        order_by="ArticleAuthor.position", cascade="all, delete-orphan"
    )
    reviews: Mapped[list[MedicalReview]] = relationship(
        order_by="MedicalReview.reviewed_at.desc()", cascade="all, delete-orphan"
    )
    topic_links: Mapped[list[ArticleTopic]] = relationship(
        order_by="ArticleTopic.position", cascade="all, delete-orphan"
    )
    # What readers see: links in the trash are left out.
    outgoing_links: Mapped[list[RelatedLink]] = relationship(
        primaryjoin="and_(RelatedLink.source_id == Article.id, RelatedLink.deleted_at.is_(None))",
        order_by="RelatedLink.position",
        viewonly=True,
    )
    former_slugs: Mapped[list[ArticleSlug]] = relationship(cascade="all, delete-orphan")


class ArticleSlug(Base):
    """A slug the article used to have; it keeps answering with a redirect."""

    __tablename__ = "article_slugs"

    locale: Mapped[str] = mapped_column(
        String(35), primary_key=True, server_default=DEFAULT_LOCALE_SQL
    )
    slug: Mapped[str] = mapped_column(String(120), primary_key=True)
    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    retired_at: Mapped[datetime] = created_at()


class Section(Base):
    __tablename__ = "sections"
    __table_args__ = (UniqueConstraint("article_id", "key"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    article_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sections.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(80))
    heading: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    article: Mapped[Article] = relationship(back_populates="all_sections")
    subsections: Mapped[list[Section]] = relationship(order_by="Section.position", viewonly=True)


class Citation(Base):
    __tablename__ = "citations"

    id: Mapped[uuid.UUID] = uuid_pk()
    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(500))
    authors: Mapped[str | None] = mapped_column(String(500))
    publisher: Mapped[str | None] = mapped_column(String(300))
    # A journal article's journal (schema.org `isPartOf` a Periodical).
    periodical: Mapped[str | None] = mapped_column(String(300))
    year: Mapped[int | None] = mapped_column(Integer)
    doi: Mapped[str | None] = mapped_column(String(200))
    pmid: Mapped[str | None] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(String(2048))


class ArticleAuthor(Base):
    __tablename__ = "article_authors"

    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(default=0)

    person: Mapped[Person] = relationship()


class MedicalReview(Base):
    """A medical reviewer's sign-off on one revision of an article.

    A clinical review checked the whole page and sets the review date and cycle; a
    correction approved a minor edit and leaves them alone. Readers see a review only
    once the revision it approved has gone live (`published_at`).
    """

    __tablename__ = "medical_reviews"
    __table_args__ = (CheckConstraint(f"kind IN {_in(REVIEW_KINDS)}", name="kind_known"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("people.id", ondelete="RESTRICT"), index=True
    )
    reviewed_at: Mapped[date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    revision_number: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="clinical", server_default="clinical")
    # What readers are told about a correction; `notes` stay internal.
    public_note: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()

    reviewer: Mapped[Person] = relationship()


class ArticleTopic(Base):
    __tablename__ = "article_topics"

    article_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("topics.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(default=0)

    topic: Mapped[Topic] = relationship()


class RelatedLink(Base):
    """A typed, weighted link from one article to another."""

    __tablename__ = "related_links"
    __table_args__ = (
        UniqueConstraint("source_id", "target_id"),
        CheckConstraint("source_id <> target_id", name="not_self"),
        CheckConstraint(f"relation IN {_in(LINK_RELATIONS)}", name="relation_known"),
        CheckConstraint("weight > 0 AND weight <= 1", name="weight_range"),
        Index("ix_related_links_target_id", "target_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    source_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    target_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    relation: Mapped[str] = mapped_column(String(30), default="see_also")
    weight: Mapped[float] = mapped_column(Float, default=0.5)
    anchor_text: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    target: Mapped[Article] = relationship(foreign_keys=[target_id])
