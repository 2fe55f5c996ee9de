"""The change feed: every publish, update, unpublish and deletion since a cursor."""

from __future__ import annotations

import json
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from cms_api.http.arguments import query_args
from cms_api.http.conditional import delivery_response
from cms_api.http.paging import next_link
from cms_api.resources.delivery import DELIVERY_PARAMETERS, LIST_HEADERS, documented
from cms_api.schemas.public.changes import ChangeFeed, ChangeFeedArgs
from cms_api.services.delivery import changes

# Said only of a feed narrowed to one locale: the whole feed is in every locale.
FEED_HEADERS = {
    **LIST_HEADERS,
    "Content-Language": {
        "description": "With `locale`: that locale. Absent from the feed of every locale.",
        "schema": {"type": "string", "example": "es"},
    },
}

blp = Blueprint(
    "changes",
    __name__,
    url_prefix="/v1/changes",
    description="A feed of changes to published content, for static-site builds and indexes.",
)


@blp.route("", parameters=DELIVERY_PARAMETERS)
class ChangeFeedView(MethodView):
    @documented(blp, not_found=False)
    @query_args(blp, ChangeFeedArgs)
    @blp.response(200, ChangeFeed, headers=FEED_HEADERS)
    def get(self, args: dict[str, Any]) -> Response:
        """Read the change feed

        Every publish, update, unpublish and deletion of published articles, FAQs, people
        and topics, oldest first. Start without `since` to get the whole history (a
        first sync), keep `page.next_cursor`, and pass it as `since` to get only what
        changed after it. While `page.has_more` is true, ask again straight away; the
        `Link: rel="next"` header carries the same request.

        An `updated` event means the served document changed (its text, or something
        it embeds such as an author's credentials); fetch `url` for the new version.
        `unpublished` and `deleted` mean the document is gone from delivery: remove it.
        Events appear once the transactions that wrote them, and every transaction older
        than those, have finished, so a cursor never skips a late commit.

        The feed is a sync stream for mirrors of the whole site: without `locale` it
        carries the events of every locale, each naming its `locale`, and its `url` reads
        the document in that locale. `?locale=es` narrows it to one locale's documents
        (and the answer says `Content-Language: es`).
        """
        locale = args.get("locale")
        page = changes.read(args.get("since"), args["limit"], locale)
        body = json.dumps(
            {
                "items": page.items,
                "page": {
                    "limit": page.limit,
                    "next_cursor": page.next_cursor,
                    "has_more": page.has_more,
                },
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return delivery_response(
            body,
            headers=next_link(page.next_cursor if page.has_more else None, parameter="since"),
            locale=locale,
        )
