"""Published profiles of authors and medical reviewers, per locale."""

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
from cms_api.schemas.public.people import (
    PersonArgs,
    PersonDocumentOut,
    PersonList,
    PersonQueryArgs,
)
from cms_api.services.delivery import documents as delivery
from cms_api.services.delivery import listings

blp = Blueprint(
    "people",
    __name__,
    url_prefix="/v1/people",
    description="Authors and medical reviewers with their credentials.",
)

NO_PERSON = "No person with published work has this slug in this locale."


@blp.route("", parameters=DELIVERY_PARAMETERS)
class PersonCollection(MethodView):
    @answered_from_memory
    @documented(blp, not_found=False, localized=True)
    @query_args(blp, PersonQueryArgs())
    @blp.response(200, PersonList, headers=LOCALIZED_LIST_HEADERS)
    def get(self, args: dict[str, Any]) -> Response:
        """List people with published work

        Authors and reviewers of published articles, by name, with their profiles in one
        locale (`locale`, default the site's). `role` keeps one kind. With
        `fallback=default`, people without a profile in `locale` are listed with the
        default locale's (each item's `locale` says which). A cursor belongs to its list
        (locale and fallback): used with another it is refused (400).

        `page.total` counts everything the filters match, as of now. It is counted once
        per change of published content, not on every page, so a deep page costs what
        the first does; a worker answers a page it answered before from memory while
        nothing has been published, updated or withdrawn since.
        """
        tags = [f"role:{args['role']}"] if "role" in args else []
        page = listings.list_documents(
            "person",
            tags=tags,
            sort="name",
            limit=args["limit"],
            cursor=args.get("cursor"),
            locale=args["locale"],
            fallback="fallback" in args,
        )
        return rendered_page_response(page, locale=args["locale"])


@blp.route(
    "/<slug>", parameters=slug_parameters("The person's slug.", example="miriam-castellanos-reed")
)
class PersonBySlug(MethodView):
    @documented(blp, localized=True)
    @query_args(blp, PersonArgs)
    @blp.response(200, PersonDocumentOut, headers=LOCALIZED_HEADERS)
    def get(self, args: dict[str, Any], slug: str) -> Response:
        """Get a person's profile

        Profile, credentials, specialties and the newest 50 published articles the person
        wrote or reviewed (with totals; `/v1/articles?author=` lists them all), in one
        locale (`locale`, default the site's). A person has one slug in every locale;
        without a profile in the locale asked for, the answer is a 404 whose
        `translations` lists the locales it is published in (no fallback).
        """
        locale = args["locale"]
        if not is_slug(slug):
            raise NotFound(NO_PERSON)
        document = delivery.get_document("person", slug=slug, locale=locale)
        if document is None:
            raise not_in_locale(NO_PERSON, "person", delivery.slug_locales("person", slug))
        return delivery_response(document.body, etag=document.etag, locale=locale)
