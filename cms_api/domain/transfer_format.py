"""The name and version of the NDJSON transfer format: what an export writes, an import checks."""

from __future__ import annotations

FORMAT = "cms-api-export"
FORMAT_VERSION = 1
