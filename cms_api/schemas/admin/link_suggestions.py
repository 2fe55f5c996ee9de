"""Shapes of link suggestions: related articles worth linking, and accepting one."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.models.article import LINK_RELATIONS
from cms_api.schemas.common import (
    StrictSchema,
    list_schema,
    slug_field,
    text,
)

R = {"required": True}


class LinkSuggestionArgs(StrictSchema):
    limit = ma.fields.Integer(
        load_default=10,
        validate=validate.Range(min=1, max=50),
        metadata={"description": "Suggestions to return, 1 to 50.", "example": 10},
    )


class LinkSuggestionOut(ma.Schema):
    target_id = ma.fields.UUID(**R)
    slug = slug_field(**R, metadata={"example": "tmj-headache"})
    title = text("TMJ Headache: Jaw Pain, Causes and Relief", **R)
    score = ma.fields.Float(
        **R, metadata={"description": "0 to 1; higher is a better match.", "example": 0.42}
    )
    shared_topics = ma.fields.List(
        slug_field(metadata={"example": "headache"}),
        **R,
        metadata={"description": "The article's topics the target is on (or below)."},
    )
    shared_terms = ma.fields.List(
        ma.fields.String(metadata={"example": "headache"}),
        **R,
        metadata={
            "description": "Words of the article's title and summary whose stems the "
            "target's title and summary share (at most 8)."
        },
    )
    reasons = ma.fields.List(
        ma.fields.String(metadata={"example": "Shares the topic headache"}),
        **R,
        metadata={"description": "Why it is suggested, in words."},
    )


LinkSuggestionList = list_schema(LinkSuggestionOut, "LinkSuggestionList")


class LinkSuggestionAccept(StrictSchema):
    """How the link is made; everything is optional."""

    relation = ma.fields.String(
        load_default="see_also",
        validate=validate.OneOf(LINK_RELATIONS),
        metadata={"example": "similar_symptom"},
    )
    weight = ma.fields.Float(
        load_default=0.5,
        validate=validate.Range(min=0, max=1, min_inclusive=False),
        metadata={"example": 0.5, "description": "Above 0, at most 1."},
    )
    anchor_text = ma.fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Default: the target's title.", "example": "TMJ headache"},
    )
