"""Sitemaps (sitemaps.org 0.9) of each locale's published pages, with hreflang alternates."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from cms_api.domain.etags import etag_for
from cms_api.services import runtime
from cms_api.services.delivery.remembered import Memory, Version, current_version, database
from cms_api.services.delivery.remembered import unchanged as version_unchanged
from cms_api.services.publishing import site

# The protocol's limits per sitemap file, of URLs and of (uncompressed) bytes; past
# them, /sitemap.xml becomes an index.
MAX_URLS = 50_000
MAX_BYTES = 52_428_800
# The most an entry's lines take beyond the site's address: its own and one link per
# language version (a slug is at most 120 characters, the markup around it less than 80).
ENTRY_LINE_BYTES = 200
PAGE_KINDS = ("article", "person", "topic")
XMLNS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# Google's extension for the language versions of a page (`xhtml:link rel="alternate"`).
XHTML = "http://www.w3.org/1999/xhtml"
X_DEFAULT = "x-default"


def _listed(table: str) -> str:
    """An article whose canonical page is another page is a duplicate: a sitemap lists
    only canonical URLs, and names only those as a page's language versions."""
    return f"{table}.slug IS NOT NULL AND NOT {table}.tags @> ARRAY['{site.CANONICAL_ELSEWHERE}']"


# How many article URLs each locale has, and a digest of them that moves whenever one
# comes, goes or changes its lastmod (and not when a re-render changes nothing a sitemap
# shows). One digest for every locale: a page's alternates are other locales' pages.
_ARTICLE_DIGESTS = f"""
SELECT locale, count(*), coalesce(sum(hashtextextended(
    locale || '|' || slug || '|' || extract(epoch FROM updated_at)::text, 0)), 0)
FROM published_documents AS d
WHERE kind = 'article' AND {_listed("d")}
GROUP BY locale ORDER BY locale
"""
# Pages are numbered slices of one stable order per locale, which the (kind, locale,
# slug) index serves. Skipping rows is bounded here: a sitemap is at most a few pages.
#
# Each article comes with every listed version of its work (the original, whose id its
# translations name as their source, and those translations) when there is more than
# one: its language versions. They are read for the whole page in this one statement,
# from the translated works only (a translation's row and its original's), by hash
# joins rather than a probe per URL: a work published in one locale has none to name.
_ARTICLE_URLS = f"""
WITH page AS (
    SELECT entity_id, slug, updated_at
    FROM published_documents AS d
    WHERE kind = 'article' AND locale = %(locale)s AND {_listed("d")}
    ORDER BY kind, locale, slug
    OFFSET %(offset)s LIMIT %(limit)s
), member AS (
    SELECT source_id AS work_id, id, false AS original
    FROM articles WHERE source_id IS NOT NULL
  UNION ALL
    SELECT id, id, true
    FROM articles WHERE id IN (SELECT source_id FROM articles WHERE source_id IS NOT NULL)
), version AS (
    SELECT member.work_id, member.id, member.original, d.locale, d.slug
    FROM member JOIN published_documents AS d ON d.kind = 'article' AND d.entity_id = member.id
    WHERE {_listed("d")} AND d.locale = ANY(%(locales)s)
), work AS (
    SELECT work_id, array_agg(locale) AS locales, array_agg(slug) AS slugs,
           array_agg(original) AS originals
    FROM version GROUP BY work_id HAVING count(*) > 1
)
SELECT page.slug, page.updated_at, work.locales, work.slugs, work.originals
FROM page
LEFT JOIN version ON version.id = page.entity_id
LEFT JOIN work ON work.work_id = version.work_id
ORDER BY page.slug
"""
# The newest change of each numbered sitemap of the articles of the given locales.
_ARTICLE_PAGE_LASTMODS = f"""
SELECT locale, page, max(updated_at) FROM (
    SELECT locale, updated_at,
           (row_number() OVER (PARTITION BY locale ORDER BY slug) - 1) / %(size)s AS page
    FROM published_documents AS d
    WHERE kind = 'article' AND locale = ANY(%(locales)s) AND {_listed("d")}
) AS pages
GROUP BY locale, page ORDER BY locale, page
"""
# A topic page lists the articles tagged with it (its subtopics' too) and its FAQs; a
# person's page the articles they wrote or reviewed: in each locale, those published in
# it. A hub page changes when what it lists does, and one that lists nothing published
# in its locale is not worth a crawl (the inner join leaves it out). Each listing tag's
# newest change comes from one pass over the listed documents of every locale.
_HUBS = """
WITH listed AS (
    SELECT d.locale, item.tag, max(d.updated_at) AS updated_at
    FROM published_documents AS d
    CROSS JOIN LATERAL unnest(d.tags) AS item(tag)
    WHERE d.kind IN ('article', 'faq')
        AND split_part(item.tag, ':', 1) IN ('topic', 'author', 'reviewer')
    GROUP BY d.locale, item.tag
)
SELECT h.locale, h.kind, h.slug, greatest(h.updated_at, max(l.updated_at))
FROM published_documents AS h
CROSS JOIN LATERAL unnest(
    CASE h.kind WHEN 'topic' THEN ARRAY['topic:' || h.slug]
    ELSE ARRAY['author:' || h.slug, 'reviewer:' || h.slug] END
) AS listing(tag)
JOIN listed AS l ON l.locale = h.locale AND l.tag = listing.tag
WHERE h.kind IN ('person', 'topic') AND h.slug IS NOT NULL
GROUP BY h.locale, h.kind, h.slug, h.updated_at
ORDER BY h.locale, h.kind, h.slug
"""

Hub = tuple[str, str, datetime]  # (kind, slug, lastmod)


@dataclass(frozen=True)
class _Contents:
    """What every sitemap of one version of published content is made of, but the
    articles' own rows: those are read page by page, in order, from their index."""

    version: Version
    articles: dict[str, int]  # listed articles by locale
    digest: str
    hubs: dict[str, list[Hub]]  # by locale, in sitemap order
    hub_locales: dict[tuple[str, str], list[str]]  # (kind, slug): the locales listing it

    def urls(self, locale: str) -> int:
        return self.articles.get(locale, 0) + len(self.hubs.get(locale, ()))


# The newest contents of each database, kept while the change feed says published
# content is unchanged: the hub pages' lastmods cost one pass over the tags of every
# listed document, so a worker makes it once per change, not once per request or page.
_CONTENTS: Memory[_Contents] = Memory(16)


def max_urls() -> int:
    """URLs per sitemap file: the protocol's 50,000, or fewer when the site has so many
    locales that 50,000 entries, each naming every language version and x-default, could
    pass its 50 MB."""
    settings = runtime.settings()
    prefix = len(site.base_url()) + max(len(settings.locale_path(tag)) for tag in _locales())
    entry = (len(settings.locales) + 2) * (prefix + ENTRY_LINE_BYTES)
    return max(1, min(settings.sitemap_max_urls, MAX_BYTES // entry))


def _locales() -> list[str]:
    return list(runtime.settings().locales)


def version_etag(page: int | None, locale: str) -> tuple[str, int]:
    """An ETag for a sitemap page of `locale` known before rendering it (`page` None for
    /sitemap.xml, 0 for the index of every locale), and the number of its URLs."""
    contents = _contents()
    settings = runtime.settings()
    # The index names the numbered sitemaps at the API's address: it versions them too;
    # and every page names its alternates at their locales' addresses.
    addresses = "|".join(f"{tag}={settings.locale_path(tag)}" for tag in _locales())
    key = (
        f"{contents.digest}|{site.base_url()}|{settings.api_base_url}|{addresses}|"
        f"{max_urls()}|{locale}|{page}"
    )
    return etag_for(key), contents.urls(locale)


def page_count(url_count: int) -> int:
    return max(1, -(-url_count // max_urls()))


def listed_locales() -> list[str]:
    """The site's locales that have at least one page to list, in the site's order."""
    contents = _contents()
    return [locale for locale in _locales() if contents.urls(locale)]


def urlset(page: int, locale: str) -> str:
    """Page `page` (from 1) of the URLs of `locale`'s pages with their last substantive
    change and, for a page published in more than one locale, its language versions."""
    contents = _contents()
    size = max_urls()
    offset = (page - 1) * size
    locales = _locales()
    with runtime.reading() as connection:
        rows = connection.exec_driver_sql(
            _ARTICLE_URLS,
            {"locale": locale, "offset": offset, "limit": size, "locales": locales},
        ).all()
    url = _page_urls()
    entries = []
    for slug, updated_at, version_locales, version_slugs, originals in rows:
        alternates = None
        if version_locales is not None:
            alternates = _article_versions(url, version_locales, version_slugs, originals)
        entries.append(_entry(url("article", locale, slug), updated_at, alternates))
    # Hub pages follow the articles ('article' < 'person' < 'topic').
    hubs = contents.hubs.get(locale, [])
    start = max(0, offset - contents.articles.get(locale, 0))
    for kind, slug, lastmod in hubs[start : start + size - len(entries)]:
        present = [tag for tag in contents.hub_locales[(kind, slug)] if tag in locales]
        alternates = _hub_versions(url, kind, slug, present, locales) if len(present) > 1 else None
        entries.append(_entry(url(kind, locale, slug), lastmod, alternates))
    return _document("urlset", entries, extension=True)


def index(sitemap_url: str, locale: str) -> str:
    """The index of `locale`'s numbered sitemaps, each with its newest change.

    `sitemap_url` is the address pattern of a numbered sitemap, with `{n}` in it.
    """
    newest = _page_lastmods([locale])[locale]
    entries = (
        f"<sitemap><loc>{escape(sitemap_url.format(n=page + 1))}</loc>"
        f"<lastmod>{_w3c(lastmod)}</lastmod></sitemap>"
        for page, lastmod in sorted(newest.items())
    )
    return _document("sitemapindex", entries)


def every_locale_index(sitemap_url: Callable[[str, int], str]) -> str:
    """The index of the numbered sitemaps of every locale that has pages, in the site's
    order of locales: `sitemap_url(locale, n)` is the address of one."""
    locales = listed_locales()
    newest = _page_lastmods(locales)
    entries = (
        f"<sitemap><loc>{escape(sitemap_url(locale, page + 1))}</loc>"
        f"<lastmod>{_w3c(lastmod)}</lastmod></sitemap>"
        for locale in locales
        for page, lastmod in sorted(newest[locale].items())
    )
    return _document("sitemapindex", entries)


def _page_lastmods(locales: list[str]) -> dict[str, dict[int, datetime]]:
    """The newest change on each numbered sitemap of each of `locales`: page -> lastmod."""
    contents = _contents()
    size = max_urls()
    newest: dict[str, dict[int, datetime]] = {locale: {} for locale in locales}
    with runtime.reading() as connection:
        rows = connection.exec_driver_sql(
            _ARTICLE_PAGE_LASTMODS, {"size": size, "locales": locales}
        ).all()
    for locale, page, lastmod in rows:
        newest[locale][page] = lastmod
    for locale in locales:
        pages = newest[locale]
        first = contents.articles.get(locale, 0)
        for position, (_, _, lastmod) in enumerate(contents.hubs.get(locale, []), start=first):
            page = position // size
            pages[page] = max(pages.get(page, lastmod), lastmod)
    return newest


PageUrl = Callable[[str, str, str], str]


def _page_urls() -> PageUrl:
    """The public address of a page of a kind in a locale, for many slugs at once: the
    part around the slug is worked out once per kind and locale."""
    around: dict[tuple[str, str], tuple[str, str]] = {}

    def url(kind: str, locale: str, slug: str) -> str:
        parts = around.get((kind, locale))
        if parts is None:
            before, _, after = site.page_url(kind, "\0", locale).partition("\0")
            parts = around[(kind, locale)] = (before, after)
        return parts[0] + slug + parts[1]

    return url


def _article_versions(
    url: PageUrl, locales: list[str], slugs: list[str], originals: list[bool]
) -> list[tuple[str, str]]:
    """(hreflang, href) of every language version of an article, itself included, in
    locale order, then x-default: the default locale's version, else the original's."""
    found = sorted(zip(locales, slugs, originals, strict=True))
    default = runtime.settings().default_locale
    order = {locale: position for position, locale in enumerate(_locales())}
    # No default-locale version and no original: the first of the site's locales.
    fallback = min(
        found, key=lambda version: (version[0] != default, not version[2], order[version[0]])
    )
    return [
        *((locale, url("article", locale, slug)) for locale, slug, _ in found),
        (X_DEFAULT, url("article", fallback[0], fallback[1])),
    ]


def _hub_versions(
    url: PageUrl, kind: str, slug: str, present: list[str], locales: list[str]
) -> list[tuple[str, str]]:
    """The same for a topic or person page, whose slug every locale shares: x-default is
    the default locale's page, else the first locale's that lists it."""
    versions = [(locale, url(kind, locale, slug)) for locale in sorted(present)]
    fallback = next(locale for locale in locales if locale in present)
    return [*versions, (X_DEFAULT, url(kind, fallback, slug))]


def _entry(loc: str, lastmod: datetime, alternates: list[tuple[str, str]] | None) -> str:
    links = (
        "".join(
            f'<xhtml:link rel="alternate" hreflang="{hreflang}" href={quoteattr(href)}/>'
            for hreflang, href in alternates
        )
        if alternates
        else ""
    )
    return f"<url><loc>{escape(loc)}</loc><lastmod>{_w3c(lastmod)}</lastmod>{links}</url>"


def _contents() -> _Contents:
    with runtime.reading() as connection:
        key = database(connection)
        known = _CONTENTS.get(key)
        if known is not None and version_unchanged(connection, known.version):
            return known
    version = current_version()  # read before what it versions
    with runtime.reading() as connection:
        digests = connection.exec_driver_sql(_ARTICLE_DIGESTS).all()
        hub_rows = connection.exec_driver_sql(_HUBS).all()
    hubs: dict[str, list[Hub]] = {}
    hub_locales: dict[tuple[str, str], list[str]] = {}
    for locale, kind, slug, lastmod in hub_rows:
        hubs.setdefault(locale, []).append((kind, slug, lastmod))
        hub_locales.setdefault((kind, slug), []).append(locale)
    listed = "|".join(
        f"{locale}:{kind}:{slug}:{lastmod.isoformat()}" for locale, kind, slug, lastmod in hub_rows
    )
    articles = "|".join(f"{locale}:{count}:{digest}" for locale, count, digest in digests)
    contents = _Contents(
        version=version,
        articles={locale: count for locale, count, _ in digests},
        digest=f"{articles}|{etag_for(listed)}",
        hubs=hubs,
        hub_locales=hub_locales,
    )
    _CONTENTS.put(key, contents)
    return contents


def _document(root: str, entries: Iterable[str], *, extension: bool = False) -> str:
    namespaces = f'xmlns="{XMLNS}"' + (f' xmlns:xhtml="{XHTML}"' if extension else "")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<{root} {namespaces}>\n" + "\n".join(entries) + f"\n</{root}>\n"
    )


def _w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
