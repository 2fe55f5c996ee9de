"""Checks on every request before routing: its request id, and a body that is JSON, not too deep."""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

from cms_api.domain.errors import DomainError
from cms_api.domain.json_depth import MAX_JSON_DEPTH, json_depth
from cms_api.http.conditional import JSON_CONTENT_TYPE

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# Routes whose body is NDJSON rather than one JSON document, with their size limit. They
# stream the body line by line and check its type themselves, after authentication.
NDJSON_BODY_LIMITS = {"/v1/admin/import": 64 * 1024 * 1024}


def _assign_request_id() -> None:
    supplied = request.headers.get("X-Request-ID", "")
    g.request_id = supplied if REQUEST_ID.match(supplied) else uuid.uuid4().hex


def _echo_request_id(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
    return response


def _check_request_body() -> None:
    """Every request body is JSON (application/json or a +json type), and not absurdly deep."""
    ndjson_limit = NDJSON_BODY_LIMITS.get(request.path)
    if ndjson_limit is not None:
        request.max_content_length = ndjson_limit
        return
    if not request.content_length:
        return
    if not request.is_json:
        raise DomainError(
            f"Send the request body as `Content-Type: {JSON_CONTENT_TYPE}`.",
            status=415,
            kind="unsupported-media-type",
        )
    text = request.get_data(cache=True).decode("utf-8", errors="replace")
    if json_depth(text) > MAX_JSON_DEPTH:
        raise DomainError(
            f"The JSON body nests arrays or objects more than {MAX_JSON_DEPTH} levels deep.",
            errors={"json": ["Nested too deeply."]},
        )


def register_request_hooks(app: Flask) -> None:
    app.before_request(_assign_request_id)
    app.before_request(_check_request_body)
    app.after_request(_echo_request_id)
