"""Addresses of published content on the publisher's own site (for sitemaps, graphs, JSON-LD)."""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

from cms_api.services import runtime

# Where the publisher's frontend shows each kind of document, below CMS_PUBLIC_BASE_URL.
PAGE_PATHS = {
    "article": "/articles/{slug}",
    "topic": "/topics/{slug}",
    "person": "/people/{slug}",
}

# The stored tag of a page whose canonical URL is another page: sitemaps leave it out.
CANONICAL_ELSEWHERE = "canonical:elsewhere"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def base_url() -> str:
    return runtime.settings().public_base_url.rstrip("/")


def page_url(kind: str, slug: str, locale: str | None = None) -> str:
    """The absolute URL of a published article, topic or person page on the public site,
    in `locale` (default: the site's default locale, whose pages have no prefix unless
    CMS_LOCALE_PATHS gives one)."""
    settings = runtime.settings()
    prefix = settings.locale_path(locale or settings.default_locale)
    return base_url() + prefix + PAGE_PATHS[kind].format(slug=slug)


def canonical_elsewhere(
    canonical_url: str | None, kind: str, slug: str, locale: str | None = None
) -> bool:
    """Whether an SEO canonical URL names another page than this one's own address."""
    return bool(canonical_url) and _normalised(canonical_url) != _normalised(
        page_url(kind, slug, locale)
    )


def _normalised(url: str) -> tuple[str, int | None, str, str]:
    """What makes two addresses the same page: host and port without case or defaults,
    the path without a trailing slash or escaping differences, the query; not the scheme
    (http and https are one page served twice), nor the fragment (a place on the page)."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    port = None if port == _DEFAULT_PORTS.get(parts.scheme.lower()) else port
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=~") or "/"
    return (parts.hostname or "", port, path.rstrip("/") or "/", parts.query)
