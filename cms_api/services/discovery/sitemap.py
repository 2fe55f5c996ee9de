"""Sitemaps (sitemaps.org 0.9) of published articles, topics and people."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from cms_api.domain.etags import etag_for
from cms_api.services import runtime
from cms_api.services.delivery.documents import reading
from cms_api.services.delivery.remembered import Memory, Version, current_version, database
from cms_api.services.delivery.remembered import unchanged as version_unchanged
from cms_api.services.publishing import site

# The protocol's limit of URLs per sitemap; past it, /sitemap.xml becomes an index.
MAX_URLS = 50_000
PAGE_KINDS = ("article", "person", "topic")
XMLNS = "http://www.sitemaps.org/schemas/sitemap/0.9"

# An article whose canonical page is another page is a duplicate: a sitemap lists only
# canonical URLs. The (kind, slug) index serves this order.
_ARTICLES = f"""
FROM published_documents
WHERE kind = 'article' AND slug IS NOT NULL
    AND NOT tags @> ARRAY['{site.CANONICAL_ELSEWHERE}']
"""
# How many article URLs there are, and a digest of them that moves whenever one comes,
# goes or changes its lastmod (and not when a re-render changes nothing a sitemap shows).
_ARTICLE_DIGEST = f"""
SELECT count(*), coalesce(sum(hashtextextended(
    slug || '|' || extract(epoch FROM updated_at)::text, 0)), 0)
{_ARTICLES}
"""
# Pages are numbered slices of one stable order. Skipping rows is bounded here: a
# sitemap is at most a few pages.
_ARTICLE_URLS = f"""
SELECT 'article', slug, updated_at {_ARTICLES}
ORDER BY kind, slug
OFFSET %(offset)s LIMIT %(limit)s
"""
_ARTICLE_PAGE_LASTMODS = f"""
SELECT page, max(updated_at) FROM (
    SELECT (row_number() OVER (ORDER BY kind, slug) - 1) / %(size)s AS page, updated_at
    {_ARTICLES}
) AS pages
GROUP BY page ORDER BY page
"""
# A topic page lists the articles tagged with it (its subtopics' too) and its FAQs; a
# person's page the articles they wrote or reviewed. A hub page changes when what it
# lists does, and one that lists nothing published is not worth a crawl (the inner
# join leaves it out). Each listing tag's newest change comes from one pass over the
# listed documents.
_HUBS = """
WITH listed AS (
    SELECT item.tag, max(d.updated_at) AS updated_at
    FROM published_documents AS d
    CROSS JOIN LATERAL unnest(d.tags) AS item(tag)
    WHERE d.kind IN ('article', 'faq')
        AND split_part(item.tag, ':', 1) IN ('topic', 'author', 'reviewer')
    GROUP BY item.tag
)
SELECT h.kind, h.slug, greatest(h.updated_at, max(l.updated_at))
FROM published_documents AS h
CROSS JOIN LATERAL unnest(
    CASE h.kind WHEN 'topic' THEN ARRAY['topic:' || h.slug]
    ELSE ARRAY['author:' || h.slug, 'reviewer:' || h.slug] END
) AS listing(tag)
JOIN listed AS l ON l.tag = listing.tag
WHERE h.kind IN ('person', 'topic') AND h.slug IS NOT NULL
GROUP BY h.kind, h.slug, h.updated_at
ORDER BY h.kind, h.slug
"""


@dataclass(frozen=True)
class Sitemap:
    body: str | None  # None when the caller's ETag still matched and nothing was rendered
    etag: str


@dataclass(frozen=True)
class _Contents:
    """What every sitemap of one version of published content is made of, but the
    articles' own rows: those are read page by page, in order, from their index."""

    version: Version
    articles: int
    digest: str
    hubs: list[tuple[str, str, datetime]]  # (kind, slug, lastmod) in sitemap order


# The newest contents of each database, kept while the change feed says published
# content is unchanged: the hub pages' lastmods cost one pass over the tags of every
# listed document, so a worker makes it once per change, not once per request or page.
_CONTENTS: Memory[_Contents] = Memory(16)


def max_urls() -> int:
    return runtime.settings().sitemap_max_urls


def version_etag(page: int | None) -> tuple[str, int]:
    """An ETag for a sitemap page known before rendering it, and the number of URLs."""
    contents = _contents()
    # The index names the numbered sitemaps at the API's address: it versions them too.
    api = runtime.settings().api_base_url
    key = f"{contents.digest}|{site.base_url()}|{api}|{max_urls()}|{page}"
    return etag_for(key), contents.articles + len(contents.hubs)


def page_count(url_count: int) -> int:
    return max(1, -(-url_count // max_urls()))


def urlset(page: int) -> str:
    """Page `page` (from 1) of the site's URLs with their last substantive change."""
    contents = _contents()
    size = max_urls()
    offset = (page - 1) * size
    with reading() as connection:
        rows: list[tuple[str, str, datetime]] = list(
            connection.exec_driver_sql(_ARTICLE_URLS, {"offset": offset, "limit": size}).all()
        )
    # Hub pages follow the articles ('article' < 'person' < 'topic').
    start = max(0, offset - contents.articles)
    rows += contents.hubs[start : start + size - len(rows)]
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
    contents = _contents()
    size = max_urls()
    with reading() as connection:
        newest = dict(connection.exec_driver_sql(_ARTICLE_PAGE_LASTMODS, {"size": size}).all())
    for position, (_, _, lastmod) in enumerate(contents.hubs, start=contents.articles):
        page = position // size
        newest[page] = max(newest.get(page, lastmod), lastmod)
    entries = (
        f"<sitemap><loc>{escape(sitemap_url.format(n=page + 1))}</loc>"
        f"<lastmod>{_w3c(lastmod)}</lastmod></sitemap>"
        for page, lastmod in sorted(newest.items())
    )
    return _document("sitemapindex", entries)


def _contents() -> _Contents:
    with reading() as connection:
        key = database(connection)
        known = _CONTENTS.get(key)
        if known is not None and version_unchanged(connection, known.version):
            return known
    version = current_version()  # read before what it versions
    with reading() as connection:
        articles, article_digest = connection.exec_driver_sql(_ARTICLE_DIGEST).one()
        hubs = [(kind, slug, lastmod) for kind, slug, lastmod in connection.exec_driver_sql(_HUBS)]
    listed = "|".join(f"{kind}:{slug}:{lastmod.isoformat()}" for kind, slug, lastmod in hubs)
    contents = _Contents(
        version=version,
        articles=articles,
        digest=f"{articles}|{article_digest}|{etag_for(listed)}",
        hubs=hubs,
    )
    _CONTENTS.put(key, contents)
    return contents


def _document(root: str, entries: Iterable[str]) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{root} xmlns="{XMLNS}">\n' + "\n".join(entries) + f"\n</{root}>\n"
    )


def _w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
