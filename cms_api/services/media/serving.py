"""Finding a stored file to serve by its key: one indexed query, then the store."""

from __future__ import annotations

from sqlalchemy import select

from cms_api.models import Image, ImageFile
from cms_api.services import runtime
from cms_api.services.media import storage
from cms_api.services.media.formats import is_key


def media_type_of(key: str) -> str | None:
    """The media type of the file named `key`, if an image outside the trash has it; a
    malformed key is None before the database is asked."""
    if not is_key(key):
        return None
    # An index lookup by key (rows of several images may share one), then the image.
    query = (
        select(ImageFile.media_type)
        .join(Image, Image.id == ImageFile.image_id)
        .where(ImageFile.key == key, Image.deleted_at.is_(None))
        .limit(1)
    )
    with runtime.reading() as connection:
        return connection.scalar(query)


def read(key: str) -> bytes | None:
    """The stored bytes of a file `media_type_of` found; None when the store lost it."""
    return storage.current().get(key)
