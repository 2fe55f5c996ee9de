"""Conditional GETs and cache headers for answers whose body is already rendered."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Response, current_app, request
from werkzeug.datastructures import Headers

from cms_api.domain.etags import etag_for, etag_matches

JSON_CONTENT_TYPE = "application/json"
# The content codings stored documents come in, smallest first, and what each one's ETag
# adds inside the quotes: a strong ETag names exact bytes, so each representation needs
# its own (RFC 9110 8.8.3), and the shared stem shows they are one version.
CODINGS = ("br", "gzip")
ETAG_SUFFIXES = {"br": "-br", "gzip": "-gz"}
IDENTITY = "identity"


class NotModified(Response):
    """A 304 that keeps its `Content-Language`, as the fast path's do.

    werkzeug drops every header it counts as entity metadata from a 304 (RFC 2616's
    list); the content's language is the same for the stored copy the client revalidates,
    and a cache refreshing that copy's headers from the 304 keeps it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(status=304, **kwargs)

    def get_wsgi_headers(self, environ: Any) -> Headers:
        headers = super().get_wsgi_headers(environ)
        language = self.headers.get("Content-Language")
        if language is not None:
            headers["Content-Language"] = language
        return headers


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
    locale: str | None = None,
) -> Response:
    """Serve an already rendered body with a strong ETag, honouring If-None-Match; with
    `locale`, say the content's language (`Content-Language`), on a 304 too."""
    etag = etag or etag_for(body)
    cache_headers = {"ETag": etag, "Cache-Control": public_cache_control()}
    if locale is not None:
        # Chosen by `?locale=`, never by Accept-Language: nothing to add to `Vary`.
        cache_headers["Content-Language"] = locale
    if not_modified(etag):
        response = NotModified()
    else:
        response = Response(body, status=status, content_type=content_type)
        response.headers.update(headers or {})
    response.headers.update(cache_headers)
    return response


def variant_etag(etag: str, coding: str) -> str:
    """The ETag of a document's representation in this content coding."""
    if coding == IDENTITY:
        return etag
    return etag[:-1] + ETAG_SUFFIXES[coding] + '"'


@lru_cache(maxsize=256)
def acceptable_codings(header: str | None) -> tuple[str, ...]:
    """The codings of ours an Accept-Encoding value accepts, most preferred first; identity
    comes last when nothing else will do, even if refused (RFC 9110 12.5.3 lets a server
    answer uncompressed rather than 406).

    No header: identity (any coding would be allowed, but a client that does not say it
    decodes one may not). Equal weights: smaller first. Identity that is not named ranks
    below every coding the client names.
    """
    if header is None:
        return (IDENTITY,)
    weights: dict[str, float] = {}
    for item in header.split(","):
        name, _, parameters = item.partition(";")
        name = name.strip().lower()
        if not name:
            continue
        weight = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = -1.0  # not a weight: the item is ignored
        if 0 <= weight <= 1:
            weights["gzip" if name == "x-gzip" else name] = weight
    anything = weights.get("*")
    ranked = []
    for order, coding in enumerate(CODINGS):
        weight = weights.get(coding, anything if anything is not None else 0.0)
        if weight > 0:
            ranked.append((-weight, order, coding))
    identity = weights.get(IDENTITY, 0.0 if anything == 0 else 0.001)
    if identity > 0:
        ranked.append((-identity, len(CODINGS), IDENTITY))
    preferred = tuple(coding for _, _, coding in sorted(ranked))
    return preferred if IDENTITY in preferred else (*preferred, IDENTITY)


def matching_variant(header: str | None, etag: str, codings: tuple[str, ...]) -> str | None:
    """The ETag a 304 answers with, if If-None-Match names the current version of the
    document in a coding this request accepts (weak comparison, as for any GET): a copy a
    cache keeps as gzip is as fresh as the brotli one of the same version."""
    if not header:
        return None
    if header.strip() == "*":
        return variant_etag(etag, codings[0])
    listed = {item.strip().removeprefix("W/") for item in header.split(",")}
    for coding in codings:
        candidate = variant_etag(etag, coding)
        if candidate in listed:
            return candidate
    return None
