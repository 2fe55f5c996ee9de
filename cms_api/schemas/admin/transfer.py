"""Records of the NDJSON transfer format (one schema per record type) and the import report."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from cms_api.domain import locales
from cms_api.domain.errors import ValidationFailed
from cms_api.domain.specialties import MEDICAL_SPECIALTIES
from cms_api.domain.transfer_format import FORMAT, FORMAT_VERSION
from cms_api.models.article import ARTICLE_STATUSES, LINK_RELATIONS
from cms_api.models.faq import FAQ_STATUSES
from cms_api.models.person import CREDENTIAL_KINDS
from cms_api.models.red_flag import RED_FLAG_STATUSES
from cms_api.models.topic import CODE_SYSTEMS
from cms_api.schemas.admin.articles import DisclosuresIn
from cms_api.schemas.admin.red_flags import ACTION_URL_PATTERN
from cms_api.schemas.common import Rfc3339DateTime, StrictSchema

INT_MAX = 2**31 - 1  # PostgreSQL's integer: a larger number would only fail at the database


def _text(max_length: int | None = None, **kwargs: Any) -> ma.fields.String:
    validators = [validate.Length(max=max_length)] if max_length else []
    return ma.fields.String(validate=validators, **kwargs)


def _optional(max_length: int | None = None) -> ma.fields.String:
    return _text(max_length, allow_none=True)


def _int(minimum: int = -INT_MAX - 1, *, allow_none: bool = False) -> ma.fields.Integer:
    return ma.fields.Integer(
        strict=True, allow_none=allow_none, validate=validate.Range(min=minimum, max=INT_MAX)
    )


def _timestamp(*, allow_none: bool = False) -> Rfc3339DateTime:
    return Rfc3339DateTime(allow_none=allow_none)


def _one_of(values: tuple[str, ...]) -> ma.fields.String:
    return ma.fields.String(validate=validate.OneOf(values))


def _is_locale(value: str) -> bool:
    if locales.normalized(value) != value:
        raise ma.ValidationError("Not a BCP 47 language tag in its normal form, such as 'es-MX'.")
    return True


def _locale() -> ma.fields.String:
    """A locale as the database keeps it: a language tag in its normal form. Whether this
    site serves it is not a property of the record (the import warns when it does not)."""
    return ma.fields.String(validate=[validate.Length(max=35), _is_locale])


class Record(StrictSchema):
    """A record names every column of its row: a missing field is an error, not a default,
    so a truncated or hand-damaged record cannot quietly blank a value in the target."""

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field) -> None:
        field_obj.required = True


class _JsonList(ma.fields.List):
    """A JSONB list of objects, stored as sent (it is not a row of its own)."""

    def __init__(self) -> None:
        super().__init__(ma.fields.Dict())

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        super()._deserialize(value, attr, data, **kwargs)
        return value


class _DisclosuresField(ma.fields.Field):
    """An article's disclosures: checked as an editor's would be (rendering reads them),
    stored exactly as sent."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise ma.ValidationError("Not an object.")
        errors = DisclosuresIn().validate(value)
        if errors:
            raise ma.ValidationError(errors)
        return value


class ImageRecord(Record):
    """An image's description; its files travel in the media storage, not in the file."""

    id = ma.fields.UUID()
    content_sha256 = _text(64)
    filename = _optional(255)
    media_type = _text(40)
    width = _int(1)
    height = _int(1)
    byte_size = _int(0)
    alt_text = _optional()
    decorative = ma.fields.Boolean(truthy={True}, falsy={False})
    caption = _optional()
    credit = _optional(300)
    license = _optional(200)
    license_url = _optional(2048)
    focal_x = ma.fields.Float(validate=validate.Range(min=0, max=1))
    focal_y = ma.fields.Float(validate=validate.Range(min=0, max=1))
    created_at = _timestamp()
    updated_at = _timestamp()
    deleted_at = _timestamp(allow_none=True)
    version = _int(1)

    @ma.validates_schema
    def _described_unless_decorative(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("decorative") and not (data.get("alt_text") or "").strip():
            raise ma.ValidationError("Required unless the image is decorative.", "alt_text")


class ImageFileRecord(Record):
    # The file's storage name: its SHA-256 and an extension (never a path).
    key = ma.fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}\.(?:jpg|png|webp|avif)$"))
    image_id = ma.fields.UUID()
    ratio = _text(20)
    format = _text(10)
    media_type = _text(40)
    width = _int(1)
    height = _int(1)
    byte_size = _int(0)


class PersonRecord(Record):
    id = ma.fields.UUID()
    slug = _text(120)
    name = _text(200)
    honorific_prefix = _optional(40)
    honorific_suffix = _optional(80)
    job_title = _optional(200)
    bio = _optional()
    photo_url = _optional(2048)
    image_id = ma.fields.UUID(allow_none=True)
    profile_links = _JsonList()
    specialties = ma.fields.List(_text(120))
    review_locales = ma.fields.List(_locale())
    created_at = _timestamp()
    updated_at = _timestamp()
    deleted_at = _timestamp(allow_none=True)
    version = _int(1)


class PersonTranslationRecord(Record):
    """A person's job title and bio in a locale other than the site's default."""

    id = ma.fields.UUID()
    person_id = ma.fields.UUID()
    locale = _locale()
    job_title = _optional(200)
    bio = _optional()
    created_at = _timestamp()
    updated_at = _timestamp()
    version = _int(1)


class CredentialRecord(Record):
    id = ma.fields.UUID()
    person_id = ma.fields.UUID()
    position = _int()
    kind = _one_of(CREDENTIAL_KINDS)
    name = _text(200)
    issuer = _optional(200)
    jurisdiction = _optional(120)
    number = _optional(80)
    valid_from = ma.fields.Date(allow_none=True)
    valid_until = ma.fields.Date(allow_none=True)
    verified_at = _timestamp(allow_none=True)

    @ma.validates_schema
    def _validity_ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("valid_from"), data.get("valid_until")
        if start is not None and end is not None and end < start:
            raise ma.ValidationError("Must not be before valid_from.", "valid_until")


class RedFlagRecord(Record):
    id = ma.fields.UUID()
    slug = _text(120)
    name = _text(200)
    locale = _text(16)
    priority = _int()
    triggers = ma.fields.List(_text())
    title = _text(200)
    body = _text()
    action_label = _text(200)
    # Published guidance links to it: checked as an editor's would be, so a damaged file
    # cannot put another kind of link in front of a reader in an emergency.
    action_url = ma.fields.String(
        validate=validate.Regexp(ACTION_URL_PATTERN, error="A `tel:` number or an https URL.")
    )
    status = _one_of(RED_FLAG_STATUSES)
    reviewed_by_id = ma.fields.UUID(allow_none=True)
    reviewed_on = ma.fields.Date(allow_none=True)
    published_at = _timestamp(allow_none=True)
    created_at = _timestamp()
    updated_at = _timestamp()
    deleted_at = _timestamp(allow_none=True)
    version = _int(1)


class TopicRecord(Record):
    id = ma.fields.UUID()
    slug = _text(120)
    name = _text(200)
    description = _optional()
    parent_id = ma.fields.UUID(allow_none=True)
    position = _int()
    specialty = ma.fields.String(allow_none=True, validate=validate.OneOf(MEDICAL_SPECIALTIES))
    image_id = ma.fields.UUID(allow_none=True)
    synonyms = ma.fields.List(_text())
    created_at = _timestamp()
    updated_at = _timestamp()
    deleted_at = _timestamp(allow_none=True)
    version = _int(1)

    @ma.validates_schema
    def _not_own_parent(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("parent_id") is not None and data.get("parent_id") == data.get("id"):
            raise ma.ValidationError("A topic cannot be its own parent.", "parent_id")


class TopicTranslationRecord(Record):
    """A topic's name, description and synonyms in a locale other than the site's default."""

    id = ma.fields.UUID()
    topic_id = ma.fields.UUID()
    locale = _locale()
    name = _text(200)
    description = _optional()
    synonyms = ma.fields.List(_text())
    created_at = _timestamp()
    updated_at = _timestamp()
    version = _int(1)


class MedicalCodeRecord(Record):
    id = ma.fields.UUID()
    topic_id = ma.fields.UUID()
    system = _one_of(tuple(CODE_SYSTEMS))
    code = _text(40)
    display = _text(300)


class ArticleRecord(Record):
    id = ma.fields.UUID()
    slug = _text(120)
    locale = _locale()
    # A translation: the article it translates (an original, in another locale) and the
    # source's revision it was made from.
    source_id = ma.fields.UUID(allow_none=True)
    source_revision = _int(1, allow_none=True)
    title = _text(200)
    summary = _text()
    status = _one_of(ARTICLE_STATUSES)
    disclaimer = _optional()
    call_to_actions = _JsonList()
    meta_title = _optional(120)
    meta_description = _optional(320)
    canonical_url = _optional(2048)
    lead_image_id = ma.fields.UUID(allow_none=True)
    review_interval_months = ma.fields.Integer(strict=True, validate=validate.Range(1, 60))
    disclosures = _DisclosuresField()
    published_at = _timestamp(allow_none=True)
    content_updated_at = _timestamp(allow_none=True)
    last_reviewed_at = ma.fields.Date(allow_none=True)
    next_review_due = ma.fields.Date(allow_none=True)
    publish_at = _timestamp(allow_none=True)
    publish_at_revision = _int(1, allow_none=True)
    created_at = _timestamp()
    updated_at = _timestamp()
    deleted_at = _timestamp(allow_none=True)
    version = _int(1)
    revision_number = _int(0)
    live_revision = _int(1, allow_none=True)

    @ma.validates_schema
    def _not_own_source(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("source_id") is not None and data.get("source_id") == data.get("id"):
            raise ma.ValidationError("An article cannot translate itself.", "source_id")


class FormerSlugRecord(Record):
    locale = _locale()
    slug = _text(120)
    article_id = ma.fields.UUID()
    retired_at = _timestamp()


class SectionRecord(Record):
    id = ma.fields.UUID()
    article_id = ma.fields.UUID()
    parent_id = ma.fields.UUID(allow_none=True)
    key = _text(80)
    heading = _text(200)
    body = _text()
    position = _int()

    @ma.validates_schema
    def _not_own_parent(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("parent_id") is not None and data.get("parent_id") == data.get("id"):
            raise ma.ValidationError("A section cannot be its own parent.", "parent_id")


class CitationRecord(Record):
    id = ma.fields.UUID()
    article_id = ma.fields.UUID()
    position = _int()
    title = _text(500)
    authors = _optional(500)
    publisher = _optional(300)
    periodical = _optional(300)
    year = _int(allow_none=True)
    doi = _optional(200)
    pmid = _optional(20)
    url = _optional(2048)


class ArticleAuthorRecord(Record):
    article_id = ma.fields.UUID()
    person_id = ma.fields.UUID()
    position = _int()


class ArticleTopicRecord(Record):
    article_id = ma.fields.UUID()
    topic_id = ma.fields.UUID()
    position = _int()


class MedicalReviewRecord(Record):
    id = ma.fields.UUID()
    article_id = ma.fields.UUID()
    reviewer_id = ma.fields.UUID()
    reviewed_at = ma.fields.Date()
    notes = _optional()
    revision_number = _int(allow_none=True)
    kind = ma.fields.String(validate=validate.OneOf(["clinical", "correction"]))
    public_note = _optional()
    withdrawn_at = _timestamp(allow_none=True)
    published_at = _timestamp(allow_none=True)
    created_at = _timestamp()


class FaqRecord(Record):
    id = ma.fields.UUID()
    article_id = ma.fields.UUID(allow_none=True)
    topic_id = ma.fields.UUID(allow_none=True)
    locale = _locale()
    question = _text(500)
    answer = _text()
    position = _int()
    status = _one_of(FAQ_STATUSES)
    published_at = _timestamp(allow_none=True)
    live_question = _optional(500)
    live_answer = _optional()
    reviewed_by_id = ma.fields.UUID(allow_none=True)
    reviewed_on = ma.fields.Date(allow_none=True)
    live_updated_at = _timestamp(allow_none=True)
    article_revision = _int(1, allow_none=True)
    created_at = _timestamp()
    updated_at = _timestamp()
    deleted_at = _timestamp(allow_none=True)
    version = _int(1)

    @ma.validates_schema
    def _one_owner(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data.get("article_id") is None) == (data.get("topic_id") is None):
            raise ma.ValidationError("Exactly one of article_id and topic_id must be set.")


class RelatedLinkRecord(Record):
    id = ma.fields.UUID()
    source_id = ma.fields.UUID()
    target_id = ma.fields.UUID()
    relation = _one_of(LINK_RELATIONS)
    weight = ma.fields.Float(validate=validate.Range(min=0, max=1, min_inclusive=False))
    anchor_text = _optional(200)
    position = _int()
    deleted_at = _timestamp(allow_none=True)
    version = _int(1)

    @ma.validates_schema
    def _not_to_itself(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("source_id") is not None and data.get("source_id") == data.get("target_id"):
            raise ma.ValidationError("An article cannot link to itself.", "target_id")


class SnapshotSection(ma.Schema):
    """A section as a revision keeps it; rendering reads `key` and `heading`."""

    class Meta:
        unknown = ma.INCLUDE

    key = ma.fields.String(required=True)
    heading = ma.fields.String(required=True)
    body = ma.fields.String(allow_none=True)
    subsections = ma.fields.List(ma.fields.Nested(lambda: SnapshotSection()))


class Snapshot(ma.Schema):
    """The parts of a revision's content that rendering reads without a default. Other keys
    are kept as they are: a revision is a record of the past, not re-validated content."""

    class Meta:
        unknown = ma.INCLUDE

    title = ma.fields.String(required=True)
    summary = ma.fields.String(required=True)
    sections = ma.fields.List(ma.fields.Nested(SnapshotSection), required=True)
    citations = ma.fields.List(ma.fields.Dict(), required=True)
    # Absent from revisions saved before disclosures existed.
    disclosures = _DisclosuresField()
    authors = ma.fields.List(ma.fields.UUID(), required=True)
    topics = ma.fields.List(ma.fields.UUID(), required=True)


class _SnapshotField(ma.fields.Field):
    """A revision's JSON content: checked against `Snapshot`, stored exactly as sent."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise ma.ValidationError("Not an object.")
        errors = Snapshot().validate(value)
        if errors:
            raise ma.ValidationError(errors)
        return value


class RevisionRecord(Record):
    id = ma.fields.UUID()
    article_id = ma.fields.UUID()
    number = _int(1)
    snapshot = _SnapshotField()
    author_id = ma.fields.UUID(allow_none=True)
    reason = _text(60)
    created_at = _timestamp()


class HeaderRecord(ma.Schema):
    """The first line. Unknown members are ignored: a header may say more in a later
    version without that being an error."""

    class Meta:
        unknown = ma.EXCLUDE

    format = ma.fields.String(required=True, validate=validate.Equal(FORMAT))
    version = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Equal(
            FORMAT_VERSION, error=f"This server reads version {FORMAT_VERSION} only."
        ),
    )
    schema = ma.fields.String(required=True, allow_none=True)
    exported_at = Rfc3339DateTime(required=True)


class EndRecord(StrictSchema):
    """The last line: how many records of each type precede it, so a cut-off file (a
    dropped connection, a partial copy) is refused rather than half imported."""

    records = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(strict=True, validate=validate.Range(min=0)),
        required=True,
    )


# Every record type of the format, each with its schema (one instance: loading keeps no state).
SCHEMAS: dict[str, ma.Schema] = {
    "header": HeaderRecord(),
    "image": ImageRecord(),
    "image_file": ImageFileRecord(),
    "person": PersonRecord(),
    "credential": CredentialRecord(),
    "person_translation": PersonTranslationRecord(),
    "red_flag": RedFlagRecord(),
    "topic": TopicRecord(),
    "medical_code": MedicalCodeRecord(),
    "topic_translation": TopicTranslationRecord(),
    "article": ArticleRecord(),
    "former_slug": FormerSlugRecord(),
    "section": SectionRecord(),
    "citation": CitationRecord(),
    "article_author": ArticleAuthorRecord(),
    "article_topic": ArticleTopicRecord(),
    "medical_review": MedicalReviewRecord(),
    "faq": FaqRecord(),
    "related_link": RelatedLinkRecord(),
    "revision": RevisionRecord(),
    "end": EndRecord(),
}


class TransferRecords:
    """The schemas above as the transfer service checks an import's records with them:
    callers pass it to the import, so the service itself needs no marshmallow."""

    def load(self, type_: str, record: dict[str, Any]) -> dict[str, Any]:
        """The record's values, typed; ValidationFailed with marshmallow's messages by field."""
        try:
            return SCHEMAS[type_].load(record)
        except ma.ValidationError as error:
            raise ValidationFailed(f"Invalid {type_} record.", errors=error.messages) from None


# -- HTTP ----------------------------------------------------------------------------------


class ImportArgs(StrictSchema):
    dry_run = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "Validate the file and count what would change; apply nothing.",
        },
    )


class TypeCounts(ma.Schema):
    records = ma.fields.Integer(
        required=True, metadata={"description": "Records of this type in the file."}
    )
    inserted = ma.fields.Integer(required=True)
    updated = ma.fields.Integer(required=True)
    unchanged = ma.fields.Integer(required=True)
    deleted = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Rows of an imported article, person or topic that the file no "
            "longer has (a section removed since the last import, say)."
        },
    )


class ImportReport(ma.Schema):
    dry_run = ma.fields.Boolean(required=True)
    source_schema = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The migration the exporting database was at."},
    )
    target_schema = ma.fields.String(
        required=True, metadata={"description": "The migration this database is at."}
    )
    exported_at = ma.fields.String(required=True)
    types = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(TypeCounts),
        required=True,
        metadata={"description": "Per record type: records read and what they changed."},
    )
    changed = ma.fields.Boolean(
        required=True, metadata={"description": "Whether anything was (or would be) written."}
    )
    rendered_articles = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Articles whose published documents were rendered again "
            "(0 when nothing changed, and on a dry run)."
        },
    )
    warnings = ma.fields.List(ma.fields.String(), required=True)
