"""Shapes of presence: a heartbeat, and who else has an article open."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.models.user import ROLES
from cms_api.schemas.admin.articles import JsonBoolean
from cms_api.schemas.common import StrictSchema, text

R = {"required": True}


class PresenceIn(StrictSchema):
    editing = JsonBoolean(
        metadata={
            "description": "Whether you are changing the article, not only reading it. Left "
            "out: as your last heartbeat said (false on the first).",
            "example": True,
        }
    )


class PresenceOut(ma.Schema):
    user_id = ma.fields.UUID(**R)
    name = text("Dr. Tobias Lindqvist", **R)
    role = text("reviewer", validate=validate.OneOf(ROLES), **R)
    since = ma.fields.DateTime(
        **R, metadata={"description": "When they opened the article (this visit)."}
    )
    last_seen = ma.fields.DateTime(**R, metadata={"description": "Their last heartbeat."})
    editing = ma.fields.Boolean(**R, metadata={"example": False})


class PresenceList(ma.Schema):
    items = ma.fields.List(
        ma.fields.Nested(PresenceOut),
        required=True,
        metadata={"description": "Everyone else with the article open, longest there first."},
    )
    expires_after_seconds = ma.fields.Integer(
        **R,
        metadata={
            "description": "How long after their last heartbeat someone stops being listed; "
            "send heartbeats well within it.",
            "example": 60,
        },
    )
