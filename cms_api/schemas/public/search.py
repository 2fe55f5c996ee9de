"""Shapes of search: the query, each hit with its highlighted snippet, the result list."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cms_api.domain.search import CANDIDATE_LIMIT
from cms_api.schemas.common import Locale, PageArgs, PageInfo, free_text, slug_field, text

R = {"required": True}
SEARCH_TYPES = ["article", "faq"]
Q_MAX = 200


class SearchQueryArgs(PageArgs):
    q = free_text(
        Q_MAX,
        required=True,
        metadata={
            "description": "What to look for, in web search syntax: words are all required, "
            '`"a phrase"` must appear as written, `-word` excludes, `or` between words '
            "accepts either. Accents, letter case and word endings do not matter "
            "(`cafe` finds `café`, `headaches` finds `headache`). A query that finds "
            "nothing is retried with each unknown word replaced by the nearest indexed "
            "word (`query.corrected`). Stop words alone, or only exclusions, find nothing.",
            "example": "botox headache",
        },
    )
    type = ma.fields.String(
        validate=validate.OneOf(SEARCH_TYPES),
        metadata={"description": "Only articles, or only FAQs.", "example": "article"},
    )
    topic = slug_field(
        metadata={
            "description": "Only content on this topic or its subtopics.",
            "example": "headache",
        }
    )
    locale = Locale(
        metadata={
            "description": "The locale whose articles and FAQs to search (one of the "
            "site's locales, CMS_LOCALES; default: the site's default locale). The query "
            "is read in its language (word endings, stop words) and misspelt words are "
            "corrected from the words of its content only.",
            "example": "es",
        }
    )


class SearchHitArticleOut(ma.Schema):
    slug = slug_field(**R, metadata={"example": "headache-after-botox"})
    title = text("Headache After Botox: Causes, Prevention and Treatment", **R)
    url = text("/v1/articles/headache-after-botox", **R)


class SearchHitOut(ma.Schema):
    type = text("article", validate=validate.OneOf(SEARCH_TYPES), **R)
    id = ma.fields.UUID(**R)
    slug = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "An article's slug; null for a FAQ.",
            "example": "headache-after-botox",
        },
    )
    url = text(
        "/v1/articles/headache-after-botox",
        **R,
        metadata={
            "description": "Where the article or FAQ is served; outside the site's default "
            "locale with its `?locale=`."
        },
    )
    title = text(
        "Headache After Botox: Causes, Prevention and Treatment",
        **R,
        metadata={"description": "The article's title, or the FAQ's question, as plain text."},
    )
    title_html = text(
        "<mark>Headache</mark> After <mark>Botox</mark>: Causes, Prevention and Treatment",
        **R,
        metadata={
            "description": "The title as HTML with the matches in `<mark>`; every other "
            'character is escaped, so it can be inserted as is. A phrase (`"lip filler"`) '
            "is marked where it stands as written, as one `<mark>`, not wherever its words "
            "stand apart."
        },
    )
    snippet_html = text(
        "… why some people get a <mark>headache</mark> after botulinum toxin injections … "
        "best known by the brand name <mark>Botox</mark> …",
        **R,
        metadata={
            "description": "Up to two fragments of one passage of the text (the summary or a "
            "section, the one with most words of the query) around the matches, joined by "
            "` … `, as HTML marked as `title_html` is. It begins with `… ` where the passage "
            "goes on before it and ends with ` …` where it goes on after; a passage shown "
            "whole has neither."
        },
    )
    article = ma.fields.Nested(
        SearchHitArticleOut,
        required=True,
        allow_none=True,
        metadata={
            "description": "For a FAQ on an article, the article (as its FAQ page names "
            "it); null for an article and for a FAQ on a topic."
        },
    )
    published_at = ma.fields.DateTime(**R)
    score = ma.fields.Float(
        **R,
        metadata={
            "description": "Relevance (PostgreSQL `ts_rank`; title matches weigh most, then "
            "summary, headings, text). Comparable within one result list only.",
            "example": 0.995,
        },
    )


class SearchInfoOut(ma.Schema):
    q = text("botxo headake", **R, metadata={"description": "The query as sent."})
    corrected = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The query searched instead, when `q` found nothing and words "
            "were corrected; null otherwise.",
            "example": "botox headache",
        },
    )
    candidate_limit = ma.fields.Integer(
        **R,
        metadata={
            "description": "Ranking considers at most this many documents whose title "
            "matches plus this many whose text matches (the first found, in index order), "
            "so that a word in most documents costs no more than a rare one.",
            "example": CANDIDATE_LIMIT,
        },
    )
    capped = ma.fields.Boolean(
        **R,
        metadata={
            "description": "True when more documents matched than were ranked: "
            "`page.total` then counts the ranked ones only. Add words to narrow the query.",
            "example": False,
        },
    )


class SearchResultsOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SearchHitOut), **R)
    page = ma.fields.Nested(PageInfo, **R)
    query = ma.fields.Nested(SearchInfoOut, **R)
