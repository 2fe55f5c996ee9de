"""Images made on the spot for media tests, and a media store of the test's own."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from PIL import Image

from cms_api.services.media import storage


@contextmanager
def media_settings(app: Flask, **changes: Any) -> Iterator[None]:
    """The app's settings changed for the duration (a media root, a bucket, limits)."""
    original = app.config["CMS_SETTINGS"]
    app.config["CMS_SETTINGS"] = dataclasses.replace(original, **changes)
    storage.forget_clients()
    try:
        yield
    finally:
        app.config["CMS_SETTINGS"] = original
        storage.forget_clients()


def picture(
    width: int = 640, height: int = 480, fmt: str = "JPEG", mode: str = "RGB", **save: Any
) -> bytes:
    """A picture with two coloured halves (red left, blue right), so crops and turns show."""
    image = Image.new(mode, (width, height), (220, 30, 30) if mode == "RGB" else (220, 30, 30, 255))
    image.paste(
        (30, 30, 220) if mode == "RGB" else (30, 30, 220, 255), (width // 2, 0, width, height)
    )
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def open_bytes(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())
