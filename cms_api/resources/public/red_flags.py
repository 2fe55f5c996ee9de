"""Published red flags: the urgent guidance shown when a reader types an emergency."""

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
from cms_api.schemas.public.red_flags import RedFlagList, RedFlagOut, RedFlagQueryArgs
from cms_api.services.delivery import documents as delivery
from cms_api.services.delivery import listings

blp = Blueprint(
    "red_flags",
    __name__,
    url_prefix="/v1/red-flags",
    description="Reviewed urgent guidance for emergencies (sudden severe headache, stroke "
    "signs, chest pain, trouble breathing, thoughts of suicide): instant answers show it "
    "instead of content when a question matches one of its triggers.",
)

SLUG = slug_parameters("The red flag's slug.", example="thunderclap-headache")


@blp.route("", parameters=DELIVERY_PARAMETERS)
class RedFlagCollection(MethodView):
    @answered_from_memory
    @documented(blp, not_found=False)
    @query_args(blp, RedFlagQueryArgs())
    @blp.response(200, RedFlagList, headers=LIST_HEADERS)
    def get(self, args: dict[str, Any]) -> Response:
        """List published red flags

        In priority order: the order their triggers are tried in, the first match
        winning. Each has its guidance (`title`, `body_html`), the `action` to offer (a
        `tel:` link to the emergency number or a crisis line) and its `triggers`.
        """
        page = listings.list_documents(
            "red_flag", tags=[], sort="title", limit=args["limit"], cursor=args.get("cursor")
        )
        return rendered_page_response(page)


@blp.route("/<slug>", parameters=SLUG)
class RedFlagBySlug(MethodView):
    @documented(blp)
    @no_query_args(blp)
    @blp.response(200, RedFlagOut, headers=DELIVERY_HEADERS)
    def get(self, slug: str) -> Response:
        """Get a published red flag

        One published red flag's guidance, as listed by `GET /v1/red-flags`.
        """
        document = delivery.get_document("red_flag", slug=slug) if is_slug(slug) else None
        if document is None:
            raise NotFound("No published red flag has this slug.")
        return delivery_response(document.body, etag=document.etag)
