"""Library images as published documents show them: picture sources, body images, logo, checks."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from cms_api.database import db
from cms_api.domain.errors import Conflict, ValidationFailed
from cms_api.models import Image, Person
from cms_api.services import runtime
from cms_api.services.media.renditions import RATIOS
from cms_api.services.media.urls import file_url
from cms_api.services.publishing.markdown import LIBRARY_IMAGE, image_references

# The rendition formats a document lists, best first: a `<picture>` offers WebP in a
# `<source>` and JPEG in its `<img>`, which every browser shows.
FORMATS = ("webp", "jpeg")
FALLBACK = "jpeg"
# An article summary (lists, related articles, profiles and topic pages) shows a card: the
# wide and the square crop, at widths up to twice a card's size.
SUMMARY_RATIOS = ("16:9", "1:1")
SUMMARY_MAX_WIDTH = 800
# What an image in a section body takes of the reading column.
BODY_SIZES = "(min-width: 800px) 800px, 100vw"
# The media library's image with this file name (any extension) is the publisher's logo,
# unless CMS_PUBLISHER_LOGO_URL names one.
PUBLISHER_LOGO = "publisher-logo"
# Cheap, generous: it finds what to load before rendering, never what is valid (a parse
# of the Markdown decides that, at save time).
_REFERENCE = re.compile(rf"{LIBRARY_IMAGE}([0-9a-fA-F-]{{32,36}})")


def as_id(value: Any) -> uuid.UUID | None:
    """An image id from a column, a snapshot or a Markdown reference; None if it is none."""
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def referenced_ids(texts: Iterable[str | None]) -> set[uuid.UUID]:
    """The ids the Markdown texts seem to reference as `image:UUID`."""
    found = set()
    for text in texts:
        if text and LIBRARY_IMAGE in text:
            found |= {key for key in map(as_id, _REFERENCE.findall(text)) if key}
    return found


def content_image_ids(content: dict[str, Any]) -> set[uuid.UUID]:
    """The images an article's content (a revision snapshot) shows."""
    texts: list[str | None] = []
    pending = list(content.get("sections") or [])
    while pending:
        item = pending.pop()
        texts.append(item.get("body"))
        pending += item.get("subsections") or []
    lead = as_id(content.get("lead_image_id"))
    return referenced_ids(texts) | ({lead} if lead else set())


def preload(image_ids: Iterable[Any], *, person_ids: Iterable[uuid.UUID] = ()) -> None:
    """Load these images and those of these people, with their files, in one query.

    They stay in the session's identity map, so rendering a batch of documents then finds
    every image it shows without asking the database again.
    """
    ids = {key for key in map(as_id, image_ids) if key}
    people = set(person_ids)
    if not ids and not people:
        return
    wanted = Image.id.in_(ids)
    if people:
        wanted = or_(wanted, Image.id.in_(select(Person.image_id).where(Person.id.in_(people))))
    db.session.scalars(select(Image).where(wanted).options(joinedload(Image.files))).unique().all()


def _shown(image_id: Any) -> Image | None:
    """The image if readers may see it: it exists and is not in the trash."""
    key = as_id(image_id)
    if key is None:
        return None
    image = db.session.get(Image, key, options=[joinedload(Image.files)])
    return image if image is not None and image.deleted_at is None else None


def _srcset(files: list[Any]) -> str | None:
    widths: dict[int, Any] = {}
    for item in files:
        widths.setdefault(item.width, item)
    if not widths:
        return None
    return ", ".join(f"{file_url(widths[width].key)} {width}w" for width in sorted(widths))


def _ratios(
    image: Image, ratios: Iterable[str] = RATIOS, max_width: int | None = None
) -> dict[str, dict[str, Any]]:
    """Per crop: the largest JPEG as `src` with its size, and a `srcset` per format."""
    found: dict[str, dict[str, list[Any]]] = {}
    for item in image.files:
        if max_width is None or item.width <= max_width:
            found.setdefault(item.ratio, {}).setdefault(item.format, []).append(item)
    shown: dict[str, dict[str, Any]] = {}
    for ratio in ratios:
        by_format = found.get(ratio, {})
        fallback = by_format.get(FALLBACK)
        if not fallback:
            continue
        largest = max(fallback, key=lambda item: item.width)
        shown[ratio] = {
            "src": file_url(largest.key),
            "width": largest.width,
            "height": largest.height,
            "srcset": {name: _srcset(by_format.get(name, [])) for name in FORMATS},
        }
    return shown


def _alt(image: Image) -> str:
    # A decorative image is skipped by screen readers: alt="" says so.
    return "" if image.decorative else (image.alt_text or "")


def document_image(image_id: Any) -> dict[str, Any] | None:
    """The image as a document embeds it (an article's lead image, a person's, a topic's)."""
    image = _shown(image_id)
    if image is None:
        return None
    return {
        "id": str(image.id),
        "alt": _alt(image),
        "decorative": image.decorative,
        "width": image.width,
        "height": image.height,
        "caption": image.caption,
        "credit": image.credit,
        "license": image.license,
        "license_url": image.license_url,
        "ratios": _ratios(image),
    }


def summary_image(image_id: Any) -> dict[str, Any] | None:
    """The small form an article summary embeds: a card's crops at a card's widths."""
    image = _shown(image_id)
    if image is None:
        return None
    return {
        "id": str(image.id),
        "alt": _alt(image),
        "decorative": image.decorative,
        "ratios": _ratios(image, SUMMARY_RATIOS, SUMMARY_MAX_WIDTH),
    }


def body_image(reference: str) -> dict[str, str | int] | None:
    """The `<img>` attributes for `image:UUID` in a section body, or None if readers may
    not see that image. `alt` is the image's own, for a Markdown alt left empty.

    The crop is the one closest to the picture's own shape, so the least of it is cut.
    """
    image = _shown(reference[len(LIBRARY_IMAGE) :])
    if image is None:
        return None
    ratios = _ratios(image)
    if not ratios:
        return None
    shape = image.width / image.height
    ratio = min(ratios, key=lambda name: abs(_aspect(name) - shape))
    chosen = ratios[ratio]
    return {
        "src": chosen["src"],
        "srcset": chosen["srcset"][FALLBACK],
        "sizes": BODY_SIZES,
        "width": chosen["width"],
        "height": chosen["height"],
        "alt": _alt(image),
    }


def _aspect(ratio: str) -> float:
    across, _, down = ratio.partition(":")
    return int(across) / int(down)


def publisher_logo() -> dict[str, Any] | None:
    """The publisher's logo: CMS_PUBLISHER_LOGO_URL, else the library's `publisher-logo`
    image (its original file, with its size). Looked up once per transaction."""
    configured = runtime.settings().publisher_logo_url
    if configured:
        return {"url": configured, "width": None, "height": None}
    transaction = db.session().get_transaction()
    remembered = db.session.info.get("publisher_logo")
    if remembered is not None and transaction is not None and remembered[0] is transaction:
        logo = remembered[1]
    else:
        # The logo as shown, not just its id: every document of a batch shows it, and the
        # session keeps no image nothing else holds on to.
        logo = _logo(logo_image_id())
        db.session.info["publisher_logo"] = (transaction, logo)
    return dict(logo) if logo is not None else None


def _logo(logo_id: uuid.UUID | None) -> dict[str, Any] | None:
    image = _shown(logo_id)
    if image is None:
        return None
    originals = [item for item in image.files if item.ratio == "original"]
    if not originals:
        return None
    original = max(originals, key=lambda item: item.width)
    return {"url": file_url(original.key), "width": original.width, "height": original.height}


def logo_image_id() -> uuid.UUID | None:
    """The newest library image named `publisher-logo` that is not in the trash."""
    return db.session.scalar(
        select(Image.id)
        .where(
            Image.deleted_at.is_(None),
            func.split_part(Image.filename, ".", 1) == PUBLISHER_LOGO,
        )
        .order_by(Image.created_at.desc(), Image.id)
        .limit(1)
    )


def forget_logo() -> None:
    """Look the logo up again at the next render (after an image changed)."""
    db.session.info.pop("publisher_logo", None)


def is_logo(image: Image) -> bool:
    return (image.filename or "").split(".", 1)[0] == PUBLISHER_LOGO


# -- checks at save time -----------------------------------------------------------------------


def check_attachable(image_id: uuid.UUID | None, field: str) -> None:
    """Refuse to attach an image that does not exist (422) or is in the trash (409)."""
    if image_id is None:
        return
    # Called before a write is applied: nothing half-made may be flushed by this read.
    with db.session.no_autoflush:
        deleted_at = db.session.execute(
            select(Image.deleted_at).where(Image.id == image_id)
        ).one_or_none()
    if deleted_at is None:
        message = f"No image has the id {image_id}."
        raise ValidationFailed(message, errors={"json": {field: [message]}})
    if deleted_at[0] is not None:
        message = f"The image {image_id} is in the trash; restore it first."
        raise Conflict(message, errors={"json": {field: [message]}})


def check_sections(sections: list[dict[str, Any]]) -> None:
    """Refuse section bodies that show a library image readers could not see: one that
    does not exist or is in the trash (422, naming each section and reference)."""
    found: list[tuple[list[Any], str, str, uuid.UUID | None]] = []
    for path, item in _walk(sections):
        for reference in image_references(item.get("body") or ""):
            found.append((path, item["key"], reference, as_id(reference[len(LIBRARY_IMAGE) :])))
    if not found:
        return
    ids = {image_id for *_, image_id in found if image_id}
    with db.session.no_autoflush:
        states = dict(
            db.session.execute(select(Image.id, Image.deleted_at).where(Image.id.in_(ids))).all()
        )
    errors: dict[Any, Any] = {}
    messages = []
    for path, key, reference, image_id in found:
        if image_id is None or image_id not in states:
            message = f"Section {key!r} shows {reference}, which is no image in the library."
        elif states[image_id] is not None:
            message = f"Section {key!r} shows {reference}, which is in the trash."
        else:
            continue
        messages.append(message)
        node = errors
        for step in path:
            node = node.setdefault(step, {})
        node.setdefault("body", []).append(message)
    if messages:
        raise ValidationFailed(" ".join(messages), errors={"json": errors})


def _walk(
    sections: list[dict[str, Any]], path: tuple[Any, ...] = ("sections",)
) -> Iterable[tuple[list[Any], dict[str, Any]]]:
    """Each section and subsection with its place in the body, as marshmallow names it."""
    for index, item in enumerate(sections):
        yield [*path, index], item
        yield from _walk(item.get("subsections") or [], (*path, index, "subsections"))
