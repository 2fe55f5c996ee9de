"""What the sitemaps read from the query string: the locale whose pages they list."""

from __future__ import annotations

from cms_api.schemas.common import Locale, StrictSchema


class SitemapQueryArgs(StrictSchema):
    """What `/sitemap.xml` and the numbered sitemaps read from the query string."""

    locale = Locale(
        metadata={
            "description": "The locale (BCP 47 tag) whose pages are listed: one of the site's "
            "locales (CMS_LOCALES). Default: the site's default locale.",
            "example": "es",
        }
    )
