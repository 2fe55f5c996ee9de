"""Sitemaps for crawlers: /sitemap.xml per locale, numbered sitemaps past 50,000 URLs, an index."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from cms_api.domain.errors import NotFound
from cms_api.http.arguments import no_query_args, query_args
from cms_api.http.conditional import delivery_response, not_modified
from cms_api.http.urls import absolute_url
from cms_api.resources.delivery import (
    CONTENT_LANGUAGE_HEADER,
    DELIVERY_HEADERS,
    DELIVERY_PARAMETERS,
    LOCALIZED_HEADERS,
    documented,
)
from cms_api.schemas.public.sitemap import SitemapQueryArgs
from cms_api.services.discovery import sitemap

blp = Blueprint("sitemaps", __name__, description="Sitemaps (sitemaps.org protocol) for crawlers.")

XML = "application/xml"
URLSET_EXAMPLE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
    "<url><loc>https://www.example-health.org/articles/headache-after-botox</loc>"
    "<lastmod>2026-10-05T09:00:00Z</lastmod>"
    '<xhtml:link rel="alternate" hreflang="en" '
    'href="https://www.example-health.org/articles/headache-after-botox"/>'
    '<xhtml:link rel="alternate" hreflang="es" '
    'href="https://www.example-health.org/es/articles/dolor-de-cabeza-despues-del-botox"/>'
    '<xhtml:link rel="alternate" hreflang="x-default" '
    'href="https://www.example-health.org/articles/headache-after-botox"/></url>\n'
    "<url><loc>https://www.example-health.org/articles/tmj-headache</loc>"
    "<lastmod>2026-10-05T09:00:00Z</lastmod></url>\n</urlset>\n"
)
INDEX_EXAMPLE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    "<sitemap><loc>https://api.example-health.org/sitemaps/1.xml</loc>"
    "<lastmod>2026-10-05T09:00:00Z</lastmod></sitemap>\n</sitemapindex>\n"
)
EVERY_LOCALE_EXAMPLE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    "<sitemap><loc>https://api.example-health.org/sitemaps/1.xml</loc>"
    "<lastmod>2026-10-20T09:00:00Z</lastmod></sitemap>\n"
    "<sitemap><loc>https://api.example-health.org/sitemaps/1.xml?locale=es</loc>"
    "<lastmod>2026-12-01T09:00:00Z</lastmod></sitemap>\n</sitemapindex>\n"
)
EVERY_LOCALE_HEADERS = {
    **DELIVERY_HEADERS,
    "Content-Language": {
        **CONTENT_LANGUAGE_HEADER,
        "description": "The locales whose sitemaps the index names, comma-separated.",
        "schema": {"type": "string", "example": "en, es"},
    },
}


def _xml_response(description: str, example: str, headers: dict[str, Any]) -> dict:
    return {
        "description": description,
        "headers": headers,
        "content": {XML: {"schema": {"type": "string"}, "example": example}},
    }


def _numbered(locale: str, number: int | str) -> str:
    """The address of numbered sitemap `number` of `locale` (the default locale's have no
    query, as before there were locales)."""
    path = f"/sitemaps/{number}.xml"
    if locale != current_app.config["CMS_SETTINGS"].default_locale:
        path += "?" + urlencode({"locale": locale})
    return absolute_url(path)


@blp.route("/sitemap.xml", parameters=DELIVERY_PARAMETERS)
class SitemapView(MethodView):
    @documented(blp, not_found=False, localized=True)
    @query_args(blp, SitemapQueryArgs)
    @blp.doc(
        responses={
            "200": _xml_response(
                "A `urlset` of every published article, topic and person page of the "
                "locale, or, past 50,000 URLs, a `sitemapindex` of its numbered sitemaps.",
                URLSET_EXAMPLE,
                LOCALIZED_HEADERS,
            )
        }
    )
    def get(self, args: dict[str, Any]) -> Response:
        """Get the sitemap of a locale

        Every page published in the locale (`locale`, default the site's) on the
        publisher's site (`CMS_PUBLIC_BASE_URL`, with the locale's path from
        `CMS_LOCALE_PATHS`): articles, then people and topics. Only canonical pages are
        listed: an article whose `canonical_url` names another page is not, nor a topic
        or person page that lists no article or FAQ published in that locale.

        Each URL has `lastmod`, the last change readers could see (an article's last
        published content change, not the time it was re-rendered; a topic's or person's,
        the newest change to the articles and FAQs the page lists or to the topic or
        person). A page published in more than one locale also names every language
        version, itself included, as `<xhtml:link rel="alternate" hreflang="es"
        href="..."/>` (Google's hreflang extension, namespace
        `http://www.w3.org/1999/xhtml`), then `hreflang="x-default"`: the default
        locale's version, else the original's (for an article), else the first of the
        site's locales (`CMS_LOCALES`) that has it. Every version of a page names the same
        set, so the annotations are reciprocal. A page published in one locale only has
        none. `Content-Language` is the locale.

        Past 50,000 URLs, the protocol's limit (fewer on a site with so many locales
        that 50,000 entries with their alternates could pass its 50 MB per file), this
        is a sitemap index naming the locale's `/sitemaps/1.xml`, `/sitemaps/2.xml`, ...
        at the API's public address (`CMS_API_BASE_URL`), with `?locale=` for any but
        the default locale. Every locale's sitemaps are named by one index,
        `/sitemaps/index.xml`: the address to give crawlers (`Sitemap:` in robots.txt)
        when the site has several locales.
        """
        locale = args["locale"]
        etag, count = sitemap.version_etag(None, locale)
        if not_modified(etag):
            return delivery_response("", etag=etag, content_type=XML, locale=locale)
        if sitemap.page_count(count) == 1:
            body = sitemap.urlset(1, locale)
        else:
            body = sitemap.index(_numbered(locale, "{n}"), locale)
        return delivery_response(body, etag=etag, content_type=XML, locale=locale)


@blp.route(
    "/sitemaps/<int:number>.xml",
    parameters=[
        {
            "in": "path",
            "name": "number",
            "description": "The sitemap's number in its locale's index, from 1.",
            "example": 1,
        },
        *DELIVERY_PARAMETERS,
    ],
)
class NumberedSitemapView(MethodView):
    @documented(blp, localized=True)
    @query_args(blp, SitemapQueryArgs)
    @blp.doc(
        responses={
            "200": _xml_response(
                "One numbered `urlset` of up to 50,000 URLs.", URLSET_EXAMPLE, LOCALIZED_HEADERS
            )
        }
    )
    def get(self, args: dict[str, Any], number: int) -> Response:
        """Get a numbered sitemap of a locale

        One slice of at most 50,000 URLs of a locale's pages (`locale`, default the
        site's), in a stable order, with their `lastmod` and language versions as
        `/sitemap.xml` gives them. Sitemap 1 always exists, so `/sitemaps/index.xml` can
        name every locale's sitemaps alike.
        """
        locale = args["locale"]
        etag, count = sitemap.version_etag(number, locale)
        if not 1 <= number <= sitemap.page_count(count):
            raise NotFound(f"There is no sitemap {number} of {locale}; see /sitemap.xml.")
        if not_modified(etag):
            return delivery_response("", etag=etag, content_type=XML, locale=locale)
        body = sitemap.urlset(number, locale)
        return delivery_response(body, etag=etag, content_type=XML, locale=locale)


@blp.route("/sitemaps/index.xml", parameters=DELIVERY_PARAMETERS)
class EveryLocaleSitemapIndex(MethodView):
    @documented(blp, not_found=False)
    @no_query_args(blp)
    @blp.doc(
        responses={
            "200": _xml_response(
                "A `sitemapindex` of the numbered sitemaps of every locale with pages.",
                EVERY_LOCALE_EXAMPLE,
                EVERY_LOCALE_HEADERS,
            )
        }
    )
    def get(self) -> Response:
        """Get the index of every locale's sitemaps

        One sitemap index for the whole multilingual site, to name in robots.txt: the
        numbered sitemaps (`/sitemaps/{number}.xml`, with `?locale=` for any but the
        default locale) of every locale that has published pages, in the order of the
        site's locales (`CMS_LOCALES`), each with its newest `lastmod`. A locale whose
        pages fit in one file has one entry, its sitemap 1 (the same list as
        `/sitemap.xml?locale=`). `Content-Language` lists the locales named.
        """
        etag, _ = sitemap.version_etag(0, "*")
        locales = sitemap.listed_locales()
        language = ", ".join(locales) or None
        if not_modified(etag):
            return delivery_response("", etag=etag, content_type=XML, locale=language)
        body = sitemap.every_locale_index(_numbered)
        return delivery_response(body, etag=etag, content_type=XML, locale=language)
