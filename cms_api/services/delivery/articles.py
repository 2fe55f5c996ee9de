"""Reading published articles per locale: filtered lists, whole documents, sections and parts."""

from __future__ import annotations

import json
from typing import Any

from cms_api.domain.errors import InvalidParameter
from cms_api.domain.etags import etag_for
from cms_api.domain.formats import dumps
from cms_api.domain.paging import Page
from cms_api.services.delivery import documents as delivery
from cms_api.services.delivery import listings
from cms_api.services.delivery.documents import StoredDocument


def list_published(args: dict[str, Any]) -> Page:
    """A page of published article summaries, filtered and sorted as the list's query says."""
    tags = [f"{name}:{args[name]}" for name in ("topic", "author", "reviewer") if name in args]
    if "code" in args:
        system, _, value = args["code"].partition(":")
        tags.append(f"code:{system}:{value.upper()}")
    return listings.list_documents(
        "article",
        tags=tags,
        sort=args["sort"],
        limit=args["limit"],
        cursor=args.get("cursor"),
        updated_since=args.get("updated_since"),
        locale=args.get("locale"),
    )


def published_document(
    slug: str, *, sections: list[str] | None = None, locale: str | None = None
) -> StoredDocument | None:
    """The stored article in `locale` (default: the site's), or the article cut down to
    the requested sections."""
    document = delivery.get_document("article", slug=slug, locale=locale)
    if document is None or not sections:
        return document
    body = dumps(only_sections(json.loads(document.body), sections))
    return StoredDocument(body=body, etag=etag_for(body))


def current_etag(slug: str, locale: str | None = None) -> str | None:
    return delivery.get_etag("article", slug, locale)


def only_sections(article: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    by_key: dict[str, dict[str, Any]] = {}
    for section in article["sections"]:
        by_key[section["key"]] = section
        for subsection in section["subsections"]:
            by_key.setdefault(subsection["key"], subsection)
    unknown = [key for key in keys if key not in by_key]
    if unknown:
        raise InvalidParameter(
            f"Query parameter 'sections': this article has no section {', '.join(unknown)}. "
            f"Its sections are: {', '.join(by_key)}.",
            errors={"query": {"sections": [f"Unknown section key: {key}." for key in unknown]}},
        )
    return {**article, "sections": [by_key[key] for key in dict.fromkeys(keys)]}


def published_part(slug: str, part: str, locale: str | None = None) -> list[Any] | None:
    """One list embedded in the published article (`faqs` or `related`)."""
    document = delivery.get_document("article", slug=slug, locale=locale)
    if document is None:
        return None
    return json.loads(document.body)[part]
