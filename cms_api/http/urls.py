"""Absolute URLs of this API, from CMS_API_BASE_URL: never from the request's `Host`."""

from __future__ import annotations

from flask import current_app, request, url_for


def absolute_url(path: str) -> str:
    """`path` (from the application's root, with its query if any) at the API's public address.

    The request's `Host` (and `X-Forwarded-Host`) is whatever the client chose: an absolute
    URL built from it lands in shared caches and in links a reader follows.
    """
    base = current_app.config["CMS_SETTINGS"].api_base_url.rstrip("/")
    return base + path


def preview_url(slug: str, secret: str) -> str:
    """The delivery address that opens an article's working copy with a preview token."""
    address = url_for("articles.ArticleBySlug", slug=slug, preview_token=secret)
    return absolute_url(address.removeprefix(request.script_root))
