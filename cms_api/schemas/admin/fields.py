"""Field builders and vocabularies the admin content schemas share."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from cms_api.schemas.common import (
    free_text,
)

R = {"required": True}
# Positions order siblings; the bound keeps them inside PostgreSQL's integer.
POSITION = validate.Range(min=0, max=100_000)


def markdown() -> dict[str, str]:
    # A fresh dict each time: `text()` adds its example to the metadata it is given.
    return {"description": "Markdown (CommonMark); delivery serves it as sanitized HTML."}


def url(**kwargs: Any) -> ma.fields.Url:
    return ma.fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2048), **kwargs)


def optional(max_length: int, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(allow_none=True, validate=validate.Length(max=max_length), **kwargs)


def trashed() -> ma.fields.Boolean:
    return ma.fields.Boolean(
        load_default=False, metadata={"description": "List the trash instead."}
    )


def q(description: str) -> ma.fields.String:
    return free_text(200, metadata={"description": description})
