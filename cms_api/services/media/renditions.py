"""Named rendition presets, and the crops and sizes made from them around a focal point."""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image

from cms_api.services.media import formats
from cms_api.services.media.decoding import RENDITION_OPTIONS, encode
from cms_api.services.media.formats import Format

# The only sizes ever made: a client picks among them (srcset), never asks for its own, so
# the set of files per image is bounded and every one is made once, at upload.
RATIOS = ("16:9", "4:3", "1:1")
WIDTHS = (480, 800, 1200, 1600)
FORMATS: tuple[Format, ...] = (formats.WEBP, formats.JPEG)
# A resize from more than this many times the target size first shrinks by a whole factor
# (a cheap box reduction), then finishes with LANCZOS: the same look, a fraction of the work.
REDUCING_GAP = 2.0


@dataclass(frozen=True)
class Rendition:
    ratio: str
    format: Format
    width: int
    height: int
    data: bytes


def ratio_parts(ratio: str) -> tuple[int, int]:
    across, _, down = ratio.partition(":")
    return int(across), int(down)


def crop_box(
    width: int, height: int, ratio: str, focal_x: float, focal_y: float
) -> tuple[int, int, int, int]:
    """The largest box of `ratio` inside the image, centred on the focal point as far as
    the image's edges allow: (left, top, right, bottom)."""
    across, down = ratio_parts(ratio)
    if width * down > height * across:  # wider than the ratio: full height
        crop_h = height
        crop_w = max(1, min(width, round(height * across / down)))
    else:
        crop_w = width
        crop_h = max(1, min(height, round(width * down / across)))
    left = round(focal_x * width - crop_w / 2)
    top = round(focal_y * height - crop_h / 2)
    left = min(max(left, 0), width - crop_w)
    top = min(max(top, 0), height - crop_h)
    return left, top, left + crop_w, top + crop_h


def widths_for(crop_width: int) -> list[int]:
    """The preset widths a crop this wide is made at: never upscaled; a crop narrower than
    the smallest preset is made at its own width."""
    fitting = [width for width in WIDTHS if width <= crop_width]
    return fitting or [crop_width]


def make_renditions(image: Image.Image, focal_x: float, focal_y: float) -> list[Rendition]:
    """Every preset of an upright, metadata-free image, in every rendition format."""
    width, height = image.size
    boxes = {ratio: crop_box(width, height, ratio, focal_x, focal_y) for ratio in RATIOS}
    # One cheap whole-factor reduction of the whole photo first (box filter, no more than
    # the largest rendition allows: never below its size), so the crops are cut from a
    # copy a quarter or a ninth the size of a 24-megapixel original.
    needed = max(max(widths_for(box[2] - box[0])) / (box[2] - box[0]) for box in boxes.values())
    factor = max(1, math.floor(1 / needed))
    source = image.reduce(factor) if factor > 1 else image
    scale = source.width / width
    made: list[Rendition] = []
    for ratio, box in boxes.items():
        across, down = ratio_parts(ratio)
        crop_w = box[2] - box[0]
        scaled_box = (box[0] * scale, box[1] * scale, box[2] * scale, box[3] * scale)
        largest: Image.Image | None = None
        # Largest first: each smaller width is resized from the one above it, a short
        # step, rather than from the whole crop again.
        for target in sorted(widths_for(crop_w), reverse=True):
            if target == crop_w:
                picture = image.crop(box)
            else:
                size = (target, max(1, round(target * down / across)))
                if largest is None:
                    picture = source.resize(
                        size, Image.Resampling.LANCZOS, box=scaled_box, reducing_gap=REDUCING_GAP
                    )
                else:
                    picture = largest.resize(size, Image.Resampling.LANCZOS)
            largest = picture
            for kind in FORMATS:
                data = encode(picture, kind, RENDITION_OPTIONS[kind.name])
                made.append(Rendition(ratio, kind, picture.width, picture.height, data))
    return made
