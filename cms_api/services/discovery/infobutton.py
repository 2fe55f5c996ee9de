"""HL7 Infobutton knowledge responses: a locale's topics and articles as an Atom feed or JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from cms_api.domain import locales
from cms_api.domain.formats import iso_datetime
from cms_api.domain.medical_codes import CODE_FORMATS
from cms_api.models.topic import CODE_SYSTEMS
from cms_api.services import runtime
from cms_api.services.discovery import lookup
from cms_api.services.publishing import site

ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
# Code systems by their HL7 OIDs, as `mainSearchCriteria.v.cs` names them.
CODE_SYSTEM_OIDS = {
    "2.16.840.1.113883.6.90": "icd10cm",
    "2.16.840.1.113883.6.96": "snomed",
    "2.16.840.1.113883.6.177": "mesh",
}
# Up to three topic pages, as MedlinePlus Connect gives for a problem code, then articles.
TOPIC_ENTRIES = 3
ARTICLE_ENTRIES = 5
# The content's audience: patient education.
RECIPIENTS = {"PAT", "PROV"}
# ISO 639-2 codes (bibliographic and terminology forms) a request's language may come in,
# by their ISO 639-1 code, the primary subtag of the site's BCP 47 locales.
ISO_639_2 = {
    "ara": "ar",
    "chi": "zh",
    "zho": "zh",
    "dan": "da",
    "dut": "nl",
    "nld": "nl",
    "eng": "en",
    "fin": "fi",
    "fre": "fr",
    "fra": "fr",
    "ger": "de",
    "deu": "de",
    "hin": "hi",
    "hun": "hu",
    "ita": "it",
    "jpn": "ja",
    "kor": "ko",
    "nob": "nb",
    "nor": "no",
    "pol": "pl",
    "por": "pt",
    "rum": "ro",
    "ron": "ro",
    "rus": "ru",
    "spa": "es",
    "swe": "sv",
    "tgl": "tl",
    "tur": "tr",
    "vie": "vi",
}
# The feed's own words in the languages it is written in, by primary language subtag;
# a locale without them gets the English ones.
RESULTS_FOR = {"en": "Results for {}", "es": "Resultados para {}"}
ALSO_CALLED = {"en": "Also called: {}.", "es": "También llamado: {}."}
# Atom requires `updated`; a feed with no entry has nothing that changed, and a clock
# time would give every answer a new ETag.
NOTHING_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Request:
    """A knowledge request, as the query named it (`system` is an OID)."""

    code: str | None = None
    system: str | None = None
    display_name: str | None = None
    original_text: str | None = None
    recipient: str | None = None
    language: str | None = None
    locale: str | None = None  # the API's own `locale`, when the request names one


@dataclass(frozen=True)
class Entry:
    title: str
    url: str
    summary: str
    updated: datetime


@dataclass(frozen=True)
class Feed:
    subtitle: str
    categories: list[tuple[str, str]]
    entries: list[Entry]
    language: str  # the locale of its content (of its text, when it has no entry)

    @property
    def updated(self) -> datetime:
        return max((entry.updated for entry in self.entries), default=NOTHING_UPDATED)


def locale_of(language: str) -> str | None:
    """The site's locale for a language as an HL7 request names it (an ISO 639-1 or
    639-2 code or a BCP 47 tag, `_` or `-` between subtags): the same tag, else the
    tag's bare language, else the first of the site's locales in that language; None
    when the site publishes in no such language."""
    tag = language.strip().replace("_", "-")
    primary, _, rest = tag.partition("-")
    primary = ISO_639_2.get(primary.lower(), primary)
    found = locales.normalized(f"{primary}-{rest}" if rest else primary)
    if found is None:
        return None
    offered = runtime.settings().locales
    bare = locales.language(found)
    if found in offered:
        return found
    if bare in offered:
        return bare
    return next((other for other in offered if locales.language(other) == bare), None)


def answering_locale(request: Request) -> str | None:
    """The locale a request is answered in, or None when the content serves neither its
    recipient nor its language (an empty feed). The recipient's language chooses it; an
    explicit `locale` must agree with it."""
    recipient = (request.recipient or "PAT").strip().upper()
    if recipient not in RECIPIENTS:
        return None
    # An empty language code says nothing, as it did before languages existed.
    language = (request.language or "").strip() or None
    asked = locale_of(language) if language is not None else None
    if request.locale is not None:
        return request.locale if language is None or asked == request.locale else None
    if language is not None:
        return asked
    return runtime.settings().default_locale


def knowledge(request: Request) -> Feed:
    """The topic pages and articles for a request, in the locale it is answered in: by
    its code when that finds a topic, else by its display name, else by its original
    text (each as a symptom lookup)."""
    result: lookup.LookupResult | None = None
    searched = ""
    locale = answering_locale(request)
    if locale is not None:
        system = CODE_SYSTEM_OIDS.get((request.system or "").strip())
        code = (request.code or "").strip().upper()
        if system and code and CODE_FORMATS[system].match(code):
            result = lookup.by_code(system, code, limit=ARTICLE_ENTRIES, locale=locale)
            searched = f"{CODE_SYSTEMS[system]} {code}"
        for text in (request.display_name, request.original_text):
            if text and (result is None or not result.topics):
                result = lookup.by_symptom(text, limit=ARTICLE_ENTRIES, locale=locale)
                searched = text
    if not searched:
        searched = request.code or request.display_name or request.original_text or ""
    # An empty feed still speaks the language asked for, when the site has it.
    language = (
        locale
        or request.locale
        or (locale_of(request.language) if request.language is not None else None)
        or runtime.settings().default_locale
    )
    return Feed(
        subtitle=_words(RESULTS_FOR, language).format(searched),
        categories=_categories(request, language),
        entries=_entries(result, language) if result else [],
        language=language,
    )


def _categories(request: Request, language: str) -> list[tuple[str, str]]:
    """The request's criteria, echoed as MedlinePlus Connect does, so a client can tell
    which request a feed answers (the language as asked, else the feed's)."""
    given = [
        ("mainSearchCriteria.v.c", request.code),
        ("mainSearchCriteria.v.cs", request.system),
        ("mainSearchCriteria.v.dn", request.display_name),
        ("mainSearchCriteria.v.ot", request.original_text),
        ("informationRecipient", request.recipient or "PAT"),
        ("informationRecipient.languageCode.c", request.language or language),
    ]
    return [(scheme, term) for scheme, term in given if term]


def _words(phrases: dict[str, str], locale: str) -> str:
    return phrases.get(locales.language(locale), phrases["en"])


def _entries(result: lookup.LookupResult, locale: str) -> list[Entry]:
    entries = []
    also_called = _words(ALSO_CALLED, locale)
    for item, details in list(zip(result.topics, result.details, strict=True))[:TOPIC_ENTRIES]:
        topic = json.loads(item)
        summary = details.description or ""
        if topic["synonyms"]:
            summary = f"{summary} {also_called.format(', '.join(topic['synonyms']))}".strip()
        entries.append(Entry(topic["name"], topic["page_url"], summary, details.updated_at))
    for item in result.articles[:ARTICLE_ENTRIES]:
        article = json.loads(item)
        entries.append(
            Entry(
                article["title"],
                site.page_url("article", article["slug"], locale),
                article["summary"] or "",
                datetime.fromisoformat(article["updated_at"]),
            )
        )
    return entries


def _publisher() -> tuple[str, str]:
    settings = runtime.settings()
    return settings.publisher_name, site.base_url()


def atom(feed: Feed, feed_id: str) -> str:
    """The feed as an Atom 1.0 (RFC 4287) document."""
    publisher, base = _publisher()

    def child(parent: ElementTree.Element, name: str, text: str | None = None, **attributes: str):
        element = ElementTree.SubElement(parent, f"{{{ATOM_NAMESPACE}}}{name}", attributes)
        element.text = text
        return element

    root = ElementTree.Element(
        f"{{{ATOM_NAMESPACE}}}feed", {XML_BASE: base, XML_LANG: feed.language}
    )
    child(root, "title", publisher, type="text")
    child(root, "subtitle", feed.subtitle, type="text")
    author = child(root, "author")
    child(author, "name", publisher)
    child(author, "uri", base)
    child(root, "updated", iso_datetime(feed.updated))
    for scheme, term in feed.categories:
        child(root, "category", scheme=scheme, term=term)
    child(root, "id", feed_id)
    for entry in feed.entries:
        element = child(root, "entry", **{XML_LANG: feed.language})
        child(element, "title", entry.title, type="text")
        child(element, "link", href=entry.url, rel="alternate", type="html", title=entry.title)
        child(element, "id", entry.url)
        child(element, "updated", iso_datetime(entry.updated))
        child(element, "summary", entry.summary, type="text")
    ElementTree.register_namespace("", ATOM_NAMESPACE)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def json_feed(feed: Feed, feed_id: str) -> str:
    """The feed in the JSON shape MedlinePlus Connect gives for `application/json`."""
    publisher, base = _publisher()
    body: dict[str, Any] = {
        "feed": {
            "base": base,
            "lang": feed.language,
            "title": {"_value": publisher, "type": "text"},
            "subtitle": {"_value": feed.subtitle, "type": "text"},
            "author": {"name": {"_value": publisher}, "uri": {"_value": base}},
            "updated": {"_value": iso_datetime(feed.updated)},
            "category": [{"scheme": scheme, "term": term} for scheme, term in feed.categories],
            "id": {"_value": feed_id},
            "entry": [
                {
                    "lang": feed.language,
                    "title": {"_value": entry.title, "type": "text"},
                    "link": [
                        {
                            "title": entry.title,
                            "rel": "alternate",
                            "type": "html",
                            "href": entry.url,
                        }
                    ],
                    "id": {"_value": entry.url},
                    "updated": {"_value": iso_datetime(entry.updated)},
                    "summary": {"_value": entry.summary, "type": "text"},
                }
                for entry in feed.entries
            ],
        }
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
