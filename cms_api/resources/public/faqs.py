"""Published FAQs: the list, filtered by topic or article, and one FAQ; per locale."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from cms_api.domain.errors import NotFound
from cms_api.http.arguments import query_args
from cms_api.http.conditional import delivery_response
from cms_api.http.paging import answered_from_memory, rendered_page_response
from cms_api.resources.delivery import (
    DELIVERY_PARAMETERS,
    LOCALIZED_HEADERS,
    LOCALIZED_LIST_HEADERS,
    documented,
)
from cms_api.schemas.public.faqs import FaqArgs, FaqList, FaqOut, FaqQueryArgs
from cms_api.services.delivery import documents as delivery
from cms_api.services.delivery import listings

blp = Blueprint(
    "faqs", __name__, url_prefix="/v1/faqs", description="Published frequently asked questions."
)

# Completed from the route's converter (required, `format: uuid`).
FAQ_ID = {"in": "path", "name": "faq_id", "description": "The FAQ's id; anything else answers 404."}


@blp.route("", parameters=DELIVERY_PARAMETERS)
class FaqCollection(MethodView):
    @answered_from_memory
    @documented(blp, not_found=False, localized=True)
    @query_args(blp, FaqQueryArgs())
    @blp.response(200, FaqList, headers=LOCALIZED_LIST_HEADERS)
    def get(self, args: dict[str, Any]) -> Response:
        """List published FAQs

        The FAQs written in one locale (`locale`, default the site's), newest first.
        `topic` matches FAQs attached to the topic, to its subtopics, or to articles on
        it; `article` matches one article's FAQs. A cursor belongs to its locale's list:
        used with another `locale` it is refused (400).

        `page.total` counts everything the filters match, as of now. It is counted once
        per change of published content, not on every page, so a deep page costs what
        the first does; a worker answers a page it answered before from memory while
        nothing has been published, updated or withdrawn since.
        """
        tags = [f"{name}:{args[name]}" for name in ("topic", "article") if name in args]
        page = listings.list_documents(
            "faq",
            tags=tags,
            sort="-published_at",
            limit=args["limit"],
            cursor=args.get("cursor"),
            locale=args["locale"],
        )
        return rendered_page_response(page, locale=args["locale"])


@blp.route("/<uuid:faq_id>", parameters=[FAQ_ID, *DELIVERY_PARAMETERS])
class FaqById(MethodView):
    @documented(blp, localized=True)
    @query_args(blp, FaqArgs)
    @blp.response(200, FaqOut, headers=LOCALIZED_HEADERS)
    def get(self, args: dict[str, Any], faq_id: uuid.UUID) -> Response:
        """Get a published FAQ

        One published FAQ with its answer (`answer_html`) and the article or topic it
        belongs to, as listed by `GET /v1/faqs`. A FAQ is written in one locale: read it
        with that `locale` (default the site's); in another it is a 404.
        """
        locale = args["locale"]
        document = delivery.get_document("faq", entity_id=faq_id, locale=locale)
        if document is None:
            raise NotFound("No published FAQ in this locale has this id.")
        return delivery_response(document.body, etag=document.etag, locale=locale)
