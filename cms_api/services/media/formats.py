"""The image formats the library takes and writes: Pillow's names, media types, extensions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from PIL import features


@dataclass(frozen=True)
class Format:
    name: str  # as stored in `format` columns
    pillow: str  # Pillow's format name
    media_type: str
    extension: str


JPEG = Format("jpeg", "JPEG", "image/jpeg", "jpg")
PNG = Format("png", "PNG", "image/png", "png")
WEBP = Format("webp", "WEBP", "image/webp", "webp")
AVIF = Format("avif", "AVIF", "image/avif", "avif")

ALL = (JPEG, PNG, WEBP, AVIF)
BY_EXTENSION = {item.extension: item for item in ALL}


def accepted() -> tuple[Format, ...]:
    """What an upload may be: AVIF only where the installed Pillow can decode it."""
    return tuple(item for item in ALL if item is not AVIF or features.check("avif"))


# A stored file's name: the SHA-256 of its bytes and its extension, nothing else, so a key
# read from a URL can never name a path outside the store.
KEY_PATTERN = re.compile(r"^[0-9a-f]{64}\.(?:jpg|png|webp|avif)$")


def is_key(value: str) -> bool:
    return KEY_PATTERN.fullmatch(value) is not None
