"""Shapes of the admin people resource: profiles, credentials, lists."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from cms_api.domain import locales
from cms_api.models.person import CREDENTIAL_KINDS
from cms_api.schemas.admin import fields
from cms_api.schemas.common import (
    PageArgs,
    StrictSchema,
    free_text,
    list_schema,
    nullable_text,
    slug_field,
    text,
)


class AdminCredentialIn(StrictSchema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(list(CREDENTIAL_KINDS)))
    name = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"example": "Board Certification in Neurology"},
    )
    issuer = fields.optional(200, load_default=None)
    jurisdiction = fields.optional(120, load_default=None)
    number = fields.optional(80, load_default=None)
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
    url = fields.url(required=True, metadata={"example": "https://orcid.org/0000-0002-9473-8150"})


class LanguageTag(ma.fields.String):
    """A BCP 47 tag (a bare language such as "es" included), read in any case and given in
    its normal form ("ES-mx" is "es-MX")."""

    default_error_messages = {"malformed": "Not a BCP 47 language tag such as 'es' or 'es-MX'."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Length(min=2, max=35), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        tag = locales.normalized(super()._deserialize(value, attr, data, **kwargs))
        if tag is None:
            raise self.make_error("malformed")
        return tag


class AdminPersonPatch(StrictSchema):
    """Fields an edit may change (JSON merge patch: omitted fields are left alone, lists
    are replaced whole)."""

    slug = slug_field(metadata={"example": "miriam-castellanos-reed"})
    name = ma.fields.String(
        validate=validate.Length(min=1, max=200), metadata={"example": "Miriam Castellanos-Reed"}
    )
    honorific_prefix = fields.optional(40, metadata={"example": "Dr."})
    honorific_suffix = fields.optional(80, metadata={"example": "MD"})
    job_title = fields.optional(200, metadata={"example": "Neurologist"})
    bio = fields.optional(20_000, metadata=fields.markdown())
    photo_url = fields.url(
        allow_none=True,
        metadata={"description": "A photo elsewhere; `image_id` supersedes it where set."},
    )
    image_id = ma.fields.UUID(
        allow_none=True,
        metadata={
            "description": "The person's picture from the media library (delivery serves "
            "its crops and sizes, JSON-LD `image`); null for none.",
            "example": "9c2e4a71-5d3b-4e8f-a1c6-7b0d2f4e6a58",
        },
    )
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
    review_locales = ma.fields.List(
        LanguageTag(),
        validate=validate.Length(max=20),
        metadata={
            "description": "The locales this person reviews medical content in (BCP 47 "
            "tags); an approval of content in any other locale is refused. A bare language "
            "covers its regions (`es` covers `es-MX`). Each must be one of the site's "
            "locales (CMS_LOCALES) or the language of one (422 otherwise). Empty: any "
            "locale. Replaced whole; each tag is kept once, in its normal form.",
            "example": ["es"],
        },
    )


class AdminPersonCreate(AdminPersonPatch):
    slug = slug_field(required=True, metadata={"example": "miriam-castellanos-reed"})
    name = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"example": "Miriam Castellanos-Reed"},
    )


class AdminCredentialOut(ma.Schema):
    kind = text("license", validate=validate.OneOf(list(CREDENTIAL_KINDS)), **fields.R)
    name = text("Physician and Surgeon License", **fields.R)
    issuer = nullable_text()
    jurisdiction = nullable_text()
    number = nullable_text()
    valid_from = ma.fields.Date(required=True, allow_none=True)
    valid_until = ma.fields.Date(required=True, allow_none=True)
    verified_at = ma.fields.DateTime(required=True, allow_none=True)


class AdminProfileLinkOut(ma.Schema):
    kind = text("orcid", **fields.R)
    url = text("https://orcid.org/0000-0002-9473-8150", **fields.R)


class AdminPersonOut(ma.Schema):
    id = ma.fields.UUID(**fields.R)
    slug = slug_field(**fields.R, metadata={"example": "miriam-castellanos-reed"})
    name = text("Miriam Castellanos-Reed", **fields.R)
    honorific_prefix = nullable_text("Dr.")
    honorific_suffix = nullable_text("MD")
    job_title = nullable_text("Neurologist")
    bio = nullable_text(metadata=fields.markdown())
    photo_url = nullable_text()
    image_id = ma.fields.UUID(required=True, allow_none=True)
    profile_links = ma.fields.List(ma.fields.Nested(AdminProfileLinkOut), **fields.R)
    specialties = ma.fields.List(ma.fields.String(), **fields.R)
    credentials = ma.fields.List(ma.fields.Nested(AdminCredentialOut), **fields.R)
    review_locales = ma.fields.List(
        ma.fields.String(),
        **fields.R,
        metadata={
            "description": "The locales the person reviews in; empty: any.",
            "example": ["es"],
        },
    )
    version = ma.fields.Integer(**fields.R, metadata={"description": "Bumped by every save."})
    created_at = ma.fields.DateTime(**fields.R)
    updated_at = ma.fields.DateTime(**fields.R)
    deleted_at = ma.fields.DateTime(required=True, allow_none=True)


class AdminPersonQueryArgs(PageArgs):
    q = fields.q("Text in the name or slug.")
    specialty = free_text(120, metadata={"example": "Neurology"})
    trashed = fields.trashed()


AdminPersonList = list_schema(AdminPersonOut, "AdminPersonList")


class AdminPersonTranslationIn(StrictSchema):
    """A person's text in one locale, replaced whole: a field left out is emptied."""

    job_title = fields.optional(200, load_default=None, metadata={"example": "Neuróloga"})
    bio = fields.optional(20_000, load_default=None, metadata=fields.markdown())

    @ma.validates_schema
    def _says_something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("job_title") is None and data.get("bio") is None:
            raise ma.ValidationError(
                "Give a job title or a bio; DELETE removes a translation.", "job_title"
            )


class AdminPersonTranslationOut(ma.Schema):
    locale = text("es", **fields.R)
    job_title = nullable_text("Neuróloga")
    bio = nullable_text(metadata=fields.markdown())
    created_at = ma.fields.DateTime(**fields.R)
    updated_at = ma.fields.DateTime(**fields.R)


AdminPersonTranslationList = ma.Schema.from_dict(
    {"items": ma.fields.List(ma.fields.Nested(AdminPersonTranslationOut), **fields.R)},
    name="AdminPersonTranslationList",
)
