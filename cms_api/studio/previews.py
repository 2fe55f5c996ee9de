"""The side-by-side preview, and preview links: an article's working copy as readers will
see it, beside the live one, and tokens that open it on the delivery API for a while."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from flask import Response, redirect, request, url_for

from cms_api.domain.errors import NotFound, ValidationFailed
from cms_api.http.urls import preview_url
from cms_api.services.delivery import documents
from cms_api.services.editorial import articles as editorial
from cms_api.services.integrations import previews
from cms_api.studio import actions, pages, security
from cms_api.studio.blueprint import bp

# How long a preview link opens the working copy: the choices the form offers, in hours.
LIFETIMES = {"1": "1 hour", "8": "8 hours", "24": "24 hours"}


def live_document(article_id: uuid.UUID, locale: str) -> dict[str, Any] | None:
    """The document readers get now, or None when nothing of the article is live."""
    stored = documents.get_document("article", entity_id=article_id, locale=locale)
    return json.loads(stored.body) if stored is not None else None


def _preview_page(
    article_id: uuid.UUID, *, issued: previews.IssuedPreview | None = None, status: int = 200
) -> Response:
    article = editorial.get_article(article_id)
    # Rendered here, by the same renderer publishing uses: the side-by-side frames no
    # other origin (the studio's policy allows none).
    working = previews.render(article)
    links = previews.active_tokens(article.id) if security.may("previews:create") else []
    return pages.render_page(
        "studio/reviews/preview.html",
        status=status,
        article=article,
        working=working,
        live=live_document(article.id, article.locale),
        links=links,
        lifetimes=LIFETIMES,
        issued=issued,
        issued_url=preview_url(issued.slug, issued.secret) if issued else None,
    )


@bp.get("/articles/<uuid:article_id>/preview")
@security.requires("content:read")
def article_preview(article_id: uuid.UUID) -> Response:
    return _preview_page(article_id)


@bp.post("/articles/<uuid:article_id>/preview-links")
@security.requires("previews:create")
def create_preview_link(article_id: uuid.UUID) -> Response:
    """A new preview link, shown on this answer only (only its digest is kept)."""
    hours = request.form.get("hours", "")
    if hours not in LIFETIMES:
        raise ValidationFailed("Choose how long the link works.")
    done = actions.perform(
        lambda actor: previews.mint(article_id, lifetime=timedelta(hours=int(hours)), actor=actor),
        writes=False,  # a token is no content: nothing to re-render
    )
    if done.error is not None:
        raise done.error
    return _preview_page(article_id, issued=done.value, status=201)


@bp.post("/articles/<uuid:article_id>/preview-links/<uuid:token_id>/revoke")
@security.requires("previews:create")
def revoke_preview_link(article_id: uuid.UUID, token_id: uuid.UUID) -> Response:
    if previews.get_token(token_id).article_id != article_id:
        raise NotFound("This article has no preview link with this id.")
    actions.perform(lambda actor: previews.revoke(token_id, actor=actor), writes=False)
    pages.notice("The preview link no longer opens the article.", category="success")
    return redirect(url_for("studio.article_preview", article_id=article_id), 303)
