"""Search over published articles and FAQs, with highlighted snippets."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from cms_api.http.arguments import query_args
from cms_api.http.paging import answered_from_memory, remembered_response
from cms_api.http.problems import PROBLEM_CONTENT_TYPE, ProblemSchema
from cms_api.ratelimit import rate_limited
from cms_api.resources.delivery import (
    DELIVERY_PARAMETERS,
    LOCALIZED_LIST_HEADERS,
    documented,
    rate_limit_headers,
)
from cms_api.schemas.public.search import SearchQueryArgs, SearchResultsOut
from cms_api.services.delivery import remembered
from cms_api.services.discovery import search

blp = Blueprint(
    "search",
    __name__,
    url_prefix="/v1/search",
    description="Full-text search over published articles and FAQs.",
)

EXAMPLE = {
    "items": [
        {
            "type": "article",
            "id": "3b0e8f52-3f4c-4f8e-9d55-0c1a2b3c4d5e",
            "slug": "headache-after-botox",
            "url": "/v1/articles/headache-after-botox",
            "title": "Headache After Botox: Causes, Prevention and Treatment",
            "title_html": "<mark>Headache</mark> After <mark>Botox</mark>: Causes, "
            "Prevention and Treatment",
            "snippet_html": "… why some people get a <mark>headache</mark> after botulinum "
            "toxin injections … best known by the brand name <mark>Botox</mark> …",
            "article": None,
            "published_at": "2026-10-05T09:00:00Z",
            "score": 0.995,
        },
        {
            "type": "faq",
            "id": "9a4c2d10-6b7e-4f21-8c3d-5e6f70819a2b",
            "slug": None,
            "url": "/v1/faqs/9a4c2d10-6b7e-4f21-8c3d-5e6f70819a2b",
            "title": "How long does a headache after Botox usually last?",
            "title_html": "How long does a <mark>headache</mark> after <mark>Botox</mark> "
            "usually last?",
            "snippet_html": "Most fade on the day of treatment or over the next two …",
            "article": {
                "slug": "headache-after-botox",
                "title": "Headache After Botox: Causes, Prevention and Treatment",
                "url": "/v1/articles/headache-after-botox",
            },
            "published_at": "2026-10-05T09:00:00Z",
            "score": 0.985,
        },
    ],
    "page": {"limit": 2, "next_cursor": "WyJyZWxldmFuY2UiLDAuOTg1LCIyMDI2LTEwLTA1In0", "total": 6},
    "query": {
        "q": "botxo headake",
        "corrected": "botox headache",
        "candidate_limit": search.CANDIDATE_LIMIT,
        "capped": False,
    },
}


LIMIT = rate_limit_headers("Searches one client address may make", 120)


def _search_rate_limit() -> str:
    # Read per request, so each app (and each test app) uses its own settings.
    return current_app.config["CMS_SETTINGS"].search_rate_limit


@blp.route("", parameters=DELIVERY_PARAMETERS)
class Search(MethodView):
    @rate_limited(
        _search_rate_limit,
        error_message="Too many searches from this address; retry after `Retry-After` seconds.",
    )
    @answered_from_memory  # inside the rate limit: an answer from memory counts too
    @documented(blp, not_found=False, localized=True)
    @query_args(blp, SearchQueryArgs())
    @blp.response(
        200, SearchResultsOut, headers={**LOCALIZED_LIST_HEADERS, **LIMIT}, example=EXAMPLE
    )
    @blp.alt_response(
        429,
        schema=ProblemSchema,
        content_type=PROBLEM_CONTENT_TYPE,
        description="Too many searches from this client address.",
        headers={"Retry-After": "RETRY_AFTER", **LIMIT},
    )
    def get(self, args: dict[str, Any]) -> Response:
        """Search articles and FAQs

        Published articles (title, summary, sections) and FAQs (question, answer) that
        match `q`, most relevant first, each with its title and a snippet highlighted in
        `<mark>` (a quoted phrase as one mark), cut ends shown by `…`; a FAQ on an article
        names it in `article`. Exclusions (`-word`) filter without lowering the score of
        what they keep. Filter with `type` and `topic` (which includes subtopics). One client
        address may search `CMS_SEARCH_RATE_LIMIT` times (120 a minute by default); past
        that the answer is `429` with `Retry-After`.

        A query that finds nothing is retried once with its misspelt words corrected
        (`botxo headake` searches `botox headache`); `query.corrected` says so.

        `locale` (default: the site's default locale) chooses the content searched: only
        articles and FAQs written in that locale, the query read in its language (word
        endings, stop words, accents ignored: `?q=dolor de cabeza&locale=es` finds
        `dolores de cabeza` and `cefalea` finds `céfalea`), misspelt words corrected from
        the words of that locale's content only. `Content-Language` names it.

        Ranking is bounded: at most `query.candidate_limit` documents whose title matches
        and as many whose text matches are ranked, so a word found in most documents
        answers as fast as a rare one. `query.capped` tells when more matched; `page.total`
        counts the ranked hits, and paging walks through them.

        Each worker remembers its answers until published content changes (PostgreSQL
        tells it of each change as it commits), so a popular search is answered from memory.
        """
        version = remembered.current_version()  # before reading: see `remembered`
        page = search.search(
            args["q"],
            kind=args.get("type"),
            topic=args.get("topic"),
            limit=args["limit"],
            cursor=args.get("cursor"),
            locale=args["locale"],
        )
        info = {
            "q": args["q"],
            "corrected": page.corrected,
            "candidate_limit": search.CANDIDATE_LIMIT,
            "capped": page.capped,
        }
        # The list envelope, and what was searched; the hits are JSON already.
        body = (
            '{"items":['
            + ",".join(page.items)
            + '],"page":'
            + json.dumps(
                {"limit": page.limit, "next_cursor": page.next_cursor, "total": page.total}
            )
            + ',"query":'
            + json.dumps(info, ensure_ascii=False)
            + "}"
        )
        return remembered_response(
            body, version, next_cursor=page.next_cursor, locale=args["locale"]
        )
