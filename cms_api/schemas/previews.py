"""Shapes of draft preview: minting a preview token, and sending one to delivery."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.domain.headers import PREVIEW_HEADER_NAME
from cms_api.domain.previews import DEFAULT_LIFETIME, MAX_LIFETIME, MAX_TOKEN_LENGTH, MIN_LIFETIME
from cms_api.schemas.articles import ArticleDetailArgs
from cms_api.schemas.common import StrictSchema

R = {"required": True}
TOKEN_EXAMPLE = "cmspv_Zm9yIGV4YW1wbGUgb25seSwgbm90IGEgcmVhbCB0b2tlbiE"
PREVIEW_HELP = (
    "A preview token from `POST /v1/admin/articles/{id}/preview-tokens`. With one, the "
    "answer is the article's current draft (its working copy, rendered as publishing would "
    "render it), even if it was never published, with `Cache-Control: private, no-store`. "
    "A token that is unknown, expired, revoked or minted for another article answers 401."
)
# Route-level, so it joins the query parameters `arguments` documents instead of
# replacing them.
PREVIEW_HEADER = {
    "in": "header",
    "name": PREVIEW_HEADER_NAME,
    "required": False,
    "description": f"{PREVIEW_HELP} The preferred way to send it: headers stay out of URLs, "
    "access logs and `Referer`.",
    "schema": {"type": "string"},
    "example": TOKEN_EXAMPLE,
}


def _preview_token_field() -> ma.fields.String:
    return ma.fields.String(
        # The alphabet tokens are minted in (URL-safe base64 after the prefix).
        validate=[
            validate.Length(min=1, max=MAX_TOKEN_LENGTH),
            validate.Regexp(r"^[A-Za-z0-9_-]+$"),
        ],
        metadata={
            "description": f"{PREVIEW_HELP} The same as the `{PREVIEW_HEADER_NAME}` header, "
            "for frontends that can only pass a URL; send one or the other (two different "
            "tokens are a 401).",
            "example": TOKEN_EXAMPLE,
        },
    )


class PreviewArgs(StrictSchema):
    preview_token = _preview_token_field()


class ArticlePreviewArgs(ArticleDetailArgs):
    preview_token = _preview_token_field()


class PreviewTokenIn(StrictSchema):
    expires_in = ma.fields.Integer(
        load_default=int(DEFAULT_LIFETIME.total_seconds()),
        validate=validate.Range(
            min=int(MIN_LIFETIME.total_seconds()), max=int(MAX_LIFETIME.total_seconds())
        ),
        metadata={
            "description": "Seconds until the token stops working: 60 to 86400 (24 hours), "
            "default 3600 (one hour).",
            "example": 3600,
        },
    )


class PreviewTokenOut(ma.Schema):
    id = ma.fields.UUID(**R)
    article_id = ma.fields.UUID(**R)
    prefix = ma.fields.String(
        **R,
        metadata={
            "description": "The token's first characters, to tell links apart.",
            "example": "cmspv_Zm9yIGV4",
        },
    )
    created_by = ma.fields.UUID(
        required=True, allow_none=True, metadata={"description": "The user who minted it."}
    )
    created_at = ma.fields.DateTime(**R)
    expires_at = ma.fields.DateTime(**R)
    revoked_at = ma.fields.DateTime(required=True, allow_none=True)
    active = ma.fields.Boolean(
        **R, metadata={"description": "Whether it still opens the article's draft."}
    )


class IssuedPreviewTokenOut(PreviewTokenOut):
    token = ma.fields.String(
        **R,
        metadata={
            "description": f"The secret, shown this once: send it as `{PREVIEW_HEADER_NAME}` "
            "(or `preview_token`) to the article's delivery address.",
            "example": TOKEN_EXAMPLE,
        },
    )
    preview_url = ma.fields.String(
        **R,
        metadata={
            "description": "The article's delivery address with the token as "
            "`preview_token`, ready to fetch. It holds the secret: share it like one.",
            "example": "https://cms.example.org/v1/articles/sunburn-relief"
            f"?preview_token={TOKEN_EXAMPLE}",
        },
    )


PreviewTokenList = ma.Schema.from_dict(
    {"items": ma.fields.List(ma.fields.Nested(PreviewTokenOut), **R)}, name="PreviewTokenList"
)
