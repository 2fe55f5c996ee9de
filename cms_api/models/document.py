"""Published documents: the public JSON of each published resource, rendered once."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from cms_api.models.base import DEFAULT_LOCALE_SQL, Base

DOCUMENT_KINDS = ("article", "faq", "person", "topic", "red_flag")


class PublishedDocument(Base):
    """The read model behind every delivery endpoint.

    `body` and `summary` are the exact JSON served, so a read is one indexed lookup.
    `tags` holds the published filter values ("topic:headache", "author:ana-ruiz",
    "code:icd10cm:R51.9") so that filters see what readers see, not the draft.
    """

    __tablename__ = "published_documents"
    __table_args__ = (
        Index(
            "uq_published_documents_kind_locale_slug",
            "kind",
            "locale",
            "slug",
            unique=True,
            postgresql_where=text("slug IS NOT NULL"),
        ),
        Index(
            "ix_published_documents_kind_published", "kind", "locale", "published_at", "entity_id"
        ),
        Index("ix_published_documents_kind_updated", "kind", "locale", "updated_at", "entity_id"),
        Index("ix_published_documents_kind_title", "kind", "locale", "sort_title", "entity_id"),
        Index("ix_published_documents_kind_reviewed", "kind", "locale", "reviewed_on", "entity_id"),
        Index("ix_published_documents_tags", "tags", postgresql_using="gin"),
    )

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    # The entity's id, or for a topic or person in another locale than the default, its
    # translation's id (topic_translations, person_translations): one document per locale.
    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    locale: Mapped[str] = mapped_column(String(35), server_default=DEFAULT_LOCALE_SQL)
    slug: Mapped[str | None] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    # The body compressed once when published, for clients that accept it; NULL on a row
    # whose body was written without them (served uncompressed). See migration 0011.
    body_gzip: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_br: Mapped[bytes | None] = mapped_column(LargeBinary)
    summary: Mapped[str] = mapped_column(Text)
    etag: Mapped[str] = mapped_column(String(40))
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The title, name or question as the summary shows it; sort_title is its casefold.
    title: Mapped[str] = mapped_column(Text)
    sort_title: Mapped[str] = mapped_column(Text)
    # An article's own topics, in order (tags also hold their ancestors); empty otherwise.
    topic_slugs: Mapped[list[str]] = mapped_column(
        ARRAY(Text), default=list, server_default=text("'{}'::text[]")
    )
    reviewed_on: Mapped[date] = mapped_column(Date)
    rendered_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ListedArticle(Base):
    """One hub tag (`topic:`, `author:`, `reviewer:`) of a published article document,
    with its locale and published_at: kept by triggers on `published_documents`
    (migration 0023). A profile's or topic page's newest articles are a backward scan of
    the primary key, whatever the size of the corpus.
    """

    __tablename__ = "listed_articles"
    __table_args__ = (
        CheckConstraint("kind = 'article'", name="article"),
        ForeignKeyConstraint(
            ["kind", "entity_id"],
            ["published_documents.kind", "published_documents.entity_id"],
            ondelete="CASCADE",
        ),
        Index("ix_listed_articles_document", "kind", "entity_id"),
    )

    tag: Mapped[str] = mapped_column(Text, primary_key=True)
    locale: Mapped[str] = mapped_column(String(35), primary_key=True)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))


class ListedArticleCount(Base):
    """How many article documents in a locale carry a hub tag: `listed_articles` counted,
    kept by triggers on it (migration 0023), so a hub page's total is one row."""

    __tablename__ = "listed_article_counts"

    tag: Mapped[str] = mapped_column(Text, primary_key=True)
    locale: Mapped[str] = mapped_column(String(35), primary_key=True)
    documents: Mapped[int]


class RenderFormat(Base):
    """The one row saying which format of the rendering code the stored documents follow.

    Rendering code that changes what a document says for the same content (a new field, a
    new JSON-LD node) bumps the format; a deploy then renders every document again once.
    """

    __tablename__ = "render_format"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=1)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
