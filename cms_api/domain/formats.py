"""How public JSON is written: compact text, ISO 8601 dates, UTC timestamps to the second."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import orjson


def iso_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


# What orjson writes as the standard library does not, left to the standard library: a
# datetime, a date or a dataclass (which json refuses, so a bug stays loud).
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(document: Any) -> str:
    """Compact JSON, UTF-8 as is: stored documents are served byte for byte, ETag included.

    orjson writes the same text as `json.dumps(ensure_ascii=False, separators=(",", ":"))`
    ten times faster (tests compare them; only a number below 1e-4 differs, as 1e-7 for
    1e-07); what it refuses (a key that is not a string, an integer past 64 bits, a
    datetime) goes to the standard library, which writes it or raises as it always has.
    Unlike it, orjson writes a UUID as its string and NaN as null.
    """
    try:
        return orjson.dumps(document, default=_refuse, option=_ORJSON_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
