"""The symptom-checker lookup: one medical code or symptom in, patient education out."""

from __future__ import annotations

import json
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from cms_api.http.arguments import query_args
from cms_api.http.paging import answered_from_memory, remembered_response
from cms_api.resources.delivery import DELIVERY_PARAMETERS, LOCALIZED_HEADERS, documented
from cms_api.schemas.public.lookup import LOOKUP_QUERY_PARAMETER, LookupArgs, LookupOut
from cms_api.services.delivery import remembered
from cms_api.services.discovery import lookup

blp = Blueprint(
    "lookup",
    __name__,
    url_prefix="/v1/lookup",
    description="For symptom checkers and clinical systems: the published topics, articles "
    "and FAQs for one medical code or symptom (modelled on MedlinePlus Connect).",
)

_TOPIC = {
    "id": "5d1c7a2e-9b3f-4e61-a8d2-6f0b1c2d3e4f",
    "slug": "headache",
    "name": "Headache",
    "url": "/v1/topics/headache",
    "page_url": "https://www.example-health.org/topics/headache",
    "codes": [
        {"system": "icd10cm", "code": "R51.9", "display": "Headache, unspecified"},
        {"system": "mesh", "code": "D006261", "display": "Headache"},
        {"system": "snomed", "code": "25064002", "display": "Headache"},
    ],
    "synonyms": ["head pain", "headaches", "cephalalgia"],
    "article_count": 6,
    "faq_count": 14,
    "content_from": None,
}
_ARTICLE = {
    "id": "3b0e8f52-3f4c-4f8e-9d55-0c1a2b3c4d5e",
    "slug": "headache-after-botox",
    "url": "/v1/articles/headache-after-botox",
    "title": "Headache After Botox: Causes, Prevention and Treatment",
    "summary": "Why some people get a headache after botulinum toxin injections.",
    "topics": [{"slug": "headache", "name": "Headache"}],
    "authors": [
        {"slug": "miriam-castellanos-reed", "display_name": "Dr. Miriam Castellanos-Reed, MD"}
    ],
    "published_at": "2026-10-05T09:00:00Z",
    "updated_at": "2026-10-05T09:00:00Z",
    "last_reviewed_at": "2026-10-02",
    "reading_time_minutes": 8,
}
_FAQ = {
    "id": "9a4c2d10-6b7e-4f21-8c3d-5e6f70819a2b",
    "question": "When is a headache an emergency?",
    "answer_html": "<p>Most headaches are not dangerous, but call your local emergency "
    "number for a sudden, severe headache.</p>",
    "position": 0,
    "article": None,
    "topic": {"slug": "headache", "name": "Headache"},
    "published_at": "2026-10-05T09:00:00Z",
    "updated_at": "2026-10-05T09:00:00Z",
}
EXAMPLES = {
    "code": {
        "summary": "?code=icd10cm:R51.9",
        "value": {
            "query": {"code": "icd10cm:R51.9", "symptom": None, "corrected": None},
            "topics": [
                {
                    **_TOPIC,
                    "relation": "exact",
                    "matched_code": _TOPIC["codes"][0],
                    "subtopic_of": None,
                },
                {
                    "id": "0c9d8e7f-6a5b-4c3d-2e1f-0a9b8c7d6e5f",
                    "slug": "migraine",
                    "name": "Migraine",
                    "url": "/v1/topics/migraine",
                    "page_url": "https://www.example-health.org/topics/migraine",
                    "codes": [
                        {"system": "icd10cm", "code": "G43.909", "display": "Migraine, unspecified"}
                    ],
                    "synonyms": ["migraine headache"],
                    "relation": "subtopic",
                    "matched_code": None,
                    "subtopic_of": "headache",
                    "article_count": 0,
                    "faq_count": 0,
                    "content_from": {"slug": "headache", "name": "Headache"},
                },
            ],
            "articles": [_ARTICLE],
            "faqs": [_FAQ],
        },
    },
    "symptom": {
        "summary": "?symptom=headache after injection",
        "value": {
            "query": {"code": None, "symptom": "headache after injection", "corrected": None},
            "topics": [{**_TOPIC, "relation": "text", "matched_code": None, "subtopic_of": None}],
            "articles": [_ARTICLE],
            "faqs": [_FAQ],
        },
    },
}


@blp.route("", parameters=DELIVERY_PARAMETERS)
class Lookup(MethodView):
    @answered_from_memory
    @documented(blp, not_found=False, localized=True)
    @query_args(blp, LookupArgs())
    @blp.response(200, LookupOut, headers=LOCALIZED_HEADERS, examples=EXAMPLES)
    @blp.doc(parameters=[LOOKUP_QUERY_PARAMETER])
    def get(self, args: dict[str, Any]) -> Response:
        """Look up a medical code or a symptom

        For symptom checkers and clinical systems (in the manner of MedlinePlus Connect):
        one code (`?code=icd10cm:R51.9`) or one symptom in the reader's words
        (`?symptom=headache after injection`) in, the matching published topics, articles
        and FAQs out, in three lists, each best first.

        A code finds the topics that carry it. ICD-10-CM codes also match up and down
        their hierarchy by prefix, ignoring the dot: `R51.9` finds topics coded `R51`, and
        `R51` finds `R51.9`; then, ranked after those, codes beside them under the same
        parent code (`sibling`: `H92.01` finds `H92.09`, both under `H92.0`) and codes in
        the same 3-character category (`category`: `G43.109` finds `G43.909`), each
        topic's `relation` saying which. SNOMED CT and MeSH codes match exactly. The
        subtopics of a matched topic are listed too, and the articles and FAQs filed under
        any of them. A topic with nothing published of its own (`article_count` and
        `faq_count` are 0) lends its place to its nearest ancestor that has some, named in
        its `content_from`. Each topic carries its API `url` and its reader-facing
        `page_url`. For the HL7 Infobutton request format, see `GET /v1/infobutton`.
        An unknown system, a code not written as its system writes codes, both `code` and
        `symptom`, or neither, is a 400 problem.

        A symptom finds topics by name, synonyms (lay terms such as `earache` or `tmj`),
        code names and description, a topic named in full first; articles and FAQs
        by full-text search: those with every word first, then those with some, each
        group ranked among its newest 200 matches so that common words stay cheap.

        `locale` (default: the site's default locale) chooses the language: codes are
        shared by every locale, but only topics translated into it are listed, with its
        names and synonyms (a symptom matches those, accents ignored: `?symptom=cefalea&
        locale=es` finds the topic `headache`, named `Dolor de cabeza`), their `url` and
        `page_url` in it; articles and FAQs are those written in it, and misspelt words are
        corrected from its content's words. `Content-Language` names it.

        Each worker remembers its answers until published content changes (PostgreSQL
        tells it of each change as it commits), so a code asked for again is answered from memory.
        """
        version = remembered.current_version()  # before reading: see `remembered`
        if "code" in args:
            system, code = args["code"]
            result = lookup.by_code(system, code, limit=args["limit"], locale=args["locale"])
            query = {"code": f"{system}:{code}", "symptom": None, "corrected": None}
        else:
            result = lookup.by_symptom(args["symptom"], limit=args["limit"], locale=args["locale"])
            query = {"code": None, "symptom": args["symptom"], "corrected": result.corrected}
        # The lists' items are JSON already.
        body = (
            '{"query":'
            + json.dumps(query, ensure_ascii=False)
            + "".join(
                f',"{name}":[' + ",".join(items) + "]"
                for name, items in (
                    ("topics", result.topics),
                    ("articles", result.articles),
                    ("faqs", result.faqs),
                )
            )
            + "}"
        )
        return remembered_response(body, version, locale=args["locale"])
