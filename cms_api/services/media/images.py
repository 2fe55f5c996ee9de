"""The media library's images: upload, metadata edits, focal-point crops, trash, listing."""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image as PillowImage
from sqlalchemy import ColumnElement, or_, select

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import Conflict, NotFound, ValidationFailed
from cms_api.domain.paging import Keyset, Page, aware_datetime, uuid_value
from cms_api.models import Image, ImageFile
from cms_api.services import runtime
from cms_api.services.accounts import audit
from cms_api.services.accounts.audit import Actor
from cms_api.services.media import decoding, storage
from cms_api.services.media.decoding import ORIGINAL_OPTIONS, Decoded
from cms_api.services.media.formats import Format
from cms_api.services.media.renditions import RATIOS, make_renditions
from cms_api.services.media.urls import file_url
from cms_api.services.paging import paginate
from cms_api.services.trash import move_to_trash, take_out_of_trash

KIND = "image"
# The fields an editor may change after upload; the pixels themselves never change.
FIELDS = (
    "alt_text",
    "decorative",
    "caption",
    "credit",
    "license",
    "license_url",
    "focal_x",
    "focal_y",
)
ORIGINAL = "original"

# Called with an image's id after a change readers could see (its alt text, credit, crops,
# trash): whatever embeds images in published documents subscribes here to re-render them.
_listeners: list[Callable[[uuid.UUID], None]] = []


def on_change(listener: Callable[[uuid.UUID], None]) -> Callable[[uuid.UUID], None]:
    """Subscribe to image changes (usable as a decorator); each listener is added once."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def _changed(image: Image) -> None:
    for listener in _listeners:
        listener(image.id)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={"json": {field: [message]}})


def _check(values: dict[str, Any]) -> None:
    """The rules the database also enforces, as 422s naming the field."""
    alt_text = values.get("alt_text")
    if not values.get("decorative") and (alt_text is None or not alt_text.strip()):
        raise _invalid(
            "alt_text", "Describe the image for readers who cannot see it, or mark it decorative."
        )
    for name in ("focal_x", "focal_y"):
        value = values.get(name)
        if not isinstance(value, int | float) or not math.isfinite(value) or not 0 <= value <= 1:
            raise _invalid(name, "Must be between 0 and 1.")


def _key(data: bytes, kind: Format) -> str:
    return f"{hashlib.sha256(data).hexdigest()}.{kind.extension}"


def _store(data: bytes, kind: Format) -> str:
    key = _key(data, kind)
    storage.current().put(key, data, kind.media_type)
    return key


def _rendition_rows(picture: PillowImage.Image, focal_x: float, focal_y: float) -> list[ImageFile]:
    rows = []
    for rendition in make_renditions(picture, focal_x, focal_y):
        rows.append(
            ImageFile(
                key=_store(rendition.data, rendition.format),
                ratio=rendition.ratio,
                format=rendition.format.name,
                media_type=rendition.format.media_type,
                width=rendition.width,
                height=rendition.height,
                byte_size=len(rendition.data),
            )
        )
    return rows


def _decode(data: bytes) -> Decoded:
    settings = runtime.settings()
    return decoding.decode(
        data, max_bytes=settings.media_max_bytes, max_pixels=settings.media_max_pixels
    )


def create_image(
    data: bytes,
    *,
    filename: str | None,
    alt_text: str | None,
    decorative: bool = False,
    caption: str | None = None,
    credit: str | None = None,
    license: str | None = None,
    license_url: str | None = None,
    focal_x: float = 0.5,
    focal_y: float = 0.5,
) -> Image:
    """Take an uploaded file into the library: check it, strip its metadata, store it and
    every rendition, and add the rows to the session (flushed, not committed)."""
    values = {
        "alt_text": alt_text,
        "decorative": decorative,
        "caption": caption,
        "credit": credit,
        "license": license,
        "license_url": license_url,
        "focal_x": focal_x,
        "focal_y": focal_y,
    }
    _check(values)
    decoded = _decode(data)
    picture = decoded.image
    original = decoding.encode(picture, decoded.format, ORIGINAL_OPTIONS[decoded.format.name])
    original_key = _store(original, decoded.format)
    files = [
        ImageFile(
            key=original_key,
            ratio=ORIGINAL,
            format=decoded.format.name,
            media_type=decoded.format.media_type,
            width=picture.width,
            height=picture.height,
            byte_size=len(original),
        ),
        *_rendition_rows(picture, focal_x, focal_y),
    ]
    image = Image(
        id=uuid.uuid4(),
        content_sha256=original_key.partition(".")[0],
        filename=_filename(filename),
        media_type=decoded.format.media_type,
        width=picture.width,
        height=picture.height,
        byte_size=len(original),
        files=files,
        **values,
    )
    db.session.add(image)
    db.session.flush()
    return image


def _filename(filename: str | None) -> str | None:
    """The name the file had on the uploader's machine, for finding it again; only its last
    path component, without control characters, at most 255 characters."""
    if not filename:
        return None
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(character for character in name if character.isprintable()).strip()
    return name[:255] or None


def original_file(image: Image) -> ImageFile:
    return next(item for item in image.files if item.ratio == ORIGINAL)


def _remake_renditions(image: Image) -> None:
    """New crops around the focal point; files whose bytes did not change keep their rows."""
    stored = storage.current().get(original_file(image).key)
    if stored is None:
        raise Conflict("The image's original file is missing from storage; upload it again.")
    decoded = _decode(stored)
    fresh = {
        _preset(row): row for row in _rendition_rows(decoded.image, image.focal_x, image.focal_y)
    }
    kept = [
        item
        for item in image.files
        if item.ratio == ORIGINAL
        or (_preset(item) in fresh and fresh[_preset(item)].key == item.key)
    ]
    kept_presets = {_preset(item) for item in kept}
    image.files = kept + [row for preset, row in fresh.items() if preset not in kept_presets]


def _preset(item: ImageFile) -> tuple[str, str, int]:
    """Which rendition a file is: its row's identity, whatever its bytes."""
    return (item.ratio, item.format, item.width)


def _state(image: Image) -> dict[str, Any]:
    return {name: getattr(image, name) for name in FIELDS}


def create(data: bytes, fields: dict[str, Any], actor: Actor) -> Image:
    """An upload through the admin API: `create_image` and its audit entry."""
    image = create_image(data, **fields)
    audit.record(
        actor_id=actor.user_id,
        action=f"{KIND}.create",
        target_type=KIND,
        target_id=image.id,
        after={"filename": image.filename, "media_type": image.media_type, **_state(image)},
        request_id=actor.request_id,
    )
    return image


def get_image(
    image_id: uuid.UUID, *, for_update: bool = False, include_trashed: bool = False
) -> Image:
    """One image by id; trashed ones only when asked for, so edits need a restore first."""
    query = select(Image).where(Image.id == image_id)
    if for_update:
        query = query.with_for_update()
    image = db.session.scalar(query)
    if image is None:
        raise NotFound("No image has this id.")
    if image.deleted_at is not None and not include_trashed:
        raise NotFound("The image is in the trash; restore it first.")
    return image


def update_image(image: Image, data: dict[str, Any], actor: Actor) -> Image:
    """Apply a merge patch of metadata; a moved focal point remakes the crops (new keys)."""
    before = _state(image)
    after = {**before, **{name: data[name] for name in FIELDS if name in data}}
    _check(after)
    changed_before, changed_after = audit.changed_fields(before, after)
    if not changed_after:
        return image
    for name, value in changed_after.items():
        setattr(image, name, value)
    if "focal_x" in changed_after or "focal_y" in changed_after:
        _remake_renditions(image)
    image.updated_at = utcnow()
    db.session.flush()
    audit.record(
        actor_id=actor.user_id,
        action=f"{KIND}.update",
        target_type=KIND,
        target_id=image.id,
        before=changed_before,
        after=changed_after,
        request_id=actor.request_id,
    )
    _changed(image)
    return image


def trash_image(image: Image, actor: Actor) -> None:
    """Move to the trash: its files stop being served. Nothing is deleted."""
    move_to_trash(image, KIND, actor)
    _changed(image)


def restore_image(image: Image, actor: Actor) -> Image:
    take_out_of_trash(image, KIND, actor)
    _changed(image)
    return image


@dataclass(frozen=True)
class ImageFilters:
    q: str | None = None
    trashed: bool = False


# Most recently changed first: (updated_at, id).
IMAGES_KEYSET = Keyset("admin-images", (aware_datetime, uuid_value))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    return f"%{escaped}%"


def list_images(filters: ImageFilters, *, limit: int, cursor: str | None) -> Page[Image]:
    conditions: list[ColumnElement[bool]] = [
        Image.deleted_at.is_not(None) if filters.trashed else Image.deleted_at.is_(None)
    ]
    if filters.q:
        pattern = _like(filters.q)
        conditions.append(
            or_(
                Image.filename.ilike(pattern),
                Image.alt_text.ilike(pattern),
                Image.caption.ilike(pattern),
                Image.credit.ilike(pattern),
            )
        )
    return paginate(
        select(Image),
        conditions,
        order=(Image.updated_at, Image.id),
        descending=True,
        keyset=IMAGES_KEYSET,
        cursor=cursor,
        limit=limit,
    )


def present_file(item: ImageFile) -> dict[str, Any]:
    return {
        "key": item.key,
        "url": file_url(item.key),
        "ratio": item.ratio,
        "format": item.format,
        "media_type": item.media_type,
        "width": item.width,
        "height": item.height,
        "byte_size": item.byte_size,
    }


_RATIO_ORDER = {ratio: position for position, ratio in enumerate((ORIGINAL, *RATIOS))}


def _file_order(item: ImageFile) -> tuple[int, str, int]:
    """The original first, then each ratio (as the presets list them), format, width."""
    return _RATIO_ORDER.get(item.ratio, len(_RATIO_ORDER)), item.format, item.width


def present(image: Image) -> dict[str, Any]:
    """The admin representation: metadata, the original's URL and every rendition."""
    original = original_file(image)
    return {
        "id": image.id,
        "filename": image.filename,
        "media_type": image.media_type,
        "width": image.width,
        "height": image.height,
        "byte_size": image.byte_size,
        "url": file_url(original.key),
        **_state(image),
        "files": [present_file(item) for item in sorted(image.files, key=_file_order)],
        "version": image.version,
        "created_at": image.created_at,
        "updated_at": image.updated_at,
        "deleted_at": image.deleted_at,
    }
