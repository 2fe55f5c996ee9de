"""Shapes of the admin red flag resource: writes, reads, lists, review steps."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.models.red_flag import RED_FLAG_STATUSES
from cms_api.schemas.admin import fields
from cms_api.schemas.common import (
    PageArgs,
    StrictSchema,
    list_schema,
    nullable_text,
    slug_field,
    text,
)

# A phone number to dial, or a page (a crisis chat, say) on the web.
ACTION_URL_PATTERN = r"^(tel:\+?[0-9][0-9-]{1,30}|https://[^\s]{1,300})$"
TRIGGER_EXAMPLE = ["sudden | thunderclap | worst + headache", "worst headache of my life"]
TRIGGERS_DESCRIPTION = (
    "When the guidance is shown. A trigger is groups separated by `+`, all of which must be "
    "in what the reader typed, each group alternatives separated by `|`, any one of which "
    "will do; an alternative of several words is a phrase (its words in that order). "
    "Matching ignores case, accents, punctuation and plurals, and forgives a typo or two "
    "in words of six letters or more. Shorter words must be spelt as written."
)


class ActionIn(StrictSchema):
    label = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"example": "Call 911 or your local emergency number"},
    )
    url = ma.fields.String(
        required=True,
        validate=validate.Regexp(ACTION_URL_PATTERN, error="A `tel:` number or an https URL."),
        metadata={"example": "tel:911", "description": "A `tel:` link, or an https URL."},
    )


class AdminRedFlagPatch(StrictSchema):
    """Fields an edit may change (JSON merge patch: omitted fields are left alone). Any
    change sends a red flag that was in review, approved or published back to `draft`;
    readers keep its published guidance until the new words are approved and published."""

    slug = slug_field(metadata={"example": "thunderclap-headache"})
    name = ma.fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"example": "Sudden, severe (thunderclap) headache"},
    )
    locale = ma.fields.String(
        validate=validate.OneOf(["en"]),
        metadata={"description": "The guidance's language; one locale (`en`) for now."},
    )
    priority = ma.fields.Integer(
        validate=validate.Range(min=0, max=100_000),
        metadata={"description": "Lower first: the order red flags are tried in.", "example": 50},
    )
    triggers = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=500)),
        validate=validate.Length(min=1, max=200),
        metadata={"description": TRIGGERS_DESCRIPTION, "example": TRIGGER_EXAMPLE},
    )
    title = ma.fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"example": "A sudden, severe headache needs emergency care"},
    )
    body = ma.fields.String(validate=validate.Length(min=1, max=20_000), metadata=fields.markdown())
    action = ma.fields.Nested(ActionIn)


class AdminRedFlagCreate(AdminRedFlagPatch):
    slug = slug_field(required=True, metadata={"example": "thunderclap-headache"})
    name = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"example": "Sudden, severe (thunderclap) headache"},
    )
    locale = ma.fields.String(load_default="en", validate=validate.OneOf(["en"]))
    priority = ma.fields.Integer(load_default=100, validate=validate.Range(min=0, max=100_000))
    triggers = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=500)),
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": TRIGGERS_DESCRIPTION, "example": TRIGGER_EXAMPLE},
    )
    title = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"example": "A sudden, severe headache needs emergency care"},
    )
    body = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=20_000), metadata=fields.markdown()
    )
    action = ma.fields.Nested(ActionIn, required=True)


class ActionOut(ma.Schema):
    label = text("Call 911 or your local emergency number", **fields.R)
    url = text("tel:911", **fields.R)


class AdminRedFlagOut(ma.Schema):
    id = ma.fields.UUID(**fields.R)
    slug = text("thunderclap-headache", **fields.R)
    name = text("Sudden, severe (thunderclap) headache", **fields.R)
    locale = text("en", **fields.R)
    priority = ma.fields.Integer(**fields.R, metadata={"example": 50})
    triggers = ma.fields.List(ma.fields.String(), **fields.R, metadata={"example": TRIGGER_EXAMPLE})
    title = text("A sudden, severe headache needs emergency care", **fields.R)
    body = text("Call for help **now**.", **fields.R, metadata=fields.markdown())
    action = ma.fields.Nested(ActionOut, **fields.R)
    status = text("draft", validate=validate.OneOf(list(RED_FLAG_STATUSES)), **fields.R)
    allowed_transitions = ma.fields.List(
        ma.fields.String(),
        **fields.R,
        metadata={"description": "The review steps open now.", "example": ["submit"]},
    )
    live = ma.fields.Boolean(
        **fields.R,
        metadata={
            "description": "Whether published guidance is being shown for it (the text "
            "approved and published last, which may differ from this working copy)."
        },
    )
    reviewed_by = nullable_text(
        "tobias-lindqvist", metadata={"description": "Who approved the current approval."}
    )
    reviewed_on = ma.fields.Date(required=True, allow_none=True)
    published_at = ma.fields.DateTime(required=True, allow_none=True)
    version = ma.fields.Integer(**fields.R, metadata={"description": "Bumped by every save."})
    created_at = ma.fields.DateTime(**fields.R)
    updated_at = ma.fields.DateTime(**fields.R)
    deleted_at = ma.fields.DateTime(required=True, allow_none=True)


class AdminRedFlagQueryArgs(PageArgs):
    status = ma.fields.String(validate=validate.OneOf(list(RED_FLAG_STATUSES)))
    q = fields.q("Text in the name, title or slug.")
    trashed = fields.trashed()


AdminRedFlagList = list_schema(AdminRedFlagOut, "AdminRedFlagList")
