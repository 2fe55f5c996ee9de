"""Shapes of the HL7 Infobutton (URL-based) knowledge request: parameters in, an Atom feed out."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from cms_api.schemas.common import TEXT_PATTERN, Locale, free_text

CODE = "mainSearchCriteria.v.c"
CODE_SYSTEM = "mainSearchCriteria.v.cs"
DISPLAY_NAME = "mainSearchCriteria.v.dn"
ORIGINAL_TEXT = "mainSearchCriteria.v.ot"
RESPONSE_TYPE = "knowledgeResponseType"
RECIPIENT = "informationRecipient"
LANGUAGE = "informationRecipient.languageCode.c"
LOCALE = "locale"

ATOM_XML = "text/xml"
ATOM = "application/atom+xml"
JSON = "application/json"
RESPONSE_TYPES = [ATOM_XML, JSON, ATOM]
TEXT_MAX = 200
SHORT_MAX = 100

_DESCRIPTIONS = {
    CODE: "The code looked up, as its system writes it (`R51.9`, `25064002`, `D006261`). "
    "A code of a system not listed under `mainSearchCriteria.v.cs`, or not written as its "
    "system writes codes, finds nothing.",
    CODE_SYSTEM: "The code's system, as an HL7 OID: `2.16.840.1.113883.6.90` (ICD-10-CM), "
    "`2.16.840.1.113883.6.96` (SNOMED CT) or `2.16.840.1.113883.6.177` (MeSH).",
    DISPLAY_NAME: "The code's display name, such as `Headache`: looked up as a symptom when "
    "no code is given or the code finds no topic.",
    ORIGINAL_TEXT: "The text the clinician or patient typed, looked up as a symptom when "
    "neither the code nor the display name finds a topic.",
    RESPONSE_TYPE: "`text/xml` (an Atom 1.0 feed, the default), `application/atom+xml` (the "
    "same feed under Atom's own media type) or `application/json` (the feed in MedlinePlus "
    "Connect's JSON shape).",
    RECIPIENT: "Who will read the content: `PAT` (a patient, the default) or `PROV` (a "
    "provider). The content is written for patients and is given for both (a provider "
    "shares it with the patient); any other recipient gets an empty feed.",
    LANGUAGE: "The reader's language, as an ISO 639-1 or 639-2 code or a BCP 47 tag (`es`, "
    "`spa`, `es-MX`, `en-US`, `eng`): the content is given in the site's locale for it "
    "(the same tag, else its language, else the first of the site's locales in that "
    "language). Absent, the site's default locale (or `locale`). A language the site does "
    "not publish in gets an empty feed, not an error.",
    LOCALE: "This API's own way to choose the locale (BCP 47 tag, one of the site's "
    "locales, CMS_LOCALES), as every public read takes it, for clients that do not send "
    f"`{LANGUAGE}`. With both, they must name the same locale, else the feed is empty. A "
    "malformed tag, or one the site does not publish in, is a 400 problem.",
}


def _text(name: str, max_length: int, example: str | None = None) -> ma.fields.String:
    metadata: dict[str, Any] = {"description": _DESCRIPTIONS[name]}
    if example is not None:
        metadata["example"] = example
    return free_text(max_length, data_key=name, metadata=metadata)


class InfobuttonArgs(ma.Schema):
    """The knowledge request's parameters this service answers to. Any other context
    parameter of the implementation guide (patient age and gender, task, encounter,
    performer, ...) is ignored, as the guide expects of a resource that does not use it."""

    class Meta:
        unknown = ma.EXCLUDE

    code = _text(CODE, 60, "R51.9")
    code_system = _text(CODE_SYSTEM, SHORT_MAX, "2.16.840.1.113883.6.90")
    display_name = _text(DISPLAY_NAME, TEXT_MAX)
    original_text = _text(ORIGINAL_TEXT, TEXT_MAX)
    response_type = ma.fields.String(
        data_key=RESPONSE_TYPE,
        load_default=ATOM_XML,
        validate=validate.OneOf(RESPONSE_TYPES),
        metadata={"description": _DESCRIPTIONS[RESPONSE_TYPE]},
    )
    recipient = _text(RECIPIENT, SHORT_MAX)
    language = _text(LANGUAGE, SHORT_MAX)
    # Absent stays absent: the recipient's language then chooses, and the feed's id
    # names only what the request said.
    locale = Locale(load_default=None, data_key=LOCALE)

    @ma.pre_load
    def _known_once(self, data: Any, **kwargs: Any) -> Any:
        # webargs reads the first of repeated query parameters; a second value of one this
        # service reads would be silently dropped. Others are not looked at at all.
        getlist = getattr(data, "getlist", None)
        if getlist is None:
            return data
        known = {field.data_key for field in self.fields.values()}
        repeated = [key for key in data if key in known and len(getlist(key)) > 1]
        if repeated:
            raise ma.ValidationError({key: ["Given more than once."] for key in repeated})
        return data

    @ma.validates_schema
    def _something_to_look_up(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not {"code", "display_name", "original_text"} & set(data):
            message = (
                f"Give `{CODE}` (with `{CODE_SYSTEM}`), `{DISPLAY_NAME}` or `{ORIGINAL_TEXT}`."
            )
            raise ma.ValidationError({CODE: [message], DISPLAY_NAME: [message]})


def _property(name: str, max_length: int, example: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "pattern": TEXT_PATTERN,
        "description": _DESCRIPTIONS[name],
    }
    if example is not None:
        schema["examples"] = [example]
    return schema


# The operation's query, documented as one exploded object so that the document can say
# "one of code, display name or original text" (anyOf), and that other parameters are
# welcome (additionalProperties), which separate parameters cannot.
INFOBUTTON_QUERY_PARAMETER = {
    "in": "query",
    "name": "knowledgeRequest",
    "style": "form",
    "explode": True,
    "required": True,
    "description": "The HL7 Context-Aware Knowledge Retrieval (Infobutton) URL-based "
    "knowledge request, as query parameters: a code with its system, or a display name or "
    "original text, and optionally the response type, recipient and language. Unlike the "
    "rest of the API, other parameters are ignored rather than refused: an electronic "
    "health record sends the guide's whole context (patient, task, encounter, performer) "
    "to every knowledge resource it is configured with, and each uses what it can.",
    "schema": {
        "type": "object",
        "properties": {
            CODE: _property(CODE, 60, "R51.9"),
            CODE_SYSTEM: _property(CODE_SYSTEM, SHORT_MAX, "2.16.840.1.113883.6.90"),
            DISPLAY_NAME: _property(DISPLAY_NAME, TEXT_MAX, "Headache"),
            ORIGINAL_TEXT: _property(ORIGINAL_TEXT, TEXT_MAX, "earache"),
            RESPONSE_TYPE: {
                "type": "string",
                "enum": RESPONSE_TYPES,
                "default": ATOM_XML,
                "description": _DESCRIPTIONS[RESPONSE_TYPE],
            },
            RECIPIENT: _property(RECIPIENT, SHORT_MAX, "PAT"),
            LANGUAGE: _property(LANGUAGE, SHORT_MAX, "en"),
        },
        "additionalProperties": True,
        "anyOf": [
            {"required": [CODE]},
            {"required": [DISPLAY_NAME]},
            {"required": [ORIGINAL_TEXT]},
        ],
    },
    "examples": {
        "code": {
            "summary": "An ICD-10-CM code, as JSON",
            "value": {
                CODE: "R51.9",
                CODE_SYSTEM: "2.16.840.1.113883.6.90",
                RESPONSE_TYPE: JSON,
            },
        },
        "text": {
            "summary": "A display name, for a patient, in English, as Atom XML",
            "value": {DISPLAY_NAME: "Earache", RECIPIENT: "PAT", LANGUAGE: "en"},
        },
        "spanish": {
            "summary": "An ICD-10-CM code, for a patient who reads Spanish",
            "value": {
                CODE: "R51.9",
                CODE_SYSTEM: "2.16.840.1.113883.6.90",
                LANGUAGE: "es",
            },
        },
    },
}


class InfobuttonLocaleDoc(ma.Schema):
    """`locale`, the parameter every public read takes, documented beside the request: the
    implementation guide's `informationRecipient.languageCode.c` is what clinical apps send."""

    # Documented without the parsing field's null default, which a query cannot send.
    locale = Locale(
        data_key=LOCALE, metadata={"description": _DESCRIPTIONS[LOCALE], "example": "es"}
    )


class _Value(ma.Schema):
    _value = ma.fields.String(required=True, data_key="_value")
    type = ma.fields.String(metadata={"example": "text"})


class _Link(ma.Schema):
    href = ma.fields.String(
        required=True, metadata={"example": "https://www.example-health.org/topics/headache"}
    )
    rel = ma.fields.String(required=True, metadata={"example": "alternate"})
    type = ma.fields.String(required=True, metadata={"example": "html"})
    title = ma.fields.String(required=True, metadata={"example": "Headache"})


class _Category(ma.Schema):
    scheme = ma.fields.String(required=True, metadata={"example": CODE})
    term = ma.fields.String(required=True, metadata={"example": "R51.9"})


class _Author(ma.Schema):
    name = ma.fields.Nested(_Value, required=True)
    uri = ma.fields.Nested(_Value, required=True)


class InfobuttonEntryOut(ma.Schema):
    lang = ma.fields.String(required=True, metadata={"example": "en"})
    title = ma.fields.Nested(_Value, required=True)
    link = ma.fields.List(ma.fields.Nested(_Link), required=True)
    id = ma.fields.Nested(_Value, required=True)
    updated = ma.fields.Nested(_Value, required=True)
    summary = ma.fields.Nested(_Value, required=True)


class InfobuttonFeedOut(ma.Schema):
    base = ma.fields.String(required=True, metadata={"example": "https://www.example-health.org"})
    lang = ma.fields.String(required=True, metadata={"example": "en"})
    title = ma.fields.Nested(_Value, required=True)
    subtitle = ma.fields.Nested(_Value, required=True)
    author = ma.fields.Nested(_Author, required=True)
    updated = ma.fields.Nested(_Value, required=True)
    category = ma.fields.List(ma.fields.Nested(_Category), required=True)
    id = ma.fields.Nested(_Value, required=True)
    entry = ma.fields.List(ma.fields.Nested(InfobuttonEntryOut), required=True)


class InfobuttonOut(ma.Schema):
    feed = ma.fields.Nested(InfobuttonFeedOut, required=True)
