"""Published articles (list, whole article, FAQs, related, JSON-LD); drafts for preview tokens."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from cms_api.domain.errors import NotFound
from cms_api.domain.etags import etag_for
from cms_api.domain.headers import PREVIEW_HEADER_NAME
from cms_api.http.arguments import query_args
from cms_api.http.conditional import (
    JSON_CONTENT_TYPE,
    NotModified,
    delivery_response,
    not_modified,
    public_cache_control,
)
from cms_api.http.paging import answered_from_memory, list_body, rendered_page_response
from cms_api.http.problems import PROBLEM_CONTENT_TYPE, ProblemSchema
from cms_api.resources.delivery import (
    CACHE_CONTROL_HEADER,
    DELIVERY_PARAMETERS,
    LOCALIZED_HEADERS,
    LOCALIZED_LIST_HEADERS,
    complete_list_response,
    documented,
    not_in_locale,
    slug_parameters,
)
from cms_api.schemas.common import is_slug, list_schema
from cms_api.schemas.public.articles import (
    JSONLD_EXAMPLE,
    ArticleList,
    ArticleOut,
    ArticleQueryArgs,
    JsonLdOut,
    RelatedOut,
)
from cms_api.schemas.public.faqs import FaqEntryOut
from cms_api.schemas.public.previews import PREVIEW_HEADER, ArticlePreviewArgs, PreviewArgs
from cms_api.services.delivery import articles as article_service
from cms_api.services.delivery import documents as delivery
from cms_api.services.integrations import previews
from cms_api.services.publishing import jsonld

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
ARTICLE_SLUG = [
    *slug_parameters(
        "The article's slug; a former slug answers 301.", example="headache-after-botox"
    ),
    PREVIEW_HEADER,
]
# A draft is for the token's holder only: no shared cache may keep it, no browser store it.
PREVIEW_CACHE_CONTROL = "private, no-store"
PREVIEWABLE_HEADERS = {
    **LOCALIZED_HEADERS,
    "Cache-Control": {
        **CACHE_CONTROL_HEADER,
        "description": "`public, max-age=60, stale-while-revalidate=600` (configurable); "
        "`private, no-store` for a preview.",
    },
    "Vary": {
        "description": "`X-Preview-Token`: a shared cache keeps previews and the public "
        "copy apart. Every answer about one article carries it, 304s and errors included.",
        "required": True,
        "schema": {"type": "string", "example": "X-Preview-Token"},
    },
}
PREVIEW_REFUSED = {
    "description": "The preview token (`X-Preview-Token` or `preview_token`) does not open "
    "this article: it is unknown, expired, revoked, or for another article (or the header "
    "and the parameter name two different tokens); `detail` says which.",
    "headers": {
        "WWW-Authenticate": {
            "description": '`PreviewToken realm="cms-api"`: send a preview token.',
            "required": True,
            "schema": {"type": "string"},
        }
    },
}


@blp.after_request
def _vary_with_the_preview_token(response: Response) -> Response:
    """Every answer about one article depends on the preview token the request carries:
    `Vary` makes a shared cache keep previews and the public copy apart."""
    if request.view_args and "slug" in request.view_args:
        response.vary.add(PREVIEW_HEADER_NAME)
    return response


def previewable(view: Callable[..., Any]) -> Callable[..., Any]:
    """Document the 401 of an operation that takes a preview token."""
    return blp.alt_response(
        401, schema=ProblemSchema, content_type=PROBLEM_CONTENT_TYPE, **PREVIEW_REFUSED
    )(view)


@blp.route("", parameters=DELIVERY_PARAMETERS)
class ArticleCollection(MethodView):
    @answered_from_memory
    @documented(blp, not_found=False, localized=True)
    @query_args(blp, ArticleQueryArgs())
    @blp.response(200, ArticleList, headers=LOCALIZED_LIST_HEADERS)
    def get(self, args: dict[str, Any]) -> Response:
        """List published articles

        Summaries of published articles in one locale (`locale`, default the site's),
        newest first by default. Filters combine with AND; `topic` includes the topic's
        subtopics. A cursor belongs to its locale's list: used with another `locale` it
        is refused (400).

        `page.total` counts everything the filters match, as of now. It is counted once
        per change of published content, not on every page, so a deep page costs what
        the first does; a worker answers a page it answered before from memory while
        nothing has been published, updated or withdrawn since.
        """
        return rendered_page_response(article_service.list_published(args), locale=args["locale"])


NO_ARTICLE = "No published article has this slug in this locale."


def _moved_or_missing(slug: str, locale: str) -> Response:
    if not is_slug(slug):
        raise NotFound(NO_ARTICLE)
    current = delivery.current_slug_for(slug, locale)
    if current is None:
        raise not_in_locale(NO_ARTICLE, "article", delivery.article_translations(slug))
    return _moved(slug, current, public_cache_control())


def _moved(slug: str, current: str, cache_control: str) -> Response:
    location = request.path.replace(f"/v1/articles/{slug}", f"/v1/articles/{current}", 1)
    if request.query_string:
        location += "?" + request.query_string.decode("latin-1")
    # No body: werkzeug's `redirect` would add an HTML page to a JSON API's answer.
    response = Response(status=301, headers={"Location": location})
    response.headers["Cache-Control"] = cache_control
    del response.headers["Content-Type"]
    return response


def _preview_token(args: dict[str, Any]) -> str | None:
    """The preview token the request carries, in the header or the query, if any."""
    header = request.headers.get(PREVIEW_HEADER_NAME)
    query = args.get("preview_token")
    if header is not None and query is not None and header != query:
        # Neither is quietly preferred: a stale link must not win over, or lose to, a
        # configured header without anyone noticing.
        raise previews.InvalidPreviewToken(
            f"The {PREVIEW_HEADER_NAME} header and the preview_token parameter name two "
            "different tokens; send one."
        )
    return query if header is None else header


def _preview(
    token: str,
    slug: str,
    text: Callable[[dict[str, Any]], str],
    content_type: str = JSON_CONTENT_TYPE,
) -> Response:
    """The token's article rendered from its working copy, for the token's holder only
    (in the article's own locale: the token names one article)."""
    article = previews.article_for(token, slug)
    if article.slug != slug:
        # A former slug of the draft: where it went is as private as the draft itself.
        return _moved(slug, article.slug, PREVIEW_CACHE_CONTROL)
    body = text(previews.render(article))
    etag = etag_for(body)
    response = NotModified() if not_modified(etag) else Response(body, content_type=content_type)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = PREVIEW_CACHE_CONTROL
    response.headers["Content-Language"] = article.locale
    return response


def _list_text(items: list[Any]) -> str:
    """A bounded list in the list envelope, as `complete_list_response` serves it."""
    encoded = [json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in items]
    return list_body(encoded, limit=100, next_cursor=None, total=len(items))


@blp.route("/<slug>", parameters=ARTICLE_SLUG)
class ArticleBySlug(MethodView):
    @documented(blp, localized=True)
    @previewable
    @query_args(blp, ArticlePreviewArgs)
    @blp.response(200, ArticleOut, headers=PREVIEWABLE_HEADERS)
    @blp.alt_response(301, description=MOVED["description"], headers=MOVED["headers"])
    def get(self, args: dict[str, Any], slug: str) -> Response:
        """Get a published article, or preview a draft

        The whole article as readers see it: sections (`body_html`), FAQs, authors and
        reviewers with credentials, topics with medical codes, citations, related
        articles, disclaimer, calls to action, SEO fields and review dates, in one
        locale (`locale`, default the site's; `Content-Language` says which), with the
        work's other published translations (`translations`). A former slug answers 301
        to the current one. `?sections=causes,treatment` returns only those sections.

        **Locales.** Slugs are per locale: a translation has its own. A slug without a
        published article in the locale asked for answers 404, never another locale's
        text; the problem's `translations` lists where the same work is published (by
        this slug in any locale), each with its slug and page URL.

        **Draft preview.** With a preview token (minted by an editor with
        `POST /v1/admin/articles/{id}/preview-tokens`) in the `X-Preview-Token` header, or
        in the `preview_token` query parameter, the answer is the article's current
        working copy rendered exactly as publishing would render it now: a draft that was
        never published, or a published article's unpublished edits (readers without the
        token still get the published version). Such an answer is `Cache-Control:
        private, no-store`, so no shared cache keeps it. A token that does not open this
        article (unknown, expired, revoked, or minted for another article) answers 401,
        never the published article instead. Every answer about an article carries
        `Vary: X-Preview-Token`, so a shared cache (a CDN) never answers a request that
        carries a token with its copy of the published article.
        """
        if not is_slug(slug):
            raise NotFound(NO_ARTICLE)
        sections = args.get("sections")
        locale = args["locale"]
        token = _preview_token(args)
        if token is not None:
            return _preview(token, slug, lambda draft: previews.article_text(draft, sections))
        if not sections and request.headers.get("If-None-Match"):
            # Revalidation usually matches: read the ETag alone, not the whole body.
            etag = article_service.current_etag(slug, locale)
            if etag and not_modified(etag):
                return delivery_response("", etag=etag, locale=locale)
        document = article_service.published_document(slug, sections=sections, locale=locale)
        if document is None:
            return _moved_or_missing(slug, locale)
        return delivery_response(document.body, etag=document.etag, locale=locale)


@blp.route("/<slug>/faqs", parameters=ARTICLE_SLUG)
class ArticleFaqs(MethodView):
    @documented(blp, localized=True)
    @previewable
    @query_args(blp, PreviewArgs)
    @blp.response(200, list_schema(FaqEntryOut, "ArticleFaqList"), headers=PREVIEWABLE_HEADERS)
    @blp.alt_response(301, description=MOVED["description"], headers=MOVED["headers"])
    def get(self, args: dict[str, Any], slug: str) -> Response:
        """List an article's FAQs

        The FAQs of a published article in one locale (`locale`, default the site's), in
        the article's order (a complete list). With a preview token (`X-Preview-Token` or
        `preview_token`), the FAQs the article's draft shows, `Cache-Control: private,
        no-store`.
        """
        token = _preview_token(args)
        if token is not None:
            return _preview(token, slug, lambda draft: _list_text(draft["faqs"]))
        locale = args["locale"]
        items = article_service.published_part(slug, "faqs", locale) if is_slug(slug) else None
        if items is None:
            return _moved_or_missing(slug, locale)
        return complete_list_response(items, locale=locale)


@blp.route("/<slug>/related", parameters=ARTICLE_SLUG)
class ArticleRelated(MethodView):
    @documented(blp, localized=True)
    @previewable
    @query_args(blp, PreviewArgs)
    @blp.response(200, list_schema(RelatedOut, "ArticleRelatedList"), headers=PREVIEWABLE_HEADERS)
    @blp.alt_response(301, description=MOVED["description"], headers=MOVED["headers"])
    def get(self, args: dict[str, Any], slug: str) -> Response:
        """List an article's related articles

        Published articles this article links to, with the relation type, anchor text
        and weight, in the editor's order (a complete list). A translation's are the
        original's links to articles published in its locale. With a preview token
        (`X-Preview-Token` or `preview_token`), the links the article's draft shows,
        `Cache-Control: private, no-store`.
        """
        token = _preview_token(args)
        if token is not None:
            return _preview(token, slug, lambda draft: _list_text(draft["related"]))
        locale = args["locale"]
        items = article_service.published_part(slug, "related", locale) if is_slug(slug) else None
        if items is None:
            return _moved_or_missing(slug, locale)
        return complete_list_response(items, locale=locale)


@blp.route("/<slug>/jsonld", parameters=ARTICLE_SLUG)
class ArticleJsonLd(MethodView):
    @documented(blp, localized=True)
    @previewable
    @query_args(blp, PreviewArgs)
    @blp.response(
        200,
        JsonLdOut,
        content_type=jsonld.CONTENT_TYPE,
        headers=PREVIEWABLE_HEADERS,
        example=JSONLD_EXAMPLE,
    )
    @blp.alt_response(301, description=MOVED["description"], headers=MOVED["headers"])
    def get(self, args: dict[str, Any], slug: str) -> Response:
        """Get an article's schema.org JSON-LD

        The article as schema.org structured data (`application/ld+json`), rendered when
        it was published and the same as the article's `structured_data`: a
        `MedicalWebPage` (what it is about with its medical codes, last review, reviewers,
        specialties, audience, breadcrumb, related links), its `Article` (headline, dates,
        authors, publisher, citations, FAQs as `Question`s with an `acceptedAnswer`), and
        each author and reviewer once as a `Person` with credentials. `<`, `>` and `&` are
        escaped as `\\u003c`, `\\u003e` and `\\u0026`, so the text can be pasted into a
        `<script type="application/ld+json">` element as it is. In one locale (`locale`,
        default the site's), as the article is. A former slug answers 301.
        With a preview token (`X-Preview-Token` or `preview_token`), the draft's JSON-LD,
        `Cache-Control: private, no-store`.
        """
        if not is_slug(slug):
            raise NotFound(NO_ARTICLE)
        locale = args["locale"]
        token = _preview_token(args)
        if token is not None:
            return _preview(
                token,
                slug,
                lambda draft: jsonld.script_safe(draft["structured_data"]),
                jsonld.CONTENT_TYPE,
            )
        if request.headers.get("If-None-Match"):
            # Revalidation usually matches: the ETag follows from the article's alone.
            etag = jsonld.published_etag(slug, locale)
            if etag and not_modified(etag):
                return delivery_response("", etag=etag, locale=locale)
        document = jsonld.published(slug, locale)
        if document is None:
            return _moved_or_missing(slug, locale)
        return delivery_response(
            document.body, etag=document.etag, content_type=jsonld.CONTENT_TYPE, locale=locale
        )
