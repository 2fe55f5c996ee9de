"""Shapes of the change feed."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.models.change import CHANGE_ACTIONS
from cms_api.models.document import DOCUMENT_KINDS
from cms_api.schemas.common import Locale, StrictSchema, text

R = {"required": True}
CURSOR_EXAMPLE = "WyJjaGFuZ2VzIiw3NzEsNDJd"


class ChangeFeedArgs(StrictSchema):
    since = ma.fields.String(
        validate=validate.Length(min=1, max=512),
        metadata={
            "description": "`page.next_cursor` of the previous response. Without it the feed "
            "starts at the beginning, so a first sync sees everything ever published.",
            "example": CURSOR_EXAMPLE,
        },
    )
    limit = ma.fields.Integer(
        load_default=100,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "Events per response, 1 to 100.", "example": 100},
    )
    # The feed mirrors the whole site: without `locale` it is every locale's events.
    locale = Locale(
        load_default=None,
        metadata={
            "description": "Only the events of documents in this locale (BCP 47 tag, one of "
            "the site's locales). Default: every locale, each event saying its own. The "
            "cursor is a place in the one feed, so a reader may follow one locale, several "
            "(one cursor each) or all with the same kind of cursor.",
            "example": "es",
        },
    )


class ChangeOut(ma.Schema):
    type = text(
        "article.updated",
        **R,
        metadata={"description": "`{kind}.{action}`, e.g. `article.published`, `faq.deleted`."},
    )
    kind = ma.fields.String(**R, validate=validate.OneOf(DOCUMENT_KINDS))
    action = ma.fields.String(
        **R,
        validate=validate.OneOf(CHANGE_ACTIONS),
        metadata={
            "description": "`published` (now public), `updated` (its document changed), "
            "`unpublished` (withdrawn from readers) or `deleted` (moved to the trash)."
        },
    )
    id = ma.fields.UUID(
        **R,
        metadata={
            "description": "The document's id: the article's or FAQ's own; for a topic or a "
            "person in another locale than the default, the id of that translation."
        },
    )
    slug = text(
        "headache-after-botox",
        required=True,
        allow_none=True,
        metadata={"description": "The slug at the time of the change; null for FAQs."},
    )
    locale = text(
        "en",
        **R,
        metadata={"description": "The locale of the document (BCP 47 tag)."},
    )
    url = text(
        "/v1/articles/headache-after-botox",
        **R,
        metadata={
            "description": "Where delivery serves it (404 after an unpublish or delete); "
            "with `?locale=` for a document in another locale than the site's default."
        },
    )
    occurred_at = ma.fields.DateTime(**R)


class FeedPageInfo(ma.Schema):
    limit = ma.fields.Integer(**R, metadata={"example": 100})
    next_cursor = text(
        CURSOR_EXAMPLE,
        **R,
        metadata={"description": "Send as `since` next time; present even when nothing changed."},
    )
    has_more = ma.fields.Boolean(
        **R, metadata={"description": "More events are ready now: ask again at once."}
    )


class ChangeFeed(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ChangeOut), **R)
    page = ma.fields.Nested(FeedPageInfo, **R)
