"""Published profiles of authors and medical reviewers."""

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
from cms_api.schemas.public.people import PersonDocumentOut, PersonList, PersonQueryArgs
from cms_api.services.delivery import documents as delivery
from cms_api.services.delivery import listings

blp = Blueprint(
    "people",
    __name__,
    url_prefix="/v1/people",
    description="Authors and medical reviewers with their credentials.",
)


@blp.route("", parameters=DELIVERY_PARAMETERS)
class PersonCollection(MethodView):
    @answered_from_memory
    @documented(blp, not_found=False)
    @query_args(blp, PersonQueryArgs())
    @blp.response(200, PersonList, headers=LIST_HEADERS)
    def get(self, args: dict[str, Any]) -> Response:
        """List people with published work

        Authors and reviewers of published articles, by name. `role` keeps one kind.

        `page.total` counts everything the filters match, as of now. It is counted once
        per change of published content, not on every page, so a deep page costs what
        the first does; a worker answers a page it answered before from memory while
        nothing has been published, updated or withdrawn since.
        """
        tags = [f"role:{args['role']}"] if "role" in args else []
        page = listings.list_documents(
            "person", tags=tags, sort="name", limit=args["limit"], cursor=args.get("cursor")
        )
        return rendered_page_response(page)


@blp.route(
    "/<slug>", parameters=slug_parameters("The person's slug.", example="miriam-castellanos-reed")
)
class PersonBySlug(MethodView):
    @documented(blp)
    @no_query_args(blp)
    @blp.response(200, PersonDocumentOut, headers=DELIVERY_HEADERS)
    def get(self, slug: str) -> Response:
        """Get a person's profile

        Profile, credentials, specialties and the newest 50 published articles the person
        wrote or reviewed (with totals; `/v1/articles?author=` lists them all).
        """
        document = delivery.get_document("person", slug=slug) if is_slug(slug) else None
        if document is None:
            raise NotFound("No person with published work has this slug.")
        return delivery_response(document.body, etag=document.etag)
