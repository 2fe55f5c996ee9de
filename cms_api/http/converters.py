"""URL converters for path segments with a shape: a path that cannot name anything is a 404."""

from __future__ import annotations

from werkzeug.routing import BaseConverter

# The language[-script][-region] tags cms_api.domain.locales reads, in any case: whether the
# site offers the locale is the view's question (a 422 naming the site's locales).
LOCALE_SEGMENT = r"[A-Za-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"


class LocaleConverter(BaseConverter):
    """`<locale:name>`: a BCP 47 tag's shape, so `/translations/' OR 1=1` is no route."""

    regex = LOCALE_SEGMENT


def locale_schema(converter: LocaleConverter) -> dict[str, str | int]:
    """How the OpenAPI document describes the segment (flask-smorest's register_converter)."""
    return {"type": "string", "pattern": f"^{LOCALE_SEGMENT}$", "minLength": 2}
