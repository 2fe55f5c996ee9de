"""Studio errors as HTML pages (the API's stay RFC 9457 problems), never a bare 500."""

from __future__ import annotations

import http
import logging

from flask import Response, g
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, NotFound

from cms_api.database import db
from cms_api.domain.errors import DomainError
from cms_api.studio import pages
from cms_api.studio.blueprint import bp

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def error_page(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    response = pages.render_page(
        "studio/error.html",
        status=status,
        error_status=status,
        title=http.HTTPStatus(status).phrase,
        message=message,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _discard_session() -> None:
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError:
        log.warning("rollback failed (request %s)", g.get("request_id"))


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return _unexpected(error)
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    return error_page(status, error.description or "", headers)


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> Response:
    _discard_session()
    if error.status >= 500:
        return error_page(error.status, error.detail, error.headers)
    return error_page(error.status, error.detail)


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    _discard_session()
    unavailable = (sa_exc.OperationalError, sa_exc.TimeoutError, sa_exc.DisconnectionError)
    if isinstance(error, unavailable):
        log.warning("database unavailable: %s", error.__class__.__name__)
        return error_page(
            503,
            "The database cannot be reached just now. Please try again in a moment.",
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    log.exception("unhandled studio error (request %s)", g.get("request_id"))
    # The page must not need the database that may have just failed: no session, no user.
    g.studio_session = None
    return error_page(
        500,
        f"Something went wrong on our side. It has been logged as {g.get('request_id')}.",
    )


@bp.route("/<path:anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(anything: str) -> Response:
    """Any other address under /studio: the studio's own 404 page, not an API problem."""
    raise NotFound("There is no page at this address in the studio.")
