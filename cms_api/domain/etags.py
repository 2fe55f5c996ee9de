"""Entity tags: strong digests of served bytes, version tags of editable objects, matching."""

from __future__ import annotations

import hashlib


def etag_for(body: str | bytes) -> str:
    """A strong entity tag: a digest of the exact bytes served."""
    data = body.encode() if isinstance(body, str) else body
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match header value names this ETag."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    # Weak comparison, as RFC 9110 prescribes for If-None-Match.
    candidates = {item.strip().removeprefix("W/") for item in header.split(",")}
    return etag in candidates


def version_etag(kind: str, entity_id: object, version: int) -> str:
    """The ETag of one version of an editable object (admin answers and If-Match)."""
    return f'"{kind}-{entity_id}-v{version}"'


def if_match_allows(header: str, current_etag: str) -> bool:
    """Whether an If-Match header value names the current version (or `*`)."""
    candidates = {item.strip() for item in header.split(",")}
    return "*" in candidates or current_etag in candidates
