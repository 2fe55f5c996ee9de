"""Shapes of the audit log, users, tokens and the review-due list."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.schemas.common import (
    PageArgs,
    StrictSchema,
    free_text,
    list_schema,
    nullable_text,
    slug_field,
)

R = {"required": True}
ROLES = ["admin", "editor", "reviewer", "viewer"]


class AuditQueryArgs(PageArgs):
    actor = ma.fields.UUID(metadata={"description": "Events by this user id."})
    target_type = ma.fields.String(
        validate=validate.OneOf(
            [
                "article",
                "faq",
                "person",
                "topic",
                "link",
                "user",
                "token",
                "question",
                "webhook",
            ]
        )
    )
    target_id = free_text(64)
    since = ma.fields.AwareDateTime(metadata={"description": "At or after this time."})
    until = ma.fields.AwareDateTime(metadata={"description": "Before this time."})


class AuditEventOut(ma.Schema):
    id = ma.fields.Integer(**R)
    at = ma.fields.DateTime(**R)
    actor_id = ma.fields.UUID(required=True, allow_none=True)
    action = ma.fields.String(**R, metadata={"example": "article.publish"})
    target_type = ma.fields.String(**R, metadata={"example": "article"})
    target_id = ma.fields.String(**R)
    before = ma.fields.Dict(required=True, allow_none=True)
    after = ma.fields.Dict(required=True, allow_none=True)
    request_id = nullable_text()


class UserIn(StrictSchema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=320))
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = ma.fields.String(required=True, validate=validate.OneOf(ROLES))
    person = slug_field(metadata={"description": "For reviewers: the person they sign off as."})


class UserOut(ma.Schema):
    id = ma.fields.UUID(**R)
    email = ma.fields.String(**R)
    name = ma.fields.String(**R)
    role = ma.fields.String(**R)
    person = nullable_text()
    created_at = ma.fields.DateTime(**R)
    disabled_at = ma.fields.DateTime(required=True, allow_none=True)


class TokenIn(StrictSchema):
    user_id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    expires_at = ma.fields.AwareDateTime(allow_none=True, load_default=None)


class TokenOut(ma.Schema):
    id = ma.fields.UUID(**R)
    user_id = ma.fields.UUID(**R)
    name = ma.fields.String(**R)
    prefix = ma.fields.String(**R, metadata={"description": "The token's first characters."})
    created_at = ma.fields.DateTime(**R)
    expires_at = ma.fields.DateTime(required=True, allow_none=True)
    revoked_at = ma.fields.DateTime(required=True, allow_none=True)
    last_used_at = ma.fields.DateTime(required=True, allow_none=True)


class IssuedTokenOut(TokenOut):
    token = ma.fields.String(**R, metadata={"description": "The secret, shown this once."})


class ReviewsDueArgs(StrictSchema):
    within_days = ma.fields.Integer(load_default=30, validate=validate.Range(min=0, max=3650))


class ReviewDueOut(ma.Schema):
    id = ma.fields.UUID(**R)
    slug = ma.fields.String(**R)
    title = ma.fields.String(**R)
    next_review_due = ma.fields.Date(**R)
    last_reviewed_at = ma.fields.Date(required=True, allow_none=True)
    overdue = ma.fields.Boolean(**R)
    review_flags = ma.fields.List(ma.fields.String(), **R)


AuditList = list_schema(AuditEventOut, "AuditList")
UserList = ma.Schema.from_dict(
    {"items": ma.fields.List(ma.fields.Nested(UserOut), **R)}, name="UserList"
)
TokenList = ma.Schema.from_dict(
    {"items": ma.fields.List(ma.fields.Nested(TokenOut), **R)}, name="TokenList"
)
ReviewsDueList = ma.Schema.from_dict(
    {"items": ma.fields.List(ma.fields.Nested(ReviewDueOut), **R)}, name="ReviewsDueList"
)
