"""Names of the HTTP headers the API itself defines, shared by the views and the fast path."""

from __future__ import annotations

# Where a frontend sends a draft preview token; answers about an article vary on it.
PREVIEW_HEADER_NAME = "X-Preview-Token"
