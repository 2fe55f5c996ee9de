"""Sitemaps (sitemaps.org 0.9) of published articles, topics and people."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from cms_api.domain.etags import etag_for
from cms_api.services import runtime
from cms_api.services.delivery.documents import reading
from cms_api.services.publishing import site

# The protocol's limit of URLs per sitemap; past it, /sitemap.xml becomes an index.
MAX_URLS = 50_000
PAGE_KINDS = ("article", "person", "topic")
XMLNS = "http://www.sitemaps.org/schemas/sitemap/0.9"

_VERSION = """
SELECT count(*), max(rendered_at), max(updated_at) FROM published_documents
WHERE kind IN ('article', 'person', 'topic') AND slug IS NOT NULL
"""
# Pages are numbered slices of one stable order. Skipping rows is bounded here: a
# sitemap is at most a few pages, and the (kind, slug) index serves the order.
_URLS = """
SELECT kind, slug, updated_at FROM published_documents
WHERE kind IN ('article', 'person', 'topic') AND slug IS NOT NULL
ORDER BY kind, slug
OFFSET %(offset)s LIMIT %(limit)s
"""
_PAGE_LASTMODS = """
SELECT (row_number() OVER (ORDER BY kind, slug) - 1) / %(size)s AS page, updated_at
FROM published_documents
WHERE kind IN ('article', 'person', 'topic') AND slug IS NOT NULL
"""


@dataclass(frozen=True)
class Sitemap:
    body: str | None  # None when the caller's ETag still matched and nothing was rendered
    etag: str


def max_urls() -> int:
    return runtime.settings().sitemap_max_urls


def version_etag(page: int | None) -> tuple[str, int]:
    """An ETag for a sitemap page known before rendering it, and the number of URLs.

    Any publish, unpublish or re-render moves max(rendered_at), so it versions them all.
    """
    with reading() as connection:
        count, rendered, updated = connection.exec_driver_sql(_VERSION).one()
    # The index names the numbered sitemaps at the API's address: it versions them too.
    api = runtime.settings().api_base_url
    key = f"{count}|{rendered}|{updated}|{site.base_url()}|{api}|{max_urls()}|{page}"
    return etag_for(key), count


def page_count(url_count: int) -> int:
    return max(1, -(-url_count // max_urls()))


def urlset(page: int) -> str:
    """Page `page` (from 1) of the site's URLs with their last substantive change."""
    size = max_urls()
    with reading() as connection:
        rows = connection.exec_driver_sql(_URLS, {"offset": (page - 1) * size, "limit": size}).all()
    entries = (
        f"<url><loc>{escape(site.page_url(kind, slug))}</loc>"
        f"<lastmod>{_w3c(updated_at)}</lastmod></url>"
        for kind, slug, updated_at in rows
    )
    return _document("urlset", entries)


def index(sitemap_url: str) -> str:
    """The sitemap index: one entry per numbered sitemap, with its newest change.

    `sitemap_url` is the address pattern of a numbered sitemap, with `{n}` in it.
    """
    with reading() as connection:
        rows = connection.exec_driver_sql(
            f"SELECT page, max(updated_at) FROM ({_PAGE_LASTMODS}) AS pages "
            "GROUP BY page ORDER BY page",
            {"size": max_urls()},
        ).all()
    entries = (
        f"<sitemap><loc>{escape(sitemap_url.format(n=page + 1))}</loc>"
        f"<lastmod>{_w3c(lastmod)}</lastmod></sitemap>"
        for page, lastmod in rows
    )
    return _document("sitemapindex", entries)


def _document(root: str, entries: Iterable[str]) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{root} xmlns="{XMLNS}">\n' + "\n".join(entries) + f"\n</{root}>\n"
    )


def _w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
