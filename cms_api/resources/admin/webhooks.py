"""Admin webhooks: register signed event endpoints, read their deliveries, redeliver."""

from __future__ import annotations

import uuid
from typing import Any

from flask import url_for
from flask.blueprints import BlueprintSetupState
from flask.views import MethodView

from cms_api.database import db
from cms_api.extensions import api
from cms_api.http.admin import ETAG_HEADER, AdminBlueprint, actor
from cms_api.http.admin_resource import JSON_BODY, AdminResource
from cms_api.http.paging import LINK_HEADER, page_answer
from cms_api.models import WebhookDelivery, WebhookEndpoint
from cms_api.models.webhook import PING_EVENT, WEBHOOK_EVENTS
from cms_api.schemas.admin.webhooks import (
    EXAMPLE_EVENT,
    DeliveryList,
    DeliveryOut,
    DeliveryQueryArgs,
    WebhookCreate,
    WebhookCreatedOut,
    WebhookEvent,
    WebhookList,
    WebhookOut,
    WebhookPatch,
    WebhookQueryArgs,
)
from cms_api.services.integrations.webhooks import deliveries, endpoints, worker

ACTION = "webhooks:manage"
RETRY = worker.DEFAULT_RETRY
SIGNING = """\
**Signature.** `Webhook-Signature: t=<timestamp>,v1=<signature>`, where `<signature>` is
the lowercase hex HMAC-SHA256 keyed with the webhook's secret (its UTF-8 bytes, prefix
included) of the timestamp, a full stop and the raw body: `HMAC-SHA256(secret,
"{t}.{body}")`. To verify: take the raw body bytes before any JSON parsing; split the
header on `,` into `key=value` pairs; compute the HMAC over `t`, `.` and the body; accept
when it equals one of the `v1` values (compare in constant time; ignore other keys, which
later schemes may add); refuse a `t` more than 5 minutes from your clock, so a captured
request cannot be replayed later."""
DESCRIPTION = f"""\
Signed webhooks (admins only). Register an endpoint with the events it wants; cms-api POSTs
each event to it as JSON, signed with the endpoint's secret, until the receiver answers 2xx.

**Events.** `article.published`, `article.updated`, `article.unpublished` and
`article.deleted` (what readers see changed: the change feed's moments),
`review.due` (a published article's periodic medical review is due: one event per article
and due date, from `cms-api webhooks notify-reviews-due`), `question.received` (a reader
sent a question; the reader's email is not included), and `{PING_EVENT}` (only on request,
with `POST /v1/admin/webhooks/{{webhook_id}}/ping`). An event is queued in the same database
transaction as the change it announces: it is sent if and only if the change commits.

**Request.** `POST <url>` with `Content-Type: application/json` and the body
`{{"id", "type", "created_at", "data", "surrogate_keys"}}` (see the `webhooks` section of
the OpenAPI document). For `article.*` events, `surrogate_keys` name the delivery documents
that show the article, for a CDN purge: `article:<id>`, `topic:<slug>` for its topics and
their ancestors, `person:<slug>` for its authors and reviewers. After an unpublish or a
deletion the keys come from the article's current authors, reviewers and topics. Headers:

- `Webhook-Id`: the event id (also the body's `id`): the idempotency key. It is the same on
  every retry and redelivery; process each id once and answer 2xx to repeats.
- `Webhook-Timestamp`: when this attempt was signed, in Unix seconds.
- `Webhook-Signature`: `t=<timestamp>,v1=<signature>`, see below.
- `Webhook-Event`: the event type. `Webhook-Attempt`: 1, then 2, 3... on retries.

{SIGNING}

**Delivery.** A 2xx answer within {worker.READ_TIMEOUT_SECONDS:g} seconds acknowledges the
event. Anything else (another status, a redirect, which is never followed, a timeout, a
refused connection) is retried with exponential backoff and jitter: about
{RETRY.base_seconds:g} s, then doubling up to {RETRY.cap_seconds / 3600:g} h between
attempts, {RETRY.max_attempts} attempts in all (7 to 15 hours), after which the delivery is
`failed`. Events can arrive out of order and, rarely (a worker dying mid-request), more than
once: deduplicate on `Webhook-Id`. Every attempt is listed under
`GET /v1/admin/webhooks/{{webhook_id}}/deliveries`; `redeliver` queues one again, with the
same id.

**Addresses.** URLs must be `https` and their host must resolve to public addresses only:
private, loopback, link-local, unspecified, multicast and reserved addresses, in IPv4, IPv6
and the IPv6 forms that embed an IPv4 address (`::ffff:127.0.0.1`), are refused with 422.
The host is resolved and checked again before each attempt, and the request goes to the
address checked. `CMS_WEBHOOKS_ALLOW_PRIVATE=true` lifts this (and allows `http`) for tests.

**Secrets.** Send a `secret` when creating, or let cms-api generate one: it is then in the
create response, once. No response ever shows it again; `PATCH` a new one to rotate it."""

blp = AdminBlueprint(
    "admin_webhooks", __name__, url_prefix="/v1/admin/webhooks", description=DESCRIPTION
)
WEBHOOK_ID = {"in": "path", "name": "webhook_id", "description": "The webhook's id."}
DELIVERY_ID = {"in": "path", "name": "delivery_id", "description": "The delivery's id."}
LOCATION_HEADER = {
    "Location": {"description": "The new webhook's address.", "schema": {"type": "string"}}
}


def _get_endpoint(
    webhook_id: uuid.UUID, *, for_update: bool = False, include_trashed: bool = False
) -> WebhookEndpoint:
    # Deleted webhooks are gone for good: there is no trash to include.
    return endpoints.get_endpoint(webhook_id, for_update=for_update)


RESOURCE = AdminResource(
    blp,
    kind="webhook",
    id_parameter="webhook_id",
    present=endpoints.present_endpoint,
    fetch=_get_endpoint,
)


@blp.route("")
class WebhookCollection(MethodView):
    @blp.authorize(ACTION)
    @blp.query_args(WebhookQueryArgs)
    @blp.response(200, WebhookList, headers=LINK_HEADER)
    def get(self, args: dict[str, Any]) -> Any:
        """List webhooks

        Registered endpoints, newest first, without their secrets.
        """
        page = endpoints.list_endpoints(limit=args["limit"], cursor=args.get("cursor"))
        return page_answer(page, [endpoints.present_endpoint(row) for row in page.items])

    @blp.authorize(ACTION)
    @blp.arguments(WebhookCreate, **JSON_BODY)
    @blp.response(201, WebhookCreatedOut, headers={**ETAG_HEADER, **LOCATION_HEADER})
    def post(self, data: dict[str, Any]) -> Any:
        """Register a webhook

        The URL must be https on a public address (422 otherwise). Without `secret`, one
        is generated and returned in `secret`, this once; with one, `secret` is null.
        """
        endpoint, generated = endpoints.create_endpoint(data, actor())
        db.session.commit()
        body = {**endpoints.present_endpoint(endpoint), "secret": generated}
        location = url_for("admin_webhooks.WebhookById", webhook_id=endpoint.id)
        return body, 201, {"ETag": RESOURCE.etag(endpoint), "Location": location}


@blp.route("/<uuid:webhook_id>", parameters=[WEBHOOK_ID])
class WebhookById(MethodView):
    @blp.authorize(ACTION)
    @blp.response(200, WebhookOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, webhook_id: uuid.UUID) -> Any:
        """Get a webhook

        Its URL, events, description and whether it is active; never its secret.
        """
        return RESOURCE.show(endpoints.get_endpoint(webhook_id))

    @blp.authorize(ACTION)
    @blp.arguments(WebhookPatch, **JSON_BODY)
    @blp.response(200, WebhookOut, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @RESOURCE.locked
    def patch(self, data: dict[str, Any], endpoint: WebhookEndpoint) -> Any:
        """Edit a webhook (JSON merge patch)

        Only the fields sent change. A new URL is checked like a new webhook's; a new
        `secret` signs every later attempt, retries of earlier events included;
        `active: false` pauses the endpoint.
        """
        return RESOURCE.answer(endpoints.update_endpoint(endpoint, data, actor()))

    @blp.authorize(ACTION)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @RESOURCE.locked
    def delete(self, endpoint: WebhookEndpoint) -> Any:
        """Delete a webhook

        Nothing more is sent to it: queued deliveries are cancelled and its secret is
        erased. The audit log keeps what it was.
        """
        endpoints.delete_endpoint(endpoint, actor())
        db.session.commit()
        return "", 204


@blp.route("/<uuid:webhook_id>/deliveries", parameters=[WEBHOOK_ID])
class WebhookDeliveries(MethodView):
    @blp.authorize(ACTION)
    @blp.query_args(DeliveryQueryArgs)
    @blp.response(200, DeliveryList, headers=LINK_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any], webhook_id: uuid.UUID) -> Any:
        """List a webhook's deliveries

        Newest first, each with its payload and every attempt (status code, error, time,
        the start of the answer). `status` keeps one state.
        """
        endpoint = endpoints.get_endpoint(webhook_id)
        page = deliveries.list_deliveries(
            endpoint,
            status=args.get("status"),
            limit=args["limit"],
            cursor=args.get("cursor"),
        )
        return page_answer(page, [deliveries.present_delivery(row) for row in page.items])


def _delivery_key(delivery: WebhookDelivery) -> list[Any]:
    return [delivery.created_at.isoformat(), str(delivery.id)]


@blp.route(
    "/<uuid:webhook_id>/deliveries/<uuid:delivery_id>/redeliver",
    parameters=[WEBHOOK_ID, DELIVERY_ID],
)
class WebhookRedeliver(MethodView):
    @blp.authorize(ACTION)
    @blp.response(202, DeliveryOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, webhook_id: uuid.UUID, delivery_id: uuid.UUID) -> Any:
        """Redeliver an event

        Queues the delivery again now, whatever its state, with a fresh retry budget and
        the same `Webhook-Id`, so a receiver that already has it can ignore it. 409 while
        a worker is sending it, or while the webhook is inactive.
        """
        endpoint = endpoints.get_endpoint(webhook_id)
        delivery = deliveries.redeliver(endpoint, delivery_id, actor())
        db.session.commit()
        return deliveries.present_delivery(delivery), 202


@blp.route("/<uuid:webhook_id>/ping", parameters=[WEBHOOK_ID])
class WebhookPing(MethodView):
    @blp.authorize(ACTION)
    @blp.response(202, DeliveryOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, webhook_id: uuid.UUID) -> Any:
        """Send a test event

        Queues a `webhook.ping` event to this webhook alone (signed like any other), to
        check a receiver. 409 while the webhook is inactive.
        """
        endpoint = endpoints.get_endpoint(webhook_id)
        delivery = deliveries.ping(endpoint, actor())
        db.session.commit()
        return deliveries.present_delivery(delivery), 202


# -- the requests cms-api sends, in the OpenAPI 3.1 `webhooks` section ----------------------

_HEADERS = [
    ("Webhook-Id", "The event id (the body's `id`): the idempotency key.", "uuid"),
    ("Webhook-Timestamp", "When this attempt was signed, in Unix seconds.", None),
    ("Webhook-Signature", "`t=<timestamp>,v1=<hex HMAC-SHA256>`; see the description.", None),
    ("Webhook-Event", "The event type.", None),
    ("Webhook-Attempt", "1 for the first attempt, then 2, 3... on retries.", None),
]


def _webhook_operation(event: str) -> dict[str, Any]:
    parameters = [
        {
            "in": "header",
            "name": name,
            "required": True,
            "description": text,
            "schema": {"type": "string", **({"format": form} if form else {})},
        }
        for name, text, form in _HEADERS
    ]
    return {
        "post": {
            "summary": f"The `{event}` event",
            "description": f"What your endpoint receives for `{event}`.\n\n{SIGNING}",
            "parameters": parameters,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/WebhookEvent"},
                        "example": {**EXAMPLE_EVENT, "type": event},
                    }
                },
            },
            "responses": {
                "2XX": {"description": "Acknowledged: the event will not be sent again."},
                "default": {"description": "Not acknowledged: the event is retried."},
            },
        }
    }


@blp.record_once
def _document_webhooks(state: BlueprintSetupState) -> None:
    """Describe the outgoing requests where OpenAPI 3.1 puts them: the `webhooks` section."""
    api.spec.components.schema("WebhookEvent", schema=WebhookEvent)
    api.spec.options["webhooks"] = {
        event: _webhook_operation(event) for event in (*WEBHOOK_EVENTS, PING_EVENT)
    }
