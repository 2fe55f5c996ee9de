"""Fields and schemas shared by every resource: slugs, pagination, list envelopes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from marshmallow import validate

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_RE = re.compile(SLUG_PATTERN)
SLUG_MAX = 120
CODE_SYSTEMS = ("icd10cm", "snomed", "mesh")
CODE_PATTERN = r"^(icd10cm|snomed|mesh):[A-Za-z0-9.\-]{1,40}$"


def slug_field(**kwargs) -> ma.fields.String:
    kwargs.setdefault("metadata", {}).setdefault("example", "headache-after-botox")
    return ma.fields.String(
        validate=[validate.Length(max=SLUG_MAX), validate.Regexp(SLUG_PATTERN)],
        **kwargs,
    )


def free_text(max_length: int, **kwargs: Any) -> ma.fields.String:
    """Text a client types (a search term, a filter value): anything but NUL, which
    PostgreSQL cannot store or compare, so the document says so too."""
    return ma.fields.String(
        validate=[
            validate.Length(min=1, max=max_length),
            validate.Regexp(r"^[^\x00]*$", error="Must not contain NUL characters."),
        ],
        **kwargs,
    )


def is_slug(value: str) -> bool:
    return len(value) <= SLUG_MAX and SLUG_RE.match(value) is not None


_LEAP_SECOND = re.compile(r"(T\d\d:\d\d):60")


class Rfc3339DateTime(ma.fields.AwareDateTime):
    """An RFC 3339 timestamp with its offset, read as RFC 3339 (not Python) defines it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            # RFC 3339 allows a lower-case `t` and `z`, and a leap second (`:60`), which
            # Python's datetime cannot hold: it is read as the second before.
            value = _LEAP_SECOND.sub(r"\1:59", value.upper())
        return super()._deserialize(value, attr, data, **kwargs)


class StrictSchema(ma.Schema):
    """Unknown or repeated fields are errors, so typos are caught rather than ignored."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _reject_repeated(self, data: Any, **kwargs: Any) -> Any:
        # webargs reads the first of repeated query parameters (`?limit=1&limit=50`), so
        # every other value would be silently dropped.
        getlist = getattr(data, "getlist", None)
        if getlist is None:
            return data
        repeated = [key for key in data if len(getlist(key)) > 1]
        if repeated:
            raise ma.ValidationError({key: ["Given more than once."] for key in repeated})
        return data

    @ma.pre_load
    def _reject_unstorable_text(self, data: Any, **kwargs: Any) -> Any:
        # PostgreSQL text cannot hold NUL, and UTF-8 cannot hold a lone surrogate ("\ud800"
        # in JSON): name the field now rather than fail at the database.
        if isinstance(data, Mapping):
            bad = [key for key, value in data.items() if not _storable(value)]
            if bad:
                raise ma.ValidationError(
                    {
                        str(key): ["Contains a NUL character or an unpaired surrogate."]
                        for key in bad
                    }
                )
        return data


def _storable(value: Any) -> bool:
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, Mapping):
        return all(_storable(key) and _storable(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return all(_storable(item) for item in value)
    return True


class PageArgs(StrictSchema):
    limit = ma.fields.Integer(
        load_default=20,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "Items per page, 1 to 100.", "example": 20},
    )
    cursor = ma.fields.String(
        validate=validate.Length(min=1, max=512),
        metadata={"description": "Opaque cursor from `page.next_cursor` of the previous page."},
    )


class PageInfo(ma.Schema):
    limit = ma.fields.Integer(required=True, metadata={"example": 20})
    next_cursor = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "Cursor of the next page; null on the last page.",
            "example": "WyItcHVibGlzaGVkX2F0IiwiMjAyNi0xMC0wNVQwOTowMDowMCswMDowMCJd",
        },
    )
    total = ma.fields.Integer(
        required=True, metadata={"description": "Items matching the filters.", "example": 7}
    )


def list_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The `{"items": [...], "page": {...}}` envelope around `item`."""
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item), required=True),
            "page": ma.fields.Nested(PageInfo, required=True),
        },
        name=name,
    )


def text(example: str | None = None, **kwargs) -> ma.fields.String:
    metadata = kwargs.pop("metadata", {})
    if example is not None:
        metadata["example"] = example
    return ma.fields.String(metadata=metadata, **kwargs)


def nullable_text(example: str | None = None, **kwargs) -> ma.fields.String:
    return text(example, required=True, allow_none=True, **kwargs)


class StrippedText(ma.fields.String):
    """Text without surrounding whitespace, holding only what PostgreSQL can store."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        # A NUL or a lone surrogate (JSON's "\ud800") would fail in the database instead.
        if "\x00" in text:
            raise ma.ValidationError("Must not contain NUL characters.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ma.ValidationError("Must be valid Unicode text.") from None
        return text
