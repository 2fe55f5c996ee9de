"""Checks on every request: its request id, limits on its URL and headers, and its JSON body."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from cms_api.domain.errors import DomainError
from cms_api.domain.json_depth import MAX_JSON_DEPTH
from cms_api.http.conditional import JSON_CONTENT_TYPE

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# Routes whose body is NDJSON rather than one JSON document, with their size limit. They
# stream the body line by line and check its type themselves, after authentication.
NDJSON_BODY_LIMITS = {"/v1/admin/import": 64 * 1024 * 1024}

# The documented limits on a request's head; gunicorn's own (gunicorn_conf) sit above them,
# so these are the ones clients meet, answered as problems like every other refusal.
MAX_URL_BYTES = 16384
MAX_HEADER_FIELDS = 100
MAX_HEADER_FIELD_BYTES = 8192

# A view whose body is checked by its own wrapper, once the caller is known (an admin
# operation) or within its rate limit (a public one): strangers cannot make the server
# read, let alone scan, a body the operation would refuse anyway.
BODY_CHECKED_AFTER_AUTH = "_cms_body_checked_after_auth"

# An operation that takes only small bodies declares its own limit (`small_body`): a
# larger declared length is refused before a byte of the body is read.
BODY_LIMIT = "_cms_body_limit"
_BODY_LOCATIONS = frozenset({"json", "form", "files"})
# An operation that takes a file upload (multipart/form-data) rather than JSON (`upload`).
UPLOAD = "_cms_upload"

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = {ord("["), ord("]"), ord("{"), ord("}")}
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in _BRACKETS)
_SQUARE = bytes.maketrans(b"{}", b"[]")


def nests_deeper_than(body: bytes, limit: int) -> bool:
    """Whether a JSON text nests arrays or objects more than `limit` levels deep.

    Bounded C-speed work whatever the body: strings are cut out and every other byte but
    the brackets dropped (re and bytes.translate), then each of at most `limit` passes
    deletes the innermost `[]` pairs (bytes.replace), which lowers the depth by one.
    A body whose brackets do not pair up is left to the parser, unless it opens more
    than `limit` levels, which a recursive parser would also descend into.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", body).translate(_SQUARE, _NOT_BRACKETS)
    too_many_opens = b"[" * (limit + 1)
    for _ in range(limit):
        if too_many_opens in brackets:
            return True
        reduced = brackets.replace(b"[]", b"")
        if not reduced:
            return False
        if len(reduced) == len(brackets):  # unpaired brackets: malformed
            return brackets.count(b"[") > limit
        brackets = reduced
    return True


def _assign_request_id() -> None:
    supplied = request.headers.get("X-Request-ID", "")
    g.request_id = supplied if REQUEST_ID.match(supplied) else uuid.uuid4().hex


def _echo_request_id(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
    return response


def _operation() -> Callable[..., Any] | None:
    """The view function (a MethodView's method) this request was routed to, if any."""
    if request.url_rule is None or request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return view
    method = "get" if request.method == "HEAD" else request.method.lower()
    return getattr(view_class, method, None)


def takes_body(view: Callable[..., Any] | None) -> bool:
    """Whether an operation documents a request body (as flask-smorest records it)."""
    apidoc = getattr(view, "_apidoc", None) or {}
    if "requestBody" in apidoc.get("manual_doc", {}):
        return True
    parameters = apidoc.get("arguments", {}).get("parameters", [])
    return any(parameter.get("in") in _BODY_LOCATIONS for parameter in parameters)


def _has_body() -> bool:
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    return chunked or bool(request.content_length)


def check_request_body() -> None:
    """The body is JSON (application/json or a +json type), within the size limit (chunked
    or not), and not absurdly deep."""
    if g.get("request_body_checked") or not _has_body() or request.path in NDJSON_BODY_LIMITS:
        return
    g.request_body_checked = True
    if getattr(_operation(), UPLOAD, False):
        # A file upload: werkzeug's form parser streams it (files to temporary files)
        # within the operation's own limit when the view reads it.
        if request.mimetype != "multipart/form-data":
            raise DomainError(
                "Send the file as `Content-Type: multipart/form-data`.",
                status=415,
                kind="unsupported-media-type",
            )
        return
    if not request.is_json:
        raise DomainError(
            f"Send the request body as `Content-Type: {JSON_CONTENT_TYPE}`.",
            status=415,
            kind="unsupported-media-type",
        )
    body = request.get_data(cache=True)
    limit = request.max_content_length
    # werkzeug stops a chunked body at the limit without a word: is there more of it?
    if limit is not None and len(body) >= limit and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()
    if nests_deeper_than(body, MAX_JSON_DEPTH):
        raise DomainError(
            f"The JSON body nests arrays or objects more than {MAX_JSON_DEPTH} levels deep.",
            errors={"json": ["Nested too deeply."]},
        )


def small_body(max_bytes: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Limit an operation's body to `max_bytes`, below the app's MAX_CONTENT_LENGTH."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        setattr(view, BODY_LIMIT, max_bytes)
        return view

    return decorator


def upload(max_bytes: Callable[[], int]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An operation taking a file as multipart/form-data, whose body may be up to
    `max_bytes()` (read per request, from the settings), above MAX_CONTENT_LENGTH."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        setattr(view, BODY_LIMIT, max_bytes)
        setattr(view, UPLOAD, True)
        return view

    return decorator


def _check_request_body() -> None:
    """After routing: only an operation that takes a body has it read, and an admin one
    only once its caller is authenticated (its `authorize` wrapper checks it then)."""
    ndjson_limit = NDJSON_BODY_LIMITS.get(request.path)
    if ndjson_limit is not None:
        request.max_content_length = ndjson_limit
        return
    view = _operation()
    if not takes_body(view):
        return
    own_limit = getattr(view, BODY_LIMIT, None)
    if callable(own_limit):
        own_limit = own_limit()
    if own_limit is not None:
        request.max_content_length = own_limit
        if (request.content_length or 0) > own_limit:
            raise DomainError(
                f"This operation takes a body of at most {own_limit} bytes.",
                status=413,
                kind="payload-too-large",
            )
    if getattr(view, BODY_CHECKED_AFTER_AUTH, False):
        return
    check_request_body()


class RequestHeadLimits:
    """Answer a URL or headers over the documented limits with a problem, before Flask."""

    def __init__(self, downstream: Callable[..., Iterable[bytes]]) -> None:
        self.downstream = downstream

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        refusal = _head_refusal(environ)
        if refusal is None:
            return self.downstream(environ, start_response)
        status, title, detail = refusal
        supplied = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = supplied if REQUEST_ID.match(supplied) else uuid.uuid4().hex
        body = problem_bytes(status, title, detail, request_id)
        start_response(f"{status} {title}", problem_headers(body, request_id))
        return [body]


def _head_refusal(environ: dict[str, Any]) -> tuple[int, str, str] | None:
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if target is None:
        query = environ.get("QUERY_STRING", "")
        target = environ.get("PATH_INFO", "") + ("?" + query if query else "")
    if len(target) > MAX_URL_BYTES:
        return 414, "URI Too Long", f"The URL is over {MAX_URL_BYTES} bytes."
    fields = [
        (name, value)
        for name, value in environ.items()
        if name.startswith("HTTP_") or name in ("CONTENT_TYPE", "CONTENT_LENGTH")
    ]
    if len(fields) > MAX_HEADER_FIELDS:
        return (
            431,
            "Request Header Fields Too Large",
            (f"The request has more than {MAX_HEADER_FIELDS} header fields."),
        )
    if any(len(name) + len(str(value)) > MAX_HEADER_FIELD_BYTES for name, value in fields):
        return (
            431,
            "Request Header Fields Too Large",
            (f"A header field is over {MAX_HEADER_FIELD_BYTES} bytes."),
        )
    return None


# Kinds of problem answered here, before or outside Flask, by status.
EDGE_KINDS = {414: "uri-too-long", 431: "header-fields-too-large"}


def problem_bytes(status: int, title: str, detail: str, request_id: str) -> bytes:
    """An RFC 9457 problem document for a request refused before Flask."""
    kind = EDGE_KINDS.get(status, "internal-error" if status >= 500 else "bad-request")
    problem = {
        "type": f"/problems/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": request_id,
    }
    return json.dumps(problem).encode()


def problem_headers(body: bytes, request_id: str) -> list[tuple[str, str]]:
    return [
        ("Content-Type", "application/problem+json"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("X-Request-ID", request_id),
    ]


def register_request_hooks(app: Flask) -> None:
    app.before_request(_assign_request_id)
    app.before_request(_check_request_body)
    app.after_request(_echo_request_id)
    app.wsgi_app = RequestHeadLimits(app.wsgi_app)  # type: ignore[method-assign]
