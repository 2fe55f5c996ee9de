"""Public addresses of stored media files."""

from __future__ import annotations

from cms_api.services import runtime


def file_url(key: str) -> str:
    """The absolute public URL of a stored file, at the API's public address."""
    return f"{runtime.settings().api_base_url.rstrip('/')}/v1/media/{key}"
