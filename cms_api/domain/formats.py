"""How public JSON is written: compact text, ISO 8601 dates, UTC timestamps to the second."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any


def iso_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def dumps(document: dict[str, Any]) -> str:
    # Compact and UTF-8 as is: stored documents are served byte for byte, ETag included.
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
