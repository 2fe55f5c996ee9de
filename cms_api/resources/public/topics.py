"""The topic tree and topic pages with their medical codes, articles and FAQs."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from cms_api.domain.errors import NotFound
from cms_api.http.arguments import no_query_args, query_args
from cms_api.http.conditional import delivery_response
from cms_api.http.paging import answered_from_memory, rendered_page_response
from cms_api.resources.delivery import (
    DELIVERY_HEADERS,
    DELIVERY_PARAMETERS,
    LIST_HEADERS,
    documented,
    slug_parameters,
)
from cms_api.schemas.common import is_slug
from cms_api.schemas.public.topics import TopicDocumentOut, TopicList, TopicQueryArgs
from cms_api.services.delivery import documents as delivery
from cms_api.services.delivery import listings

blp = Blueprint(
    "topics",
    __name__,
    url_prefix="/v1/topics",
    description="The topic tree, with ICD-10-CM, SNOMED CT and MeSH codes.",
)


@blp.route("", parameters=DELIVERY_PARAMETERS)
class TopicCollection(MethodView):
    @answered_from_memory
    @documented(blp, not_found=False)
    @query_args(blp, TopicQueryArgs())
    @blp.response(200, TopicList, headers=LIST_HEADERS)
    def get(self, args: dict[str, Any]) -> Response:
        """Get the topic tree

        The root topics by name, each with its subtopics nested under `children` and
        every topic's medical codes.

        `page.total` counts everything the filters match, as of now. It is counted once
        per change of published content, not on every page, so a deep page costs what
        the first does; a worker answers a page it answered before from memory while
        nothing has been published, updated or withdrawn since.
        """
        page = listings.list_documents(
            "topic", tags=["root"], sort="name", limit=args["limit"], cursor=args.get("cursor")
        )
        return rendered_page_response(page)


@blp.route("/<slug>", parameters=slug_parameters("The topic's slug.", example="headache"))
class TopicBySlug(MethodView):
    @documented(blp)
    @no_query_args(blp)
    @blp.response(200, TopicDocumentOut, headers=DELIVERY_HEADERS)
    def get(self, slug: str) -> Response:
        """Get a topic

        The topic's codes, parent and children, its FAQs, and the newest 50 published
        articles on it or its subtopics (with the total; `/v1/articles?topic=` lists all).
        """
        document = delivery.get_document("topic", slug=slug) if is_slug(slug) else None
        if document is None:
            raise NotFound("No topic has this slug.")
        return delivery_response(document.body, etag=document.etag)
