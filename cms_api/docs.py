"""The OpenAPI document's prose, and /docs served with Swagger UI assets from a Python package."""

from __future__ import annotations

from typing import Any

from flask import Flask, send_from_directory
from flask_smorest import Api

from cms_api.http.problems import PROBLEM_KINDS
from cms_api.schemas.common import Locale

API_DESCRIPTION = """\
Headless content and FAQ API for medical-information publishers.

**Delivery** (`/v1/...`) serves published content only, with no authentication. Each
published article is rendered once, when it is published; reads serve that stored JSON.

**Representation.** JSON, UTF-8, `snake_case`; timestamps are RFC 3339 in UTC, dates
`YYYY-MM-DD`, ids UUIDs. Absent optional values are `null`, empty lists `[]`. Rich text is
served as sanitized HTML (`body_html`, `answer_html`).

**Pagination.** Lists answer `{"items": [...], "page": {"limit", "next_cursor", "total"}}`
and repeat the next page in a `Link: <...>; rel="next"` header. Cursors are opaque and
keyset-based: any page costs what the first costs. `limit` is 1 to 100 (default 20). A
cursor is only valid with the `sort` it was issued for.

**Caching.** Every delivery GET carries a strong `ETag` and
`Cache-Control: public, max-age=60, stale-while-revalidate=600`; send the ETag back in
`If-None-Match` to get `304 Not Modified`.

**Errors** are RFC 9457 `application/problem+json` documents with `type`, `title`, `status`,
`detail`, `instance` and `request_id`. Unknown or malformed query parameters are `400`.
Every response carries `X-Request-ID` (yours, echoed, when you send one). The kinds of
problem (`type` is `/problems/<kind>`):

""" + "\n".join(f"- `/problems/{kind}`: {text}" for kind, text in PROBLEM_KINDS.items())


def spec_options() -> dict:
    """Options for apispec: the document's description and the bearer scheme's home."""
    return {"info": {"description": API_DESCRIPTION}}


def document_locales(api: Api, locales: list[str]) -> None:
    """Every `Locale` field (query parameter or body member) is documented as an enum of
    this site's locales: the values a client may send are the configured ones, not any tag."""

    def locale_enum(converter: Any, field: Any, **_: Any) -> dict[str, Any]:
        if not isinstance(field, Locale):
            return {}
        return {"enum": [*locales, None] if field.allow_none else list(locales)}

    api.ma_plugin.converter.add_attribute_function(locale_enum)
    # For the few parameters described by hand rather than by a schema field.
    api.spec.components.schema(
        "Locale",
        {
            "type": "string",
            "enum": list(locales),
            "description": "One of the site's locales (CMS_LOCALES), as a BCP 47 tag.",
        },
    )


def register(app: Flask) -> None:
    # Served from the swagger-ui-bundle wheel so /docs works without internet access.
    from swagger_ui_bundle import swagger_ui_path

    @app.get("/docs/assets/<path:filename>")
    def swagger_ui_assets(filename: str):  # type: ignore[no-untyped-def]
        return send_from_directory(str(swagger_ui_path), filename, max_age=86400)
