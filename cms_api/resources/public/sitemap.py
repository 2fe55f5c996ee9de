"""Sitemaps for crawlers: /sitemap.xml, and numbered sitemaps once the site outgrows one."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from cms_api.domain.errors import NotFound
from cms_api.http.arguments import no_query_args
from cms_api.http.conditional import delivery_response, not_modified
from cms_api.http.urls import absolute_url
from cms_api.resources.delivery import DELIVERY_HEADERS, DELIVERY_PARAMETERS, documented
from cms_api.services.discovery import sitemap

blp = Blueprint("sitemaps", __name__, description="Sitemaps (sitemaps.org protocol) for crawlers.")

XML = "application/xml"
URLSET_EXAMPLE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    "<url><loc>https://www.example-health.org/articles/headache-after-botox</loc>"
    "<lastmod>2026-10-05T09:00:00Z</lastmod></url>\n</urlset>\n"
)
INDEX_EXAMPLE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    "<sitemap><loc>https://api.example-health.org/sitemaps/1.xml</loc>"
    "<lastmod>2026-10-05T09:00:00Z</lastmod></sitemap>\n</sitemapindex>\n"
)


def _xml_response(description: str, example: str) -> dict:
    return {
        "description": description,
        "headers": DELIVERY_HEADERS,
        "content": {XML: {"schema": {"type": "string"}, "example": example}},
    }


@blp.route("/sitemap.xml", parameters=DELIVERY_PARAMETERS)
class SitemapView(MethodView):
    @documented(blp, not_found=False)
    @no_query_args(blp)
    @blp.doc(
        responses={
            "200": _xml_response(
                "A `urlset` of every published article, topic and person page, or, past "
                "50,000 URLs, a `sitemapindex` of numbered sitemaps.",
                URLSET_EXAMPLE,
            )
        }
    )
    def get(self) -> Response:
        """Get the sitemap

        Every published article, topic and person page on the publisher's site
        (`CMS_PUBLIC_BASE_URL`), each with `lastmod`: the last change readers could see
        (an article's last published content change, not the time it was re-rendered; a
        topic's or person's, the newest change to the articles and FAQs the page lists or
        to the topic or person). Only canonical pages are listed: an article whose
        `canonical_url` names another page is not, nor a topic or person page that lists
        no published article or FAQ.
        Past 50,000 URLs, the protocol's limit, this is a sitemap index naming
        `/sitemaps/1.xml`, `/sitemaps/2.xml`, ... at the API's public address
        (`CMS_API_BASE_URL`).
        """
        etag, count = sitemap.version_etag(None)
        if not_modified(etag):
            return delivery_response("", etag=etag, content_type=XML)
        if sitemap.page_count(count) == 1:
            body = sitemap.urlset(1)
        else:
            body = sitemap.index(absolute_url("/sitemaps/{n}.xml"))
        return delivery_response(body, etag=etag, content_type=XML)


@blp.route(
    "/sitemaps/<int:number>.xml",
    parameters=[
        {
            "in": "path",
            "name": "number",
            "description": "The sitemap's number in the index, from 1.",
            "example": 1,
        },
        *DELIVERY_PARAMETERS,
    ],
)
class NumberedSitemapView(MethodView):
    @documented(blp)
    @no_query_args(blp)
    @blp.doc(
        responses={
            "200": _xml_response("One numbered `urlset` of up to 50,000 URLs.", URLSET_EXAMPLE)
        }
    )
    def get(self, number: int) -> Response:
        """Get a numbered sitemap

        One slice of at most 50,000 URLs of the sitemap index, in a stable order.
        """
        etag, count = sitemap.version_etag(number)
        if not 1 <= number <= sitemap.page_count(count):
            raise NotFound(f"There is no sitemap {number}; see /sitemap.xml.")
        if not_modified(etag):
            return delivery_response("", etag=etag, content_type=XML)
        return delivery_response(sitemap.urlset(number), etag=etag, content_type=XML)
