"""Bodies too big, too deep, malformed or of a type not taken: a problem on every operation."""

from __future__ import annotations

import itertools
import re
from typing import Any

from cms_api.http.requests import NDJSON_BODY_LIMITS
from cms_api.resources.admin.images import FORM_OVERHEAD_BYTES
from tests.conftest import bearer
from tests.support.api import NO_ID, PROBLEM
from tests.support.openapi import operations

MALFORMED = [
    # (what, body, content type for a JSON operation)
    ("arrays 5000 deep", b"[" * 5000 + b"]" * 5000, "application/json"),
    ("objects 40 deep", b'{"a":' * 40 + b"1" + b"}" * 40, "application/json"),
    (
        "objects 40 deep, merge patch",
        b'{"a":' * 40 + b"1" + b"}" * 40,
        "application/merge-patch+json",
    ),
    ("truncated JSON", b'{"title": "unfinished', "application/json"),
    ("invalid UTF-8", b'{"title": "\xff\xfe"}', "application/json"),
]
WRONG_TYPES = [
    ("a form", b"title=hello", "application/x-www-form-urlencoded"),
    ("multipart", b"--b\r\n\r\nhello\r\n--b--\r\n", "multipart/form-data; boundary=b"),
    ("plain text", b"hello", "text/plain"),
    ("XML", b"<title>hello</title>", "application/xml"),
    ("JSON", b'{"title": "hello"}', "application/json"),
    ("no content type", b'{"title": "hello"}', None),
]
# JSON that parses but is not the object any operation takes.
ODD_JSON = [b"null", b"[]", b'"text"', b"12", b"true", b'{"": {"": []}}', b"1e999999"]


def _with_ids(path: str) -> str:
    # A locale segment must look like a tag to reach its view at all.
    path = path.replace("{locale}", "es")
    return re.sub(r"{\w+}", NO_ID, path).replace(f"/sitemaps/{NO_ID}", "/sitemaps/1")


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def _body_cases(accepted: list[str], limit: int) -> list[tuple[str, bytes, str | None, set[int]]]:
    """What to send an operation that takes a body in one of the `accepted` types, and what
    it may answer: too big 413; malformed 400 (JSON) or the format's own 422; not in a
    type it takes, 415."""
    own = accepted[0]
    json_body = any(_is_json(kind) for kind in accepted)
    cases = [("over the size limit", b'{"title": "' + b"x" * limit + b'"}', own, {413})]
    for what, body, content_type in MALFORMED:
        cases.append(
            (what, body, content_type if json_body else own, {400} if json_body else {400, 422})
        )
    for what, body, content_type in WRONG_TYPES:
        mimetype = (content_type or "").split(";")[0]
        if not (mimetype in accepted or (json_body and _is_json(mimetype))):
            cases.append((what, body, content_type, {415}))
    return cases


def test_bodies_too_big_too_deep_or_not_json_on_every_operation_that_takes_one(
    client, document, admin_token, make_token
):
    reviewer = make_token("reviewer")
    failures: list[str] = []
    taking_bodies = [
        (method, path, list(operation["requestBody"]["content"]))
        for method, path, operation in operations(document)
        if "requestBody" in operation
    ]

    addresses = itertools.count(1)

    def send(method: str, path: str, body: bytes, content_type: str | None) -> Any:
        # As a role that may make the request, so a body that parses reaches validation;
        # each from its own address, as every attempt counts against the questions' limit.
        address = next(addresses)
        client.environ_base["REMOTE_ADDR"] = (
            f"10.{address >> 16}.{(address >> 8) & 255}.{address & 255}"
        )
        for token in (admin_token, reviewer):
            headers = bearer(token, **{"If-Match": "*"})
            if content_type:
                headers["Content-Type"] = content_type
            response = client.open(_with_ids(path), method=method, data=body, headers=headers)
            if response.status_code != 403:
                break
        return response

    default_limit = client.application.config["MAX_CONTENT_LENGTH"]
    # A file upload takes the file's limit and room for the form around it.
    media_max = client.application.config["CMS_SETTINGS"].media_max_bytes
    upload_limits = {"/v1/admin/images": media_max + FORM_OVERHEAD_BYTES}
    for method, path, accepted in taking_bodies:
        limit = NDJSON_BODY_LIMITS.get(path) or upload_limits.get(path, default_limit)
        for what, body, content_type, statuses in _body_cases(accepted, limit):
            response = send(method, path, body, content_type)
            problem = response.get_json(silent=True) or {}
            if response.status_code not in statuses or problem.get("status") not in statuses:
                failures.append(f"{method} {path} {what}: {response.status_code} {problem}")
            elif response.content_type != PROBLEM:
                failures.append(f"{method} {path} {what}: {response.content_type}")
        if not any(_is_json(kind) for kind in accepted):
            continue
        for body in ODD_JSON:
            response = send(method, path, body, "application/json")
            if response.status_code >= 500 or response.content_type != PROBLEM:
                failures.append(f"{method} {path} {body!r}: {response.status_code}")

    assert len(taking_bodies) >= 15, taking_bodies
    assert not failures, "\n".join(failures)
