"""Published articles: the list, the whole article, its FAQs, related articles and JSON-LD."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from cms_api.errors import NotFound
from cms_api.http import delivery_response, not_modified, public_cache_control
from cms_api.resources.delivery import (
    CACHE_CONTROL_HEADER,
    DELIVERY_HEADERS,
    DELIVERY_PARAMETERS,
    LIST_HEADERS,
    complete_list_response,
    documented,
    no_query_args,
    page_response,
    query_args,
    slug_parameters,
)
from cms_api.schemas.articles import (
    JSONLD_EXAMPLE,
    ArticleDetailArgs,
    ArticleList,
    ArticleOut,
    ArticleQueryArgs,
    JsonLdOut,
    RelatedOut,
)
from cms_api.schemas.common import is_slug, list_schema
from cms_api.schemas.faqs import FaqEntryOut
from cms_api.services import articles as article_service
from cms_api.services import delivery, jsonld

blp = Blueprint(
    "articles",
    __name__,
    url_prefix="/v1/articles",
    description="Published articles: lists, whole articles, FAQs, related articles and "
    "schema.org JSON-LD.",
)

MOVED = {
    "description": "The article moved: this slug is a former one. `Location` names the "
    "current address.",
    "headers": {
        "Location": {
            "description": "The article's current URL.",
            "required": True,
            "schema": {"type": "string", "example": "/v1/articles/headache-after-botox"},
        },
        "Cache-Control": CACHE_CONTROL_HEADER,
    },
}
ARTICLE_SLUG = slug_parameters(
    "The article's slug; a former slug answers 301.", example="headache-after-botox"
)


@blp.route("", parameters=DELIVERY_PARAMETERS)
class ArticleCollection(MethodView):
    @documented(blp, not_found=False)
    @query_args(blp, ArticleQueryArgs)
    @blp.response(200, ArticleList, headers=LIST_HEADERS)
    def get(self, args: dict[str, Any]) -> Response:
        """List published articles

        Summaries of published articles, newest first by default. Filters combine with
        AND; `topic` includes the topic's subtopics.
        """
        return page_response(article_service.list_published(args))


def _moved_or_missing(slug: str) -> Response:
    current = delivery.current_slug_for(slug) if is_slug(slug) else None
    if current is None:
        raise NotFound("No published article has this slug.")
    location = request.path.replace(f"/v1/articles/{slug}", f"/v1/articles/{current}", 1)
    if request.query_string:
        location += "?" + request.query_string.decode("latin-1")
    # No body: werkzeug's `redirect` would add an HTML page to a JSON API's answer.
    response = Response(status=301, headers={"Location": location})
    response.headers["Cache-Control"] = public_cache_control()
    del response.headers["Content-Type"]
    return response


@blp.route("/<slug>", parameters=ARTICLE_SLUG)
class ArticleBySlug(MethodView):
    @documented(blp)
    @query_args(blp, ArticleDetailArgs)
    @blp.response(200, ArticleOut, headers=DELIVERY_HEADERS)
    @blp.alt_response(301, description=MOVED["description"], headers=MOVED["headers"])
    def get(self, args: dict[str, Any], slug: str) -> Response:
        """Get a published article

        The whole article as readers see it: sections (`body_html`), FAQs, authors and
        reviewers with credentials, topics with medical codes, citations, related
        articles, disclaimer, calls to action, SEO fields and review dates. A former
        slug answers 301 to the current one. `?sections=causes,treatment` returns only
        those sections.
        """
        if not is_slug(slug):
            raise NotFound("No published article has this slug.")
        sections = args.get("sections")
        if not sections and request.headers.get("If-None-Match"):
            # Revalidation usually matches: read the ETag alone, not the whole body.
            etag = article_service.current_etag(slug)
            if etag and not_modified(etag):
                return delivery_response("", etag=etag)
        document = article_service.published_document(slug, sections=sections)
        if document is None:
            return _moved_or_missing(slug)
        return delivery_response(document.body, etag=document.etag)


@blp.route("/<slug>/faqs", parameters=ARTICLE_SLUG)
class ArticleFaqs(MethodView):
    @documented(blp)
    @no_query_args(blp)
    @blp.response(200, list_schema(FaqEntryOut, "ArticleFaqList"), headers=DELIVERY_HEADERS)
    @blp.alt_response(301, description=MOVED["description"], headers=MOVED["headers"])
    def get(self, slug: str) -> Response:
        """List an article's FAQs

        The FAQs of a published article, in the article's order (a complete list).
        """
        items = article_service.published_part(slug, "faqs") if is_slug(slug) else None
        if items is None:
            return _moved_or_missing(slug)
        return complete_list_response(items)


@blp.route("/<slug>/related", parameters=ARTICLE_SLUG)
class ArticleRelated(MethodView):
    @documented(blp)
    @no_query_args(blp)
    @blp.response(200, list_schema(RelatedOut, "ArticleRelatedList"), headers=DELIVERY_HEADERS)
    @blp.alt_response(301, description=MOVED["description"], headers=MOVED["headers"])
    def get(self, slug: str) -> Response:
        """List an article's related articles

        Published articles this article links to, with the relation type, anchor text
        and weight, in the editor's order (a complete list).
        """
        items = article_service.published_part(slug, "related") if is_slug(slug) else None
        if items is None:
            return _moved_or_missing(slug)
        return complete_list_response(items)


@blp.route("/<slug>/jsonld", parameters=ARTICLE_SLUG)
class ArticleJsonLd(MethodView):
    @documented(blp)
    @no_query_args(blp)
    @blp.response(
        200,
        JsonLdOut,
        content_type=jsonld.CONTENT_TYPE,
        headers=DELIVERY_HEADERS,
        example=JSONLD_EXAMPLE,
    )
    @blp.alt_response(301, description=MOVED["description"], headers=MOVED["headers"])
    def get(self, slug: str) -> Response:
        """Get an article's schema.org JSON-LD

        The article as schema.org structured data (`application/ld+json`), rendered when
        it was published and the same as the article's `structured_data`: a
        `MedicalWebPage` (what it is about with its medical codes, last review, reviewers,
        specialties, audience, breadcrumb, related links), its `Article` (headline, dates,
        authors, publisher, citations, FAQs as `Question`s with an `acceptedAnswer`), and
        each author and reviewer once as a `Person` with credentials. `<`, `>` and `&` are
        escaped as `\\u003c`, `\\u003e` and `\\u0026`, so the text can be pasted into a
        `<script type="application/ld+json">` element as it is. A former slug answers 301.
        """
        if not is_slug(slug):
            raise NotFound("No published article has this slug.")
        if request.headers.get("If-None-Match"):
            # Revalidation usually matches: the ETag follows from the article's alone.
            etag = jsonld.published_etag(slug)
            if etag and not_modified(etag):
                return delivery_response("", etag=etag)
        document = jsonld.published(slug)
        if document is None:
            return _moved_or_missing(slug)
        return delivery_response(
            document.body, etag=document.etag, content_type=jsonld.CONTENT_TYPE
        )
