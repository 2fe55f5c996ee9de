"""Instant answers: reviewed passages quoted verbatim with citations, or where to ask instead."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from cms_api.http.arguments import query_args
from cms_api.http.conditional import delivery_response
from cms_api.http.problems import PROBLEM_CONTENT_TYPE, ProblemSchema
from cms_api.ratelimit import rate_limited
from cms_api.resources.delivery import (
    DELIVERY_PARAMETERS,
    LOCALIZED_HEADERS,
    documented,
    rate_limit_headers,
)
from cms_api.schemas.public.answers import AnswerOut, AnswerQueryArgs
from cms_api.services.discovery import answers

blp = Blueprint(
    "answers",
    __name__,
    url_prefix="/v1/answers",
    description="Instant answers quoted verbatim from reviewed articles and FAQs.",
)

ANSWERED = {
    "q": "how long does a headache after botox last",
    "answered": True,
    "urgent": False,
    "guidance": None,
    "confidence": 0.992,
    "passages": [
        {
            "heading": "How long does a headache after Botox usually last?",
            "text": "Most fade on the day of treatment or over the next two days…",
            "html": "<p>Most fade on the day of treatment or over the next two days…</p>",
            "confidence": 0.992,
            "score": 0.032787,
            "citation": {
                "url": "https://www.example-health.org/articles/headache-after-botox",
                "title": "Headache After Botox: Causes, Prevention and Treatment",
                "section": None,
                "reviewers": [{"name": "Dr. Rafael Oyelaran, MD", "slug": "rafael-oyelaran"}],
                "reviewed_on": "2026-06-08",
            },
        }
    ],
    "ask": None,
}
UNANSWERED = {
    "q": "best pizza in town",
    "answered": False,
    "urgent": False,
    "guidance": None,
    "confidence": 0.036,
    "passages": [],
    "ask": {"href": "/v1/questions", "method": "POST"},
}

LIMIT = rate_limit_headers("Questions one client address may ask (the search limit)", 120)


def _answer_rate_limit() -> str:
    # The search limit: an answer costs what a search does. Read per request.
    return current_app.config["CMS_SETTINGS"].search_rate_limit


@blp.route("", parameters=DELIVERY_PARAMETERS)
class Answers(MethodView):
    @rate_limited(
        _answer_rate_limit,
        error_message="Too many questions from this address; retry after `Retry-After` seconds.",
    )
    @documented(blp, not_found=False, localized=True)
    @query_args(blp, AnswerQueryArgs())
    @blp.response(
        200,
        AnswerOut,
        headers={**LOCALIZED_HEADERS, **LIMIT},
        examples={
            "answered": {"summary": "Answered from reviewed content", "value": ANSWERED},
            "unanswered": {"summary": "Nothing confident enough", "value": UNANSWERED},
        },
    )
    @blp.alt_response(
        429,
        schema=ProblemSchema,
        content_type=PROBLEM_CONTENT_TYPE,
        description="Too many questions from this client address.",
        headers={"Retry-After": "RETRY_AFTER", **LIMIT},
    )
    def get(self, args: dict[str, Any]) -> Response:
        """Answer a question from reviewed content

        Up to three passages of published articles and FAQs, quoted verbatim (`text`, and
        the stored sanitized `html`), each with its citation: the public page with the
        section's `#key`, the title, and the reviewers and date of the review of record.
        Content whose review is overdue is never quoted. Passages are found three ways,
        the rankings fused by reciprocal rank fusion (k = 60): by words
        (`websearch_to_tsquery`, ranked by the weighted share of the question's terms, then
        `ts_rank_cd`), by trigram similarity of the question to passage headings
        (`word_similarity`: typos, an FAQ's question restated), and by meaning (the
        passages whose sentence embedding, made when they were published, is nearest the
        question's: pgvector's HNSW index, or an in-memory scan on servers without it).

        `confidence` (0..1) is the estimated probability that the passage answers the
        question, fitted to a development set of lay questions
        (`bench/calibrate_answers.py`): a logistic of the passage's score and of its lead
        over the next best passage. The score weighs the share of the question's rarer
        terms it holds, its cosine of meaning with the question (and its heading's and its
        page title's), trigram closeness to its heading, how many rankings found it, how
        far behind the shortlist's best it is, and whether it is the kind of passage the
        question asks for (causes, treatment, …). Below `CMS_ANSWER_THRESHOLD` (0.9 by
        default, where about 98% of answers given are right) the answer is
        `answered: false` with no passages and `ask` saying where to send the question;
        such questions are counted for the editors
        (`GET /v1/admin/unanswered`) each time an answer is computed, not when a cache
        answers.

        A question describing an emergency gets the red-flag guidance instead
        (`urgent: true`), before any passage is looked for.

        `locale` (default: the site's default locale) is the question's language: only
        passages written in it are quoted (citing its pages), its words are read in that
        language, red-flag guidance is the guidance published in it (red flags are written
        in the default locale, so another locale has none), and an unanswered question is
        counted under it. `Content-Language` names it. Meaning is judged by an
        English-trained model, so outside English the answers rest mostly on the words
        the question shares with the passages and their headings.

        One client address may ask `CMS_SEARCH_RATE_LIMIT` times (120 a minute by
        default); past that the answer is `429` with `Retry-After`.
        """
        threshold = current_app.config["CMS_SETTINGS"].answer_threshold
        body = answers.answer(args["q"], threshold=threshold, locale=args["locale"])
        # The ETag is the body's digest: it changes exactly when the content quoted (or its
        # review state) does.
        return delivery_response(
            json.dumps(body, ensure_ascii=False, default=str), locale=args["locale"]
        )
