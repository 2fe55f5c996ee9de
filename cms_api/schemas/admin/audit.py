"""Shapes of the admin audit log: its filters and events."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.schemas.common import (
    PageArgs,
    free_text,
    list_schema,
    nullable_text,
)

R = {"required": True}


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
                "comment",
                "webhook",
                "image",
                "red_flag",
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


AuditList = list_schema(AuditEventOut, "AuditList")
