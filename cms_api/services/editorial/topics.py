"""Editing topics, their place in the tree and their medical codes, re-rendering what shows them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import aliased

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import Conflict
from cms_api.domain.paging import Keyset, Page, aware_datetime, uuid_value
from cms_api.models import ArticleTopic, MedicalCode, Topic, TopicTranslation
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial.common import (
    ContentType,
    fetch,
    invalid,
    like_pattern,
    recently_changed,
    record_create,
    record_update,
    slug_conflict,
    slug_taken,
    unique_or_conflict,
)
from cms_api.services.editorial.texts import TranslatedText
from cms_api.services.publishing import images
from cms_api.services.publishing.articles import refresh_articles
from cms_api.services.publishing.cascade import topic_changed
from cms_api.services.publishing.jsonld import topic_specialty
from cms_api.services.trash import move_to_trash, take_out_of_trash

# A change to `specialty` re-renders articles on the topic's subtree too (topic_changed):
# subtopics without one of their own inherit it.
FIELDS = ("slug", "name", "description", "position", "specialty", "image_id", "synonyms")
CODE_FIELDS = ("system", "code", "display")


def get_topic(
    topic_id: uuid.UUID, *, for_update: bool = False, include_trashed: bool = False
) -> Topic:
    return fetch(
        Topic, topic_id, label="topic", for_update=for_update, include_trashed=include_trashed
    )


def subtree_ids(topic_id: uuid.UUID) -> set[uuid.UUID]:
    """The topic and all its descendants, trashed or not (a recursive CTE)."""
    tree = select(Topic.id).where(Topic.id == topic_id).cte(recursive=True)
    child = aliased(Topic)
    tree = tree.union(select(child.id).join(tree, child.parent_id == tree.c.id))
    return set(db.session.scalars(select(tree.c.id)))


def _parent(topic: Topic, slug: str) -> Topic:
    parent = db.session.scalar(select(Topic).where(Topic.slug == slug, Topic.deleted_at.is_(None)))
    if parent is None:
        raise invalid("parent", f"Unknown topic: {slug}.")
    if topic.id is not None and parent.id in subtree_ids(topic.id):
        # The tree must stay a tree: no topic may sit under itself or its descendants.
        raise Conflict(
            f"{slug!r} is {topic.slug!r} or one of its subtopics; that would make a cycle.",
            errors={"json": {"parent": ["Would make a cycle."]}},
        )
    return parent


def _codes(topic: Topic) -> list[dict[str, Any]]:
    return [{name: getattr(item, name) for name in CODE_FIELDS} for item in topic.codes]


def _state(topic: Topic) -> dict[str, Any]:
    """What the audit log compares before and after a write."""
    return {
        **{name: getattr(topic, name) for name in FIELDS},
        "parent": topic.parent.slug if topic.parent else None,
        "codes": _codes(topic),
    }


def _sorted_codes(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The codes in the order the topic lists them; a code given twice is a 422."""
    codes = sorted(items, key=lambda item: (item["system"], item["code"]))
    keys = [(item["system"], item["code"]) for item in codes]
    duplicates = sorted({f"{s}:{c}" for s, c in keys if keys.count((s, c)) > 1})
    if duplicates:
        raise invalid("codes", f"Listed more than once: {', '.join(duplicates)}.")
    return codes


def distinct_terms(terms: list[str]) -> list[str]:
    """Each term once, letter case aside, in the order given (the first spelling wins)."""
    seen: set[str] = set()
    kept = []
    for term in terms:
        if term.casefold() not in seen:
            seen.add(term.casefold())
            kept.append(term)
    return kept


@dataclass(frozen=True)
class _Checked:
    """What a write resolved from its body before changing anything."""

    parent: Topic | None
    codes: list[dict[str, Any]] | None


def _check(topic: Topic, data: dict[str, Any]) -> _Checked:
    # Everything that can refuse the write is checked before anything changes, so a
    # refused write leaves nothing behind in the session.
    if "slug" in data and data["slug"] != topic.slug and slug_taken(Topic, data["slug"], topic.id):
        raise slug_conflict(data["slug"])
    if "image_id" in data and data["image_id"] != topic.image_id:
        images.check_attachable(data["image_id"], "image_id")
    return _Checked(
        parent=_parent(topic, data["parent"]) if data.get("parent") is not None else None,
        codes=_sorted_codes(data["codes"]) if "codes" in data else None,
    )


def _apply(topic: Topic, data: dict[str, Any], checked: _Checked) -> None:
    for name in FIELDS:
        if name in data:
            setattr(topic, name, data[name])
    if "synonyms" in data:
        topic.synonyms = distinct_terms(data["synonyms"])
    if "parent" in data:
        topic.parent = checked.parent
    if checked.codes is not None and checked.codes != _codes(topic):
        # The old rows go first: a code kept in the new list would otherwise clash with
        # itself on the (topic, system, code) unique constraint.
        topic.codes.clear()
        db.session.flush()
        topic.codes.extend(MedicalCode(**item) for item in checked.codes)
        # Codes live in their own table; touching the row bumps the version (and so the
        # ETag) even when only they changed.
        topic.updated_at = utcnow()


def _rerender(topic: Topic, *, moved: bool) -> None:
    """Re-render the topic tree and the articles tagged with the topic. When its slug or
    place changed, articles on its subtopics re-render too: their documents carry every
    ancestor's slug as a filter tag."""
    if moved:
        subtree = subtree_ids(topic.id) - {topic.id}
        refresh_articles(
            db.session.scalars(
                select(ArticleTopic.article_id).where(ArticleTopic.topic_id.in_(subtree))
            ).all()
        )
    topic_changed(topic.id)


def create_topic(data: dict[str, Any], actor: Actor) -> Topic:
    if slug_taken(Topic, data["slug"], None):
        raise slug_conflict(data["slug"])
    topic = Topic(id=uuid.uuid4(), slug=data["slug"], position=0)
    checked = _check(topic, data)
    db.session.add(topic)
    _apply(topic, data, checked)
    with unique_or_conflict("slug"):
        db.session.flush()
    _rerender(topic, moved=False)
    record_create("topic", topic.id, _state(topic), actor)
    return topic


def update_topic(topic: Topic, data: dict[str, Any], actor: Actor) -> Topic:
    """Apply a merge patch: only the fields sent change; codes are replaced whole."""
    before = _state(topic)
    _apply(topic, data, _check(topic, data))
    with unique_or_conflict("slug"):
        db.session.flush()
    after = _state(topic)
    if record_update("topic", topic.id, before, after, actor):
        moved = (before["slug"], before["parent"]) != (after["slug"], after["parent"])
        _rerender(topic, moved=moved)
    return topic


def trash_topic(topic: Topic, actor: Actor) -> None:
    """Move to the trash: the topic, and its FAQs, leave delivery; articles drop it from
    their topics. Nothing is deleted. A topic with subtopics is refused: they would be
    left hanging off a topic readers cannot see."""
    children = db.session.scalars(
        select(Topic.slug).where(Topic.parent_id == topic.id, Topic.deleted_at.is_(None))
    ).all()
    if children:
        raise Conflict(
            f"Move or trash its subtopics first: {', '.join(sorted(children))}.",
        )
    move_to_trash(topic, "topic", actor)
    _rerender(topic, moved=False)


def restore_topic(topic: Topic, actor: Actor) -> Topic:
    if topic.deleted_at is not None and topic.parent and topic.parent.deleted_at is not None:
        raise Conflict(f"Restore its parent topic {topic.parent.slug!r} first.")
    take_out_of_trash(topic, "topic", actor)
    _rerender(topic, moved=False)
    return topic


@dataclass(frozen=True)
class TopicFilters:
    parent: str | None = None
    root: bool | None = None
    q: str | None = None
    trashed: bool = False


# Most recently changed first: (updated_at, id).
TOPICS_KEYSET = Keyset("admin-topics", (aware_datetime, uuid_value))


def list_topics(filters: TopicFilters, *, limit: int, cursor: str | None) -> Page[Topic]:
    conditions: list[ColumnElement[bool]] = []
    if filters.parent is not None:
        parents = select(Topic.id).where(Topic.slug == filters.parent).scalar_subquery()
        conditions.append(Topic.parent_id == parents)
    if filters.root is not None:
        conditions.append(
            Topic.parent_id.is_(None) if filters.root else Topic.parent_id.is_not(None)
        )
    if filters.q:
        pattern = like_pattern(filters.q)
        conditions.append(or_(Topic.name.ilike(pattern), Topic.slug.ilike(pattern)))
    return recently_changed(
        Topic,
        conditions,
        trashed=filters.trashed,
        keyset=TOPICS_KEYSET,
        cursor=cursor,
        limit=limit,
    )


def present(topic: Topic) -> dict[str, Any]:
    """The admin representation: the topic, its place in the tree and its codes."""
    return {
        **{
            name: getattr(topic, name)
            for name in ("id", *FIELDS, "version", "created_at", "updated_at", "deleted_at")
        },
        "parent": topic.parent.slug if topic.parent else None,
        "children": [child.slug for child in topic.children if child.deleted_at is None],
        "effective_specialty": topic_specialty(topic),
        "codes": _codes(topic),
    }


TOPICS = ContentType[Topic](
    kind="topic",
    get=get_topic,
    update=update_topic,
    trash=trash_topic,
    restore=restore_topic,
    present=present,
    filters=TopicFilters,
    list=list_topics,
    create=create_topic,
)


def _translated_terms(values: dict[str, Any]) -> dict[str, Any]:
    return {**values, "synonyms": distinct_terms(values.get("synonyms") or [])}


# A topic's name, description and synonyms in the site's other locales; saving one
# re-renders what a topic edit re-renders (the topic tree and the articles on the topic).
TOPIC_TEXTS = TranslatedText[Topic, TopicTranslation](
    kind="topic",
    model=TopicTranslation,
    fields=("name", "description", "synonyms"),
    changed=topic_changed,
    clean=_translated_terms,
)
