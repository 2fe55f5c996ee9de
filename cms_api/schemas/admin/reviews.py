"""Shapes of reviews: those due, and the notes of a topic FAQ's or red flag's review step."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.schemas.common import (
    StrictSchema,
)

R = {"required": True}


class ReviewNotesIn(StrictSchema):
    notes = ma.fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=5000),
        metadata={"description": "The reviewer's notes, kept in the audit log."},
    )


class ReviewsDueArgs(StrictSchema):
    within_days = ma.fields.Integer(load_default=30, validate=validate.Range(min=0, max=3650))


class ReviewDueOut(ma.Schema):
    id = ma.fields.UUID(**R)
    slug = ma.fields.String(**R)
    locale = ma.fields.String(
        **R, metadata={"description": "The locale the article is in.", "example": "en"}
    )
    title = ma.fields.String(**R)
    next_review_due = ma.fields.Date(**R)
    last_reviewed_at = ma.fields.Date(required=True, allow_none=True)
    overdue = ma.fields.Boolean(**R)
    review_flags = ma.fields.List(ma.fields.String(), **R)


ReviewsDueList = ma.Schema.from_dict(
    {"items": ma.fields.List(ma.fields.Nested(ReviewDueOut), **R)}, name="ReviewsDueList"
)
