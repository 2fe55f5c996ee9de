"""Addresses of published content on the publisher's own site (for sitemaps, graphs, JSON-LD)."""

from __future__ import annotations

from cms_api.services import runtime

# Where the publisher's frontend shows each kind of document, below CMS_PUBLIC_BASE_URL.
PAGE_PATHS = {
    "article": "/articles/{slug}",
    "topic": "/topics/{slug}",
    "person": "/people/{slug}",
}


def base_url() -> str:
    return runtime.settings().public_base_url.rstrip("/")


def page_url(kind: str, slug: str) -> str:
    """The absolute URL of a published article, topic or person page on the public site."""
    return base_url() + PAGE_PATHS[kind].format(slug=slug)
