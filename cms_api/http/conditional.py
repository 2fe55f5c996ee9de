"""Conditional GETs and cache headers for answers whose body is already rendered."""

from __future__ import annotations

from flask import Response, current_app, request

from cms_api.domain.etags import etag_for, etag_matches

JSON_CONTENT_TYPE = "application/json"


def not_modified(etag: str) -> bool:
    """Whether the request's If-None-Match names this ETag (so a 304 will do)."""
    return etag_matches(request.headers.get("If-None-Match"), etag)


def public_cache_control() -> str:
    settings = current_app.config["CMS_SETTINGS"]
    return (
        f"public, max-age={settings.cache_max_age}, "
        f"stale-while-revalidate={settings.cache_stale_while_revalidate}"
    )


def delivery_response(
    body: str,
    *,
    etag: str | None = None,
    status: int = 200,
    content_type: str = JSON_CONTENT_TYPE,
    headers: dict[str, str] | None = None,
) -> Response:
    """Serve an already rendered body with a strong ETag, honouring If-None-Match."""
    etag = etag or etag_for(body)
    cache_headers = {"ETag": etag, "Cache-Control": public_cache_control()}
    if not_modified(etag):
        response = Response(status=304)
    else:
        response = Response(body, status=status, content_type=content_type)
        response.headers.update(headers or {})
    response.headers.update(cache_headers)
    return response
