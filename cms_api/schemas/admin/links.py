"""Shapes of the admin related-link resource: writes, reads, lists."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from cms_api.models.article import LINK_RELATIONS
from cms_api.schemas.admin import fields
from cms_api.schemas.common import (
    PageArgs,
    StrictSchema,
    list_schema,
    nullable_text,
    slug_field,
    text,
)


def _weight(**kwargs: Any) -> ma.fields.Float:
    return ma.fields.Float(
        validate=validate.Range(min=0, max=1, min_inclusive=False),
        # apispec documents only `minimum` from the Range; 0 itself is refused.
        metadata={
            "description": "How strongly related, in (0, 1].",
            "example": 0.8,
            "exclusiveMinimum": 0,
        },
        **kwargs,
    )


class AdminLinkPatch(StrictSchema):
    """Fields an edit may change. The target is what the link is: to point elsewhere,
    delete the link and create another."""

    relation = ma.fields.String(validate=validate.OneOf(list(LINK_RELATIONS)))
    weight = _weight()
    anchor_text = fields.optional(200, metadata={"example": "Headache with ear pain"})
    position = ma.fields.Integer(
        validate=fields.POSITION, metadata={"description": "Display order."}
    )


class AdminLinkCreate(AdminLinkPatch):
    target_id = ma.fields.UUID(required=True, metadata={"description": "The linked article."})
    relation = ma.fields.String(
        load_default="see_also", validate=validate.OneOf(list(LINK_RELATIONS))
    )
    weight = _weight(load_default=0.5)
    anchor_text = fields.optional(200, load_default=None)
    position = ma.fields.Integer(
        allow_none=True,
        load_default=None,
        validate=fields.POSITION,
        metadata={"description": "Display order; after the other links when omitted."},
    )


class AdminLinkOut(ma.Schema):
    id = ma.fields.UUID(**fields.R)
    source_id = ma.fields.UUID(**fields.R)
    target_id = ma.fields.UUID(**fields.R)
    target = slug_field(**fields.R, metadata={"description": "The linked article's slug."})
    relation = text("see_also", validate=validate.OneOf(list(LINK_RELATIONS)), **fields.R)
    weight = ma.fields.Float(**fields.R, metadata={"example": 0.8})
    anchor_text = nullable_text()
    position = ma.fields.Integer(**fields.R)
    deleted_at = ma.fields.DateTime(required=True, allow_none=True)


class AdminLinkQueryArgs(PageArgs):
    relation = ma.fields.String(validate=validate.OneOf(list(LINK_RELATIONS)))
    trashed = ma.fields.Boolean(
        load_default=False, metadata={"description": "List the trash instead."}
    )


AdminLinkList = list_schema(AdminLinkOut, "AdminLinkList")
