"""Shapes of the admin article resource: writes (create, merge patch), reads, revisions."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from cms_api.schemas.common import (
    SLUG_PATTERN,
    Locale,
    PageArgs,
    StrictSchema,
    StrippedText,
    free_text,
    list_schema,
    nullable_text,
    slug_field,
    text,
)

R = {"required": True}
KEY = [validate.Length(min=1, max=80), validate.Regexp(SLUG_PATTERN)]
STATUSES = ["draft", "in_review", "approved", "published", "archived"]
CTA_KINDS = ["symptom_checker", "ask_question", "newsletter", "booking"]


def _url(**kwargs) -> ma.fields.Url:
    return ma.fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2048), **kwargs)


# Text that says something: a name or statement of only spaces is as good as none.
NOT_BLANK = validate.Regexp(r"\S", error="Must not be blank.")


class JsonBoolean(ma.fields.Boolean):
    """`true` or `false` only: marshmallow's Boolean also takes 1, "yes" and "on"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class SubsectionIn(StrictSchema):
    key = ma.fields.String(required=True, validate=KEY, metadata={"example": "injection"})
    heading = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = ma.fields.String(
        load_default="",
        validate=validate.Length(max=100_000),
        metadata={"description": "Markdown (CommonMark)."},
    )


class SectionIn(SubsectionIn):
    subsections = ma.fields.List(
        ma.fields.Nested(SubsectionIn), load_default=list, validate=validate.Length(max=50)
    )


class CitationIn(StrictSchema):
    title = ma.fields.String(required=True, validate=validate.Length(min=1, max=500))
    authors = ma.fields.String(
        allow_none=True, load_default=None, validate=validate.Length(max=500)
    )
    publisher = ma.fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=300),
        metadata={
            "description": "The organisation behind the source (a web page's owner, a report's "
            "press), not a journal.",
            "example": "U.S. National Library of Medicine",
        },
    )
    periodical = ma.fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=300),
        metadata={
            "description": "The journal a journal article appeared in.",
            "example": "Headache",
        },
    )
    year = ma.fields.Integer(
        allow_none=True, load_default=None, validate=validate.Range(min=1500, max=2200)
    )
    doi = ma.fields.String(
        allow_none=True, load_default=None, validate=validate.Regexp(r"^10\.\d{4,9}/\S{1,180}$")
    )
    pmid = ma.fields.String(
        allow_none=True, load_default=None, validate=validate.Regexp(r"^\d{1,9}$")
    )
    url = _url(allow_none=True, load_default=None)


class CallToActionIn(StrictSchema):
    key = ma.fields.String(required=True, validate=KEY)
    kind = ma.fields.String(required=True, validate=validate.OneOf(CTA_KINDS))
    title = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = ma.fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000))
    button_label = ma.fields.String(
        allow_none=True, load_default=None, validate=validate.Length(max=80)
    )
    url = _url(allow_none=True, load_default=None)
    advertising = JsonBoolean(
        load_default=False,
        metadata={"description": "Paid promotion: readers see it labelled as advertising."},
    )
    advertising_label = ma.fields.String(
        allow_none=True,
        load_default=None,
        validate=[validate.Length(min=1, max=40), NOT_BLANK],
        metadata={
            "description": "The label shown instead of `Advertisement`; only with "
            "`advertising: true`.",
            "example": "Sponsored",
        },
    )

    @ma.validates_schema
    def _label_only_on_advertising(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("advertising_label") is not None and not data.get("advertising"):
            raise ma.ValidationError(
                "Only a call to action marked as advertising has a label.", "advertising_label"
            )


class DisclosedOrganizationIn(StrictSchema):
    name = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), NOT_BLANK],
        metadata={"example": "Calder Vale Skin Health Trust"},
    )
    url = _url(allow_none=True, load_default=None)


class DisclosuresIn(StrictSchema):
    sponsor = ma.fields.Nested(
        DisclosedOrganizationIn,
        allow_none=True,
        load_default=None,
        metadata={"description": "An organisation that paid for or supported the article."},
    )
    funder = ma.fields.Nested(
        DisclosedOrganizationIn,
        allow_none=True,
        load_default=None,
        metadata={"description": "An organisation that funded the work the article reports."},
    )
    conflicts_of_interest = ma.fields.String(
        allow_none=True,
        load_default=None,
        validate=[validate.Length(min=1, max=2000), NOT_BLANK],
        metadata={"description": "The authors' and reviewers' statement, as plain text."},
    )


class ArticleContentIn(StrictSchema):
    """The content fields a create sets and an edit may change."""

    slug = slug_field()
    title = ma.fields.String(
        validate=validate.Length(min=1, max=200), metadata={"example": "Headache After Botox"}
    )
    summary = ma.fields.String(validate=validate.Length(max=1000))
    disclaimer = ma.fields.String(allow_none=True, validate=validate.Length(max=5000))
    call_to_actions = ma.fields.List(
        ma.fields.Nested(CallToActionIn), validate=validate.Length(max=10)
    )
    meta_title = ma.fields.String(allow_none=True, validate=validate.Length(max=120))
    meta_description = ma.fields.String(allow_none=True, validate=validate.Length(max=320))
    canonical_url = _url(allow_none=True)
    review_interval_months = ma.fields.Integer(validate=validate.Range(min=1, max=60))
    lead_image_id = ma.fields.UUID(
        allow_none=True,
        metadata={
            "description": "The media library image shown at the top of the article, in "
            "previews and in its JSON-LD `image`; null for none. Reviewed like the rest of "
            "the content: readers see a change when the revision goes live. Sections show "
            "library images as `![alt](image:ID)` in their Markdown (an empty alt takes the "
            "image's own alt text).",
            "example": "3b9d6f0e-2c4a-4f1e-9d7b-6a5c8e1f2d30",
        },
    )
    disclosures = ma.fields.Nested(
        DisclosuresIn,
        allow_none=True,
        metadata={
            "description": "Sponsor, funder and conflicts of interest: replaced whole (null "
            "clears them), and reviewed like the rest of the content."
        },
    )
    sections = ma.fields.List(ma.fields.Nested(SectionIn), validate=validate.Length(max=50))
    citations = ma.fields.List(ma.fields.Nested(CitationIn), validate=validate.Length(max=100))
    topics = ma.fields.List(
        slug_field(),
        validate=validate.Length(max=20),
        metadata={"description": "Topic slugs; the first is the main one."},
    )


class ArticlePatch(ArticleContentIn):
    """Fields an edit may change (JSON merge patch: omitted fields are left alone, lists
    are replaced whole). `status`, `authors` and reviews have their own operations."""

    source_revision = ma.fields.Integer(
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={
            "description": "A translation only (a 422 for an original): the revision of the "
            "original its text now reflects, once it has been brought up to date. One the "
            "original has, and not older than the current value (a 422 otherwise). Content "
            "like the rest: it records a revision that is reviewed before readers see it, "
            "and readers' `translation_of.revision` and `outdated` change when that "
            "revision is published.",
            "example": 3,
        },
    )


class ArticleCreate(ArticleContentIn):
    slug = slug_field(required=True)
    title = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"example": "Headache After Botox"},
    )
    locale = Locale(
        metadata={
            "description": "The locale (BCP 47 tag) the article is written in, one of the "
            "site's locales (CMS_LOCALES); fixed once created. Default: the site's default "
            "locale. A translation of an existing article is made with "
            "`POST .../{id}/translations` instead, which links it to its original.",
            "example": "en",
        }
    )


class TranslationCreate(StrictSchema):
    locale = Locale(
        required=True,
        load_default=ma.missing,
        metadata={
            "description": "The locale to translate into: one of the site's locales "
            "(CMS_LOCALES) other than the original's.",
            "example": "es",
        },
    )
    slug = slug_field(
        required=True,
        metadata={
            "description": "The translation's slug, unique among the locale's articles.",
            "example": "dolor-de-cabeza-despues-del-botox",
        },
    )
    revision = ma.fields.Integer(
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={
            "description": "The revision of the original to translate. Default: the one "
            "readers see (`live_revision`), else the latest.",
            "example": 1,
        },
    )


class AuthorsIn(StrictSchema):
    authors = ma.fields.List(
        slug_field(),
        required=True,
        validate=validate.Length(min=1, max=10),
        metadata={"example": ["miriam-castellanos-reed"]},
    )


class ReviewDecisionIn(StrictSchema):
    notes = ma.fields.String(allow_none=True, load_default=None, validate=validate.Length(max=5000))


REVIEW_KINDS = ["clinical", "correction"]


class ApproveIn(ReviewDecisionIn):
    kind = ma.fields.String(
        required=True,
        validate=validate.OneOf(REVIEW_KINDS),
        metadata={
            "description": "`clinical`: the whole page was reviewed; once live it sets the "
            "review date, the reviewers readers see and the next due date. `correction`: a "
            "minor edit to content with a live clinical review; listed publicly with `note`, "
            "it moves `dateModified` but not the review date or cycle. Never defaulted, so a "
            "typo fix is not counted as a full review by accident.",
            "example": "clinical",
        },
    )
    note = StrippedText(
        allow_none=True,
        load_default=None,
        validate=validate.Length(min=1, max=1000),
        metadata={
            "description": "For a correction (required there): what readers are told was "
            "corrected. `notes` stay internal.",
            "example": "Corrected the number of days to wait before lying down after treatment.",
        },
    )

    @ma.validates_schema
    def _note_for_corrections(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("kind") == "correction" and not data.get("note"):
            raise ma.ValidationError("Required for a correction.", "note")


class PublishIn(StrictSchema):
    publish_at = ma.fields.AwareDateTime(
        allow_none=True,
        load_default=None,
        metadata={"description": "A future time schedules the publication."},
    )


class SourceSubsectionOut(ma.Schema):
    key = text("injection", **R)
    heading = text("The injection itself", **R)
    body = text("Markdown source.", **R)


class SourceSectionOut(SourceSubsectionOut):
    subsections = ma.fields.List(ma.fields.Nested(SourceSubsectionOut), **R)


class SourceCitationOut(ma.Schema):
    title = text(**R)
    authors = nullable_text()
    publisher = nullable_text()
    periodical = nullable_text()
    year = ma.fields.Integer(required=True, allow_none=True)
    doi = nullable_text()
    pmid = nullable_text()
    url = nullable_text()


class SourceCallToActionOut(ma.Schema):
    key = text(**R)
    kind = text(**R)
    title = text(**R)
    body = nullable_text()
    button_label = nullable_text()
    url = nullable_text()
    # Saved before advertising could be marked: not advertising.
    advertising = ma.fields.Boolean(**R, dump_default=False)
    advertising_label = nullable_text(dump_default=None)


class SourceDisclosedOrganizationOut(ma.Schema):
    name = text("Calder Vale Skin Health Trust", **R)
    url = nullable_text()


class SourceDisclosuresOut(ma.Schema):
    sponsor = ma.fields.Nested(
        SourceDisclosedOrganizationOut, required=True, allow_none=True, dump_default=None
    )
    funder = ma.fields.Nested(
        SourceDisclosedOrganizationOut, required=True, allow_none=True, dump_default=None
    )
    conflicts_of_interest = nullable_text(dump_default=None)


class ReviewOut(ma.Schema):
    reviewer = slug_field(**R, metadata={"example": "tobias-lindqvist"})
    reviewed_at = ma.fields.Date(**R)
    revision_number = ma.fields.Integer(required=True, allow_none=True)
    kind = text("clinical", validate=validate.OneOf(REVIEW_KINDS), **R)
    notes = nullable_text()
    public_note = nullable_text(metadata={"description": "A correction's note to readers."})
    withdrawn_at = ma.fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "When request-changes took the approval back."},
    )
    published_at = ma.fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "When the revision it approved went live (readers see it)."},
    )


class ReviewDiffOut(ma.Schema):
    from_revision = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The live revision; null when nothing is live yet."},
    )
    to_revision = ma.fields.Integer(**R, metadata={"description": "The revision under review."})
    changes = ma.fields.Dict(
        **R,
        metadata={"description": 'Per changed field: `{"from": live, "to": under review}`.'},
    )


class WorkSourceOut(ma.Schema):
    id = ma.fields.UUID(**R)
    locale = text("en", **R)
    slug = slug_field(**R)


class WorkTranslationOut(WorkSourceOut):
    status = text("published", validate=validate.OneOf(STATUSES), **R)


class ArticleAdminOut(ma.Schema):
    id = ma.fields.UUID(**R)
    slug = slug_field(**R)
    locale = text("en", **R, metadata={"description": "The locale (BCP 47 tag) the article is in."})
    source = ma.fields.Nested(
        WorkSourceOut,
        required=True,
        allow_none=True,
        metadata={"description": "A translation: the original it translates. Null otherwise."},
    )
    source_revision = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "A translation: the revision of the original its working copy "
            "reflects (the one it was made from, until an edit says it caught up)."
        },
    )
    outdated = ma.fields.Boolean(
        **R,
        metadata={
            "description": "A translation whose original has published a revision newer "
            "than `source_revision`: its text may no longer say what the original says. "
            "Of the working copy: readers' documents say what the live revision reflects."
        },
    )
    translations = ma.fields.List(
        ma.fields.Nested(WorkTranslationOut),
        **R,
        metadata={
            "description": "The other articles of the same work (the original and its "
            "translations, this one left out, none in the trash), by locale."
        },
    )
    status = text("draft", validate=validate.OneOf(STATUSES), **R)
    version = ma.fields.Integer(
        **R, metadata={"description": "Bumped by every save; the ETag names it."}
    )
    revision_number = ma.fields.Integer(**R)
    live_revision = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "The revision readers see."}
    )
    title = text(**R)
    summary = text(**R)
    disclaimer = nullable_text()
    call_to_actions = ma.fields.List(ma.fields.Nested(SourceCallToActionOut), **R)
    meta_title = nullable_text()
    meta_description = nullable_text()
    canonical_url = nullable_text()
    review_interval_months = ma.fields.Integer(**R)
    lead_image_id = ma.fields.UUID(
        required=True,
        allow_none=True,
        metadata={"description": "The lead image of the working copy (media library id)."},
    )
    disclosures = ma.fields.Nested(SourceDisclosuresOut, **R)
    sections = ma.fields.List(ma.fields.Nested(SourceSectionOut), **R)
    citations = ma.fields.List(ma.fields.Nested(SourceCitationOut), **R)
    topics = ma.fields.List(ma.fields.String(), **R)
    authors = ma.fields.List(ma.fields.String(), **R)
    reviews = ma.fields.List(ma.fields.Nested(ReviewOut), **R)
    approval_current = ma.fields.Boolean(
        **R,
        metadata={"description": "Whether a non-author reviewer approved the current revision."},
    )
    review_flags = ma.fields.List(ma.fields.String(), **R)
    allowed_transitions = ma.fields.List(ma.fields.String(), **R)
    published_at = ma.fields.DateTime(required=True, allow_none=True)
    content_updated_at = ma.fields.DateTime(required=True, allow_none=True)
    last_reviewed_at = ma.fields.Date(required=True, allow_none=True)
    next_review_due = ma.fields.Date(required=True, allow_none=True)
    publish_at = ma.fields.DateTime(required=True, allow_none=True)
    publish_at_revision = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The approved revision `publish_at` publishes."},
    )
    schedule_cancelled = ma.fields.Boolean(
        **R,
        metadata={
            "description": "True in the answer to the edit that cancelled a schedule: a new "
            "revision cancels `publish_at` (the audit log records `article.schedule_cancelled`)."
        },
    )
    review_diff = ma.fields.Nested(
        ReviewDiffOut,
        required=True,
        allow_none=True,
        metadata={
            "description": "While `in_review` or `approved`: what the revision under review "
            "changes from the live one, field by field. Null otherwise."
        },
    )
    created_at = ma.fields.DateTime(**R)
    updated_at = ma.fields.DateTime(**R)
    deleted_at = ma.fields.DateTime(required=True, allow_none=True)


class ArticleAdminQueryArgs(PageArgs):
    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    author = slug_field()
    topic = slug_field()
    overdue = ma.fields.Boolean(
        metadata={"description": "Published articles past their review date (true) or not (false)."}
    )
    trashed = ma.fields.Boolean(
        load_default=False, metadata={"description": "List the trash instead."}
    )
    q = free_text(200, metadata={"description": "Text in the title, summary or slug."})
    locale = Locale(
        load_default=ma.missing,
        metadata={
            "description": "Only articles in this locale (BCP 47 tag, one of CMS_LOCALES). "
            "Default: every locale.",
            "example": "es",
        },
    )
    outdated = ma.fields.Boolean(
        metadata={
            "description": "Translations whose original has published a newer revision "
            "than the one they were made from (true), or every other article (false)."
        }
    )


class RevisionOut(ma.Schema):
    number = ma.fields.Integer(**R)
    reason = text("edit", **R)
    author_id = ma.fields.UUID(required=True, allow_none=True)
    created_at = ma.fields.DateTime(**R)


class RevisionDetailOut(RevisionOut):
    snapshot = ma.fields.Dict(
        **R, metadata={"description": "The article's content at this revision."}
    )


class RevisionDiffArgs(StrictSchema):
    against = ma.fields.Integer(
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "The revision to compare with (default: the one before)."},
    )


class RevisionDiffOut(ma.Schema):
    from_revision = ma.fields.Integer(**R)
    to_revision = ma.fields.Integer(**R)
    changes = ma.fields.Dict(
        **R,
        metadata={
            "description": 'Per changed field: `{"from": old, "to": new}`.',
            "example": {"title": {"from": "Old title", "to": "New title"}},
        },
    )


ArticleAdminList = list_schema(ArticleAdminOut, "ArticleAdminList")
RevisionList = ma.Schema.from_dict(
    {"items": ma.fields.List(ma.fields.Nested(RevisionOut), required=True)}, name="RevisionList"
)
