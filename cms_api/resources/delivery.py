"""What every delivery view shares: query parsing, documented headers and responses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Response
from flask_smorest import Blueprint

from cms_api.domain.errors import NotFound
from cms_api.http.conditional import delivery_response
from cms_api.http.paging import list_body
from cms_api.schemas.common import SLUG_MAX, SLUG_PATTERN
from cms_api.services.delivery.documents import Translation
from cms_api.services.publishing import site

ETAG_HEADER = {
    "description": "Strong entity tag of this representation; send it back in "
    "`If-None-Match` to revalidate.",
    "required": True,
    "schema": {"type": "string", "example": '"3f2a9c0b1d4e5f60718293a4b5c6d7e8"'},
}
CACHE_CONTROL_HEADER = {
    "description": "`public, max-age=60, stale-while-revalidate=600` (configurable).",
    "required": True,
    "schema": {"type": "string"},
}
LINK_HEADER = {
    "description": 'RFC 8288 link to the next page: `<...>; rel="next"`; absent on the last page.',
    "schema": {"type": "string"},
}
CONTENT_LANGUAGE_HEADER = {
    "description": "The locale (BCP 47 tag) the content is in: the `locale` asked for, "
    "else the site's default locale. Chosen by `?locale=` alone, never by "
    "`Accept-Language`, so answers do not vary with it.",
    "required": True,
    "schema": {"type": "string", "example": "en"},
}
DELIVERY_HEADERS = {"ETag": ETAG_HEADER, "Cache-Control": CACHE_CONTROL_HEADER}
# What answers with content in one locale carry (200 and 304 alike).
LOCALIZED_HEADERS = {**DELIVERY_HEADERS, "Content-Language": CONTENT_LANGUAGE_HEADER}


def rate_limit_headers(what: str, example: int) -> dict[str, Any]:
    """flask-limiter's headers, on every answer of a rate-limited operation."""
    return {
        "X-RateLimit-Limit": {
            "description": f"{what} per window.",
            "schema": {"type": "integer", "example": example},
        },
        "X-RateLimit-Remaining": {
            "description": "What is left of it in the current window.",
            "schema": {"type": "integer", "example": example - 1},
        },
        "X-RateLimit-Reset": {
            "description": "When the window ends, in Unix seconds.",
            "schema": {"type": "integer", "example": 1795000000},
        },
    }


LIST_HEADERS = {**DELIVERY_HEADERS, "Link": LINK_HEADER}
LOCALIZED_LIST_HEADERS = {**LOCALIZED_HEADERS, "Link": LINK_HEADER}

IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "description": "An ETag from an earlier response; answers 304 when it still matches.",
    "schema": {"type": "string"},
}
# Route-level (path item) parameters: flask-smorest's `doc(parameters=...)` would replace,
# not extend, the query parameters that `arguments` documents for the same operation.
DELIVERY_PARAMETERS = [IF_NONE_MATCH]


def slug_parameters(description: str, example: str) -> list[dict[str, Any]]:
    """A route's `slug` path parameter (with a seeded example) and `If-None-Match`."""
    slug = {
        "in": "path",
        "name": "slug",
        "required": True,
        "description": f"{description} Anything that is not a slug answers 404.",
        "schema": {"type": "string", "pattern": SLUG_PATTERN, "maxLength": SLUG_MAX},
        "example": example,
    }
    return [slug, *DELIVERY_PARAMETERS]


def documented(
    blp: Blueprint, *, not_found: bool = True, localized: bool = False
) -> Callable[..., Any]:
    """Errors and conditional responses every delivery GET can answer; `localized`: its
    304 says the content's locale, as its 200 does."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        view = blp.alt_response(
            304,
            description="Not Modified: the `If-None-Match` ETag still matches.",
            headers=LOCALIZED_HEADERS if localized else DELIVERY_HEADERS,
            success=True,
        )(view)
        if not_found:
            view = blp.alt_response(404, response="NOT_FOUND")(view)
        return blp.alt_response(503, response="SERVICE_UNAVAILABLE")(view)

    return decorator


def complete_list_response(items: list[Any], *, locale: str | None = None) -> Response:
    """A bounded list (an article's FAQs or links) served whole, in the list envelope."""

    encoded = [json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in items]
    body = list_body(encoded, limit=100, next_cursor=None, total=len(items))
    return delivery_response(body, locale=locale)


def not_in_locale(detail: str, kind: str, published: list[Translation]) -> NotFound:
    """The 404 of a detail read in a locale without the document: where the same work is
    published instead (the problem's `translations`), for the client to follow or not."""
    return NotFound(
        detail,
        translations=[
            {
                "locale": found.locale,
                "slug": found.slug,
                "url": site.page_url(kind, found.slug, found.locale),
            }
            for found in published
        ],
    )
