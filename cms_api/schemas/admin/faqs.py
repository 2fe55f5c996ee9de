"""Shapes of the admin FAQ resource: writes, reads, lists."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.models.faq import FAQ_STATUSES
from cms_api.schemas.admin import fields
from cms_api.schemas.common import (
    Locale,
    PageArgs,
    StrictSchema,
    list_schema,
    nullable_text,
    slug_field,
    text,
)

# `in_review` is reached only by submitting a topic FAQ, never by writing it.
WRITABLE_STATUSES = [status for status in FAQ_STATUSES if status != "in_review"]


class AdminFaqPatch(StrictSchema):
    """Fields an edit may change (JSON merge patch: omitted fields are left alone). Naming
    an `article_id` or a `topic` moves the FAQ there; it belongs to exactly one."""

    question = ma.fields.String(
        validate=validate.Length(min=1, max=500),
        metadata={"example": "How long does a headache after Botox last?"},
    )
    answer = ma.fields.String(
        validate=validate.Length(min=1, max=20_000), metadata=fields.markdown()
    )
    position = ma.fields.Integer(
        validate=fields.POSITION, metadata={"description": "Display order."}
    )
    status = ma.fields.String(
        validate=validate.OneOf(WRITABLE_STATUSES),
        metadata={
            "description": "An article's FAQ: `published` puts it in the article's next "
            "revision (readers see it once that revision is approved and published), `draft` "
            "keeps it out. A topic FAQ's status moves only by its review (`.../submit`, "
            "`.../approve`, `.../request-changes`): setting it is a 422."
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
        required=True, validate=validate.Length(min=1, max=20_000), metadata=fields.markdown()
    )
    position = ma.fields.Integer(load_default=0, validate=fields.POSITION)
    status = ma.fields.String(
        load_default="draft",
        validate=validate.OneOf(WRITABLE_STATUSES),
        metadata={
            "description": "Starts as `draft` unless given; an article's FAQ may start as "
            "`published` (in the article's next revision), a topic's only as `draft`."
        },
    )
    locale = Locale(
        load_default=ma.missing,
        metadata={
            "description": "The locale (BCP 47 tag, one of CMS_LOCALES) the FAQ is written "
            "in, fixed once created. A topic's FAQ: default the site's default locale; it "
            "is shown on the topic in that locale. An article's FAQ is in the article's "
            "locale: another one is a 422.",
            "example": "en",
        },
    )


class FaqLiveOut(ma.Schema):
    question = text("How long does a headache after Botox last?", **fields.R)
    answer = text("Most settle within a day or two.", **fields.R, metadata=fields.markdown())


class AdminFaqOut(ma.Schema):
    id = ma.fields.UUID(**fields.R)
    question = text("How long does a headache after Botox last?", **fields.R)
    answer = text("Most settle within a day or two.", **fields.R, metadata=fields.markdown())
    position = ma.fields.Integer(**fields.R)
    status = text("draft", validate=validate.OneOf(list(FAQ_STATUSES)), **fields.R)
    locale = text("en", **fields.R, metadata={"description": "The locale it is written in."})
    article_id = ma.fields.UUID(required=True, allow_none=True)
    article = nullable_text("headache-after-botox", metadata={"description": "Article slug."})
    topic = nullable_text("headache", metadata={"description": "Topic slug."})
    published_at = ma.fields.DateTime(required=True, allow_none=True)
    article_revision = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "An article's FAQ: the article revision that recorded its latest "
            "change (the revision to review and publish for readers to see it)."
        },
    )
    reviewed_by = nullable_text(
        "tobias-lindqvist",
        metadata={"description": "A topic FAQ: the person who approved its live text."},
    )
    reviewed_on = ma.fields.Date(
        required=True, allow_none=True, metadata={"description": "A topic FAQ: when."}
    )
    awaiting_review = ma.fields.Boolean(
        **fields.R,
        metadata={
            "description": "True while this text is not what readers see: it waits for the "
            "article's next revision to be approved and published, or for the topic FAQ's "
            "own approval."
        },
    )
    review_note = text(
        "Saved in revision 4 of the article: readers keep the FAQs of its live revision "
        "until this one is approved and published.",
        **fields.R,
    )
    live = ma.fields.Nested(
        FaqLiveOut,
        required=True,
        allow_none=True,
        metadata={"description": "A topic FAQ: the approved text readers see (null: none)."},
    )
    schedule_cancelled = ma.fields.Boolean(
        **fields.R,
        metadata={
            "description": "True when this write recorded an article revision that cancelled "
            "the article's scheduled publication (also in the audit log)."
        },
    )
    version = ma.fields.Integer(**fields.R, metadata={"description": "Bumped by every save."})
    created_at = ma.fields.DateTime(**fields.R)
    updated_at = ma.fields.DateTime(**fields.R)
    deleted_at = ma.fields.DateTime(required=True, allow_none=True)


class AdminFaqQueryArgs(PageArgs):
    article_id = ma.fields.UUID(metadata={"description": "FAQs of this article."})
    topic = slug_field(metadata={"description": "FAQs of this topic.", "example": "headache"})
    status = ma.fields.String(validate=validate.OneOf(list(FAQ_STATUSES)))
    q = fields.q("Text in the question or answer.")
    locale = Locale(
        load_default=ma.missing,
        metadata={
            "description": "Only FAQs written in this locale (one of CMS_LOCALES). Default: "
            "every locale.",
            "example": "es",
        },
    )
    trashed = fields.trashed()


AdminFaqList = list_schema(AdminFaqOut, "AdminFaqList")
