"""HTTP plumbing: ETags, conditional GETs, cache headers, request ids and keyset cursors."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, request

from cms_api.errors import InvalidParameter, Problem

JSON_CONTENT_TYPE = "application/json"
# Deeper than any body the API takes (an article's sections nest four levels); a bound
# far below where a recursive JSON parser would exhaust the stack.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def etag_for(body: str | bytes) -> str:
    """A strong entity tag: a digest of the exact bytes served."""
    data = body.encode() if isinstance(body, str) else body
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


def not_modified(etag: str) -> bool:
    """Whether the request's If-None-Match names this ETag (so a 304 will do)."""
    return etag_matches(request.headers.get("If-None-Match"), etag)


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match header value names this ETag."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    # Weak comparison, as RFC 9110 prescribes for If-None-Match.
    candidates = {item.strip().removeprefix("W/") for item in header.split(",")}
    return etag in candidates


def public_cache_control() -> str:
    settings = current_app.config["CMS_SETTINGS"]
    return (
        f"public, max-age={settings.cache_max_age}, "
        f"stale-while-revalidate={settings.cache_stale_while_revalidate}"
    )


def delivery_response(
    body: str,
    *,
    etag: str | None = None,
    status: int = 200,
    content_type: str = JSON_CONTENT_TYPE,
    headers: dict[str, str] | None = None,
) -> Response:
    """Serve an already rendered body with a strong ETag, honouring If-None-Match."""
    etag = etag or etag_for(body)
    cache_headers = {"ETag": etag, "Cache-Control": public_cache_control()}
    if not_modified(etag):
        response = Response(status=304)
    else:
        response = Response(body, status=status, content_type=content_type)
        response.headers.update(headers or {})
    response.headers.update(cache_headers)
    return response


# -- keyset cursors -------------------------------------------------------------------------


def encode_cursor(sort: str, values: list[Any]) -> str:
    raw = json.dumps([sort, *values], separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, arity: int, *, parameter: str = "cursor") -> list[Any]:
    """The keyset values of a cursor made for this sort, or a 400 problem."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError):
        decoded = None
    if (
        not isinstance(decoded, list)
        or len(decoded) != arity + 1
        or decoded[0] != sort
        or not all(isinstance(value, str | int | float) for value in decoded[1:])
        or not all(_storable(value) for value in decoded[1:] if isinstance(value, str))
    ):
        raise InvalidParameter(
            f"Query parameter '{parameter}': not a cursor issued for this listing and sort order.",
            errors={"query": {parameter: ["Invalid cursor."]}},
        )
    return decoded[1:]


def _storable(text: str) -> bool:
    """Whether PostgreSQL can take the text: no NUL, and no lone surrogate (JSON's "\\ud800")."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def list_body(items: list[str], *, limit: int, next_cursor: str | None, total: int) -> str:
    """A list document assembled from items that are already JSON text."""
    page = json.dumps({"limit": limit, "next_cursor": next_cursor, "total": total})
    return '{"items":[' + ",".join(items) + '],"page":' + page + "}"


def next_link(next_cursor: str | None, *, parameter: str = "cursor") -> dict[str, str]:
    """This request again with the next page's cursor, as an RFC 8288 `Link` header."""
    if not next_cursor:
        return {}
    args = [(key, value) for key, value in request.args.items(multi=True) if key != parameter]
    args.append((parameter, next_cursor))
    return {"Link": f'<{request.base_url}?{urlencode(args)}>; rel="next"'}


# -- request ids ----------------------------------------------------------------------------


def _assign_request_id() -> None:
    supplied = request.headers.get("X-Request-ID", "")
    g.request_id = supplied if REQUEST_ID.match(supplied) else uuid.uuid4().hex


def _echo_request_id(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
    return response


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of a JSON text nest (0 for a scalar)."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    depth = deepest = 0
    for bracket in brackets:
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


# Routes whose body is NDJSON rather than one JSON document, with their size limit. They
# stream the body line by line and check its type themselves, after authentication.
NDJSON_BODY_LIMITS = {"/v1/admin/import": 64 * 1024 * 1024}


def _check_request_body() -> None:
    """Every request body is JSON (application/json or a +json type), and not absurdly deep."""
    ndjson_limit = NDJSON_BODY_LIMITS.get(request.path)
    if ndjson_limit is not None:
        request.max_content_length = ndjson_limit
        return
    if not request.content_length:
        return
    if not request.is_json:
        raise Problem(
            f"Send the request body as `Content-Type: {JSON_CONTENT_TYPE}`.",
            status=415,
            kind="unsupported-media-type",
        )
    text = request.get_data(cache=True).decode("utf-8", errors="replace")
    if json_depth(text) > MAX_JSON_DEPTH:
        raise Problem(
            f"The JSON body nests arrays or objects more than {MAX_JSON_DEPTH} levels deep.",
            errors={"json": ["Nested too deeply."]},
        )


def register_request_hooks(app: Flask) -> None:
    app.before_request(_assign_request_id)
    app.before_request(_check_request_body)
    app.after_request(_echo_request_id)
