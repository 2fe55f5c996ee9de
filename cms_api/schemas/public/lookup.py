"""Shapes of the symptom-checker lookup: a code or a symptom in, topics, articles, FAQs out."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from cms_api.domain.medical_codes import CODE_FORMATS
from cms_api.models.topic import CODE_SYSTEMS as SYSTEM_NAMES
from cms_api.schemas.common import (
    TEXT_PATTERN,
    Locale,
    StrictSchema,
    free_text,
    slug_field,
    text,
)
from cms_api.schemas.public.articles import ArticleSummaryOut
from cms_api.schemas.public.faqs import FaqOut
from cms_api.schemas.public.topics import MedicalCodeOut

R = {"required": True}
KNOWN_SYSTEMS = ", ".join(CODE_FORMATS)
CODE_MAX = 60
SYMPTOM_MAX = 200
LIMIT_MAX = 50
RELATIONS = ["exact", "broader", "narrower", "sibling", "category", "subtopic", "text"]
# Exactly the codes the lookup accepts, for the document (and the clients it generates).
CODE_PATTERN = (
    r"^(icd10cm:[A-Za-z][0-9][0-9A-Za-z](\.?[0-9A-Za-z]{1,4})?"
    r"|snomed:[1-9][0-9]{5,17}"
    r"|mesh:[A-Za-z][0-9]{6,9})$"
)
CODE_DESCRIPTION = (
    "A medical code as `SYSTEM:CODE`. Systems: `icd10cm` (ICD-10-CM, such as `R51.9`; "
    "the dot may be left out, and a code also finds topics coded with the codes above and "
    "below it (`R51.9` finds `R51`, `R51` finds `R51.9`), beside it under the same parent "
    "(`H92.01` finds `H92.09`) and in its 3-character category (`G43.109` finds "
    "`G43.909`), closest first), `snomed` (a SNOMED CT concept "
    "id, such as `25064002`) and `mesh` (a MeSH unique id, such as `D006261`), both "
    "matched exactly. Letter case does not matter."
)
SYMPTOM_DESCRIPTION = (
    "Words describing a symptom, such as `headache after injection`. Content with every "
    "word comes first, then content with some; misspelt words are corrected "
    "(`query.corrected`)."
)
LIMIT_DESCRIPTION = f"How many topics, articles and FAQs at most, each (1 to {LIMIT_MAX})."
LOCALE_DESCRIPTION = (
    "The locale to answer in (one of the site's locales, CMS_LOCALES; default: the site's "
    "default locale). Codes are shared by every locale; topics are listed only when "
    "translated into it, named in its words, and a symptom is matched against their names "
    "and synonyms in it, accents ignored (`cefalea`, `céfalea`); articles and FAQs are "
    "those written in it."
)


class MedicalCodeArg(ma.fields.String):
    """`SYSTEM:CODE`, loaded as (system, code) once the code is valid in its system."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if len(raw) > CODE_MAX:
            raise ma.ValidationError(f"Longer than {CODE_MAX} characters.")
        system, colon, code = raw.partition(":")
        if not colon:
            raise ma.ValidationError("Expected SYSTEM:CODE, such as icd10cm:R51.9.")
        if system not in CODE_FORMATS:
            raise ma.ValidationError(
                f"Unknown code system {system!r}; the known systems are {KNOWN_SYSTEMS}."
            )
        if not CODE_FORMATS[system].match(code.upper()):
            raise ma.ValidationError(f"{code!r} is not written as a {SYSTEM_NAMES[system]} code.")
        return system, code.upper()


class LookupArgs(StrictSchema):
    code = MedicalCodeArg(metadata={"description": CODE_DESCRIPTION, "example": "icd10cm:R51.9"})
    symptom = free_text(
        SYMPTOM_MAX,
        metadata={"description": SYMPTOM_DESCRIPTION, "example": "headache after injection"},
    )
    limit = ma.fields.Integer(
        load_default=10,
        validate=validate.Range(min=1, max=LIMIT_MAX),
        metadata={"description": LIMIT_DESCRIPTION, "example": 10},
    )
    locale = Locale(metadata={"description": LOCALE_DESCRIPTION, "example": "es"})

    @ma.validates_schema
    def _one_input(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("code" in data) == ("symptom" in data):
            message = "Give exactly one of `code` and `symptom`."
            raise ma.ValidationError({"code": [message], "symptom": [message]})


# The operation's query, documented as one exploded object so that the document can say
# "exactly one of code and symptom" (oneOf), which separate parameters cannot.
LOOKUP_QUERY_PARAMETER = {
    "in": "query",
    "name": "lookup",
    "style": "form",
    "explode": True,
    "required": True,
    "description": "Exactly one of `code` and `symptom`, and optionally `limit` and "
    "`locale`, as query parameters (`?code=icd10cm:R51.9` or "
    "`?symptom=headache+after+injection`). Anything else is a 400 problem.",
    "schema": {
        "type": "object",
        "properties": {
            "code": {
                "type": "string",
                "pattern": CODE_PATTERN,
                "maxLength": CODE_MAX,
                "description": CODE_DESCRIPTION,
            },
            "symptom": {
                "type": "string",
                "minLength": 1,
                "maxLength": SYMPTOM_MAX,
                "pattern": TEXT_PATTERN,
                "description": SYMPTOM_DESCRIPTION,
            },
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": LIMIT_MAX,
                "default": 10,
                "description": LIMIT_DESCRIPTION,
            },
            # The site's locales, as the `Locale` field documents itself elsewhere
            # (the component is registered with the configured tags: cms_api.docs).
            "locale": {
                "allOf": [{"$ref": "#/components/schemas/Locale"}],
                "description": LOCALE_DESCRIPTION,
                "example": "es",
            },
        },
        "additionalProperties": False,
        "oneOf": [{"required": ["code"]}, {"required": ["symptom"]}],
    },
    "examples": {
        "code": {
            "summary": "An ICD-10-CM code",
            "value": {"code": "icd10cm:R51.9"},
        },
        "symptom": {
            "summary": "A symptom in the reader's words",
            "value": {"symptom": "headache after injection", "limit": 5},
        },
    },
}


class ContentFromOut(ma.Schema):
    slug = slug_field(**R, metadata={"example": "headache"})
    name = text("Headache", **R)


class LookupTopicOut(ma.Schema):
    id = ma.fields.UUID(**R)
    slug = slug_field(**R, metadata={"example": "headache"})
    name = text("Headache", **R, metadata={"description": "The topic's name in the locale."})
    url = text(
        "/v1/topics/headache",
        **R,
        metadata={
            "description": "The topic in this API; outside the site's default locale with "
            "its `?locale=`."
        },
    )
    page_url = text(
        "https://www.example-health.org/topics/headache",
        **R,
        metadata={
            "description": "The topic's page on the publisher's site in the locale, for readers."
        },
    )
    codes = ma.fields.List(ma.fields.Nested(MedicalCodeOut), **R)
    synonyms = ma.fields.List(
        ma.fields.String(),
        **R,
        metadata={
            "description": "Other names for the topic (lay terms, abbreviations).",
            "example": ["head pain"],
        },
    )
    relation = text(
        "exact",
        validate=validate.OneOf(RELATIONS),
        **R,
        metadata={
            "description": "Why the topic is listed, closest first: its code is the one "
            "asked for (`exact`); above it (`broader`: `R51` for `R51.9`) or below it "
            "(`narrower`); a sibling, under the same parent code, the code asked for "
            "without its last character (`sibling`: `H92.09` for `H92.01`, both under "
            "`H92.0`); in the same 3-character category and none of those (`category`: "
            "`G43.909` for `G43.109`); a subtopic of such a topic (`subtopic`); or its "
            "name, synonyms, code names or description match the symptom (`text`). "
            "`sibling` and `category` are ICD-10-CM only."
        },
    )
    article_count = ma.fields.Integer(
        **R,
        metadata={
            "description": "Published articles filed under the topic itself (its subtopics "
            "count their own).",
            "example": 6,
        },
    )
    faq_count = ma.fields.Integer(
        **R,
        metadata={
            "description": "Published FAQs on the topic or on its articles.",
            "example": 12,
        },
    )
    content_from = ma.fields.Nested(
        ContentFromOut,
        required=True,
        allow_none=True,
        metadata={
            "description": "For a topic with no published article or FAQ of its own, the "
            "nearest ancestor topic that has some: the lookup's articles and FAQs include "
            "that topic's, ranked as this one. Null when the topic has content of its own, "
            "or no ancestor has any."
        },
    )
    matched_code = ma.fields.Nested(
        MedicalCodeOut,
        required=True,
        allow_none=True,
        metadata={"description": "The topic's code that matched; null for other relations."},
    )
    subtopic_of = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "For a subtopic, the slug of the matched topic it is under.",
            "example": None,
        },
    )


class LookupQueryOut(ma.Schema):
    code = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The code looked up, normalised.", "example": "icd10cm:R51.9"},
    )
    symptom = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The symptom as sent.", "example": None},
    )
    corrected = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The symptom's words as searched, when some were misspelt.",
            "example": None,
        },
    )


class LookupOut(ma.Schema):
    query = ma.fields.Nested(LookupQueryOut, **R)
    topics = ma.fields.List(
        ma.fields.Nested(LookupTopicOut),
        **R,
        metadata={
            "description": "Published topics, best first: exact code, then the closest "
            "broader or narrower code, then siblings, then the category, then their "
            "subtopics (or, for a symptom, those it names in full by name or synonym first, "
            "then by relevance)."
        },
    )
    articles = ma.fields.List(
        ma.fields.Nested(ArticleSummaryOut),
        **R,
        metadata={
            "description": "Published articles on those topics (or on the topic a topic "
            "without content takes its content from), best topic first, then newest (or, "
            "for a symptom, those with every word first, by relevance)."
        },
    )
    faqs = ma.fields.List(
        ma.fields.Nested(FaqOut),
        **R,
        metadata={"description": "Published FAQs, in the same order as articles."},
    )
