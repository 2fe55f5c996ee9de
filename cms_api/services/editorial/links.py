"""Editing related-article links: the link goes live at once, its anchor text with review."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, func, select

from cms_api.database import db
from cms_api.domain.errors import Conflict, NotFound, ValidationFailed
from cms_api.domain.paging import Keyset, Page, uuid_value, whole_number
from cms_api.models import Article, RelatedLink
from cms_api.services.accounts import audit
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial.articles import log_cancelled_schedule
from cms_api.services.editorial.common import (
    ContentType,
    invalid,
    jsonable,
    unique_or_conflict,
)
from cms_api.services.paging import paginate
from cms_api.services.publishing import revisions
from cms_api.services.publishing.articles import refresh_articles
from cms_api.services.trash import move_to_trash, take_out_of_trash

FIELDS = ("relation", "weight", "anchor_text", "position")


def get_link(
    link_id: uuid.UUID, *, for_update: bool = False, include_trashed: bool = True
) -> RelatedLink:
    query = select(RelatedLink).where(RelatedLink.id == link_id)
    if for_update:
        # Writers queue on the row, so the If-Match check sees the latest state.
        query = query.with_for_update()
    link = db.session.scalar(query)
    if link is None or (link.deleted_at is not None and not include_trashed):
        raise NotFound("No link has this id." if link is None else "The link is in the trash.")
    return link


def _state(link: RelatedLink) -> dict[str, Any]:
    """The whole link, as the audit log keeps it."""
    return jsonable(
        {
            "source_id": link.source_id,
            "target_id": link.target_id,
            **{name: getattr(link, name) for name in FIELDS},
        }
    )


def _rerender(source_id: uuid.UUID) -> None:
    """Re-render the article the link starts from (and what embeds that article)."""
    source = db.session.get(Article, source_id)
    if source is not None:
        # A link list loaded earlier in this session would not show this write.
        db.session.expire(source, ["outgoing_links"])
    refresh_articles([source_id])


def _anchor_changed(source_id: uuid.UUID, actor: Actor) -> None:
    """Record a revision of the source article: its readers read a link's anchor text as
    the article's own words, so new words wait for the article's review (until then the
    link is shown with its target's title). Content that was approved or published goes
    back to review, as with any edit."""
    source = db.session.get(Article, source_id)
    if source is None or not source.revision_number:
        return  # never saved: its first revision will hold the anchor text
    revisions.record(source, reason="link-anchor", author_id=actor.user_id)
    if source.status in ("approved", "published"):
        source.status = "in_review"
    log_cancelled_schedule(source, actor)
    db.session.flush()


def _audit(action: str, link: RelatedLink, before: Any, after: Any, actor: Actor) -> None:
    audit.record(
        actor_id=actor.user_id,
        action=f"link.{action}",
        target_type="link",
        target_id=link.id,
        before=before,
        after=after,
        request_id=actor.request_id,
    )


def create_link(source: Article, data: dict[str, Any], actor: Actor) -> RelatedLink:
    target_id: uuid.UUID = data["target_id"]
    # Links belong to the works' originals and every translation shows them (mapped to its
    # own locale): a link kept on a translation would be shown nowhere.
    if source.source_id is not None:
        raise ValidationFailed(
            "Links between articles are shared by every translation and kept on the "
            f"original: add it to the original, article {source.source_id}."
        )
    if target_id == source.id:
        raise invalid("target_id", "An article cannot link to itself.")
    target = db.session.get(Article, target_id)
    if target is None or target.deleted_at is not None:
        raise invalid("target_id", "No article (outside the trash) has this id.")
    if target.source_id is not None:
        raise invalid(
            "target_id",
            f"This article is a translation: link to its original, {target.source_id}; "
            "each translation shows the link to the target's translation in its locale.",
        )
    duplicate = db.session.scalar(
        select(RelatedLink.id).where(
            RelatedLink.source_id == source.id, RelatedLink.target_id == target_id
        )
    )
    if duplicate is not None:
        raise Conflict(
            f"The article already links to this one (link {duplicate}); edit that link.",
            errors={"json": {"target_id": ["Already linked."]}},
        )
    position = data.get("position")
    if position is None:
        # Appended after the article's other links.
        last = db.session.scalar(
            select(func.max(RelatedLink.position)).where(RelatedLink.source_id == source.id)
        )
        position = 0 if last is None else last + 1
    link = RelatedLink(
        id=uuid.uuid4(),
        source_id=source.id,
        target_id=target_id,
        relation=data["relation"],
        weight=data["weight"],
        anchor_text=data.get("anchor_text"),
        position=position,
    )
    db.session.add(link)
    with unique_or_conflict("target_id"):
        db.session.flush()
    if link.anchor_text is not None:
        _anchor_changed(source.id, actor)
    _rerender(source.id)
    _audit("create", link, None, _state(link), actor)
    return link


def update_link(link: RelatedLink, data: dict[str, Any], actor: Actor) -> RelatedLink:
    """Apply a merge patch. The target is what the link is; to change it, delete the link
    and create another."""
    before = _state(link)
    for name in FIELDS:
        if name in data:
            setattr(link, name, data[name])
    db.session.flush()
    changed_before, changed_after = audit.changed_fields(before, _state(link))
    if "anchor_text" in changed_after:
        _anchor_changed(link.source_id, actor)
    if changed_after:
        _rerender(link.source_id)
        _audit("update", link, changed_before, changed_after, actor)
    return link


def trash_link(link: RelatedLink, actor: Actor) -> None:
    """Move the link to the trash: readers stop seeing it; `restore_link` brings it back."""
    move_to_trash(link, "link", actor)
    _rerender(link.source_id)


def restore_link(link: RelatedLink, actor: Actor) -> RelatedLink:
    take_out_of_trash(link, "link", actor)
    _rerender(link.source_id)
    return link


# Display order: (position, id).
LINKS_KEYSET = Keyset("admin-links", (whole_number, uuid_value))


def list_links(
    source: Article,
    *,
    relation: str | None,
    trashed: bool,
    limit: int,
    cursor: str | None,
) -> Page[RelatedLink]:
    """An article's outgoing links in display order, keyset-paginated on (position, id)."""
    conditions: list[ColumnElement[bool]] = [
        RelatedLink.source_id == source.id,
        RelatedLink.deleted_at.is_not(None) if trashed else RelatedLink.deleted_at.is_(None),
    ]
    if relation is not None:
        conditions.append(RelatedLink.relation == relation)
    return paginate(
        select(RelatedLink),
        conditions,
        order=(RelatedLink.position, RelatedLink.id),
        descending=False,
        keyset=LINKS_KEYSET,
        cursor=cursor,
        limit=limit,
    )


def present(link: RelatedLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "source_id": link.source_id,
        "target_id": link.target_id,
        "target": link.target.slug,
        **{name: getattr(link, name) for name in FIELDS},
        "deleted_at": link.deleted_at,
    }


# Listed and created under their source article (see list_links, create_link).
LINKS = ContentType[RelatedLink](
    kind="link",
    get=get_link,
    update=update_link,
    trash=trash_link,
    restore=restore_link,
    present=present,
)
