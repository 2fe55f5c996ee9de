"""Shapes of the admin topic resource: the tree, medical codes, lists."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.domain.specialties import MEDICAL_SPECIALTIES
from cms_api.schemas.admin import fields
from cms_api.schemas.common import (
    CODE_SYSTEMS,
    PageArgs,
    StrictSchema,
    StrippedText,
    list_schema,
    nullable_text,
    slug_field,
    text,
)


class AdminCodeIn(StrictSchema):
    system = ma.fields.String(
        required=True,
        validate=validate.OneOf(CODE_SYSTEMS),
        metadata={"description": "`icd10cm` (ICD-10-CM), `snomed` (SNOMED CT) or `mesh` (MeSH)."},
    )
    code = ma.fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Za-z0-9.\-]{1,40}$"),
        metadata={"example": "R51.9"},
    )
    display = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=300),
        metadata={"example": "Headache, unspecified"},
    )


SYNONYM_MAX = 100
SYNONYMS_MAX = 30


class AdminTopicPatch(StrictSchema):
    """Fields an edit may change (JSON merge patch: omitted fields are left alone, codes
    are replaced whole)."""

    slug = slug_field(metadata={"example": "headache"})
    name = ma.fields.String(
        validate=validate.Length(min=1, max=200), metadata={"example": "Headache"}
    )
    description = fields.optional(5000, metadata={"description": "Plain text."})
    parent = slug_field(
        allow_none=True,
        metadata={
            "description": "The parent topic's slug; null for a root.",
            "example": "neurological-symptoms",
        },
    )
    position = ma.fields.Integer(
        validate=fields.POSITION, metadata={"description": "Order among its siblings."}
    )
    specialty = ma.fields.String(
        allow_none=True,
        validate=validate.OneOf(MEDICAL_SPECIALTIES),
        metadata={
            "description": "A member of schema.org's MedicalSpecialty enumeration; articles "
            "on the topic claim it in their JSON-LD. Null: the parent topic's applies.",
            "example": "Neurologic",
        },
    )
    image_id = ma.fields.UUID(
        allow_none=True,
        metadata={
            "description": "The topic page's picture from the media library; null for none.",
            "example": "5e8a1c3f-7b2d-4a6e-9f0c-2d4b6a8e1c35",
        },
    )
    synonyms = ma.fields.List(
        StrippedText(validate=validate.Length(min=1, max=SYNONYM_MAX)),
        validate=validate.Length(max=SYNONYMS_MAX),
        metadata={
            "description": "Other names for the topic, lay terms and abbreviations readers "
            "and clinicians use (`earache`, `TMJ`); the symptom lookup and the Infobutton "
            "endpoint find the topic by them. Replaced whole; a term listed twice (letter "
            "case aside) is kept once.",
            "example": ["earache", "sore ear"],
        },
    )
    codes = ma.fields.List(
        ma.fields.Nested(AdminCodeIn),
        validate=validate.Length(max=50),
        metadata={"description": "Replaced whole: the list sent is the topic's codes."},
    )


class AdminTopicCreate(AdminTopicPatch):
    slug = slug_field(required=True, metadata={"example": "cluster-headache"})
    name = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"example": "Cluster headache"},
    )


class AdminCodeOut(ma.Schema):
    system = text("icd10cm", validate=validate.OneOf(CODE_SYSTEMS), **fields.R)
    code = text("R51.9", **fields.R)
    display = text("Headache, unspecified", **fields.R)


class AdminTopicOut(ma.Schema):
    id = ma.fields.UUID(**fields.R)
    slug = slug_field(**fields.R, metadata={"example": "headache"})
    name = text("Headache", **fields.R)
    description = nullable_text()
    parent = nullable_text("neurological-symptoms", metadata={"description": "Parent slug."})
    children = ma.fields.List(
        ma.fields.String(),
        **fields.R,
        metadata={"description": "Slugs of subtopics not in the trash."},
    )
    position = ma.fields.Integer(**fields.R)
    specialty = nullable_text("Neurologic", metadata={"description": "The topic's own."})
    effective_specialty = nullable_text(
        "Neurologic",
        metadata={"description": "What readers see: its own, else the nearest ancestor's."},
    )
    codes = ma.fields.List(ma.fields.Nested(AdminCodeOut), **fields.R)
    synonyms = ma.fields.List(
        ma.fields.String(), **fields.R, metadata={"example": ["earache", "sore ear"]}
    )
    image_id = ma.fields.UUID(required=True, allow_none=True)
    version = ma.fields.Integer(**fields.R, metadata={"description": "Bumped by every save."})
    created_at = ma.fields.DateTime(**fields.R)
    updated_at = ma.fields.DateTime(**fields.R)
    deleted_at = ma.fields.DateTime(required=True, allow_none=True)


class AdminTopicQueryArgs(PageArgs):
    parent = slug_field(metadata={"description": "Children of this topic."})
    root = ma.fields.Boolean(metadata={"description": "Only roots (true) or only subtopics."})
    q = fields.q("Text in the name or slug.")
    trashed = fields.trashed()


AdminTopicList = list_schema(AdminTopicOut, "AdminTopicList")


class AdminTopicTranslationIn(StrictSchema):
    """A topic's text in one locale, replaced whole: a field left out is emptied."""

    name = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"example": "Dolor de cabeza"},
    )
    description = fields.optional(5000, load_default=None, metadata={"description": "Plain text."})
    synonyms = ma.fields.List(
        StrippedText(validate=validate.Length(min=1, max=SYNONYM_MAX)),
        load_default=list,
        validate=validate.Length(max=SYNONYMS_MAX),
        metadata={
            "description": "Other names readers of this locale use for the topic: the "
            "locale's symptom lookup finds the topic by them. A term listed twice (letter "
            "case aside) is kept once.",
            "example": ["cefalea", "jaqueca"],
        },
    )


class AdminTopicTranslationOut(ma.Schema):
    locale = text("es", **fields.R)
    name = text("Dolor de cabeza", **fields.R)
    description = nullable_text()
    synonyms = ma.fields.List(
        ma.fields.String(), **fields.R, metadata={"example": ["cefalea", "jaqueca"]}
    )
    created_at = ma.fields.DateTime(**fields.R)
    updated_at = ma.fields.DateTime(**fields.R)


AdminTopicTranslationList = ma.Schema.from_dict(
    {"items": ma.fields.List(ma.fields.Nested(AdminTopicTranslationOut), **fields.R)},
    name="AdminTopicTranslationList",
)
