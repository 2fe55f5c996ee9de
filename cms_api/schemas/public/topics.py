"""Shapes of topics, their medical codes and the topic tree."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.schemas.common import (
    CODE_SYSTEMS,
    Locale,
    PageArgs,
    StrictSchema,
    list_schema,
    nullable_text,
    slug_field,
    text,
)
from cms_api.schemas.public.images import ImageOut

R = {"required": True}


class MedicalCodeOut(ma.Schema):
    system = text(
        "icd10cm",
        validate=validate.OneOf(CODE_SYSTEMS),
        **R,
        metadata={"description": "`icd10cm` (ICD-10-CM), `snomed` (SNOMED CT) or `mesh` (MeSH)."},
    )
    code = text("R51.9", **R)
    display = text("Headache, unspecified", **R)


class TopicSummaryOut(ma.Schema):
    id = ma.fields.UUID(**R)
    slug = slug_field(**R, metadata={"example": "headache"})
    name = text("Headache", **R)
    codes = ma.fields.List(ma.fields.Nested(MedicalCodeOut), **R)
    specialty = nullable_text(
        "Neurologic",
        metadata={
            "description": "The schema.org MedicalSpecialty the topic belongs to: its own, "
            "or its nearest ancestor's."
        },
    )


class TopicTreeOut(TopicSummaryOut):
    locale = text(
        "en",
        metadata={
            "description": "The locale (BCP 47 tag) of this text; in a list asked for "
            "with `fallback=default`, the default locale's where no translation exists."
        },
    )
    children = ma.fields.List(ma.fields.Nested(lambda: TopicTreeOut()), **R)


class TopicRefOut(ma.Schema):
    slug = slug_field(**R, metadata={"example": "headache"})
    name = text("Headache", **R)


class TopicQueryArgs(PageArgs):
    locale = Locale()
    fallback = ma.fields.String(
        validate=validate.OneOf(["default"]),
        metadata={
            "description": "`default`: also list, in the site's default locale, what has "
            "no translation in `locale` (each item's `locale` says which it is in). For "
            "navigation only; no detail read ever falls back.",
            "example": "default",
        },
    )


class TopicArgs(StrictSchema):
    # The seeded examples are in the default locale: an example in another would be a 404.
    locale = Locale(metadata={"example": "en"})


TopicList = list_schema(TopicTreeOut, "TopicList")


class TopicDocumentOut(TopicSummaryOut):
    locale = text(
        "en",
        metadata={
            "description": "The locale (BCP 47 tag) of this text; in a list asked for "
            "with `fallback=default`, the default locale's where no translation exists."
        },
    )
    description = nullable_text("Pain anywhere in the head or upper neck.")
    synonyms = ma.fields.List(
        ma.fields.String(),
        **R,
        metadata={
            "description": "Other names for the topic: lay terms and abbreviations "
            "(what a topic page shows as 'Also called').",
            "example": ["head pain", "cephalalgia"],
        },
    )
    image = ma.fields.Nested(
        ImageOut,
        required=True,
        allow_none=True,
        metadata={"description": "The topic page's picture; null for none."},
    )
    parent = ma.fields.Nested(TopicRefOut, required=True, allow_none=True)
    children = ma.fields.List(ma.fields.Nested(TopicRefOut), **R)
    articles = ma.fields.Nested("EmbeddedArticlesOut", **R)
    faqs = ma.fields.List(ma.fields.Nested("FaqEntryOut"), **R)
