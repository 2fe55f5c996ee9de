"""Shapes of the questions instant answers could not answer, as editors list them."""

from __future__ import annotations

import marshmallow as ma

from cms_api.schemas.common import Locale, PageArgs, list_schema, text

R = {"required": True}


class UnansweredOut(ma.Schema):
    id = ma.fields.UUID(**R)
    locale = text(
        "en",
        **R,
        metadata={
            "description": "The locale it was asked in (`GET /v1/answers?locale=`): content "
            "to write in that language."
        },
    )
    question = text(
        "Can lip filler cause headaches?",
        **R,
        metadata={"description": "The question as first asked."},
    )
    normalized = text(
        "can lip filler cause headaches",
        **R,
        metadata={"description": "What it is counted under: case, punctuation and spacing folded."},
    )
    count = ma.fields.Integer(
        **R, metadata={"description": "How often it was asked.", "example": 12}
    )
    first_asked_at = ma.fields.DateTime(**R)
    last_asked_at = ma.fields.DateTime(**R)
    dismissed_at = ma.fields.DateTime(required=True, allow_none=True)


UnansweredList = list_schema(UnansweredOut, "UnansweredList")


class UnansweredQueryArgs(PageArgs):
    locale = Locale(
        load_default=ma.missing,  # no filter: every locale's
        metadata={
            "description": "Only the questions asked in this locale (one of the site's "
            "locales, CMS_LOCALES). Default: every locale's.",
            "example": "es",
        },
    )
