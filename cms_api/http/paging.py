"""Pages as HTTP answers: the list envelope, the RFC 8288 `Link`, lists answered from memory."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Response, request

from cms_api.domain.etags import etag_for
from cms_api.domain.paging import Page
from cms_api.http.conditional import delivery_response
from cms_api.http.urls import absolute_url
from cms_api.services.delivery import listings, remembered

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


def rendered_page_response(page: Page[str], *, locale: str | None = None) -> Response:
    """A page of stored documents (JSON text), with its ETag and `Link` (and the locale
    of its content, if given); a page of a published list is remembered for
    `answered_from_memory`."""
    body = list_body(page.items, limit=page.limit, next_cursor=page.next_cursor, total=page.total)
    if isinstance(page, listings.ListedPage):
        return remembered_response(body, page.version, next_cursor=page.next_cursor, locale=locale)
    return delivery_response(body, headers=next_link(page.next_cursor), locale=locale)


def remembered_response(
    body: str,
    version: remembered.Version,
    *,
    next_cursor: str | None = None,
    locale: str | None = None,
) -> Response:
    """A delivery answer read at `version`, kept for `answered_from_memory` to give again;
    `locale`: the language of its content (`Content-Language`), if it has one."""
    etag = etag_for(body)
    remembered.remember(_address(), remembered.Answer(body, etag, next_cursor, version, locale))
    return delivery_response(body, etag=etag, headers=next_link(next_cursor), locale=locale)


def answered_from_memory(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer a read this worker answered before, while published content is unchanged,
    without parsing its query or reading it again.

    Only a request that was answered (its query valid, its cursor genuine) is remembered
    (see `remembered_response`), by its exact path and query string; the answer is byte
    for byte the one the view gave, with its ETag, and its `Link` made for this request.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        answer = remembered.recall(_address())
        if answer is None:
            return view(*args, **kwargs)
        return delivery_response(
            answer.body,
            etag=answer.etag,
            headers=next_link(answer.next_cursor),
            locale=answer.locale,
        )

    return wrapper


def page_answer(page: Page[Any], items: list[Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """A page as a view's answer: its items as presented, the envelope, the `Link` header."""
    body = {
        "items": items,
        "page": {"limit": page.limit, "next_cursor": page.next_cursor, "total": page.total},
    }
    return body, 200, next_link(page.next_cursor)


def _address() -> tuple[str, bytes]:
    return request.path, request.query_string
