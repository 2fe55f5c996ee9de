"""RFC 9457 problem responses: the API's error documents, and domain errors mapped onto them."""

from __future__ import annotations

import http
import json
import logging
from typing import Any

import marshmallow as ma
from apispec import BasePlugin
from flask import Flask, Response, g, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from psycopg import errors as pg_errors
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import exc as orm_exc
from werkzeug.exceptions import HTTPException

from cms_api.database import db
from cms_api.domain.errors import DomainError
from cms_api.http.connection_drops import note_unavailable

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = 5

# Every kind of problem the API answers with; `type` is "/problems/<kind>".
PROBLEM_KINDS: dict[str, str] = {
    "bad-request": "The request could not be understood (malformed syntax or encoding).",
    "invalid-parameter": "A query parameter is unknown or malformed; `detail` names it "
    "and `errors.query` lists every offending parameter.",
    "unauthorized": "No bearer token, or one that is unknown, expired or revoked; see "
    "`WWW-Authenticate`.",
    "forbidden": "The token's role may not perform this operation.",
    "not-found": "No published resource answers at this address.",
    "method-not-allowed": "The resource exists but not with this method; see `Allow`.",
    "not-acceptable": "None of the representations the client accepts is available.",
    "conflict": "The request conflicts with the current state (duplicate slug, "
    "illegal workflow transition).",
    "illegal-transition": "The workflow does not allow this move from the article's "
    "status; `allowed_transitions` lists the moves that are.",
    "reviewer-not-eligible": "The reviewer cannot sign off medical content today: their "
    "person is in the trash or holds no credential valid today; `reasons` says which.",
    "incomplete-content": "The article lacks what publishing needs; `missing` lists it "
    "(an author, a disclaimer, a section with a body).",
    "payload-too-large": "The request body is over the size limit.",
    "unsupported-media-type": "The request body is not in a content type the operation takes.",
    "validation-error": "The request body failed validation; `errors` lists each field.",
    "unsupported-image": "The uploaded file is not a JPEG, PNG, WebP or AVIF image (judged "
    "by its bytes, not its name or declared type).",
    "unreadable-image": "The uploaded image is corrupt or truncated and cannot be decoded.",
    "image-too-large": "The uploaded image has more pixels than `CMS_MEDIA_MAX_PIXELS` "
    "allows; `max_pixels` says how many.",
    "precondition-failed": "The `If-Match` precondition does not match the current version.",
    "precondition-required": "A write needs `If-Match` with the version the client last read.",
    "rate-limited": "Too many requests; retry after `Retry-After` seconds.",
    "database-unavailable": "The database cannot be reached; retry after `Retry-After` seconds.",
    "busy": "Other writes held the content too long; retry after `Retry-After` seconds.",
    "uri-too-long": "The URL is over 16384 bytes.",
    "header-fields-too-large": "Over 100 header fields, or one over 8192 bytes.",
    "internal-error": "An unexpected error; it has been logged under `request_id`.",
}

_KIND_BY_STATUS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    428: "precondition-required",
    429: "rate-limited",
    503: "database-unavailable",
}


# Response headers documented as components; operations refer to them by component name.
REQUEST_ID_HEADER_REF = "X_REQUEST_ID"
REQUEST_ID_HEADER = {
    "description": "The request's id: the client's `X-Request-ID` when it is 1 to 128 "
    "characters of `[A-Za-z0-9._:-]`, otherwise a new one. Quote it when reporting a problem.",
    "required": True,
    "schema": {"type": "string", "example": "8f14e45fceea167a5a36dedd4bea2543"},
}
RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before retrying.",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "example": RETRY_AFTER_SECONDS},
}


class TranslationRefSchema(ma.Schema):
    locale = ma.fields.String(required=True, metadata={"example": "es"})
    slug = ma.fields.String(required=True, metadata={"example": "dolor-de-cabeza-tras-botox"})
    url = ma.fields.String(
        required=True,
        metadata={
            "description": "The page on the publisher's site in that locale.",
            "example": "https://www.example-health.org/es/articles/dolor-de-cabeza-tras-botox",
        },
    )


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem document. Problems may carry extension members (RFC 9457 §3.2)."""

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(
        required=True,
        metadata={
            "description": "Relative URI naming the kind of problem.",
            "example": "/problems/not-found",
        },
    )
    title = ma.fields.String(required=True, metadata={"example": "Not Found"})
    status = ma.fields.Integer(required=True, metadata={"example": 404})
    detail = ma.fields.String(metadata={"example": "No published article has this slug."})
    instance = ma.fields.String(metadata={"example": "/v1/articles/no-such-article"})
    request_id = ma.fields.String(metadata={"example": "8f14e45fceea167a5a36dedd4bea2543"})
    current_etag = ma.fields.String(
        metadata={"description": "With 412 and 428: the resource's current ETag."}
    )
    allowed_transitions = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "With an illegal workflow move: the moves that are allowed."},
    )
    status_now = ma.fields.String(
        metadata={"description": "With an illegal workflow move: the article's status."}
    )
    translations = ma.fields.List(
        ma.fields.Nested(TranslationRefSchema),
        metadata={
            "description": "With a 404 of a published article, topic or person in a locale "
            "(`?locale=`, default the site's): where the same work is published, by locale "
            "(an article found by this slug in any locale, with its original and every "
            "translation; a topic or person by its slug, which every locale shares). Empty "
            "when it is published nowhere. Content never falls back to another locale: "
            "follow the entry of a locale you can show. When the slug is another locale's "
            "and the work is published in the requested one, that entry is listed too.",
        },
    )
    errors = ma.fields.Dict(
        metadata={
            "description": "Per-location, per-field messages, for 400 and 422.",
            "example": {"query": {"limit": ["Must be between 1 and 100."]}},
        },
    )


def problem_response(
    status: int,
    *,
    kind: str | None = None,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    kind = kind or _KIND_BY_STATUS.get(status, "internal-error" if status >= 500 else "bad-request")
    body: dict[str, Any] = {
        "type": f"/problems/{kind}",
        "title": http.HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    body.update(extra)
    body["request_id"] = g.get("request_id")
    response = Response(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _first_message(reason: Any) -> str:
    # A list's items nest their messages by index ({0: ["..."]}); show the text, not a repr.
    while isinstance(reason, list | dict) and reason:
        reason = reason[0] if isinstance(reason, list) else next(iter(reason.values()))
    return str(reason)


def _describe_invalid(messages: dict[str, Any]) -> str:
    names = sorted(messages)
    if len(names) == 1:
        return f"Query parameter '{names[0]}': {_first_message(messages[names[0]])}"
    return "Invalid query parameters: " + ", ".join(f"'{name}'" for name in names)


class RequestIdPlugin(BasePlugin):
    """Documents `X-Request-ID` on every operation's responses, since every response has it."""

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: Any
    ) -> None:
        for operation in (operations or {}).values():
            for response in operation.get("responses", {}).values():
                # A string names a component response; those get the header where registered.
                if isinstance(response, dict):
                    headers = response.setdefault("headers", {})
                    headers.setdefault("X-Request-ID", REQUEST_ID_HEADER_REF)


class RequestBodyErrorsPlugin(BasePlugin):
    """Documents what any operation taking a body may answer before reading it: a body
    over the size limit (413), not JSON (415), or unparsable or too deeply nested (400)."""

    RESPONSES = {
        "400": "BAD_REQUEST",
        "413": "REQUEST_ENTITY_TOO_LARGE",
        "415": "UNSUPPORTED_MEDIA_TYPE",
    }

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: Any
    ) -> None:
        for operation in (operations or {}).values():
            if "requestBody" in operation:
                responses = operation.setdefault("responses", {})
                for status, name in self.RESPONSES.items():
                    responses.setdefault(status, name)


class ProblemApi(Api):
    """flask-smorest's Api, answering every error as an RFC 9457 problem."""

    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, *, extra_plugins: Any = None, **kwargs: Any) -> None:
        plugins = [*(extra_plugins or ()), RequestBodyErrorsPlugin(), RequestIdPlugin()]
        super()._init_spec(extra_plugins=plugins, **kwargs)

    def _register_responses(self) -> None:
        self.spec.components.header(REQUEST_ID_HEADER_REF, REQUEST_ID_HEADER, lazy=True)
        self.spec.components.header("RETRY_AFTER", RETRY_AFTER_HEADER, lazy=True)
        for status in http.HTTPStatus:
            response: dict[str, Any] = {
                "description": status.phrase,
                "headers": {"X-Request-ID": REQUEST_ID_HEADER_REF},
            }
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            if status in (http.HTTPStatus.SERVICE_UNAVAILABLE, http.HTTPStatus.TOO_MANY_REQUESTS):
                response["headers"]["Retry-After"] = "RETRY_AFTER"
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {
            "description": "Default error response",
            "schema": self.ERROR_SCHEMA,
            "headers": {"X-Request-ID": REQUEST_ID_HEADER_REF},
        }
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> Response:
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        headers = {
            name: value for name, value in error.get_headers() if name.lower() != "content-type"
        }
        headers.update(data.get("headers") or {})
        messages = data.get("messages") or data.get("errors")
        extra: dict[str, Any] = {}
        detail = data.get("message") or error.description
        kind = None
        if messages:
            extra["errors"] = messages
            if status == 400 and "query" in messages:
                kind = "invalid-parameter"
                detail = _describe_invalid(messages["query"])
            elif status == 422:
                count = sum(len(fields) for fields in messages.values() if isinstance(fields, dict))
                detail = f"{count} field{'s' if count != 1 else ''} invalid"
        if status >= 500:
            detail = "An unexpected error occurred."
        return problem_response(status, kind=kind, detail=detail, headers=headers, **extra)


def _discard_session() -> None:
    """Roll back what a failed request flushed, now rather than at teardown, so nothing
    later in the same app context can commit it or trip over a failed transaction."""
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError:
        log.warning("rollback failed (request %s)", g.get("request_id"))


def _handle_domain_error(error: DomainError) -> Response:
    _discard_session()
    return problem_response(
        error.status, kind=error.kind, detail=error.detail, headers=error.headers, **error.extra
    )


def _stale_write(error: orm_exc.StaleDataError) -> Response:
    _discard_session()
    # Two writers raced past If-Match on the same version; the later one loses, visibly.
    return problem_response(
        412, detail="The resource changed while you were saving; reload and retry."
    )


def _database_unavailable(error: Exception) -> Response:
    _discard_session()
    log.warning("database unavailable: %s", error.__class__.__name__)
    # A safe read that met a dropped connection is run once more before this answer is sent.
    note_unavailable(error)
    return problem_response(
        503,
        detail="The database is unavailable. Please retry shortly.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def register_error_handlers(app: Flask, api: ProblemApi) -> None:
    def handle_unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return api.handle_http_exception(error)
        log.exception("unhandled error (request %s)", g.get("request_id"))
        _discard_session()
        return problem_response(500, detail="An unexpected error occurred.")

    def handle_data_error(error: sa_exc.DBAPIError) -> Response:
        _discard_session()
        # A value the database refuses (a NUL byte, an out-of-range number) is bad input.
        if isinstance(error.orig, pg_errors.DataError):
            return problem_response(400, detail="A value in the request is not acceptable.")
        if isinstance(error.orig, pg_errors.OperationalError | pg_errors.AdminShutdown):
            return _database_unavailable(error)
        return handle_unexpected(error)

    app.register_error_handler(DomainError, _handle_domain_error)
    app.register_error_handler(orm_exc.StaleDataError, _stale_write)
    app.register_error_handler(sa_exc.OperationalError, _database_unavailable)
    app.register_error_handler(sa_exc.TimeoutError, _database_unavailable)
    app.register_error_handler(sa_exc.DisconnectionError, _database_unavailable)
    app.register_error_handler(sa_exc.DBAPIError, handle_data_error)
    app.register_error_handler(Exception, handle_unexpected)
