"""Published red flags: the urgent guidance shown when a reader types an emergency."""

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
    slug_parameters,
)
from cms_api.schemas.common import is_slug
from cms_api.schemas.public.red_flags import (
    RedFlagArgs,
    RedFlagList,
    RedFlagOut,
    RedFlagQueryArgs,
)
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
    @documented(blp, not_found=False, localized=True)
    @query_args(blp, RedFlagQueryArgs())
    @blp.response(200, RedFlagList, headers=LOCALIZED_LIST_HEADERS)
    def get(self, args: dict[str, Any]) -> Response:
        """List published red flags

        In priority order: the order their triggers are tried in, the first match
        winning. Each has its guidance (`title`, `body_html`), the `action` to offer (a
        `tel:` link to the emergency number or a crisis line) and its `triggers`. Red
        flags are written in the site's default locale: another `locale` lists those
        written in it (none yet).
        """
        page = listings.list_documents(
            "red_flag",
            tags=[],
            sort="title",
            limit=args["limit"],
            cursor=args.get("cursor"),
            locale=args["locale"],
        )
        return rendered_page_response(page, locale=args["locale"])


@blp.route("/<slug>", parameters=SLUG)
class RedFlagBySlug(MethodView):
    @documented(blp, localized=True)
    @query_args(blp, RedFlagArgs)
    @blp.response(200, RedFlagOut, headers=LOCALIZED_HEADERS)
    def get(self, args: dict[str, Any], slug: str) -> Response:
        """Get a published red flag

        One published red flag's guidance, as listed by `GET /v1/red-flags`, in `locale`
        (default the site's, the one red flags are written in).
        """
        locale = args["locale"]
        found = is_slug(slug)
        document = delivery.get_document("red_flag", slug=slug, locale=locale) if found else None
        if document is None:
            raise NotFound("No published red flag has this slug in this locale.")
        return delivery_response(document.body, etag=document.etag, locale=locale)
