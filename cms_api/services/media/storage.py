"""Where media files live: one interface over the local filesystem and S3-compatible buckets."""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

from cms_api.services import runtime
from cms_api.services.media.formats import is_key


class Storage(Protocol):
    """A flat store of immutable files named by key (content hash + extension).

    `put` is idempotent: a key names one content, so writing it again changes nothing.
    """

    def put(self, key: str, data: bytes, media_type: str) -> None: ...

    def get(self, key: str) -> bytes | None: ...


def _checked(key: str) -> str:
    # Keys come from our own hashing, but a store is the last place a path is formed.
    if not is_key(key):
        raise ValueError(f"not a media key: {key!r}")
    return key


class FilesystemStorage:
    """Files in one folder, fanned out by the key's first two characters."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        key = _checked(key)
        return self.root / key[:2] / key

    def put(self, key: str, data: bytes, media_type: str) -> None:
        target = self.path(key)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed over it: a reader (or a crash) never sees
        # half a file under a key, and two writers of one key both leave the same bytes.
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return None


class S3Storage:
    """Objects in an S3 (or S3-compatible) bucket, credentials from boto3's usual chain."""

    def __init__(self, bucket: str, *, prefix: str = "", endpoint_url: str | None = None) -> None:
        try:
            import boto3
        except ImportError as error:  # pragma: no cover - depends on the installed extras
            raise RuntimeError(
                "CMS_MEDIA_S3_BUCKET is set but boto3 is not installed: pip install 'cms-api[s3]'."
            ) from error
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.client: Any = boto3.client("s3", endpoint_url=endpoint_url)

    def object_name(self, key: str) -> str:
        return self.prefix + _checked(key)

    def put(self, key: str, data: bytes, media_type: str) -> None:
        # A single PUT is atomic in S3: readers see the old object, none, or all of the new.
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.object_name(key),
            Body=data,
            ContentType=media_type,
            CacheControl="public, max-age=31536000, immutable",
        )

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.object_name(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return answer["Body"].read()


@functools.lru_cache(maxsize=8)
def _store(
    root: str, bucket: str | None, prefix: str, endpoint_url: str | None
) -> FilesystemStorage | S3Storage:
    # One client per configuration: a boto3 client is costly to build and thread-safe.
    if bucket:
        return S3Storage(bucket, prefix=prefix, endpoint_url=endpoint_url)
    return FilesystemStorage(root)


def current() -> Storage:
    """The store the application's settings name."""
    settings = runtime.settings()
    root = settings.media_root or os.path.join(settings.instance_path, "media")
    return _store(
        os.path.abspath(root),
        settings.media_s3_bucket,
        settings.media_s3_prefix,
        settings.media_s3_endpoint_url,
    )


def forget_clients() -> None:
    """Drop the cached stores (after credentials or endpoints changed, as in tests)."""
    _store.cache_clear()
