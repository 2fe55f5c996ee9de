"""Shapes of the admin FAQ, person, topic and related-link resources: writes, reads, lists."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from cms_api.schemas.common import (
    CODE_SYSTEMS,
    PageArgs,
    StrictSchema,
    free_text,
    list_schema,
    nullable_text,
    slug_field,
    text,
)

R = {"required": True}
FAQ_STATUSES = ["draft", "published"]
CREDENTIAL_KINDS = ["degree", "license", "board_certification"]
LINK_RELATIONS = ["see_also", "similar_symptom", "complication_of", "treatment_for", "differential"]
# Positions order siblings; the bound keeps them inside PostgreSQL's integer.
POSITION = validate.Range(min=0, max=100_000)


def _markdown() -> dict[str, str]:
    # A fresh dict each time: `text()` adds its example to the metadata it is given.
    return {"description": "Markdown (CommonMark); delivery serves it as sanitized HTML."}


def _url(**kwargs: Any) -> ma.fields.Url:
    return ma.fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2048), **kwargs)


def _optional(max_length: int, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(allow_none=True, validate=validate.Length(max=max_length), **kwargs)


def _trashed() -> ma.fields.Boolean:
    return ma.fields.Boolean(
        load_default=False, metadata={"description": "List the trash instead."}
    )


def _q(description: str) -> ma.fields.String:
    return free_text(200, metadata={"description": description})


# -- FAQs ----------------------------------------------------------------------------------


class AdminFaqPatch(StrictSchema):
    """Fields an edit may change (JSON merge patch: omitted fields are left alone). Naming
    an `article_id` or a `topic` moves the FAQ there; it belongs to exactly one."""

    question = ma.fields.String(
        validate=validate.Length(min=1, max=500),
        metadata={"example": "How long does a headache after Botox last?"},
    )
    answer = ma.fields.String(validate=validate.Length(min=1, max=20_000), metadata=_markdown())
    position = ma.fields.Integer(validate=POSITION, metadata={"description": "Display order."})
    status = ma.fields.String(
        validate=validate.OneOf(FAQ_STATUSES),
        metadata={
            "description": "`published` FAQs are shown with their published article or topic."
        },
    )
    article_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "The article the FAQ belongs to."}
    )
    topic = slug_field(
        allow_none=True,
        metadata={"description": "The topic the FAQ belongs to.", "example": "headache"},
    )


class AdminFaqCreate(AdminFaqPatch):
    question = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"example": "How long does a headache after Botox last?"},
    )
    answer = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=20_000), metadata=_markdown()
    )
    position = ma.fields.Integer(load_default=0, validate=POSITION)
    status = ma.fields.String(
        load_default="draft",
        validate=validate.OneOf(FAQ_STATUSES),
        metadata={"description": "Starts as `draft` unless given."},
    )


class AdminFaqOut(ma.Schema):
    id = ma.fields.UUID(**R)
    question = text("How long does a headache after Botox last?", **R)
    answer = text("Most settle within a day or two.", **R, metadata=_markdown())
    position = ma.fields.Integer(**R)
    status = text("draft", validate=validate.OneOf(FAQ_STATUSES), **R)
    article_id = ma.fields.UUID(required=True, allow_none=True)
    article = nullable_text("headache-after-botox", metadata={"description": "Article slug."})
    topic = nullable_text("headache", metadata={"description": "Topic slug."})
    published_at = ma.fields.DateTime(required=True, allow_none=True)
    version = ma.fields.Integer(**R, metadata={"description": "Bumped by every save."})
    created_at = ma.fields.DateTime(**R)
    updated_at = ma.fields.DateTime(**R)
    deleted_at = ma.fields.DateTime(required=True, allow_none=True)


class AdminFaqQueryArgs(PageArgs):
    article_id = ma.fields.UUID(metadata={"description": "FAQs of this article."})
    topic = slug_field(metadata={"description": "FAQs of this topic.", "example": "headache"})
    status = ma.fields.String(validate=validate.OneOf(FAQ_STATUSES))
    q = _q("Text in the question or answer.")
    trashed = _trashed()


# -- people --------------------------------------------------------------------------------


class AdminCredentialIn(StrictSchema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(CREDENTIAL_KINDS))
    name = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"example": "Board Certification in Neurology"},
    )
    issuer = _optional(200, load_default=None)
    jurisdiction = _optional(120, load_default=None)
    number = _optional(80, load_default=None)
    valid_from = ma.fields.Date(allow_none=True, load_default=None)
    valid_until = ma.fields.Date(
        allow_none=True, load_default=None, metadata={"description": "On or after `valid_from`."}
    )
    verified_at = ma.fields.AwareDateTime(
        allow_none=True,
        load_default=None,
        metadata={"description": "When an editor checked it with the issuer."},
    )

    @ma.validates_schema
    def _validity_ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("valid_from"), data.get("valid_until")
        if start is not None and end is not None and end < start:
            raise ma.ValidationError("Must not be before valid_from.", "valid_until")


class AdminProfileLinkIn(StrictSchema):
    kind = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=40), validate.Regexp(r"^[a-z0-9_-]+$")],
        metadata={"example": "orcid"},
    )
    url = _url(required=True, metadata={"example": "https://orcid.org/0000-0002-9473-8150"})


class AdminPersonPatch(StrictSchema):
    """Fields an edit may change (JSON merge patch: omitted fields are left alone, lists
    are replaced whole)."""

    slug = slug_field(metadata={"example": "miriam-castellanos-reed"})
    name = ma.fields.String(
        validate=validate.Length(min=1, max=200), metadata={"example": "Miriam Castellanos-Reed"}
    )
    honorific_prefix = _optional(40, metadata={"example": "Dr."})
    honorific_suffix = _optional(80, metadata={"example": "MD"})
    job_title = _optional(200, metadata={"example": "Neurologist"})
    bio = _optional(20_000, metadata=_markdown())
    photo_url = _url(allow_none=True)
    profile_links = ma.fields.List(
        ma.fields.Nested(AdminProfileLinkIn),
        validate=validate.Length(max=20),
        metadata={"description": "Identity links (ORCID, NPI, a website): schema.org `sameAs`."},
    )
    specialties = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=120)),
        validate=validate.Length(max=20),
        metadata={"example": ["Neurology", "Headache medicine"]},
    )
    credentials = ma.fields.List(
        ma.fields.Nested(AdminCredentialIn),
        validate=validate.Length(max=50),
        metadata={"description": "Replaced whole: the list sent is the person's credentials."},
    )


class AdminPersonCreate(AdminPersonPatch):
    slug = slug_field(required=True, metadata={"example": "miriam-castellanos-reed"})
    name = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"example": "Miriam Castellanos-Reed"},
    )


class AdminCredentialOut(ma.Schema):
    kind = text("license", validate=validate.OneOf(CREDENTIAL_KINDS), **R)
    name = text("Physician and Surgeon License", **R)
    issuer = nullable_text()
    jurisdiction = nullable_text()
    number = nullable_text()
    valid_from = ma.fields.Date(required=True, allow_none=True)
    valid_until = ma.fields.Date(required=True, allow_none=True)
    verified_at = ma.fields.DateTime(required=True, allow_none=True)


class AdminProfileLinkOut(ma.Schema):
    kind = text("orcid", **R)
    url = text("https://orcid.org/0000-0002-9473-8150", **R)


class AdminPersonOut(ma.Schema):
    id = ma.fields.UUID(**R)
    slug = slug_field(**R, metadata={"example": "miriam-castellanos-reed"})
    name = text("Miriam Castellanos-Reed", **R)
    honorific_prefix = nullable_text("Dr.")
    honorific_suffix = nullable_text("MD")
    job_title = nullable_text("Neurologist")
    bio = nullable_text(metadata=_markdown())
    photo_url = nullable_text()
    profile_links = ma.fields.List(ma.fields.Nested(AdminProfileLinkOut), **R)
    specialties = ma.fields.List(ma.fields.String(), **R)
    credentials = ma.fields.List(ma.fields.Nested(AdminCredentialOut), **R)
    version = ma.fields.Integer(**R, metadata={"description": "Bumped by every save."})
    created_at = ma.fields.DateTime(**R)
    updated_at = ma.fields.DateTime(**R)
    deleted_at = ma.fields.DateTime(required=True, allow_none=True)


class AdminPersonQueryArgs(PageArgs):
    q = _q("Text in the name or slug.")
    specialty = free_text(120, metadata={"example": "Neurology"})
    trashed = _trashed()


# -- topics --------------------------------------------------------------------------------


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


class AdminTopicPatch(StrictSchema):
    """Fields an edit may change (JSON merge patch: omitted fields are left alone, codes
    are replaced whole)."""

    slug = slug_field(metadata={"example": "headache"})
    name = ma.fields.String(
        validate=validate.Length(min=1, max=200), metadata={"example": "Headache"}
    )
    description = _optional(5000, metadata={"description": "Plain text."})
    parent = slug_field(
        allow_none=True,
        metadata={
            "description": "The parent topic's slug; null for a root.",
            "example": "neurological-symptoms",
        },
    )
    position = ma.fields.Integer(
        validate=POSITION, metadata={"description": "Order among its siblings."}
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
    system = text("icd10cm", validate=validate.OneOf(CODE_SYSTEMS), **R)
    code = text("R51.9", **R)
    display = text("Headache, unspecified", **R)


class AdminTopicOut(ma.Schema):
    id = ma.fields.UUID(**R)
    slug = slug_field(**R, metadata={"example": "headache"})
    name = text("Headache", **R)
    description = nullable_text()
    parent = nullable_text("neurological-symptoms", metadata={"description": "Parent slug."})
    children = ma.fields.List(
        ma.fields.String(), **R, metadata={"description": "Slugs of subtopics not in the trash."}
    )
    position = ma.fields.Integer(**R)
    codes = ma.fields.List(ma.fields.Nested(AdminCodeOut), **R)
    version = ma.fields.Integer(**R, metadata={"description": "Bumped by every save."})
    created_at = ma.fields.DateTime(**R)
    updated_at = ma.fields.DateTime(**R)
    deleted_at = ma.fields.DateTime(required=True, allow_none=True)


class AdminTopicQueryArgs(PageArgs):
    parent = slug_field(metadata={"description": "Children of this topic."})
    root = ma.fields.Boolean(metadata={"description": "Only roots (true) or only subtopics."})
    q = _q("Text in the name or slug.")
    trashed = _trashed()


# -- related links -------------------------------------------------------------------------


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

    relation = ma.fields.String(validate=validate.OneOf(LINK_RELATIONS))
    weight = _weight()
    anchor_text = _optional(200, metadata={"example": "Headache with ear pain"})
    position = ma.fields.Integer(validate=POSITION, metadata={"description": "Display order."})


class AdminLinkCreate(AdminLinkPatch):
    target_id = ma.fields.UUID(required=True, metadata={"description": "The linked article."})
    relation = ma.fields.String(load_default="see_also", validate=validate.OneOf(LINK_RELATIONS))
    weight = _weight(load_default=0.5)
    anchor_text = _optional(200, load_default=None)
    position = ma.fields.Integer(
        allow_none=True,
        load_default=None,
        validate=POSITION,
        metadata={"description": "Display order; after the other links when omitted."},
    )


class AdminLinkOut(ma.Schema):
    id = ma.fields.UUID(**R)
    source_id = ma.fields.UUID(**R)
    target_id = ma.fields.UUID(**R)
    target = slug_field(**R, metadata={"description": "The linked article's slug."})
    relation = text("see_also", validate=validate.OneOf(LINK_RELATIONS), **R)
    weight = ma.fields.Float(**R, metadata={"example": 0.8})
    anchor_text = nullable_text()
    position = ma.fields.Integer(**R)
    deleted_at = ma.fields.DateTime(required=True, allow_none=True)


class AdminLinkQueryArgs(PageArgs):
    relation = ma.fields.String(validate=validate.OneOf(LINK_RELATIONS))
    trashed = ma.fields.Boolean(
        load_default=False, metadata={"description": "List the trash instead."}
    )


AdminFaqList = list_schema(AdminFaqOut, "AdminFaqList")
AdminPersonList = list_schema(AdminPersonOut, "AdminPersonList")
AdminTopicList = list_schema(AdminTopicOut, "AdminTopicList")
AdminLinkList = list_schema(AdminLinkOut, "AdminLinkList")
