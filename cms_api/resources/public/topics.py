"""The topic tree and topic pages with their medical codes, articles and FAQs, per locale."""

from __future__ import annotations

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
    not_in_locale,
    slug_parameters,
)
from cms_api.schemas.common import is_slug
from cms_api.schemas.public.topics import TopicArgs, TopicDocumentOut, TopicList, TopicQueryArgs
from cms_api.services.delivery import documents as delivery
from cms_api.services.delivery import listings

blp = Blueprint(
    "topics",
    __name__,
    url_prefix="/v1/topics",
    description="The topic tree, with ICD-10-CM, SNOMED CT and MeSH codes.",
)

NO_TOPIC = "No topic has this slug in this locale."


@blp.route("", parameters=DELIVERY_PARAMETERS)
class TopicCollection(MethodView):
    @answered_from_memory
    @documented(blp, not_found=False, localized=True)
    @query_args(blp, TopicQueryArgs())
    @blp.response(200, TopicList, headers=LOCALIZED_LIST_HEADERS)
    def get(self, args: dict[str, Any]) -> Response:
        """Get the topic tree

        The root topics by name, each with its subtopics nested under `children` and
        every topic's medical codes, in one locale (`locale`, default the site's). With
        `fallback=default`, root topics without a translation in `locale` are listed in
        the default locale (each item's `locale` says which). A cursor belongs to its
        list (locale and fallback): used with another it is refused (400).

        `page.total` counts everything the filters match, as of now. It is counted once
        per change of published content, not on every page, so a deep page costs what
        the first does; a worker answers a page it answered before from memory while
        nothing has been published, updated or withdrawn since.
        """
        page = listings.list_documents(
            "topic",
            tags=["root"],
            sort="name",
            limit=args["limit"],
            cursor=args.get("cursor"),
            locale=args["locale"],
            fallback="fallback" in args,
        )
        return rendered_page_response(page, locale=args["locale"])


@blp.route("/<slug>", parameters=slug_parameters("The topic's slug.", example="headache"))
class TopicBySlug(MethodView):
    @documented(blp, localized=True)
    @query_args(blp, TopicArgs)
    @blp.response(200, TopicDocumentOut, headers=LOCALIZED_HEADERS)
    def get(self, args: dict[str, Any], slug: str) -> Response:
        """Get a topic

        The topic's codes, parent and children, its FAQs, and the newest 50 published
        articles on it or its subtopics (with the total; `/v1/articles?topic=` lists all),
        in one locale (`locale`, default the site's). A topic has one slug in every
        locale; without a translation in the locale asked for, the answer is a 404 whose
        `translations` lists the locales it is published in (no fallback).
        """
        locale = args["locale"]
        if not is_slug(slug):
            raise NotFound(NO_TOPIC)
        document = delivery.get_document("topic", slug=slug, locale=locale)
        if document is None:
            raise not_in_locale(NO_TOPIC, "topic", delivery.slug_locales("topic", slug))
        return delivery_response(document.body, etag=document.etag, locale=locale)
