"""Reading an upload safely: its type from its bytes, its size before decoding, no metadata."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from cms_api.domain.errors import DomainError, ImageTooLarge, UnreadableImage, UnsupportedImage
from cms_api.services.media import formats
from cms_api.services.media.formats import Format

# Colour management: an embedded ICC profile is applied (pixels converted to sRGB) and then
# dropped, so every stored file is plain sRGB, which is what browsers assume of untagged
# images; a profile that cannot be applied is dropped as it is.
_SRGB = ImageCms.createProfile("sRGB")


@dataclass
class Decoded:
    """An upload decoded: upright, in sRGB, RGB or RGBA, with no metadata left."""

    image: Image.Image
    format: Format


def _accepted_names() -> str:
    names = [item.name.upper() if item.name != "webp" else "WebP" for item in formats.accepted()]
    return ", ".join(names[:-1]) + " or " + names[-1]


def decode(data: bytes, *, max_bytes: int, max_pixels: int) -> Decoded:
    """The image in `data`, or a domain error saying why it cannot be taken."""
    if len(data) > max_bytes:
        raise DomainError(
            f"The file is {len(data)} bytes; the limit is {max_bytes}.",
            status=413,
            kind="payload-too-large",
        )
    if not data:
        raise UnsupportedImage(f"The file is empty; send a {_accepted_names()} image.")
    accepted = formats.accepted()
    try:
        # Pillow reads only the header here; limiting it to our formats means no other
        # decoder (GIF, SVG via nothing, EPS via Ghostscript...) ever sees the bytes.
        with warnings.catch_warnings():
            # Dimensions are checked below, against our own limit, before any decoding;
            # Pillow's own warning must not become an error (or a 500).
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[item.pillow for item in accepted])
    except Image.DecompressionBombError:
        raise _too_large(max_pixels) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise UnsupportedImage(
            f"The file is not a {_accepted_names()} image (its type is judged by its bytes)."
        ) from None
    kind = next(item for item in accepted if item.pillow == image.format)
    if image.width * image.height > max_pixels:
        raise _too_large(max_pixels, image.width, image.height)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
            upright = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError:
        raise _too_large(max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError):
        raise UnreadableImage("The image data is corrupt or truncated.") from None
    return Decoded(_plain(upright), kind)


def _too_large(max_pixels: int, width: int | None = None, height: int | None = None) -> DomainError:
    size = f" ({width} x {height})" if width and height else ""
    return ImageTooLarge(
        f"The image{size} is over the limit of {max_pixels} pixels.", max_pixels=max_pixels
    )


def _plain(image: Image.Image) -> Image.Image:
    """RGB (or RGBA where there is transparency) in sRGB, with every metadata block gone."""
    icc = image.info.get("icc_profile")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    )
    mode = "RGBA" if has_alpha else "RGB"
    converted: Image.Image | None = None
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            working = image if image.mode in ("RGB", "RGBA", "CMYK", "L") else image.convert(mode)
            if working.mode == "L":
                working = working.convert("RGB")
            out_mode = "RGBA" if working.mode == "RGBA" else "RGB"
            converted = ImageCms.profileToProfile(working, source, _SRGB, outputMode=out_mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            converted = None
    if converted is None:
        converted = image if image.mode == mode else image.convert(mode)
    if converted.mode != mode:
        converted = converted.convert(mode)
    if converted is image:
        converted = image.copy()
    # Nothing of the upload's metadata (EXIF with GPS, XMP, comments, ICC) may reach a file
    # we write: every writer is also given none explicitly (see `encode`).
    converted.info = {}
    return converted


# Quality settings: renditions are for the web (smaller), the original keeps more detail.
ORIGINAL_OPTIONS: dict[str, dict[str, object]] = {
    "jpeg": {"quality": 92, "optimize": True},
    "png": {"compress_level": 6},
    "webp": {"quality": 90, "method": 4},
    "avif": {"quality": 80, "speed": 6},
}
RENDITION_OPTIONS: dict[str, dict[str, object]] = {
    "jpeg": {"quality": 82, "optimize": True, "progressive": True},
    # method 2 rather than the default 4: a third of the time, within 1% of the size.
    "webp": {"quality": 80, "method": 2},
}


def encode(image: Image.Image, kind: Format, options: dict[str, object]) -> bytes:
    """The image written in `kind`, with no metadata (EXIF, XMP, ICC) at all."""
    if kind is formats.JPEG and image.mode != "RGB":
        image = flatten(image)
    buffer = io.BytesIO()
    extra: dict[str, object] = {}
    if kind is not formats.PNG:
        extra["exif"] = b""
    image.save(buffer, kind.pillow, **options, **extra)
    return buffer.getvalue()


def flatten(image: Image.Image) -> Image.Image:
    """Transparency composed onto white, for formats without an alpha channel."""
    if image.mode != "RGBA":
        return image.convert("RGB")
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background
