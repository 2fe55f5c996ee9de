"""Editors mint, list and revoke the preview tokens that show a draft on delivery."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import url_for
from flask.views import MethodView

from cms_api.database import db
from cms_api.http.admin import AdminBlueprint, actor
from cms_api.http.urls import preview_url
from cms_api.models import PreviewToken
from cms_api.schemas.admin.previews import (
    IssuedPreviewTokenOut,
    PreviewTokenIn,
    PreviewTokenList,
    PreviewTokenOut,
)
from cms_api.services.integrations import previews

blp = AdminBlueprint(
    "admin_previews",
    __name__,
    url_prefix="/v1/admin",
    description="Preview tokens: short-lived secrets that let a frontend show an article's "
    "draft through the delivery API before it is published.",
)


def _present(token: PreviewToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "article_id": token.article_id,
        "prefix": token.prefix,
        "created_by": token.created_by,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "active": previews.is_active(token),
    }


@blp.route("/articles/<uuid:article_id>/preview-tokens")
class ArticlePreviewTokens(MethodView):
    @blp.authorize("previews:create")
    @blp.arguments(PreviewTokenIn, required=False, content_type="application/json")
    @blp.response(
        201,
        IssuedPreviewTokenOut,
        headers={"Location": {"description": "The token's address.", "schema": {"type": "string"}}},
    )
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data: dict[str, Any], article_id: uuid.UUID) -> Any:
        """Mint a preview token for an article

        A random secret that, sent to `GET /v1/articles/{slug}` as the `X-Preview-Token`
        header (or the `preview_token` query parameter), answers with the article's current
        working copy rendered as publishing would render it: a never-published draft, or a
        published article's unpublished edits. The same token works on the article's
        `/faqs`, `/related` and `/jsonld`. It opens this article only, expires after
        `expires_in` seconds (default one hour, at most 24 hours) and can be revoked. The
        secret is in this response only (only its digest is stored); `preview_url` is the
        delivery address with the token, ready to fetch, at the API's public address
        (`CMS_API_BASE_URL`). Articles in the trash answer 404.
        """
        issued = previews.mint(
            article_id, lifetime=timedelta(seconds=data["expires_in"]), actor=actor()
        )
        db.session.commit()
        address = preview_url(issued.slug, issued.secret)
        body = {**_present(issued.token), "token": issued.secret, "preview_url": address}
        location = url_for("admin_previews.PreviewTokenById", token_id=issued.token.id)
        return body, 201, {"Location": location}

    @blp.authorize("previews:create")
    @blp.response(200, PreviewTokenList)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, article_id: uuid.UUID) -> Any:
        """List an article's active preview tokens

        The tokens that still open the article's draft (neither expired nor revoked),
        newest first, without their secrets: a complete list.
        """
        return {"items": [_present(token) for token in previews.active_tokens(article_id)]}


@blp.route("/preview-tokens/<uuid:token_id>")
class PreviewTokenById(MethodView):
    @blp.authorize("previews:create")
    @blp.response(200, PreviewTokenOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, token_id: uuid.UUID) -> Any:
        """Get a preview token

        Its article, who minted it, its expiry and whether it was revoked; never the secret.
        """
        return _present(previews.get_token(token_id))


@blp.route("/preview-tokens/<uuid:token_id>/revoke")
class PreviewTokenRevoke(MethodView):
    @blp.authorize("previews:create")
    @blp.response(200, PreviewTokenOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, token_id: uuid.UUID) -> Any:
        """Revoke a preview token

        From now on the token answers 401 on delivery. Revoking twice changes nothing.
        """
        token = previews.revoke(token_id, actor=actor())
        db.session.commit()
        return _present(token)
