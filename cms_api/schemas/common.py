"""Fields and schemas shared by every resource: slugs, whole numbers, text, pagination, lists."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import current_app
from marshmallow import validate

from cms_api.domain import locales

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


# Characters no text field takes: C0 controls but tab, line feed and carriage return (NUL
# cannot even be stored; the others are invisible, or terminal escapes in an editor's
# log viewer), and the noncharacters U+FFFE and U+FFFF (byte-order confusion). Written as
# escapes, which Python and the JSON Schema pattern in the document both read.
CONTROL_CHARACTERS = r"\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff"
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
TEXT_PATTERN = f"^[^{CONTROL_CHARACTERS}]*$"
TEXT_ERROR = "Must not contain control characters (other than tab and line breaks)."


def free_text(max_length: int, **kwargs: Any) -> ma.fields.String:
    """Text a client types (a search term, a filter value): anything but a control
    character, which the document says too."""
    return ma.fields.String(
        validate=[
            validate.Length(min=1, max=max_length),
            validate.Regexp(TEXT_PATTERN, error=TEXT_ERROR),
        ],
        **kwargs,
    )


_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")


class Integer(ma.fields.Integer):
    """A whole number. In JSON, a number without a fraction (`12`, or `12.0`): marshmallow's
    own Integer takes `12.5` and stores 12, and takes the string `"12"`. In a query string,
    ASCII digits only: Python's int() also reads full-width and Arabic-Indic digits.

    Every StrictSchema reads its Integer fields with this one (see `on_bind_field`)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            # Query strings and forms come as a MultiDict; only there is a string a number.
            if getattr(data, "getlist", None) is None or not _ASCII_INTEGER.fullmatch(value):
                raise self.make_error("invalid")
        elif isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def _read_strictly(field: ma.fields.Field) -> None:
    """Make plain Integer fields, also inside lists and dicts, read as `Integer` does, and
    have text fields document the text rule that `StrictSchema` enforces on every string."""
    if type(field) is ma.fields.Integer:
        field.__class__ = Integer
    if (
        isinstance(field, ma.fields.String)
        and not isinstance(field, ma.fields.UUID)
        and not any(isinstance(rule, validate.Regexp) for rule in field.validators)
    ):
        # A pattern of its own (a slug's) already leaves control characters out.
        field.metadata.setdefault("pattern", TEXT_PATTERN)
    for inner in (getattr(field, "inner", None), getattr(field, "value_field", None)):
        if isinstance(inner, ma.fields.Field):
            _read_strictly(inner)
    for inner in getattr(field, "tuple_fields", ()):
        _read_strictly(inner)


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

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field) -> None:
        # One rule for every integer and every text the API reads, rather than one per schema.
        _read_strictly(field_obj)

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
        # The one text rule, for every string anywhere in a body or query string: no
        # control characters (CONTROL_CHARACTERS; PostgreSQL cannot even store NUL), and no
        # lone surrogate ("\ud800" in JSON), which UTF-8 cannot hold.
        if isinstance(data, Mapping):
            bad = [key for key, value in data.items() if not _storable(value)]
            if bad:
                raise ma.ValidationError(
                    {
                        str(key): [
                            "Contains a control character (other than tab and line breaks), "
                            "a noncharacter or an unpaired surrogate."
                        ]
                        for key in bad
                    }
                )
        return data


def _storable(value: Any) -> bool:
    if isinstance(value, str):
        if _CONTROL.search(value) is not None:
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
    limit = Integer(
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
        if _CONTROL.search(text) is not None:
            raise ma.ValidationError(TEXT_ERROR)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ma.ValidationError("Must be valid Unicode text.") from None
        return text


class Locale(ma.fields.String):
    """A BCP 47 tag of one of the site's locales (CMS_LOCALES), read in any case and given
    in its normal form ("ES-mx" is "es-MX"). Missing, the site's default locale."""

    default_error_messages = {
        "malformed": "Not a BCP 47 language tag such as 'en' or 'es-MX'.",
        "unsupported": "Not one of this site's locales: {locales}.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("load_default", _default_locale)
        metadata = kwargs.setdefault("metadata", {})
        metadata.setdefault(
            "description",
            "The locale (BCP 47 tag) to answer in; one of the site's locales (CMS_LOCALES). "
            "Default: the site's default locale.",
        )
        metadata.setdefault("example", "es")
        super().__init__(validate=validate.Length(min=2, max=35), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        tag = locales.normalized(super()._deserialize(value, attr, data, **kwargs))
        if tag is None:
            raise self.make_error("malformed")
        offered = _site_locales()
        if tag not in offered:
            raise self.make_error("unsupported", locales=", ".join(offered))
        return tag


def _site_locales() -> list[str]:
    return current_app.config["CMS_SETTINGS"].locales


def _default_locale() -> str:
    return current_app.config["CMS_SETTINGS"].default_locale
