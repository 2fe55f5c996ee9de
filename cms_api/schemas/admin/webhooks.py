"""Shapes of webhooks: registering an endpoint, its deliveries and attempts, the event body."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.models.webhook import DELIVERY_STATUSES, PING_EVENT, WEBHOOK_EVENTS
from cms_api.schemas.common import PageArgs, StrictSchema, list_schema, nullable_text

R = {"required": True}
URL_MAX = 2048
SECRET_MIN, SECRET_MAX = 24, 200
EXAMPLE_ID = "5b0e8f9a-3c1d-4e2f-9a7b-6c5d4e3f2a1b"
EXAMPLE_EVENT = {
    "id": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
    "type": "article.updated",
    "created_at": "2026-11-29T07:19:44Z",
    "data": {
        "id": "0c6f3d3e-8b1a-4a52-9a51-2f7e4b9d1c08",
        "slug": "headache-after-botox",
        "locale": "en",
        "url": "/v1/articles/headache-after-botox",
        "action": "updated",
        "occurred_at": "2026-11-29T07:19:44Z",
    },
    "surrogate_keys": [
        "article:0c6f3d3e-8b1a-4a52-9a51-2f7e4b9d1c08",
        "person:ana-ruiz",
        "person:tobias-lindqvist",
        "topic:headache",
    ],
}


def _url(**kwargs: object) -> ma.fields.String:
    return ma.fields.String(
        validate=validate.Length(min=1, max=URL_MAX),
        metadata={
            "description": "Where events are POSTed: https, on a host whose addresses are all "
            "public (private, loopback, link-local and similar addresses are refused with "
            "422).",
            "example": "https://hooks.example.org/cms",
        },
        **kwargs,
    )


def _events(**kwargs: object) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.String(validate=validate.OneOf(WEBHOOK_EVENTS)),
        validate=validate.Length(min=1, max=20),
        metadata={
            "description": "The events to receive (at least one).",
            "example": ["article.published", "article.updated", "article.deleted"],
        },
        **kwargs,
    )


PRINTABLE_ERROR = "Printable ASCII without spaces only."


def _printable_ascii(value: str) -> None:
    if not all("\x21" <= character <= "\x7e" for character in value):
        raise ma.ValidationError(PRINTABLE_ERROR)


def _secret() -> ma.fields.String:
    return ma.fields.String(
        validate=[
            validate.Length(min=SECRET_MIN, max=SECRET_MAX),
            validate.Regexp(r"^[\x21-\x7e]+$", error=PRINTABLE_ERROR),
            _printable_ascii,  # `$` also matches before a final newline
        ],
        metadata={
            "description": f"The signing secret, {SECRET_MIN} to {SECRET_MAX} printable ASCII "
            "characters. Write-only: it is never shown back.",
            "example": "whsec_Jx2mQ9rT4vW7yZ1bC5dF8gH0kL3nP6sS",
        },
    )


def _description(**kwargs: object) -> ma.fields.String:
    return ma.fields.String(
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "What the endpoint is for.", "example": "CDN purge"},
        **kwargs,
    )


class WebhookCreate(StrictSchema):
    url = _url(**R)
    events = _events(**R)
    secret = _secret()
    description = _description(load_default=None)
    active = ma.fields.Boolean(
        load_default=True, metadata={"description": "Inactive endpoints get no new events."}
    )


class WebhookPatch(StrictSchema):
    """Fields an edit may change (JSON merge patch). A new `secret` signs every delivery
    from then on, retries included."""

    url = _url()
    events = _events()
    secret = _secret()
    description = _description()
    active = ma.fields.Boolean(
        metadata={
            "description": "false pauses the endpoint: no new events are queued for it and "
            "queued ones wait until it is active again."
        }
    )


class WebhookOut(ma.Schema):
    id = ma.fields.UUID(**R, metadata={"example": EXAMPLE_ID})
    url = ma.fields.String(**R, metadata={"example": "https://hooks.example.org/cms"})
    description = nullable_text("CDN purge")
    events = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(WEBHOOK_EVENTS)),
        **R,
        metadata={"example": ["article.published", "article.updated"]},
    )
    active = ma.fields.Boolean(**R)
    created_at = ma.fields.DateTime(**R)
    updated_at = ma.fields.DateTime(**R)


class WebhookCreatedOut(WebhookOut):
    secret = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The signing secret cms-api generated, shown in this response "
            "only: store it now. null when the request supplied its own.",
            "example": "whsec_Jx2mQ9rT4vW7yZ1bC5dF8gH0kL3nP6sS",
        },
    )


class WebhookEvent(ma.Schema):
    """The JSON body of every webhook request."""

    id = ma.fields.UUID(
        **R,
        metadata={
            "description": "The event id, equal to the `Webhook-Id` header: the idempotency "
            "key, the same on every retry and redelivery."
        },
    )
    type = ma.fields.String(
        **R,
        validate=validate.OneOf([*WEBHOOK_EVENTS, PING_EVENT]),
        metadata={"example": "article.updated"},
    )
    # Kept as sent (RFC 3339 text), since the body is what was signed.
    created_at = ma.fields.String(
        **R, metadata={"format": "date-time", "description": "When the event was queued."}
    )
    data = ma.fields.Dict(
        **R,
        metadata={
            "description": "What happened. `article.*`: `id`, `slug`, `locale` (the "
            "article's BCP 47 tag: each translation is an article of its own), `url` (the "
            "delivery path, with `?locale=` outside the site's default locale), `action`, "
            "`occurred_at`. `review.due`: `id`, `slug`, `locale`, `title`, `url`, "
            "`next_review_due`, `last_reviewed_at`. `question.received`: `id`, `question`, "
            "`article`, `topic` (slugs or null), `received_at`, `admin_url`. `webhook.ping`: "
            "`webhook_id`, `message`."
        },
    )
    surrogate_keys = ma.fields.List(
        ma.fields.String(),
        **R,
        metadata={
            "description": "Cache keys of the delivery documents showing the article, to "
            "purge: `article:<id>`, `topic:<slug>` (with ancestors), `person:<slug>` "
            "(authors and reviewers). Empty for other events."
        },
    )


class AttemptOut(ma.Schema):
    number = ma.fields.Integer(
        **R, metadata={"description": "1 for the first attempt since the delivery was queued."}
    )
    attempted_at = ma.fields.DateTime(**R)
    duration_ms = ma.fields.Integer(**R, metadata={"example": 84})
    succeeded = ma.fields.Boolean(**R)
    status_code = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The receiver's HTTP status; null if none came.", "example": 503},
    )
    error = nullable_text(
        "HTTP 503", metadata={"description": "Why the attempt failed; null if it succeeded."}
    )
    response_excerpt = nullable_text(
        "Service Unavailable",
        metadata={"description": "The first kilobyte of the receiver's answer."},
    )


class DeliveryOut(ma.Schema):
    id = ma.fields.UUID(**R)
    event_id = ma.fields.UUID(**R, metadata={"description": "The idempotency key (`Webhook-Id`)."})
    event_type = ma.fields.String(**R, metadata={"example": "article.published"})
    status = ma.fields.String(
        **R,
        validate=validate.OneOf(DELIVERY_STATUSES),
        metadata={
            "description": "`pending` (queued or waiting to retry), `delivered` (a 2xx came), "
            "`failed` (every attempt failed), `cancelled` (the webhook was deleted)."
        },
    )
    attempt_count = ma.fields.Integer(
        **R, metadata={"description": "Attempts since the delivery was last queued."}
    )
    next_attempt_at = ma.fields.DateTime(
        required=True,
        allow_none=True,
        metadata={"description": "When it is tried next; null unless pending."},
    )
    last_status_code = ma.fields.Integer(required=True, allow_none=True)
    last_error = nullable_text()
    created_at = ma.fields.DateTime(**R)
    delivered_at = ma.fields.DateTime(required=True, allow_none=True)
    payload = ma.fields.Nested(WebhookEvent, **R)
    attempts = ma.fields.List(
        ma.fields.Nested(AttemptOut), **R, metadata={"description": "Oldest first."}
    )


class WebhookQueryArgs(PageArgs):
    pass


class DeliveryQueryArgs(PageArgs):
    status = ma.fields.String(
        validate=validate.OneOf(DELIVERY_STATUSES),
        metadata={"description": "Only deliveries in this state."},
    )


WebhookList = list_schema(WebhookOut, "WebhookList")
DeliveryList = list_schema(DeliveryOut, "DeliveryList")
