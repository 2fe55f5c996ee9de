"""The search index over published articles and FAQs, and the lexicon that corrects typos."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from cms_api.models.base import DEFAULT_LOCALE_SQL, Base


class SearchEntry(Base):
    """One published article or FAQ as search sees it.

    Rows are (re)built from `published_documents` by
    `services.publishing.search_index.index_documents`, and leave with their document:
    the foreign key cascades when a document is withdrawn.
    """

    __tablename__ = "search_entries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["kind", "entity_id"],
            ["published_documents.kind", "published_documents.entity_id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("kind IN ('article', 'faq')", name="kind_searchable"),
        Index("ix_search_entries_vector", "vector", postgresql_using="gin"),
        Index("ix_search_entries_title_vector", "title_vector", postgresql_using="gin"),
        Index("ix_search_entries_topics", "topics", postgresql_using="gin"),
        # A topic's newest content, for the lookup (a topic on most content is read from
        # here, newest first, rather than from the topics index).
        # Newest first with a total order: content published together (one bulk publish, an
        # import) shares its published_at, and a LIMIT over ties must not read them all.
        Index("ix_search_entries_kind_published", "kind", "published_at", "entity_id"),
    )

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # The ETag of the document indexed: re-indexing an unchanged document writes nothing.
    etag: Mapped[str] = mapped_column(String(40))
    # The document's locale, whose text search configuration built the vectors.
    locale: Mapped[str] = mapped_column(String(35), server_default=DEFAULT_LOCALE_SQL)
    slug: Mapped[str | None] = mapped_column(String(120))
    # An article's title or a FAQ's question, as plain text.
    title: Mapped[str] = mapped_column(Text)
    # The rest as plain text in passages (an article's summary, then each section with its
    # heading; a FAQ's answer), with each passage's words: a snippet is cut from the first
    # passage that has a word of the query, since ts_headline costs about a millisecond
    # per 3 KB of text it reads.
    passages: Mapped[list[str]] = mapped_column(ARRAY(Text))
    passage_vectors: Mapped[list[str]] = mapped_column(ARRAY(TSVECTOR))
    # Slugs of the topics the content is filed under directly (not their ancestors).
    topics: Mapped[list[str]] = mapped_column(ARRAY(Text))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Title (A), summary (B), then each section's heading (C) and text (D) of an article;
    # question (A) and answer (B) of a FAQ.
    vector: Mapped[str] = mapped_column(TSVECTOR)
    # The title alone: its matches are always among the candidates that get ranked.
    title_vector: Mapped[str] = mapped_column(TSVECTOR)


class SearchEntryTopic(Base):
    """One topic a search entry is filed under directly: `search_entries.topics`, one row
    per slug, kept by triggers on `search_entries` (migration 0022). The primary key's
    order makes counting a topic's content an index-only scan, and its newest content a
    backward scan of the same index: narrow rows, not visits to every wide entry.
    """

    __tablename__ = "search_entry_topics"
    __table_args__ = (
        ForeignKeyConstraint(
            ["kind", "entity_id"],
            ["search_entries.kind", "search_entries.entity_id"],
            ondelete="CASCADE",
        ),
        Index("ix_search_entry_topics_entry", "kind", "entity_id"),
    )

    topic: Mapped[str] = mapped_column(Text, primary_key=True)
    locale: Mapped[str] = mapped_column(String(35), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class SearchTopicCount(Base):
    """How many entries of a kind and locale are filed under a topic: `search_entry_topics`
    counted, kept by triggers on it (migration 0022), so the lookup reads one row."""

    __tablename__ = "search_topic_counts"

    topic: Mapped[str] = mapped_column(Text, primary_key=True)
    locale: Mapped[str] = mapped_column(String(35), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    entries: Mapped[int]


class SearchWord(Base):
    """A word of indexed text, unaccented and lower-cased, with its stem: typo correction
    replaces a query word whose stem is nowhere in the lexicon by the most similar word.

    The lexicon only grows (pruning would need a count per word kept up to date on every
    withdrawal); a word whose documents are all gone can only make a correction find
    nothing, which is what the uncorrected query found.
    """

    __tablename__ = "search_words"
    __table_args__ = (
        Index(
            "ix_search_words_word_trgm",
            "word",
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
        ),
        Index("ix_search_words_lexeme", "lexeme"),
    )

    locale: Mapped[str] = mapped_column(
        String(35), primary_key=True, server_default=DEFAULT_LOCALE_SQL
    )
    word: Mapped[str] = mapped_column(Text, primary_key=True)
    lexeme: Mapped[str] = mapped_column(Text)
