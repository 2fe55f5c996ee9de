"""Admins manage webhooks in the studio: endpoints, their secrets and their deliveries."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, redirect, request, url_for

from cms_api.models import WebhookEndpoint
from cms_api.models.webhook import WEBHOOK_EVENTS
from cms_api.schemas.admin.webhooks import WebhookCreate, WebhookPatch
from cms_api.services.integrations.webhooks import deliveries, endpoints, signing
from cms_api.studio import actions, nav, pages, security
from cms_api.studio.admin_users import conflict_page, is_stale, unchanged_since
from cms_api.studio.blueprint import bp

ACTION = "webhooks:manage"  # the admin API's permission for webhooks
PAGE_SIZE = 50

nav.add_section(
    nav.Section(
        endpoint="studio.admin_webhooks",
        label="Webhooks",
        description="Send signed events to other systems, and see what was delivered.",
        action=ACTION,
    )
)


def _sent(form: Any) -> dict[str, Any]:
    """The fields of a webhook form, as the admin API takes them."""
    return {
        "url": form.get("url", "").strip(),
        "description": form.get("description", "").strip() or None,
        "events": form.getlist("events"),
        "active": form.get("active") == "on",
    }


def _form_of(endpoint: WebhookEndpoint) -> pages.Form:
    values = {"url": endpoint.url, "description": endpoint.description or ""}
    return pages.Form(values={**values, "active": "on" if endpoint.active else ""})


def _list_page(form: pages.Form, chosen: list[str], status: int = 200) -> Response:
    page = endpoints.list_endpoints(limit=PAGE_SIZE, cursor=request.args.get("cursor") or None)
    return pages.render_page(
        "studio/admin/webhooks.html",
        status=status,
        webhooks=page.items,
        next_cursor=page.next_cursor,
        events=WEBHOOK_EVENTS,
        chosen=chosen,
        form=form,
    )


def _webhook_page(
    endpoint: WebhookEndpoint,
    *,
    status: int = 200,
    form: pages.Form | None = None,
    chosen: list[str] | None = None,
    action_form: pages.Form | None = None,
    secret: str | None = None,
) -> Response:
    listed = deliveries.list_deliveries(
        endpoint,
        status=None,
        limit=PAGE_SIZE,
        cursor=request.args.get("cursor") or None,
    )
    return pages.render_page(
        "studio/admin/webhook.html",
        status=status,
        webhook=endpoint,
        deliveries=listed.items,
        next_cursor=listed.next_cursor,
        events=WEBHOOK_EVENTS,
        form=form or _form_of(endpoint),
        chosen=chosen if chosen is not None else list(endpoint.events),
        action_form=action_form or pages.Form(),
        secret=secret,
    )


@bp.get("/admin/webhooks")
@security.requires(ACTION)
def admin_webhooks() -> Response:
    """Every webhook, and a form to register one."""
    return _list_page(pages.Form(values={"active": "on"}), [])


@bp.post("/admin/webhooks")
@security.requires(ACTION)
def admin_webhook_create() -> Response:
    form = pages.Form.from_request(request.form)
    chosen = request.form.getlist("events")
    data = pages.validated(
        WebhookCreate(), _sent(request.form), form, "Some fields need attention."
    )
    if data is None:
        return _list_page(form, chosen, 422)
    done = actions.perform(lambda actor: endpoints.create_endpoint(data, actor))
    if not done.ok:
        assert done.error is not None
        return _list_page(form.refuse_with(done.error), chosen, 422)
    assert done.value is not None
    endpoint, secret = done.value
    # The generated secret is on this answer only.
    return _webhook_page(endpoint, status=201, secret=secret)


@bp.get("/admin/webhooks/<uuid:webhook_id>")
@security.requires(ACTION)
def admin_webhook(webhook_id: uuid.UUID) -> Response:
    """One webhook: its settings and its deliveries, newest first."""
    return _webhook_page(endpoints.get_endpoint(webhook_id))


def _locked(webhook_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = endpoints.get_endpoint(webhook_id, for_update=True)
    unchanged_since(request.form.get("version"), endpoint.version)
    return endpoint


@bp.post("/admin/webhooks/<uuid:webhook_id>")
@security.requires(ACTION)
def admin_webhook_update(webhook_id: uuid.UUID) -> Response:
    endpoint = endpoints.get_endpoint(webhook_id)
    form = pages.Form.from_request(request.form)
    chosen = request.form.getlist("events")
    data = pages.validated(WebhookPatch(), _sent(request.form), form, "Some fields need attention.")
    if data is None:
        return _webhook_page(endpoint, status=422, form=form, chosen=chosen)
    done = actions.perform(
        lambda actor: endpoints.update_endpoint(_locked(webhook_id), data, actor)
    )
    back = url_for("studio.admin_webhook", webhook_id=webhook_id)
    if is_stale(done):
        return conflict_page("this webhook", back)
    if not done.ok:
        assert done.error is not None
        return _webhook_page(
            endpoints.get_endpoint(webhook_id),
            status=422,
            form=form.refuse_with(done.error),
            chosen=chosen,
        )
    pages.notice("The webhook is saved.", category="success")
    return redirect(back, code=303)


@bp.post("/admin/webhooks/<uuid:webhook_id>/rotate-secret")
@security.requires(ACTION)
def admin_webhook_rotate(webhook_id: uuid.UUID) -> Response:
    """A new generated secret signs every later attempt; it is on this answer only."""
    secret = signing.new_secret()
    done = actions.perform(
        lambda actor: endpoints.update_endpoint(_locked(webhook_id), {"secret": secret}, actor)
    )
    if is_stale(done):
        return conflict_page("this webhook", url_for("studio.admin_webhook", webhook_id=webhook_id))
    assert done.value is not None
    return _webhook_page(done.value, secret=secret)


@bp.post("/admin/webhooks/<uuid:webhook_id>/delete")
@security.requires(ACTION)
def admin_webhook_delete(webhook_id: uuid.UUID) -> Response:
    endpoint = endpoints.get_endpoint(webhook_id)
    url = endpoint.url
    done = actions.perform(lambda actor: endpoints.delete_endpoint(_locked(webhook_id), actor))
    if is_stale(done):
        return conflict_page("this webhook", url_for("studio.admin_webhook", webhook_id=webhook_id))
    pages.notice(f"The webhook to {url} is deleted.", category="success")
    return redirect(url_for("studio.admin_webhooks"), code=303)


def _queued(webhook_id: uuid.UUID, done: actions.Done[Any], what: str) -> Response:
    if not done.ok:
        assert done.error is not None
        form = pages.Form().refuse_with(done.error)
        return _webhook_page(endpoints.get_endpoint(webhook_id), status=409, action_form=form)
    pages.notice(what, category="success")
    return redirect(url_for("studio.admin_webhook", webhook_id=webhook_id), code=303)


@bp.post("/admin/webhooks/<uuid:webhook_id>/ping")
@security.requires(ACTION)
def admin_webhook_ping(webhook_id: uuid.UUID) -> Response:
    endpoint = endpoints.get_endpoint(webhook_id)
    done = actions.perform(lambda actor: deliveries.ping(endpoint, actor))
    return _queued(webhook_id, done, "A test event is queued.")


@bp.post("/admin/webhooks/<uuid:webhook_id>/deliveries/<uuid:delivery_id>/redeliver")
@security.requires(ACTION)
def admin_webhook_redeliver(webhook_id: uuid.UUID, delivery_id: uuid.UUID) -> Response:
    endpoint = endpoints.get_endpoint(webhook_id)
    # Another webhook's delivery is the service's NotFound: the studio's 404 page.
    done = actions.perform(lambda actor: deliveries.redeliver(endpoint, delivery_id, actor))
    return _queued(webhook_id, done, "The delivery is queued again.")
