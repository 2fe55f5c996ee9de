"""What every admin view shares: bearer authentication, the permission check, If-Match."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, Generic, Protocol, TypeVar

from flask import Response, current_app, g, request
from flask_smorest import Blueprint

from cms_api.database import db
from cms_api.domain.errors import DomainError, Forbidden, Unauthorized
from cms_api.domain.etags import if_match_allows, version_etag
from cms_api.observability import USER
from cms_api.ratelimit import rate_limited
from cms_api.services.accounts import permissions, users
from cms_api.services.accounts.audit import Actor
from cms_api.services.publishing import documents as publishing

BEARER_SECURITY = [{"bearerAuth": []}]


class _HasVersion(Protocol):
    id: uuid.UUID
    version: int


Entity = TypeVar("Entity", bound=_HasVersion)
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "description": "The ETag of the version you edited. Missing: 428; stale: 412.",
    "schema": {"type": "string"},
}
ETAG_HEADER = {
    "ETag": {"description": "The resource's current version.", "schema": {"type": "string"}}
}


def admin_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    blp = Blueprint(name, import_name, url_prefix=url_prefix, description=description)

    @blp.after_request
    def no_store(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        return response

    return blp


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_VIEWS = frozenset({"post", "put", "patch", "delete"})


def _admin_write_limit() -> str:
    return current_app.config["CMS_SETTINGS"].admin_write_rate_limit


def _token_key() -> str:
    secret = request.headers.get("Authorization", "").partition(" ")[2]
    return "token:" + hashlib.sha256(secret.strip().encode()).hexdigest()[:32]


def authorize(blp: Blueprint, action: str) -> Callable[..., Any]:
    """Require a bearer token whose user's role may perform `action`."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        writes = view.__name__ in WRITE_VIEWS
        # Counted per token, after authentication: a garbage token gets its 401, not a slot.
        limited = rate_limited(_admin_write_limit, key_func=_token_key)(view) if writes else view

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise Unauthorized("This operation needs `Authorization: Bearer <token>`.")
            user = users.authenticate(secret.strip())
            if user is None:
                raise Unauthorized("The token is unknown, expired or revoked.")
            if not permissions.allowed(user.role, action):
                raise Forbidden(f"The {user.role} role may not do this ({action}).")
            g.user = user
            request.environ[USER] = str(user.id)  # for the access log
            if request.method not in SAFE_METHODS:
                # First, before any row is locked: writers that re-render take turns.
                publishing.hold_render_lock()
            return limited(*args, **kwargs)

        wrapper = blp.alt_response(401, response="UNAUTHORIZED")(wrapper)
        wrapper = blp.alt_response(403, response="FORBIDDEN")(wrapper)
        if writes:
            wrapper = blp.alt_response(
                429,
                response="TOO_MANY_REQUESTS",
                description="This token made more than `CMS_ADMIN_WRITE_RATE_LIMIT` writes "
                "(1000 a minute by default); retry after `Retry-After` seconds.",
            )(wrapper)
        return blp.doc(security=BEARER_SECURITY)(wrapper)

    return decorator


def actor() -> Actor:
    return Actor(user_id=g.user.id, request_id=g.get("request_id"))


class Versioned(Generic[Entity]):
    """How the admin views of one kind of object answer with its version and check it."""

    def __init__(
        self,
        kind: str,
        present: Callable[[Entity], dict[str, Any]],
        fetch_for_update: Callable[[uuid.UUID], Entity],
    ) -> None:
        self.kind = kind
        self.present = present
        self.fetch_for_update = fetch_for_update

    def etag(self, entity: Entity) -> str:
        return version_etag(self.kind, entity.id, entity.version)

    def respond(self, entity: Entity, status: int = 200, **headers: str) -> Any:
        """Commit the write and answer with the object and its new ETag."""
        db.session.commit()
        return self.present(entity), status, {"ETag": self.etag(entity), **headers}

    def locked(self, entity_id: uuid.UUID) -> Entity:
        """The object, locked for this transaction, after checking If-Match against it."""
        entity = self.fetch_for_update(entity_id)
        require_if_match(self.etag(entity))
        return entity


def require_if_match(current_etag: str) -> None:
    """Refuse a write made without, or against an old, version of the resource."""
    header = request.headers.get("If-Match")
    if not header:
        raise DomainError(
            "Send If-Match with the ETag you last read, so no one else's edit is lost.",
            status=428,
            kind="precondition-required",
            current_etag=current_etag,
        )
    if not if_match_allows(header, current_etag):
        raise DomainError(
            "The resource changed since you read it; reload, reapply your edit, retry.",
            status=412,
            kind="precondition-failed",
            current_etag=current_etag,
        )


def if_match(blp: Blueprint) -> Callable[..., Any]:
    """Document the If-Match precondition and its 412/428 answers."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        view = blp.alt_response(412, response="PRECONDITION_FAILED")(view)
        view = blp.alt_response(428, response="PRECONDITION_REQUIRED")(view)
        return blp.doc(parameters=[IF_MATCH])(view)

    return decorator
