"""Review comments on an article: threads anchored to sections, one level of replies, resolving."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import selectinload

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import Conflict, Forbidden, NotFound
from cms_api.domain.paging import Keyset, Page, aware_datetime, uuid_value
from cms_api.models import Article, ReviewComment, Section, User
from cms_api.services.accounts import audit, permissions
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial.articles import get_article
from cms_api.services.editorial.common import invalid, jsonable
from cms_api.services.paging import paginate

# Who wrote and who resolved a comment, loaded with a page rather than one query each.
_PEOPLE = (selectinload(ReviewComment.author), selectinload(ReviewComment.resolved_by))


def get_comment(
    article_id: uuid.UUID,
    comment_id: uuid.UUID,
    *,
    for_update: bool = False,
    include_trashed: bool = True,
) -> ReviewComment:
    """A comment of the article (a comment is only found under its own article). Comments
    of an article in the trash are read, not written: `include_trashed=False` refuses."""
    if not include_trashed:
        get_article(article_id)  # 404 when the article is unknown or in the trash
    query = select(ReviewComment).where(
        ReviewComment.id == comment_id, ReviewComment.article_id == article_id
    )
    if for_update:
        # Writers queue on the row, so the If-Match check sees the latest version.
        query = query.with_for_update()
    comment = db.session.scalar(query)
    if comment is None:
        raise NotFound("No comment of this article has this id.")
    return comment


def _section_keys(article_ids: set[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """Each article's section keys now, sub-sections' included."""
    keys: dict[uuid.UUID, set[str]] = defaultdict(set)
    if article_ids:
        rows = db.session.execute(
            select(Section.article_id, Section.key).where(Section.article_id.in_(article_ids))
        )
        for article_id, key in rows:
            keys[article_id].add(key)
    return keys


def _state(comment: ReviewComment) -> dict[str, Any]:
    """The comment as the audit log keeps it."""
    return jsonable(
        {
            "article_id": comment.article_id,
            "parent_id": comment.parent_id,
            "section_key": comment.section_key,
            "revision_number": comment.revision_number,
            "body": comment.body,
        }
    )


def _audit(
    action: str,
    comment: ReviewComment,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    actor: Actor,
) -> None:
    audit.record(
        actor_id=actor.user_id,
        action=f"comment.{action}",
        target_type="comment",
        target_id=comment.id,
        before=before,
        after=after,
        request_id=actor.request_id,
    )


def _thread_of(article: Article, parent_id: uuid.UUID) -> ReviewComment:
    """The top-level comment a reply answers, held against a concurrent delete."""
    parent = db.session.scalar(
        select(ReviewComment)
        .where(ReviewComment.id == parent_id, ReviewComment.article_id == article.id)
        # A delete checks for replies under FOR UPDATE; this share lock makes it wait for
        # the reply, so it sees it, rather than the reply failing on a deleted parent.
        .with_for_update(read=True)
    )
    if parent is None:
        raise invalid("parent_id", "No comment of this article has this id.")
    if parent.parent_id is not None:
        raise invalid(
            "parent_id",
            "Replies are one level deep: reply to the comment that starts the thread, "
            f"{parent.parent_id}.",
        )
    return parent


def create_comment(
    article: Article, data: dict[str, Any], author: User, actor: Actor
) -> ReviewComment:
    """A new thread on a section of the article (or on the whole article), or a reply to
    a thread, written against the article's current revision."""
    section_key = data.get("section_key")
    parent_id = data.get("parent_id")
    if parent_id is not None:
        if section_key is not None:
            raise invalid(
                "section_key", "A reply is anchored where its thread is; leave section_key out."
            )
        section_key = _thread_of(article, parent_id).section_key
    elif section_key is not None:
        known = _section_keys({article.id})[article.id]
        if section_key not in known:
            raise invalid(
                "section_key",
                "The article has no section with this key"
                + (f" (it has {', '.join(sorted(known))})." if known else " (it has none)."),
            )
    comment = ReviewComment(
        id=uuid.uuid4(),
        article_id=article.id,
        parent_id=parent_id,
        author=author,
        body=data["body"],
        section_key=section_key,
        revision_number=article.revision_number,
        # The moment of writing, not the start of the transaction: threads list in order.
        created_at=utcnow(),
    )
    db.session.add(comment)
    db.session.flush()
    _audit("create", comment, None, _state(comment), actor)
    return comment


def _is_author(comment: ReviewComment, user: User) -> bool:
    return comment.author_id is not None and comment.author_id == user.id


def update_comment(
    comment: ReviewComment, data: dict[str, Any], user: User, actor: Actor
) -> ReviewComment:
    """Edit the body (its author only) and/or resolve or reopen the thread (its author, or
    anyone who may resolve comments). Every check runs before anything changes."""
    if "body" in data and not _is_author(comment, user):
        raise Forbidden("Only its author edits a comment.")
    if "resolved" in data:
        if comment.parent_id is not None:
            raise invalid(
                "resolved",
                "A reply is resolved with its thread: resolve the comment that starts it, "
                f"{comment.parent_id}.",
            )
        if not (_is_author(comment, user) or permissions.allowed(user.role, "comments:resolve")):
            raise Forbidden(f"The {user.role} role may not resolve others' comments.")
    if "body" in data and data["body"] != comment.body:
        before = {"body": comment.body}
        comment.body = data["body"]
        comment.edited_at = utcnow()
        db.session.flush()
        _audit("update", comment, before, {"body": comment.body}, actor)
    resolved = data.get("resolved")
    if resolved is True and comment.resolved_at is None:
        comment.resolved_at, comment.resolved_by = utcnow(), user
        db.session.flush()
        _audit("resolve", comment, {"resolved": False}, {"resolved": True}, actor)
    elif resolved is False and comment.resolved_at is not None:
        comment.resolved_at, comment.resolved_by = None, None
        db.session.flush()
        _audit("reopen", comment, {"resolved": True}, {"resolved": False}, actor)
    return comment


def delete_comment(comment: ReviewComment, user: User, actor: Actor) -> None:
    """Delete a comment for good (the audit log keeps what it said): its author only, and
    only while no one has replied to it."""
    if not _is_author(comment, user):
        raise Forbidden("Only its author deletes a comment.")
    if db.session.scalar(select(exists().where(ReviewComment.parent_id == comment.id))):
        raise Conflict(
            "The comment has replies, which would lose their context; resolve the thread instead."
        )
    _audit("delete", comment, _state(comment), None, actor)
    db.session.delete(comment)
    db.session.flush()


# Oldest first: (created_at, id).
COMMENTS_KEYSET = Keyset("comments", (aware_datetime, uuid_value))


def list_threads(
    article: Article,
    *,
    resolved: bool | None,
    section_key: str | None,
    limit: int,
    cursor: str | None,
) -> Page[ReviewComment]:
    """The article's threads (top-level comments), oldest first, keyset-paginated on
    (created_at, id), with the total matching; `present` adds each one's replies."""
    conditions: list[ColumnElement[bool]] = [
        ReviewComment.article_id == article.id,
        ReviewComment.parent_id.is_(None),
    ]
    if resolved is not None:
        conditions.append(
            ReviewComment.resolved_at.is_not(None)
            if resolved
            else ReviewComment.resolved_at.is_(None)
        )
    if section_key is not None:
        conditions.append(ReviewComment.section_key == section_key)
    return paginate(
        select(ReviewComment),
        conditions,
        order=(ReviewComment.created_at, ReviewComment.id),
        descending=False,
        keyset=COMMENTS_KEYSET,
        cursor=cursor,
        limit=limit,
        options=_PEOPLE,
    )


def _person(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.id, "name": user.name, "role": user.role}


def _one(comment: ReviewComment, keys: set[str]) -> dict[str, Any]:
    return {
        "id": comment.id,
        "article_id": comment.article_id,
        "parent_id": comment.parent_id,
        "author": _person(comment.author),
        "body": comment.body,
        "section_key": comment.section_key,
        "anchor_missing": comment.section_key is not None and comment.section_key not in keys,
        "revision_number": comment.revision_number,
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
        "resolved": comment.resolved_at is not None,
        "resolved_at": comment.resolved_at,
        "resolved_by": _person(comment.resolved_by),
        "version": comment.version,
    }


def present(comments: list[ReviewComment]) -> list[dict[str, Any]]:
    """The admin representation: each comment with its author, whether its section is still
    there (`anchor_missing`), and a thread's replies, oldest first. A few queries for the
    whole page rather than some per comment."""
    keys = _section_keys({comment.article_id for comment in comments})
    thread_ids = [comment.id for comment in comments if comment.parent_id is None]
    replies: dict[uuid.UUID, list[ReviewComment]] = defaultdict(list)
    if thread_ids:
        for reply in db.session.scalars(
            select(ReviewComment)
            .where(ReviewComment.parent_id.in_(thread_ids))
            .order_by(ReviewComment.created_at, ReviewComment.id)
            .options(*_PEOPLE)
        ):
            replies[reply.parent_id].append(reply)  # type: ignore[index]
    return [
        {
            **_one(comment, keys[comment.article_id]),
            "replies": [_one(reply, keys[comment.article_id]) for reply in replies[comment.id]],
        }
        for comment in comments
    ]
