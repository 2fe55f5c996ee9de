"""Shapes of frequently asked questions."""

from __future__ import annotations

import marshmallow as ma

from cms_api.schemas.common import Locale, PageArgs, StrictSchema, list_schema, slug_field, text
from cms_api.schemas.public.people import PersonSummaryOut
from cms_api.schemas.public.topics import TopicRefOut

R = {"required": True}


class FaqEntryOut(ma.Schema):
    id = ma.fields.UUID(**R)
    question = text("How long does a headache after Botox last?", **R)
    answer_html = text("<p>Most settle within a day or two.</p>", **R)
    position = ma.fields.Integer(**R, metadata={"example": 0})


class ArticleRefOut(ma.Schema):
    slug = slug_field(**R)
    title = text("Headache After Botox: Causes, Prevention and Treatment", **R)
    url = text("/v1/articles/headache-after-botox", **R)


class FaqOut(FaqEntryOut):
    """A reviewed FAQ. An article's FAQ is the one in the article's live revision, reviewed
    with the article (see its `review`); a topic's FAQ is its approved text, and names its
    own reviewer and review date."""

    locale = text(
        "en",
        metadata={
            "description": "The locale (BCP 47 tag) the FAQ is written in (an article's "
            "FAQs are in the article's)."
        },
    )
    article = ma.fields.Nested(ArticleRefOut, required=True, allow_none=True)
    topic = ma.fields.Nested(TopicRefOut, required=True, allow_none=True)
    published_at = ma.fields.DateTime(**R)
    updated_at = ma.fields.DateTime(
        **R, metadata={"description": "When the text readers see last changed."}
    )
    reviewed_by = ma.fields.Nested(
        PersonSummaryOut,
        required=True,
        allow_none=True,
        metadata={"description": "A topic FAQ: who approved this text; null for an article's."},
    )
    reviewed_on = ma.fields.Date(
        required=True,
        allow_none=True,
        metadata={"description": "A topic FAQ: when its text was approved; null otherwise."},
    )


class FaqQueryArgs(PageArgs):
    topic = slug_field(
        metadata={"description": "FAQs of this topic or of its articles.", "example": "headache"}
    )
    article = slug_field(metadata={"description": "FAQs of this article."})
    locale = Locale()


class FaqArgs(StrictSchema):
    # The FAQs of the default locale are the ones any example finds.
    locale = Locale(metadata={"example": "en"})


FaqList = list_schema(FaqOut, "FaqList")
