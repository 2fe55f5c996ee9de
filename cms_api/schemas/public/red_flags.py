"""Shapes of published red flags: urgent guidance shown when a reader types an emergency."""

from __future__ import annotations

import marshmallow as ma

from cms_api.schemas.common import Locale, PageArgs, StrictSchema, list_schema, text

R = {"required": True}


class RedFlagActionOut(ma.Schema):
    label = text("Call 911 or your local emergency number", **R)
    url = text("tel:911", **R, metadata={"description": "A `tel:` link, or an https URL."})


class RedFlagReviewerOut(ma.Schema):
    slug = text("tobias-lindqvist", **R)
    name = text("Tobias Lindqvist", **R)


class RedFlagOut(ma.Schema):
    """Reviewed urgent guidance, shown instead of content when what a reader typed
    matches one of its triggers."""

    id = ma.fields.UUID(**R)
    slug = text("thunderclap-headache", **R)
    name = text("Sudden, severe (thunderclap) headache", **R)
    locale = text("en", **R)
    priority = ma.fields.Integer(
        **R, metadata={"description": "Lower first: the order they are tried in.", "example": 50}
    )
    title = text("A sudden, severe headache needs emergency care", **R)
    body_html = text("<p>Call for help <strong>now</strong>.</p>", **R)
    action = ma.fields.Nested(RedFlagActionOut, **R)
    triggers = ma.fields.List(
        ma.fields.String(),
        **R,
        metadata={
            "description": "What the guidance is shown for: `+` joins groups that must all "
            "be present, `|` separates alternatives.",
            "example": ["sudden | thunderclap | worst + headache"],
        },
    )
    reviewed_by = ma.fields.Nested(RedFlagReviewerOut, required=True, allow_none=True)
    reviewed_on = ma.fields.Date(required=True, allow_none=True)
    published_at = ma.fields.DateTime(**R)
    updated_at = ma.fields.DateTime(**R)


class RedFlagQueryArgs(PageArgs):
    # Guidance is written in the default locale; another lists what exists in it.
    locale = Locale(metadata={"example": "en"})


class RedFlagArgs(StrictSchema):
    locale = Locale(metadata={"example": "en"})


RedFlagList = list_schema(RedFlagOut, "RedFlagList")
