"""What every admin view shares: bearer authentication, the permission check, If-Match."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, g, request
from flask_smorest import Blueprint

from cms_api.errors import Problem
from cms_api.services import accounts, permissions
from cms_api.services.audit import Actor

BEARER_SECURITY = [{"bearerAuth": []}]
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


class Unauthorized(Problem):
    status = 401
    kind = "unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="cms-api"'})


class Forbidden(Problem):
    status = 403
    kind = "forbidden"


def admin_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    blp = Blueprint(name, import_name, url_prefix=url_prefix, description=description)

    @blp.after_request
    def no_store(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        return response

    return blp


def authorize(blp: Blueprint, action: str) -> Callable[..., Any]:
    """Require a bearer token whose user's role may perform `action`."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise Unauthorized("This operation needs `Authorization: Bearer <token>`.")
            user = accounts.authenticate(secret.strip())
            if user is None:
                raise Unauthorized("The token is unknown, expired or revoked.")
            if not permissions.allowed(user.role, action):
                raise Forbidden(f"The {user.role} role may not do this ({action}).")
            g.user = user
            return view(*args, **kwargs)

        wrapper = blp.alt_response(401, response="UNAUTHORIZED")(wrapper)
        wrapper = blp.alt_response(403, response="FORBIDDEN")(wrapper)
        return blp.doc(security=BEARER_SECURITY)(wrapper)

    return decorator


def actor() -> Actor:
    return Actor(user_id=g.user.id, request_id=g.get("request_id"))


def resource_etag(kind: str, entity_id: object, version: int) -> str:
    return f'"{kind}-{entity_id}-v{version}"'


def require_if_match(current_etag: str) -> None:
    """Refuse a write made without, or against an old, version of the resource."""
    header = request.headers.get("If-Match")
    if not header:
        raise Problem(
            "Send If-Match with the ETag you last read, so no one else's edit is lost.",
            status=428,
            kind="precondition-required",
            current_etag=current_etag,
        )
    candidates = {item.strip() for item in header.split(",")}
    if "*" not in candidates and current_etag not in candidates:
        raise Problem(
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
