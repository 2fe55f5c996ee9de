"""Errors the domain raises for its callers to act on; the HTTP layer answers them as problems."""

from __future__ import annotations

from typing import Any

# Each carries the RFC 9457 problem `kind` it is reported as and the HTTP status that kind
# maps to, as plain data, so services stay free of any web framework.


class DomainError(Exception):
    """A refusal the caller can act on: bad input, a missing object, a conflicting state."""

    status = 400
    kind = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if kind is not None:
            self.kind = kind
        self.headers = headers or {}
        self.extra = extra


class NotFound(DomainError):
    status = 404
    kind = "not-found"


class InvalidParameter(DomainError):
    status = 400
    kind = "invalid-parameter"


class Conflict(DomainError):
    status = 409
    kind = "conflict"


class ValidationFailed(DomainError):
    """A request body that passed its schema but breaks a domain rule (a field's value)."""

    status = 422
    kind = "validation-error"


class Unauthorized(DomainError):
    status = 401
    kind = "unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="cms-api"'})


class Forbidden(DomainError):
    status = 403
    kind = "forbidden"


class UnsupportedImage(DomainError):
    """An upload that is not a JPEG, PNG, WebP or AVIF image (judged by its bytes)."""

    status = 415
    kind = "unsupported-image"


class UnreadableImage(DomainError):
    """An image of a supported type whose data is corrupt or truncated."""

    status = 422
    kind = "unreadable-image"


class ImageTooLarge(DomainError):
    """An image whose dimensions are over the pixel limit (a decompression bomb, or just huge)."""

    status = 422
    kind = "image-too-large"
