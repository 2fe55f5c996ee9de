"""Pages as HTTP answers: the list envelope, and the RFC 8288 `Link` to the next page."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import Response, request

from cms_api.domain.paging import Page
from cms_api.http.conditional import delivery_response
from cms_api.http.urls import absolute_url

LINK_HEADER = {
    "Link": {
        "description": 'RFC 8288 link to the next page: `<...>; rel="next"`, an absolute '
        "URL at the API's public address (`CMS_API_BASE_URL`); absent on the last page.",
        "schema": {"type": "string"},
    }
}


def next_link(next_cursor: str | None, *, parameter: str = "cursor") -> dict[str, str]:
    """This request again with the next page's cursor, as an RFC 8288 `Link` header."""
    if not next_cursor:
        return {}
    args = [(key, value) for key, value in request.args.items(multi=True) if key != parameter]
    args.append((parameter, next_cursor))
    address = absolute_url(f"{request.path}?{urlencode(args)}")
    return {"Link": f'<{address}>; rel="next"'}


def list_body(items: list[str], *, limit: int, next_cursor: str | None, total: int) -> str:
    """A list document assembled from items that are already JSON text."""
    page = json.dumps({"limit": limit, "next_cursor": next_cursor, "total": total})
    return '{"items":[' + ",".join(items) + '],"page":' + page + "}"


def rendered_page_response(page: Page[str]) -> Response:
    """A page of stored documents (JSON text), with its ETag and `Link`."""
    body = list_body(page.items, limit=page.limit, next_cursor=page.next_cursor, total=page.total)
    return delivery_response(body, headers=next_link(page.next_cursor))


def page_answer(page: Page[Any], items: list[Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """A page as a view's answer: its items as presented, the envelope, the `Link` header."""
    body = {
        "items": items,
        "page": {"limit": page.limit, "next_cursor": page.next_cursor, "total": page.total},
    }
    return body, 200, next_link(page.next_cursor)
