"""The name and version of the NDJSON transfer format: what an export writes, an import checks."""

from __future__ import annotations

FORMAT = "cms-api-export"
# 2: records carry their locale, and translations of topics and people travel (migration 0019).
FORMAT_VERSION = 2
