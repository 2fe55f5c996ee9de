"""Shapes of images as published documents embed them: crops, sizes and formats for `<picture>`."""

from __future__ import annotations

import marshmallow as ma

from cms_api.schemas.common import nullable_text, text

R = {"required": True}
_MEDIA = "https://api.example-health.org/v1/media/"
_WIDE = "9f2c4e7a1b3d5f6e8a0c2e4b6d8f1a3c5e7b9d0f2a4c6e8b1d3f5a7c9e0b2d4f"
_SQUARE = "4b6d8f1a3c5e7b9d0f2a4c6e8b1d3f5a7c9e0b2d4f9f2c4e7a1b3d5f6e8a0c2e"


def _srcset(name: str, extension: str, widths: tuple[int, ...]) -> str:
    return ", ".join(f"{_MEDIA}{name[:-4]}{width:04d}.{extension} {width}w" for width in widths)


def _crop(name: str, width: int, height: int, widths: tuple[int, ...]) -> dict:
    return {
        "src": f"{_MEDIA}{name[:-4]}{width:04d}.jpg",
        "width": width,
        "height": height,
        "srcset": {
            "webp": _srcset(name, "webp", widths),
            "jpeg": _srcset(name, "jpg", widths),
        },
    }


_ALL_WIDTHS = (480, 800, 1200, 1600)
RATIOS_EXAMPLE = {
    "16:9": _crop(_WIDE, 1600, 900, _ALL_WIDTHS),
    "4:3": _crop(_WIDE[::-1], 1600, 1200, _ALL_WIDTHS),
    "1:1": _crop(_SQUARE, 1200, 1200, (480, 800, 1200)),
}
SUMMARY_RATIOS_EXAMPLE = {
    "16:9": _crop(_WIDE, 800, 450, (480, 800)),
    "1:1": _crop(_SQUARE, 800, 800, (480, 800)),
}


class SrcsetOut(ma.Schema):
    webp = nullable_text(
        None,
        metadata={"description": 'For `<source type="image/webp" srcset=...>`.'},
    )
    jpeg = nullable_text(
        None,
        metadata={"description": "For the `<img srcset=...>` every browser shows."},
    )


class CropOut(ma.Schema):
    src = text(
        f"{_MEDIA}{_WIDE}.jpg",
        **R,
        metadata={"description": "The JPEG at the largest width: the `<img src>` fallback."},
    )
    width = ma.fields.Integer(
        **R, metadata={"description": "Of `src`; with `height`, the crop's shape.", "example": 1600}
    )
    height = ma.fields.Integer(**R, metadata={"example": 900})
    srcset = ma.fields.Nested(
        SrcsetOut,
        **R,
        metadata={"description": "Every width made, per format: `url 480w, url 800w, ...`."},
    )


_RATIOS_DESCRIPTION = (
    "Per aspect ratio (`16:9`, `4:3`, `1:1`), the image cropped around its focal point. "
    'A `<picture>`: `<source type="image/webp" srcset="{srcset.webp}" sizes="...">` and '
    '`<img src="{src}" srcset="{srcset.jpeg}" sizes="..." width="{width}" '
    'height="{height}" alt="{alt}">`. A crop is made only at widths the picture has, so a '
    "small picture lists fewer."
)


class ImageOut(ma.Schema):
    """An image of the media library, as a document shows it."""

    id = ma.fields.UUID(**R)
    alt = text(
        "A woman pressing her fingertips to her temples.",
        **R,
        metadata={"description": "The `alt` text; an empty string for a decorative image."},
    )
    decorative = ma.fields.Boolean(
        **R, metadata={"description": 'Decoration only: screen readers skip it (`alt=""`).'}
    )
    width = ma.fields.Integer(
        **R, metadata={"description": "Of the uploaded picture.", "example": 2400}
    )
    height = ma.fields.Integer(**R, metadata={"example": 1600})
    caption = nullable_text("Tension headaches often start at the temples.")
    credit = nullable_text(
        "Illustration: Example Health", metadata={"description": "To show with the image."}
    )
    license = nullable_text("CC BY 4.0")
    license_url = nullable_text("https://creativecommons.org/licenses/by/4.0/")
    ratios = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(CropOut),
        **R,
        metadata={"description": _RATIOS_DESCRIPTION, "example": RATIOS_EXAMPLE},
    )


class ImageSummaryOut(ma.Schema):
    """The small form of an image, for cards in lists."""

    id = ma.fields.UUID(**R)
    alt = text("A woman pressing her fingertips to her temples.", **R)
    decorative = ma.fields.Boolean(**R)
    ratios = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(CropOut),
        **R,
        metadata={
            "description": "The `16:9` and `1:1` crops at widths up to 800 pixels, shaped "
            "as in the article's own `lead_image`.",
            "example": SUMMARY_RATIOS_EXAMPLE,
        },
    )


class LogoOut(ma.Schema):
    url = text(f"{_MEDIA}{_SQUARE}.png", **R)
    width = ma.fields.Integer(required=True, allow_none=True, metadata={"example": 600})
    height = ma.fields.Integer(required=True, allow_none=True, metadata={"example": 200})
