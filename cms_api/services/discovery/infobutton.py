"""HL7 Infobutton knowledge responses: the lookup's topics and articles as an Atom feed or JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

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
# The content's language and audience: patient education, in English.
CONTENT_LANGUAGES = {"en", "eng"}
RECIPIENTS = {"PAT", "PROV"}
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

    @property
    def updated(self) -> datetime:
        return max((entry.updated for entry in self.entries), default=NOTHING_UPDATED)


def answered(request: Request) -> bool:
    """Whether the content can serve this recipient and language (else the feed is empty)."""
    language = (request.language or "en").strip().lower().replace("_", "-").split("-")[0]
    recipient = (request.recipient or "PAT").strip().upper()
    return language in CONTENT_LANGUAGES and recipient in RECIPIENTS


def knowledge(request: Request) -> Feed:
    """The topic pages and articles for a request: by its code when that finds a topic,
    else by its display name, else by its original text (each as a symptom lookup)."""
    result: lookup.LookupResult | None = None
    searched = ""
    if answered(request):
        system = CODE_SYSTEM_OIDS.get((request.system or "").strip())
        code = (request.code or "").strip().upper()
        if system and code and CODE_FORMATS[system].match(code):
            result = lookup.by_code(system, code, limit=ARTICLE_ENTRIES)
            searched = f"{CODE_SYSTEMS[system]} {code}"
        for text in (request.display_name, request.original_text):
            if text and (result is None or not result.topics):
                result = lookup.by_symptom(text, limit=ARTICLE_ENTRIES)
                searched = text
    if not searched:
        searched = request.code or request.display_name or request.original_text or ""
    return Feed(
        subtitle=f"Results for {searched}",
        categories=_categories(request),
        entries=_entries(result) if result else [],
    )


def _categories(request: Request) -> list[tuple[str, str]]:
    """The request's criteria, echoed as MedlinePlus Connect does, so a client can tell
    which request a feed answers."""
    given = [
        ("mainSearchCriteria.v.c", request.code),
        ("mainSearchCriteria.v.cs", request.system),
        ("mainSearchCriteria.v.dn", request.display_name),
        ("mainSearchCriteria.v.ot", request.original_text),
        ("informationRecipient", request.recipient or "PAT"),
        ("informationRecipient.languageCode.c", request.language or "en"),
    ]
    return [(scheme, term) for scheme, term in given if term]


def _entries(result: lookup.LookupResult) -> list[Entry]:
    entries = []
    for item, details in list(zip(result.topics, result.details, strict=True))[:TOPIC_ENTRIES]:
        topic = json.loads(item)
        summary = details.description or ""
        if topic["synonyms"]:
            summary = f"{summary} Also called: {', '.join(topic['synonyms'])}.".strip()
        entries.append(Entry(topic["name"], topic["page_url"], summary, details.updated_at))
    for item in result.articles[:ARTICLE_ENTRIES]:
        article = json.loads(item)
        entries.append(
            Entry(
                article["title"],
                site.page_url("article", article["slug"]),
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

    root = ElementTree.Element(f"{{{ATOM_NAMESPACE}}}feed", {XML_BASE: base, XML_LANG: "en"})
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
        element = child(root, "entry", **{XML_LANG: "en"})
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
            "lang": "en",
            "title": {"_value": publisher, "type": "text"},
            "subtitle": {"_value": feed.subtitle, "type": "text"},
            "author": {"name": {"_value": publisher}, "uri": {"_value": base}},
            "updated": {"_value": iso_datetime(feed.updated)},
            "category": [{"scheme": scheme, "term": term} for scheme, term in feed.categories],
            "id": {"_value": feed_id},
            "entry": [
                {
                    "lang": "en",
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
