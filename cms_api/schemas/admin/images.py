"""Shapes of the admin media library: the upload form, metadata edits, images and their files."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate
from werkzeug.datastructures import FileStorage

from cms_api.schemas.admin import fields
from cms_api.schemas.admin.articles import JsonBoolean
from cms_api.schemas.common import PageArgs, StrictSchema, list_schema, nullable_text, text

RATIOS = ["original", "16:9", "4:3", "1:1"]
FORMATS = ["jpeg", "png", "webp", "avif"]
EXAMPLE_KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.webp"


class UploadedFile(ma.fields.Field):
    """A file part of a multipart/form-data body."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, FileStorage):
            raise ma.ValidationError("Send the image as a file part named `file`.")
        return value


def _focal(axis: str, **kwargs: Any) -> ma.fields.Float:
    return ma.fields.Float(
        validate=validate.Range(min=0, max=1),
        allow_nan=False,
        metadata={
            "description": f"Where crops keep their centre, as a fraction of the {axis} "
            "from the top left (0 to 1).",
            "example": 0.5,
        },
        **kwargs,
    )


class FormBoolean(ma.fields.Boolean):
    """`true` or `false` in a form field: marshmallow's Boolean also takes 1, "yes" and
    "on", which a typed client never sends and the document does not promise."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if value not in ("true", "false"):
            raise self.make_error("invalid")
        return value == "true"


class _Metadata(StrictSchema):
    alt_text = fields.optional(
        1000,
        metadata={
            "description": "What the picture shows, for readers who cannot see it. Required "
            "unless `decorative` is true.",
            "example": "A neurologist examining a patient's reflexes",
        },
    )
    decorative = JsonBoolean(
        metadata={
            "description": "Purely decorative: shown with empty alt text (screen readers "
            "skip it), and no alt text is needed.",
            "example": False,
        }
    )
    caption = fields.optional(2000, metadata={"example": "Checking reflexes takes a minute."})
    credit = fields.optional(300, metadata={"example": "Photo: Jane Doe"})
    license = fields.optional(200, metadata={"example": "CC BY 4.0"})
    license_url = fields.url(
        allow_none=True, metadata={"example": "https://creativecommons.org/licenses/by/4.0/"}
    )
    focal_x = _focal("width")
    focal_y = _focal("height")

    @ma.validates_schema
    def _described(self, data: dict[str, Any], **kwargs: Any) -> None:
        if getattr(self, "require_alt", False) and not data.get("decorative"):
            alt = data.get("alt_text")
            if alt is None or not alt.strip():
                raise ma.ValidationError(
                    "Describe the image for readers who cannot see it, or mark it decorative.",
                    "alt_text",
                )


class AdminImageUpload(_Metadata):
    """A multipart/form-data body: the image file and its metadata as text fields."""

    require_alt = True

    file = UploadedFile(
        required=True,
        metadata={
            "type": "string",
            "format": "binary",
            "description": "A JPEG, PNG, WebP or AVIF image (its type is read from its "
            "bytes). EXIF, XMP and other metadata are removed after the EXIF orientation is "
            "applied; colours are converted to sRGB.",
        },
    )
    focal_x = _focal("width", load_default=0.5)
    focal_y = _focal("height", load_default=0.5)
    decorative = FormBoolean(
        load_default=False,
        metadata={
            "description": "Purely decorative: shown with empty alt text, and no alt text "
            "is needed.",
            "example": False,
        },
    )


class AdminImagePatch(_Metadata):
    """Metadata an edit may change (JSON merge patch). Moving the focal point remakes the
    crops, under new keys and URLs."""


class AdminImageFileOut(ma.Schema):
    key = text(EXAMPLE_KEY, required=True)
    url = text(f"https://api.example-health.org/v1/media/{EXAMPLE_KEY}", required=True)
    ratio = text(
        "16:9",
        required=True,
        validate=validate.OneOf(RATIOS),
        metadata={"description": "`original`, or the preset's aspect ratio."},
    )
    format = text("webp", required=True, validate=validate.OneOf(FORMATS))
    media_type = text("image/webp", required=True)
    width = ma.fields.Integer(required=True, metadata={"example": 1200})
    height = ma.fields.Integer(required=True, metadata={"example": 675})
    byte_size = ma.fields.Integer(required=True, metadata={"example": 84211})


class AdminImageOut(ma.Schema):
    id = ma.fields.UUID(**fields.R)
    filename = nullable_text("reflex-exam.jpg")
    media_type = text("image/jpeg", required=True)
    width = ma.fields.Integer(required=True, metadata={"example": 6000})
    height = ma.fields.Integer(required=True, metadata={"example": 4000})
    byte_size = ma.fields.Integer(
        required=True, metadata={"description": "Of the stored original.", "example": 5123456}
    )
    url = text(
        f"https://api.example-health.org/v1/media/{EXAMPLE_KEY.replace('webp', 'jpg')}",
        required=True,
        metadata={"description": "The stored original (metadata removed, turned upright)."},
    )
    alt_text = nullable_text("A neurologist examining a patient's reflexes")
    decorative = ma.fields.Boolean(required=True)
    caption = nullable_text()
    credit = nullable_text("Photo: Jane Doe")
    license = nullable_text("CC BY 4.0")
    license_url = nullable_text("https://creativecommons.org/licenses/by/4.0/")
    focal_x = ma.fields.Float(required=True, metadata={"example": 0.5})
    focal_y = ma.fields.Float(required=True, metadata={"example": 0.4})
    files = ma.fields.List(
        ma.fields.Nested(AdminImageFileOut),
        required=True,
        metadata={
            "description": "The original and every rendition: each preset ratio at each "
            "preset width up to the crop's own (never enlarged), in WebP and JPEG."
        },
    )
    version = ma.fields.Integer(**fields.R, metadata={"description": "Bumped by every save."})
    created_at = ma.fields.DateTime(**fields.R)
    updated_at = ma.fields.DateTime(**fields.R)
    deleted_at = ma.fields.DateTime(required=True, allow_none=True)


class AdminImageQueryArgs(PageArgs):
    q = fields.q("Text in the file name, alt text, caption or credit.")
    trashed = fields.trashed()


AdminImageList = list_schema(AdminImageOut, "AdminImageList")
