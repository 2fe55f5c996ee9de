"""Shapes of people (authors and medical reviewers) and their credentials."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.schemas.common import (
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


class CredentialOut(ma.Schema):
    kind = text(
        "license", validate=validate.OneOf(["degree", "license", "board_certification"]), **R
    )
    name = text("Physician and Surgeon License", **R)
    issuer = nullable_text("Medical Board of California")
    jurisdiction = nullable_text("California, US")
    number = nullable_text("A-204518")
    valid_from = ma.fields.Date(required=True, allow_none=True)
    valid_until = ma.fields.Date(required=True, allow_none=True)
    verified_at = ma.fields.DateTime(required=True, allow_none=True)
    valid = ma.fields.Boolean(
        **R,
        metadata={
            "description": "Whether the credential is valid on the day the document was "
            "rendered (`valid_from` to `valid_until`, both included; open bounds are open). "
            "Documents are re-rendered daily when a credential starts or expires."
        },
    )


class ProfileLinkOut(ma.Schema):
    kind = nullable_text("orcid")
    url = nullable_text("https://orcid.org/0000-0002-1825-0097")


class PersonSummaryOut(ma.Schema):
    id = ma.fields.UUID(**R)
    slug = slug_field(**R, metadata={"example": "miriam-castellanos-reed"})
    name = text("Miriam Castellanos-Reed", **R)
    display_name = text("Dr. Miriam Castellanos-Reed, MD", **R)
    honorific_prefix = nullable_text("Dr.")
    honorific_suffix = nullable_text("MD")
    job_title = nullable_text("Neurologist")
    photo_url = nullable_text(
        "https://images.example.org/people/miriam-castellanos-reed.jpg",
        metadata={
            "description": "A photo given as an address, kept for existing clients: `image` "
            "supersedes it (crops, sizes, alt text)."
        },
    )
    image = ma.fields.Nested(
        ImageOut,
        required=True,
        allow_none=True,
        metadata={"description": "The person's picture (a `1:1` crop suits a portrait)."},
    )


class PersonListItemOut(PersonSummaryOut):
    locale = text(
        "en",
        metadata={
            "description": "The locale (BCP 47 tag) of this text; in a list asked for "
            "with `fallback=default`, the default locale's where no translation exists."
        },
    )
    roles = ma.fields.List(text(validate=validate.OneOf(["author", "reviewer"])), **R)


class PersonProfileOut(PersonSummaryOut):
    specialties = ma.fields.List(ma.fields.String(), **R)
    profile_links = ma.fields.List(ma.fields.Nested(ProfileLinkOut), **R)
    credentials = ma.fields.List(ma.fields.Nested(CredentialOut), **R)


class ReviewerOut(PersonProfileOut):
    reviewed_at = ma.fields.Date(required=True, allow_none=True)


class PersonQueryArgs(PageArgs):
    role = ma.fields.String(
        validate=validate.OneOf(["author", "reviewer"]),
        metadata={
            "description": "Only people with published work in this role.",
            "example": "author",
        },
    )
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


class PersonArgs(StrictSchema):
    # The seeded examples are in the default locale: an example in another would be a 404.
    locale = Locale(metadata={"example": "en"})


PersonList = list_schema(PersonListItemOut, "PersonList")


class EmbeddedArticlesOut(ma.Schema):
    total = ma.fields.Integer(**R, metadata={"example": 3})
    items = ma.fields.List(
        ma.fields.Nested("ArticleSummaryOut"),
        **R,
        metadata={"description": "The newest 50, newest first."},
    )


class PersonDocumentOut(PersonProfileOut):
    locale = text(
        "en",
        metadata={
            "description": "The locale (BCP 47 tag) of this text; in a list asked for "
            "with `fallback=default`, the default locale's where no translation exists."
        },
    )
    bio_html = nullable_text(
        "<p>Dr. Castellanos-Reed is a neurologist who treats headache disorders.</p>"
    )
    roles = ma.fields.List(text(validate=validate.OneOf(["author", "reviewer"])), **R)
    articles_authored = ma.fields.Nested(EmbeddedArticlesOut, **R)
    articles_reviewed = ma.fields.Nested(EmbeddedArticlesOut, **R)
