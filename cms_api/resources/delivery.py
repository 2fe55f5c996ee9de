"""What every delivery view shares: query parsing, documented headers and responses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Response
from flask_smorest import Blueprint

from cms_api.http.conditional import delivery_response
from cms_api.http.paging import list_body
from cms_api.schemas.common import SLUG_MAX, SLUG_PATTERN

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
DELIVERY_HEADERS = {"ETag": ETAG_HEADER, "Cache-Control": CACHE_CONTROL_HEADER}


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


def documented(blp: Blueprint, *, not_found: bool = True) -> Callable[..., Any]:
    """Errors and conditional responses every delivery GET can answer."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        view = blp.alt_response(
            304,
            description="Not Modified: the `If-None-Match` ETag still matches.",
            headers=DELIVERY_HEADERS,
            success=True,
        )(view)
        if not_found:
            view = blp.alt_response(404, response="NOT_FOUND")(view)
        return blp.alt_response(503, response="SERVICE_UNAVAILABLE")(view)

    return decorator


def complete_list_response(items: list[Any]) -> Response:
    """A bounded list (an article's FAQs or links) served whole, in the list envelope."""

    encoded = [json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in items]
    return delivery_response(list_body(encoded, limit=100, next_cursor=None, total=len(items)))
