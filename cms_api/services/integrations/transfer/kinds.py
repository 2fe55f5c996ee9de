"""The record types of a transfer: each one's table, key, owner and export order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table

from cms_api.models import (
    Article,
    ArticleAuthor,
    ArticleSlug,
    ArticleTopic,
    Citation,
    Credential,
    Faq,
    Image,
    ImageFile,
    MedicalCode,
    MedicalReview,
    Person,
    PersonTranslation,
    RedFlag,
    RelatedLink,
    Revision,
    Section,
    Topic,
    TopicTranslation,
)


@dataclass(frozen=True)
class Kind:
    """One record type: its table, how its rows are identified and exported."""

    name: str
    table: Table
    key: tuple[str, ...] = ("id",)
    # The aggregate a row belongs to, as (column, record type). An imported article brings
    # all of its sections: those the file no longer has are deleted from the target.
    # Rows without an owner (people, topics, articles, FAQs, links, red flags) are only
    # ever upserted.
    owner: tuple[str, str] | None = None
    order_by: str = "id"
    # A query listing the table's rows in export order, when ORDER BY alone cannot.
    query: str | None = None

    @property
    def columns(self) -> list[str]:
        return [column.name for column in self.table.columns]

    @property
    def staging(self) -> str:
        return f"pg_temp.transfer_{self.table.name}"

    @property
    def compared(self) -> list[str]:
        """The columns whose difference makes a row "changed" (a version is the target's own)."""
        return [name for name in self.columns if name not in self.key and name != "version"]

    def export_query(self) -> str:
        columns = ", ".join(self.columns)
        if self.query:
            return self.query.format(columns=columns)
        return f"SELECT {columns} FROM {self.table.name} ORDER BY {self.order_by}"


def _tree_query(table: str, label: str, order_by: str) -> str:
    """Rows with each parent before its children, siblings by position (a depth-first walk);
    rows no walk from a root reaches (a corrupt loop) come last, so none is left out."""
    return (
        "WITH RECURSIVE tree AS ("
        f" SELECT id, ARRAY[ROW(position, {label})] AS path FROM {table} WHERE parent_id IS NULL"
        f" UNION ALL SELECT child.id, tree.path || ROW(child.position, child.{label})"
        f" FROM {table} AS child JOIN tree ON child.parent_id = tree.id"
        f") SELECT {{columns}} FROM {table} LEFT JOIN tree USING (id)"
        f" ORDER BY {order_by}tree.path NULLS LAST, id"
    )


def _kind(name: str, model: Any, **options: Any) -> Kind:
    return Kind(name, model.__table__, **options)


# Parents before children: a file read from the top never names a row before it defines it.
KINDS: tuple[Kind, ...] = (
    _kind("image", Image, order_by="created_at, id"),
    _kind(
        "image_file",
        ImageFile,
        key=("image_id", "ratio", "format", "width"),
        owner=("image_id", "image"),
        order_by="image_id, ratio, format, width",
    ),
    _kind("person", Person, order_by="slug"),
    _kind(
        "credential",
        Credential,
        owner=("person_id", "person"),
        order_by="person_id, position, id",
    ),
    _kind(
        "person_translation",
        PersonTranslation,
        owner=("person_id", "person"),
        order_by="person_id, locale, id",
    ),
    _kind("red_flag", RedFlag, order_by="slug"),
    _kind("topic", Topic, query=_tree_query("topics", "slug", "")),
    _kind(
        "medical_code",
        MedicalCode,
        owner=("topic_id", "topic"),
        order_by="topic_id, system, code",
    ),
    _kind(
        "topic_translation",
        TopicTranslation,
        owner=("topic_id", "topic"),
        order_by="topic_id, locale, id",
    ),
    # Originals first, then translations: each translation names its source.
    _kind("article", Article, order_by="source_id IS NOT NULL, locale, slug, id"),
    _kind(
        "former_slug",
        ArticleSlug,
        key=("locale", "slug"),
        owner=("article_id", "article"),
        order_by="article_id, locale, slug",
    ),
    _kind(
        "section",
        Section,
        owner=("article_id", "article"),
        query=_tree_query("sections", "key", "article_id, "),
    ),
    _kind(
        "citation",
        Citation,
        owner=("article_id", "article"),
        order_by="article_id, position, id",
    ),
    _kind(
        "article_author",
        ArticleAuthor,
        key=("article_id", "person_id"),
        owner=("article_id", "article"),
        order_by="article_id, position, person_id",
    ),
    _kind(
        "article_topic",
        ArticleTopic,
        key=("article_id", "topic_id"),
        owner=("article_id", "article"),
        order_by="article_id, position, topic_id",
    ),
    _kind(
        "medical_review",
        MedicalReview,
        owner=("article_id", "article"),
        order_by="article_id, reviewed_at, id",
    ),
    _kind("faq", Faq, order_by="article_id NULLS LAST, topic_id, position, id"),
    _kind("related_link", RelatedLink, order_by="source_id, position, id"),
    _kind(
        "revision",
        Revision,
        owner=("article_id", "article"),
        order_by="article_id, number",
    ),
)
KIND = {kind.name: kind for kind in KINDS}
# References to rows that need not be in the file: the target may already have them.
# (A row's owner, by contrast, must be in the file: aggregates move whole.)
SHARED_REFERENCES = (
    ("person", "image_id", "image"),
    ("topic", "image_id", "image"),
    ("article", "lead_image_id", "image"),
    ("article", "source_id", "article"),
    ("topic", "parent_id", "topic"),
    ("article_author", "person_id", "person"),
    ("article_topic", "topic_id", "topic"),
    ("medical_review", "reviewer_id", "person"),
    ("faq", "article_id", "article"),
    ("faq", "topic_id", "topic"),
    ("faq", "reviewed_by_id", "person"),
    ("red_flag", "reviewed_by_id", "person"),
    ("related_link", "source_id", "article"),
    ("related_link", "target_id", "article"),
)
# Unique constraints (besides keys) that the rows of a file must respect among themselves.
UNIQUE_IN_FILE = (
    ("person", ("slug",)),
    ("red_flag", ("slug",)),
    ("topic", ("slug",)),
    ("article", ("locale", "slug")),
    ("topic_translation", ("topic_id", "locale")),
    ("person_translation", ("person_id", "locale")),
    ("section", ("article_id", "key")),
    ("medical_code", ("topic_id", "system", "code")),
    ("revision", ("article_id", "number")),
    ("related_link", ("source_id", "target_id")),
)
