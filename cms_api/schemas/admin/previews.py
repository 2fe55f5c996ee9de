"""Shapes of the admin preview tokens: minting, listing, revoking."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.domain.headers import PREVIEW_HEADER_NAME
from cms_api.domain.previews import DEFAULT_LIFETIME, MAX_LIFETIME, MIN_LIFETIME
from cms_api.schemas.common import StrictSchema
from cms_api.schemas.public.previews import TOKEN_EXAMPLE

R = {"required": True}


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
            "`preview_token`, ready to fetch, at the API's public address "
            "(`CMS_API_BASE_URL`). It holds the secret: share it like one.",
            "example": "https://cms.example.org/v1/articles/sunburn-relief"
            f"?preview_token={TOKEN_EXAMPLE}",
        },
    )


PreviewTokenList = ma.Schema.from_dict(
    {"items": ma.fields.List(ma.fields.Nested(PreviewTokenOut), **R)}, name="PreviewTokenList"
)
