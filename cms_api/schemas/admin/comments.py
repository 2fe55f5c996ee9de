"""Shapes of review comments on an article: threads, replies, writes and the list's filters."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.models.comment import COMMENT_BODY_MAX
from cms_api.models.user import ROLES
from cms_api.schemas.admin.articles import KEY, JsonBoolean
from cms_api.schemas.common import (
    CONTROL_CHARACTERS,
    PageArgs,
    StrictSchema,
    list_schema,
    nullable_text,
    text,
)

R = {"required": True}
# What the document says a body is: no control character (as every text), and something
# other than white space; the white space around it is kept.
BODY_PATTERN = f"^[^{CONTROL_CHARACTERS}]*[^{CONTROL_CHARACTERS}\\s][^{CONTROL_CHARACTERS}]*$"


def _not_blank(value: str) -> None:
    # U+FEFF too, which JSON Schema's `\s` (ECMAScript's) counts as white space.
    if not value.replace("\ufeff", "").strip():
        raise ma.ValidationError("Must not be blank.")


def _body(**kwargs: object) -> ma.fields.String:
    # Kept as written (no trimming): the comment is its author's words, shown escaped.
    return ma.fields.String(
        validate=[validate.Length(min=1, max=COMMENT_BODY_MAX), _not_blank],
        metadata={
            "pattern": BODY_PATTERN,
            "description": f"Plain text, 1 to {COMMENT_BODY_MAX} characters, kept as "
            "written. Never HTML or Markdown: show it escaped.",
            "example": "The dose here differs from the label; please cite the source.",
        },
        **kwargs,
    )


def _section_key(**kwargs: object) -> ma.fields.String:
    return ma.fields.String(validate=KEY, **kwargs)


class CommentCreate(StrictSchema):
    body = _body(required=True)
    section_key = _section_key(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "The key of the article's section the comment is about (one the "
            "article has now, a sub-section's too; a 422 otherwise). Null or left out: the "
            "whole article. Not for a reply, which is anchored where its thread is.",
            "example": "causes",
        },
    )
    parent_id = ma.fields.UUID(
        allow_none=True,
        load_default=None,
        metadata={
            "description": "Reply to this comment: one of the article's comments that starts "
            "a thread (replies are one level deep; a 422 otherwise)."
        },
    )


class CommentPatch(StrictSchema):
    """An edit of the body (its author only), a change of the thread's state, or both."""

    body = _body()
    resolved = JsonBoolean(
        metadata={
            "description": "`true` resolves the thread, `false` reopens it: its author, an "
            "editor, a reviewer or an admin. Threads only: a reply is resolved with its "
            "thread (a 422).",
            "example": True,
        }
    )


class CommentUserOut(ma.Schema):
    id = ma.fields.UUID(**R)
    name = text("Dr. Tobias Lindqvist", **R)
    role = text("reviewer", validate=validate.OneOf(ROLES), **R)


def _user(description: str) -> ma.fields.Nested:
    return ma.fields.Nested(
        CommentUserOut, required=True, allow_none=True, metadata={"description": description}
    )


class CommentReplyOut(ma.Schema):
    id = ma.fields.UUID(**R)
    article_id = ma.fields.UUID(**R)
    parent_id = ma.fields.UUID(
        required=True,
        allow_none=True,
        metadata={"description": "The comment that starts the thread; null for that comment."},
    )
    author = _user("Who wrote it; null once their account is gone.")
    body = text(
        "The dose here differs from the label; please cite the source.",
        metadata={"description": "Plain text, as written: show it escaped."},
        **R,
    )
    section_key = nullable_text(
        "causes",
        metadata={"description": "The section the thread is about; null: the whole article."},
    )
    anchor_missing = ma.fields.Boolean(
        **R,
        metadata={
            "description": "The section was removed from the article after the comment was "
            "written; the comment stays.",
            "example": False,
        },
    )
    revision_number = ma.fields.Integer(
        **R,
        metadata={"description": "The article's revision it was written against.", "example": 3},
    )
    created_at = ma.fields.DateTime(**R)
    edited_at = ma.fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "When its author last changed the body."},
    )
    resolved = ma.fields.Boolean(**R, metadata={"example": False})
    resolved_at = ma.fields.DateTime(required=True, allow_none=True)
    resolved_by = _user("Who resolved the thread; null while it is open.")
    version = ma.fields.Integer(**R, metadata={"example": 1})


class CommentOut(CommentReplyOut):
    replies = ma.fields.List(
        ma.fields.Nested(CommentReplyOut),
        required=True,
        metadata={"description": "A thread's replies, oldest first; a reply has none."},
    )


CommentList = list_schema(CommentOut, "CommentList")


class CommentQueryArgs(PageArgs):
    resolved = ma.fields.Boolean(
        metadata={"description": "Only resolved (`true`) or open (`false`) threads."}
    )
    section_key = _section_key(
        metadata={"description": "Only the threads about this section.", "example": "causes"}
    )
