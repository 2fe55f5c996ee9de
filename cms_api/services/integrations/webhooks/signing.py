"""Endpoint secrets: the signature every delivery carries, and their encryption at rest."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from cms_api.config import Settings
from cms_api.services import runtime

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
# Where a development key is kept when CMS_SECRET_KEYS is unset, below the instance folder.
DEVELOPMENT_KEY_FILE = "webhook-secret.key"
UNREADABLE = (
    "A webhook secret cannot be decrypted with any key in CMS_SECRET_KEYS: the key that "
    "encrypted it must stay in the list until `cms-api webhooks rotate-secrets` has run."
)


class SecretKeyError(Exception):
    """A stored secret that none of the configured keys decrypts."""


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def new_key() -> str:
    """A new Fernet key, for CMS_SECRET_KEYS."""
    return Fernet.generate_key().decode("ascii")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Webhook-Signature` value: HMAC-SHA256 over "{timestamp}.{body}"."""
    signed = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _development_key(instance_path: str) -> str:
    """The key under the instance folder, made once; concurrent first starts agree on one."""
    path = Path(instance_path).resolve() / DEVELOPMENT_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a private temporary file, then linked into place: a process that
        # loses the race reads the winner's key, never a half-written one.
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(Fernet.generate_key())
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    log.warning(
        "CMS_SECRET_KEYS is not set: webhook secrets are encrypted with the development key "
        "in %s. Set CMS_SECRET_KEYS in production (`cms-api webhooks generate-key`).",
        path,
    )
    return path.read_text().strip()


@lru_cache(maxsize=8)
def _keyring(keys: tuple[str, ...], instance_path: str) -> MultiFernet:
    chosen = keys or (_development_key(instance_path),)
    return MultiFernet([Fernet(key.encode("ascii")) for key in chosen])


def keyring(settings: Settings | None = None) -> MultiFernet:
    """The configured keys: the first encrypts, every one decrypts."""
    settings = settings or runtime.settings()
    return _keyring(tuple(settings.secret_keys), settings.instance_path)


def seal(secret: str, settings: Settings | None = None) -> str:
    """A secret as stored: encrypted with the first key ("" stays "": a deleted endpoint)."""
    if not secret:
        return ""
    return keyring(settings).encrypt(secret.encode("utf-8")).decode("ascii")


def unseal(stored: str, settings: Settings | None = None) -> str:
    """The secret a stored value holds."""
    if not stored:
        return ""
    try:
        return keyring(settings).decrypt(stored.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SecretKeyError(UNREADABLE) from None


def reseal(stored: str, settings: Settings | None = None) -> str:
    """A stored secret encrypted again with the first key (rotation)."""
    if not stored:
        return ""
    try:
        return keyring(settings).rotate(stored.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretKeyError(UNREADABLE) from None
