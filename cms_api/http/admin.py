"""The admin blueprint: bearer authentication, the permission check, `no-store`, write limits."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, g, request
from flask_smorest import Blueprint

from cms_api.domain.errors import Forbidden, Unauthorized
from cms_api.http.arguments import query_args
from cms_api.http.requests import BODY_CHECKED_AFTER_AUTH, check_request_body
from cms_api.observability import USER
from cms_api.ratelimit import rate_limited
from cms_api.services.accounts import permissions, users
from cms_api.services.accounts.audit import Actor
from cms_api.services.publishing import render_lock
from cms_api.services.publishing.render_lock import hold_render_lock

BEARER_SECURITY = [{"bearerAuth": []}]


ETAG_HEADER = {
    "ETag": {"description": "The resource's current version.", "schema": {"type": "string"}}
}


class AdminBlueprint(Blueprint):
    """A flask-smorest blueprint under /v1/admin: answers are never cached, and every
    operation states the permission it needs with `authorize`."""

    def __init__(self, name: str, import_name: str, *, url_prefix: str, description: str):
        super().__init__(name, import_name, url_prefix=url_prefix, description=description)
        self.after_request(_no_store)

    def authorize(self, action: str, *, renders: bool = True) -> Callable[..., Any]:
        """Require a bearer token whose user's role may perform `action`; see `authorize`."""
        return authorize(self, action, renders=renders)

    def query_args(self, schema: type) -> Callable[..., Any]:
        """Query-string arguments: unknown or malformed ones are a 400 problem."""
        return query_args(self, schema)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_VIEWS = frozenset({"post", "put", "patch", "delete"})


def _admin_write_limit() -> str:
    return current_app.config["CMS_SETTINGS"].admin_write_rate_limit


def _token_key() -> str:
    secret = request.headers.get("Authorization", "").partition(" ")[2]
    return "token:" + hashlib.sha256(secret.strip().encode()).hexdigest()[:32]


def authorize(blp: Blueprint, action: str, *, renders: bool = True) -> Callable[..., Any]:
    """Require a bearer token whose user's role may perform `action`.

    A write takes its turn at the render lock first, unless `renders` is False: a write
    that changes no content (a presence heartbeat) has nothing to re-render, and must not
    wait behind, or be refused for, a long publish.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        writes = view.__name__ in WRITE_VIEWS
        takes_turn = writes and renders
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
            # Only now, for a known caller, is the body read, and all of it before the
            # lock: a body arriving slowly must not keep every other writer waiting.
            check_request_body()
            if takes_turn and request.method not in SAFE_METHODS:
                # Then, before any row is locked: writers that re-render take turns, each
                # waiting a bounded time (a 503 with Retry-After past it).
                hold_render_lock(bounded=True)
            return limited(*args, **kwargs)

        setattr(wrapper, BODY_CHECKED_AFTER_AUTH, True)

        wrapper = blp.alt_response(401, response="UNAUTHORIZED")(wrapper)
        wrapper = blp.alt_response(403, response="FORBIDDEN")(wrapper)
        if takes_turn:
            wrapper = blp.alt_response(
                503,
                response="SERVICE_UNAVAILABLE",
                description="Other writes held the content for longer than "
                f"{render_lock.WAIT_SECONDS:g} s; retry after `Retry-After` seconds.",
            )(wrapper)
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
