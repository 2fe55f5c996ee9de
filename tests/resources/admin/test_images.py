"""The admin media library over HTTP: uploads, refusals, metadata edits, trash, roles."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image, features

from tests.support.api import PROBLEM, bearer
from tests.support.media import media_settings, open_bytes, picture

ALT = "Two coloured halves"


@pytest.fixture
def media_root(app: Flask, tmp_path: Path) -> Path:
    with media_settings(app, media_root=str(tmp_path)):
        yield tmp_path


def _upload(client, token: str, data: bytes, filename: str = "photo.jpg", **fields):
    form = {"file": (io.BytesIO(data), filename), "alt_text": ALT, **fields}
    form = {key: value for key, value in form.items() if value is not None}
    return client.post(
        "/v1/admin/images",
        data=form,
        headers=bearer(token),
        content_type="multipart/form-data",
    )


def _stored(root: Path, key: str) -> bytes:
    return (root / key[:2] / key).read_bytes()


def _problem(response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.content_type == PROBLEM
    body = response.get_json()
    assert body["type"] == f"/problems/{kind}"
    return body


def _photo_with_gps_and_orientation() -> bytes:
    """A 60x40 JPEG, red left and blue right, whose EXIF says: turn 90° clockwise to
    show (orientation 6), and where it was taken (GPS)."""
    image = Image.new("RGB", (60, 40), (220, 30, 30))
    image.paste((30, 30, 220), (30, 0, 60, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Example Camera Co"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 22.0, 12.5)
    gps[3] = "E"
    gps[4] = (4.0, 53.0, 30.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=95)
    return buffer.getvalue()


def test_upload_strips_metadata_and_turns_every_file_upright(client, editor, media_root):
    data = _photo_with_gps_and_orientation()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the upload has GPS

    response = _upload(client, editor, data, filename="holiday.jpg", credit="Photo: A. B.")

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/v1/admin/images/{body['id']}")
    assert response.headers["ETag"]
    assert (body["width"], body["height"]) == (40, 60)  # turned: portrait now
    assert body["filename"] == "holiday.jpg"
    assert body["credit"] == "Photo: A. B."
    assert body["media_type"] == "image/jpeg"
    assert body["url"].endswith(next(f["key"] for f in body["files"] if f["ratio"] == "original"))
    assert {f["format"] for f in body["files"] if f["ratio"] != "original"} == {"webp", "jpeg"}
    for item in body["files"]:
        stored = open_bytes(_stored(media_root, item["key"]))
        assert stored.size == (item["width"], item["height"])
        assert not stored.getexif(), item
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile"} & set(stored.info), item
        served = client.get(f"/v1/media/{item['key']}")
        assert served.status_code == 200
        assert b"Example Camera Co" not in served.data
    # Upright: in the portrait original, red (once the left) is now on top.
    original = open_bytes(_stored(media_root, body["url"].rsplit("/", 1)[1])).convert("RGB")
    top, bottom = original.getpixel((20, 5)), original.getpixel((20, 55))
    assert top[0] > 150 > top[2]
    assert bottom[2] > 150 > bottom[0]


@pytest.mark.parametrize(
    ("fmt", "media_type", "save"),
    [
        ("PNG", "image/png", {}),
        ("WEBP", "image/webp", {"quality": 80}),
        pytest.param(
            "AVIF",
            "image/avif",
            {},
            marks=pytest.mark.skipif(not features.check("avif"), reason="no AVIF in Pillow"),
        ),
    ],
)
def test_other_formats_are_taken_whatever_the_name_says(
    client, editor, media_root, fmt, media_type, save
):
    data = picture(320, 240, fmt, **save)

    response = _upload(client, editor, data, filename="looks-like.gif")

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["media_type"] == media_type


def test_transparent_png_keeps_alpha_in_webp_and_is_flattened_in_jpeg(client, editor, media_root):
    image = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")

    body = _upload(client, editor, buffer.getvalue(), filename="clear.png").get_json()

    webp = next(f for f in body["files"] if f["format"] == "webp")
    jpeg = next(f for f in body["files"] if f["format"] == "jpeg")
    assert open_bytes(_stored(media_root, webp["key"])).mode == "RGBA"
    assert open_bytes(_stored(media_root, jpeg["key"])).convert("RGB").getpixel((5, 5)) == (
        255,
        255,
        255,
    )


def test_the_type_comes_from_the_bytes_not_the_name_or_part_type(client, editor, media_root):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    text = b"just some text, not an image at all"

    for data, name in ((svg, "logo.svg"), (gif.getvalue(), "photo.jpg"), (text, "a.png")):
        form = {"file": (io.BytesIO(data), name, "image/jpeg"), "alt_text": ALT}
        response = client.post(
            "/v1/admin/images",
            data=form,
            headers=bearer(editor),
            content_type="multipart/form-data",
        )
        _problem(response, 415, "unsupported-image")


def test_corrupt_and_truncated_images_are_refused(client, editor, media_root):
    whole = picture(800, 600, "JPEG")
    png = picture(800, 600, "PNG")

    _problem(_upload(client, editor, whole[: len(whole) // 2]), 422, "unreadable-image")
    _problem(
        _upload(client, editor, png[: len(png) - 200], filename="a.png"), 422, "unreadable-image"
    )
    garbled = whole[:2] + b"\x00" * 200 + whole[202:]
    assert _upload(client, editor, garbled).status_code in (415, 422)


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` (a decompression bomb's shape)."""
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("size", [(10_000, 10_000), (60_000, 60_000)])
def test_decompression_bombs_are_refused_before_decoding(client, editor, media_root, size):
    bomb = _png_claiming(*size)
    assert len(bomb) < 200

    body = _problem(_upload(client, editor, bomb, filename="bomb.png"), 422, "image-too-large")

    assert body["max_pixels"] == 50_000_000
    assert list(media_root.rglob("*.*")) == []


def test_files_over_the_byte_limit_are_refused(app, client, editor, tmp_path):
    data = picture(400, 300, "PNG")
    with media_settings(app, media_root=str(tmp_path), media_max_bytes=len(data) - 1):
        _problem(_upload(client, editor, data, filename="a.png"), 413, "payload-too-large")
        # A body far over the limit is refused from its declared length, unread.
        huge = data + b"\x00" * (200 * 1024)
        _problem(_upload(client, editor, huge, filename="a.png"), 413, "payload-too-large")


def test_a_json_body_is_refused_with_415(client, editor, media_root):
    response = client.post("/v1/admin/images", json={"alt_text": ALT}, headers=bearer(editor))

    _problem(response, 415, "unsupported-media-type")


def test_alt_text_is_required_unless_decorative(client, editor, media_root):
    data = picture(100, 100, "PNG")

    missing = _problem(_upload(client, editor, data, alt_text=None), 422, "validation-error")
    blank = _problem(_upload(client, editor, data, alt_text="   "), 422, "validation-error")
    decorative = _upload(client, editor, data, alt_text=None, decorative="true")

    assert "alt_text" in str(missing["errors"])
    assert "alt_text" in str(blank["errors"])
    assert decorative.status_code == 201
    assert decorative.get_json()["decorative"] is True
    assert decorative.get_json()["alt_text"] is None


@pytest.mark.parametrize(
    "fields",
    [
        {"focal_x": "1.5"},
        {"focal_y": "-0.1"},
        {"focal_x": "nan"},
        {"decorative": "0"},
        {"decorative": "yes"},
        {"license_url": "javascript:alert(1)"},
        {"unknown_field": "x"},
    ],
)
def test_bad_metadata_fields_are_422(client, editor, media_root, fields):
    response = _upload(client, editor, picture(100, 100, "PNG"), **fields)

    _problem(response, 422, "validation-error")


def test_a_picture_smaller_than_every_preset_gets_every_crop(client, editor, media_root):
    # One pixel: every ratio's crop is the same 1x1 picture, the same bytes, one key.
    response = _upload(client, editor, picture(1, 1, "PNG"), decorative="true", alt_text=None)

    assert response.status_code == 201, response.get_json()
    files = response.get_json()["files"]
    crops = {(item["ratio"], item["format"]) for item in files if item["ratio"] != "original"}
    assert crops == {(ratio, fmt) for ratio in ("16:9", "4:3", "1:1") for fmt in ("webp", "jpeg")}
    for item in files:
        served = client.get(f"/v1/media/{item['key']}")
        assert served.status_code == 200
        assert open_bytes(served.data).size == (1, 1)


def test_a_form_without_a_file_is_422(client, editor, media_root):
    response = client.post(
        "/v1/admin/images",
        data={"alt_text": ALT},
        headers=bearer(editor),
        content_type="multipart/form-data",
    )

    body = _problem(response, 422, "validation-error")
    assert "file" in str(body["errors"])


def test_list_get_edit_trash_restore_with_versions_and_audit(client, editor, media_root):
    created = _upload(client, editor, picture(1600, 900), filename="wide.jpg")
    image = created.get_json()
    address = f"/v1/admin/images/{image['id']}"

    listed = client.get("/v1/admin/images?q=wide.jpg&limit=1", headers=bearer(editor))
    assert listed.status_code == 200
    assert [item["id"] for item in listed.get_json()["items"]] == [image["id"]]

    got = client.get(address, headers=bearer(editor))
    assert got.status_code == 200
    assert got.headers["ETag"] == created.headers["ETag"]

    no_precondition = client.patch(address, json={"caption": "x"}, headers=bearer(editor))
    assert no_precondition.status_code == 428
    stale = client.patch(
        address, json={"caption": "x"}, headers=bearer(editor, **{"If-Match": '"image-x-v0"'})
    )
    assert stale.status_code == 412

    edited = client.patch(
        address,
        json={"alt_text": "A wide picture", "license": "CC BY 4.0"},
        headers=bearer(editor, **{"If-Match": got.headers["ETag"]}),
    )
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["alt_text"] == "A wide picture"
    assert edited.get_json()["version"] == image["version"] + 1
    assert edited.headers["ETag"] != got.headers["ETag"]
    # Metadata alone leaves the files as they were.
    assert edited.get_json()["files"] == image["files"]

    refused = client.patch(
        address,
        json={"alt_text": None},
        headers=bearer(editor, **{"If-Match": edited.headers["ETag"]}),
    )
    _problem(refused, 422, "validation-error")

    trashed = client.delete(address, headers=bearer(editor, **{"If-Match": edited.headers["ETag"]}))
    assert trashed.status_code == 204
    key = image["files"][0]["key"]
    assert client.get(f"/v1/media/{key}").status_code == 404
    in_trash = client.get("/v1/admin/images?trashed=true&q=wide.jpg", headers=bearer(editor))
    assert [item["id"] for item in in_trash.get_json()["items"]] == [image["id"]]
    assert (
        client.get("/v1/admin/images?q=wide.jpg", headers=bearer(editor)).get_json()["items"] == []
    )

    restored = client.post(f"{address}/restore", headers=bearer(editor))
    assert restored.status_code == 200
    assert restored.get_json()["deleted_at"] is None
    assert client.get(f"/v1/media/{key}").status_code == 200
    assert client.post(f"{address}/restore", headers=bearer(editor)).status_code == 409

    events = client.get(
        f"/v1/admin/audit?target_id={image['id']}&limit=100", headers=bearer(editor)
    ).get_json()["items"]
    assert [event["action"] for event in reversed(events)] == [
        "image.create",
        "image.update",
        "image.trash",
        "image.restore",
    ]
    update = next(event for event in events if event["action"] == "image.update")
    assert update["after"] == {"alt_text": "A wide picture", "license": "CC BY 4.0"}


def test_moving_the_focal_point_remakes_the_crops_under_new_keys(client, editor, media_root):
    created = _upload(client, editor, picture(1600, 900), focal_x="0.5")
    image = created.get_json()
    squares = {f["key"] for f in image["files"] if f["ratio"] == "1:1"}

    moved = client.patch(
        f"/v1/admin/images/{image['id']}",
        json={"focal_x": 0.0},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )

    assert moved.status_code == 200, moved.get_json()
    after = moved.get_json()
    assert after["focal_x"] == 0.0
    new_squares = [f for f in after["files"] if f["ratio"] == "1:1"]
    assert squares.isdisjoint(f["key"] for f in new_squares)
    # The 1:1 crop now starts at the left edge: red (the left 800 of 1600 pixels) up to
    # 8/9 of its width, where it was half red, half blue.
    jpeg = next(f for f in new_squares if f["format"] == "jpeg")
    square = open_bytes(client.get(f"/v1/media/{jpeg['key']}").data).convert("RGB")
    three_quarters = square.getpixel((square.width * 3 // 4, square.height // 2))
    assert three_quarters[0] > 150 > three_quarters[2]
    for old in squares:
        assert client.get(f"/v1/media/{old}").status_code == 404
    original = next(f for f in after["files"] if f["ratio"] == "original")
    assert original in image["files"]


def test_roles(client, make_token, media_root):
    data = picture(100, 100, "PNG")
    editor, admin = make_token("editor"), make_token("admin")
    reviewer, viewer = make_token("reviewer"), make_token("viewer")

    assert _upload(client, editor, data).status_code == 201
    assert _upload(client, admin, data).status_code == 201
    _problem(_upload(client, reviewer, data), 403, "forbidden")
    _problem(_upload(client, viewer, data), 403, "forbidden")
    assert client.get("/v1/admin/images", headers=bearer(reviewer)).status_code == 200
    assert client.get("/v1/admin/images", headers=bearer(viewer)).status_code == 200
    _problem(_upload(client, "not-a-token", data), 401, "unauthorized")
