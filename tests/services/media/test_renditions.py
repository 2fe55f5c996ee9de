"""Renditions: named presets only, cropped around the focal point, never upscaled."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from cms_api.database import db
from cms_api.services.media import renditions
from cms_api.services.media.images import create_image, present
from tests.support.media import media_settings, open_bytes, picture


@pytest.fixture
def media_root(app: Flask, tmp_path: Path) -> Path:
    with media_settings(app, media_root=str(tmp_path)):
        yield tmp_path


def test_presets_are_named_and_bounded():
    assert renditions.RATIOS == ("16:9", "4:3", "1:1")
    assert max(renditions.WIDTHS) >= 1200
    assert renditions.widths_for(5000) == list(renditions.WIDTHS)
    assert renditions.widths_for(900) == [w for w in renditions.WIDTHS if w <= 900]
    assert renditions.widths_for(300) == [300]


@pytest.mark.parametrize(
    ("focal", "expected_left"),
    [((0.0, 0.5), 0), ((1.0, 0.5), 3000 - 2000), ((0.5, 0.5), 500), ((0.3, 0.5), 0)],
)
def test_square_crop_follows_the_focal_point_within_the_edges(focal, expected_left):
    left, top, right, bottom = renditions.crop_box(3000, 2000, "1:1", *focal)
    assert (right - left, bottom - top) == (2000, 2000)
    assert left == expected_left
    assert top == 0


def test_create_image_makes_every_rendition(app: Flask, media_root: Path):
    with app.test_request_context():
        image = create_image(
            picture(2000, 1000), filename="C:\\photos\\wide.jpg", alt_text="Halves"
        )
        body = present(image)
        db.session.rollback()
    assert body["filename"] == "wide.jpg"
    assert (body["width"], body["height"]) == (2000, 1000)
    sizes = {(f["ratio"], f["format"], f["width"], f["height"]) for f in body["files"]}
    # 16:9 of 2000x1000 is 1778 wide, 4:3 is 1333, 1:1 is 1000: no preset above those.
    for fmt in ("webp", "jpeg"):
        assert ("16:9", fmt, 1600, 900) in sizes
        assert ("4:3", fmt, 1200, 900) in sizes
        assert ("1:1", fmt, 800, 800) in sizes
        assert not any(r == "1:1" and f == fmt and w > 1000 for r, f, w, _ in sizes)
    assert ("original", "jpeg", 2000, 1000) in sizes
    for item in body["files"]:
        assert item["url"] == f"http://localhost/v1/media/{item['key']}"
        stored = open_bytes((media_root / item["key"][:2] / item["key"]).read_bytes())
        assert stored.size == (item["width"], item["height"])
        assert stored.format == {"jpeg": "JPEG", "webp": "WEBP"}[item["format"]]


def test_small_image_gets_its_own_width_never_upscaled(app: Flask, media_root: Path):
    with app.test_request_context():
        image = create_image(picture(300, 200, "PNG"), filename=None, alt_text="Small")
        body = present(image)
        db.session.rollback()
    crops = {(f["ratio"], f["width"], f["height"]) for f in body["files"] if f["format"] == "webp"}
    assert crops == {("16:9", 300, 169), ("4:3", 267, 200), ("1:1", 200, 200)}
