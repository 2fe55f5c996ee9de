"""The HL7 Infobutton URL-based knowledge request that clinical apps send MedlinePlus Connect."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from cms_api.http.conditional import delivery_response
from cms_api.http.problems import PROBLEM_CONTENT_TYPE, ProblemSchema
from cms_api.http.urls import absolute_url
from cms_api.ratelimit import rate_limited
from cms_api.resources.delivery import (
    DELIVERY_PARAMETERS,
    LOCALIZED_HEADERS,
    documented,
    rate_limit_headers,
)
from cms_api.schemas.public import infobutton as shapes
from cms_api.services.discovery import infobutton

blp = Blueprint(
    "infobutton",
    __name__,
    url_prefix="/v1/infobutton",
    description="For electronic health records and other clinical apps: the HL7 "
    "Context-Aware Knowledge Retrieval (Infobutton) URL-based knowledge request, answered "
    "with an Atom feed of patient-education pages, as MedlinePlus Connect answers it.",
)

_SITE = "https://www.example-health.org"
ATOM_EXAMPLE = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://www.example-health.org" '
    'xml:lang="en"><title type="text">Example Health</title>'
    '<subtitle type="text">Results for ICD-10-CM R51.9</subtitle>'
    f"<author><name>Example Health</name><uri>{_SITE}</uri></author>"
    "<updated>2026-10-05T09:00:00Z</updated>"
    '<category scheme="mainSearchCriteria.v.c" term="R51.9" />'
    '<category scheme="mainSearchCriteria.v.cs" term="2.16.840.1.113883.6.90" />'
    '<category scheme="informationRecipient" term="PAT" />'
    '<category scheme="informationRecipient.languageCode.c" term="en" />'
    "<id>http://localhost/v1/infobutton?mainSearchCriteria.v.c=R51.9&amp;"
    "mainSearchCriteria.v.cs=2.16.840.1.113883.6.90</id>"
    '<entry xml:lang="en"><title type="text">Headache</title>'
    f'<link href="{_SITE}/topics/headache" rel="alternate" type="html" title="Headache" />'
    f"<id>{_SITE}/topics/headache</id><updated>2026-10-05T09:00:00Z</updated>"
    '<summary type="text">Pain felt anywhere in the head or upper neck. Also called: '
    "head pain, headaches, cephalalgia.</summary></entry></feed>\n"
)
JSON_EXAMPLE = {
    "feed": {
        "base": _SITE,
        "lang": "en",
        "title": {"_value": "Example Health", "type": "text"},
        "subtitle": {"_value": "Results for ICD-10-CM R51.9", "type": "text"},
        "author": {"name": {"_value": "Example Health"}, "uri": {"_value": _SITE}},
        "updated": {"_value": "2026-10-05T09:00:00Z"},
        "category": [
            {"scheme": "mainSearchCriteria.v.c", "term": "R51.9"},
            {"scheme": "mainSearchCriteria.v.cs", "term": "2.16.840.1.113883.6.90"},
            {"scheme": "informationRecipient", "term": "PAT"},
            {"scheme": "informationRecipient.languageCode.c", "term": "en"},
        ],
        "id": {
            "_value": "http://localhost/v1/infobutton?mainSearchCriteria.v.c=R51.9&"
            "mainSearchCriteria.v.cs=2.16.840.1.113883.6.90"
        },
        "entry": [
            {
                "lang": "en",
                "title": {"_value": "Headache", "type": "text"},
                "link": [
                    {
                        "title": "Headache",
                        "rel": "alternate",
                        "type": "html",
                        "href": f"{_SITE}/topics/headache",
                    }
                ],
                "id": {"_value": f"{_SITE}/topics/headache"},
                "updated": {"_value": "2026-10-05T09:00:00Z"},
                "summary": {
                    "_value": "Pain felt anywhere in the head or upper neck. Also called: "
                    "head pain, headaches, cephalalgia.",
                    "type": "text",
                },
            }
        ],
    }
}
LIMIT = rate_limit_headers("Requests one client address may make", 120)
_FEED_HEADERS = {**LOCALIZED_HEADERS, **LIMIT}
_SCHEMA = shapes.InfobuttonOut()


def _rate_limit() -> str:
    # The search limit: each request is a lookup, as costly as a search.
    return current_app.config["CMS_SETTINGS"].search_rate_limit


def _ok_response() -> dict[str, Any]:
    xml = {"schema": {"type": "string"}, "example": ATOM_EXAMPLE}
    return {
        "description": "An Atom 1.0 feed (`text/xml` or `application/atom+xml`, as asked) "
        "or its JSON form (`application/json`): the feed names the publisher, echoes the "
        "request's criteria as categories, and lists up to three topic pages, then up to "
        "five articles, best first, each with its title, its page on the publisher's site "
        "(`link`, `id`) and a plain-text summary, all in one locale (`xml:lang`, `lang`, "
        "`Content-Language`). Empty when nothing matches, when the site does not publish "
        "in the language asked for, or the recipient is neither `PAT` nor `PROV`.",
        "headers": _FEED_HEADERS,
        "content": {
            shapes.ATOM_XML: xml,
            shapes.ATOM: xml,
            shapes.JSON: {"schema": _SCHEMA, "example": JSON_EXAMPLE},
        },
    }


@blp.route("", parameters=DELIVERY_PARAMETERS)
class Infobutton(MethodView):
    @rate_limited(
        _rate_limit,
        error_message="Too many requests from this address; retry after `Retry-After` seconds.",
    )
    @documented(blp, not_found=False, localized=True)
    @blp.arguments(
        shapes.InfobuttonArgs,
        location="query",
        error_status_code=400,
        unknown=ma.EXCLUDE,
        as_kwargs=False,
    )
    @blp.doc(
        parameters=[
            shapes.INFOBUTTON_QUERY_PARAMETER,
            {"in": "query", "schema": shapes.InfobuttonLocaleDoc},
        ],
        responses={"200": _ok_response()},
    )
    @blp.alt_response(
        429,
        schema=ProblemSchema,
        content_type=PROBLEM_CONTENT_TYPE,
        description="Too many requests from this client address.",
        headers={"Retry-After": "RETRY_AFTER", **LIMIT},
    )
    def get(self, args: dict[str, Any]) -> Response:
        """Answer an HL7 Infobutton knowledge request

        For electronic health records and other clinical apps that speak the HL7
        Context-Aware Knowledge Retrieval (Infobutton) URL-based implementation guide, as
        they call MedlinePlus Connect: `mainSearchCriteria.v.c` with its code system's OID
        in `mainSearchCriteria.v.cs` (ICD-10-CM `2.16.840.1.113883.6.90`, SNOMED CT
        `2.16.840.1.113883.6.96`, MeSH `2.16.840.1.113883.6.177`), or free text in
        `mainSearchCriteria.v.dn` (display name) or `mainSearchCriteria.v.ot` (original
        text). The code is looked up as `GET /v1/lookup?code=` does (ICD-10-CM up and
        down its hierarchy, then siblings and category); when it finds no topic, the
        display name, then the original text, as `GET /v1/lookup?symptom=` does.

        `knowledgeResponseType` chooses an Atom 1.0 feed (`text/xml`, the default, or
        `application/atom+xml`) or the same feed in MedlinePlus Connect's JSON shape
        (`application/json`). Links go to the publisher's public pages
        (`CMS_PUBLIC_BASE_URL`), not to this API.

        The content is patient education. `informationRecipient` `PAT` (the default) and
        `PROV` both get it (a clinician's infobutton looks for material to give the
        patient); any other recipient gets an empty feed rather than an error, as
        MedlinePlus Connect answers what it has no content for.

        The feed is in one locale: the one `informationRecipient.languageCode.c` (the
        patient's language: `es`, `spa`, `es-MX`, ...) names among the site's locales, or
        `locale`, this API's own parameter, or else the site's default locale. Topics
        are listed only when translated into it, with its names, and articles only when
        published in it, each linking to its page in that locale: content never falls
        back to another language. A language the site does not publish in, or a
        `locale` that disagrees with the language, gets an empty feed. `xml:lang` (JSON:
        `lang`) and `Content-Language` say the locale.

        Unlike the rest of the API, query parameters this operation does not read are
        ignored, not refused: the guide's requests carry the whole clinical context
        (patient age and gender, task, encounter, performer, ...) to every knowledge
        resource, and each uses what it can. No code and no text, a parameter given twice,
        or a value with control characters is still a 400 problem. One client address may
        make `CMS_SEARCH_RATE_LIMIT` requests (120 a minute by default); past that the
        answer is `429` with `Retry-After`.
        """
        request = infobutton.Request(
            code=args.get("code"),
            system=args.get("code_system"),
            display_name=args.get("display_name"),
            original_text=args.get("original_text"),
            recipient=args.get("recipient"),
            language=args.get("language"),
            locale=args.get("locale"),
        )
        feed = infobutton.knowledge(request)
        feed_id = absolute_url("/v1/infobutton?" + _criteria(args))
        if args["response_type"] == shapes.JSON:
            body = infobutton.json_feed(feed, feed_id)
        else:
            body = infobutton.atom(feed, feed_id)
        return delivery_response(
            body, content_type=f"{args['response_type']}; charset=utf-8", locale=feed.language
        )


def _criteria(args: dict[str, Any]) -> str:
    """The criteria read, in one order: the feed's id, whatever else the request said and
    whichever representation it asked for."""
    fields = shapes.InfobuttonArgs().fields
    return urlencode(
        [
            (field.data_key, args[name])
            for name, field in fields.items()
            if args.get(name) is not None and name != "response_type"
        ]
    )
