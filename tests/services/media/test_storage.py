"""Media storage: atomic, idempotent files on disk, and an S3 bucket behind the same API."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import boto3
import pytest
from flask import Flask
from moto import mock_aws

from cms_api.services.media.storage import FilesystemStorage, S3Storage
from tests.support.api import bearer
from tests.support.media import media_settings, open_bytes, picture

BUCKET = "cms-media-test"


def _key(data: bytes, extension: str = "png") -> str:
    return f"{hashlib.sha256(data).hexdigest()}.{extension}"


def test_filesystem_writes_are_atomic_and_idempotent(tmp_path: Path):
    store = FilesystemStorage(tmp_path)
    data = picture(50, 50, "PNG")
    key = _key(data)

    store.put(key, data, "image/png")
    first = (tmp_path / key[:2] / key).stat()
    store.put(key, data, "image/png")

    assert store.get(key) == data
    assert (tmp_path / key[:2] / key).stat().st_mtime_ns == first.st_mtime_ns
    # No temporary file is left beside it.
    assert [path.name for path in (tmp_path / key[:2]).iterdir()] == [key]
    assert store.get(_key(b"other")) is None


@pytest.mark.parametrize("key", ["../escape.png", "/etc/passwd", "a" * 64 + ".png/..", ""])
def test_filesystem_refuses_anything_but_a_key(tmp_path: Path, key: str):
    store = FilesystemStorage(tmp_path)

    with pytest.raises(ValueError, match="not a media key"):
        store.put(key, b"x", "image/png")
    with pytest.raises(ValueError, match="not a media key"):
        store.get(key)


def test_uploads_go_under_the_instance_folder_by_default(
    app: Flask, client, editor, tmp_path: Path
):
    with media_settings(app, instance_path=str(tmp_path), media_root=None):
        response = client.post(
            "/v1/admin/images",
            data={"file": (io.BytesIO(picture(200, 100, "PNG")), "a.png"), "alt_text": "A"},
            headers=bearer(editor),
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.get_json()
        for item in response.get_json()["files"]:
            assert (tmp_path / "media" / item["key"][:2] / item["key"]).is_file()


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch):
    """moto's in-process S3, with credentials of its own (never a real account)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_s3_store_puts_and_gets_under_its_prefix(s3):
    store = S3Storage(BUCKET, prefix="/site/media/")
    data = picture(40, 40, "PNG")
    key = _key(data)

    store.put(key, data, "image/png")
    store.put(key, data, "image/png")

    stored = s3.get_object(Bucket=BUCKET, Key=f"site/media/{key}")
    assert stored["ContentType"] == "image/png"
    assert stored["Body"].read() == data
    assert store.get(key) == data
    assert store.get(_key(b"missing")) is None


def test_upload_and_serve_through_s3(app: Flask, client, editor, s3, tmp_path: Path):
    with media_settings(
        app, media_s3_bucket=BUCKET, media_s3_prefix="media", media_root=str(tmp_path)
    ):
        response = client.post(
            "/v1/admin/images",
            data={"file": (io.BytesIO(picture(900, 600)), "photo.jpg"), "alt_text": "Halves"},
            headers=bearer(editor),
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.get_json()
        files = response.get_json()["files"]

        names = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
        assert names == {f"media/{item['key']}" for item in files}
        for item in files:
            served = client.get(f"/v1/media/{item['key']}")
            assert served.status_code == 200
            assert served.mimetype == item["media_type"]
            assert open_bytes(served.data).size == (item["width"], item["height"])
    # Nothing went to the filesystem.
    assert list(tmp_path.iterdir()) == []
