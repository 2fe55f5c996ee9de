"""Shapes of reading a draft with a preview token: the header and query parameter."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.domain.headers import PREVIEW_HEADER_NAME
from cms_api.domain.previews import MAX_TOKEN_LENGTH
from cms_api.schemas.common import Locale, StrictSchema
from cms_api.schemas.public.articles import ArticleDetailArgs

R = {"required": True}


TOKEN_EXAMPLE = "cmspv_Zm9yIGV4YW1wbGUgb25seSwgbm90IGEgcmVhbCB0b2tlbiE"
# Where a token is an optional input, it is described, never given as an example: /docs
# "Try it out" would send the example token, and the published article would answer 401.
TOKEN_FORMAT = (
    f"Tokens look like `{TOKEN_EXAMPLE}`: `cmspv_` and URL-safe base64 (letters, digits, `-` "
    f"and `_`), at most {MAX_TOKEN_LENGTH} characters."
)


PREVIEW_HELP = (
    "A preview token from `POST /v1/admin/articles/{id}/preview-tokens`. With one, the "
    "answer is the article's current draft (its working copy, rendered as publishing would "
    "render it), even if it was never published, with `Cache-Control: private, no-store`. "
    "A token that is unknown, expired, revoked or minted for another article answers 401. "
    "Without one, the published article. " + TOKEN_FORMAT
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
        },
    )


class PreviewArgs(StrictSchema):
    locale = Locale(metadata={"example": "en"})
    preview_token = _preview_token_field()


class ArticlePreviewArgs(ArticleDetailArgs):
    preview_token = _preview_token_field()
