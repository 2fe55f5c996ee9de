"""Dropped database connections: safe reads are tried once more, saved writes keep their answer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, g, request
from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc

from cms_api.database import db

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Only methods whose repetition changes nothing are tried again; a write that lost its
# connection may or may not have been saved, and only the client can decide to resend it.
SAFE_METHODS = frozenset({"GET", "HEAD"})
# Set on the request's environ by the 503 handler: this answer should be a second attempt.
RETRY = "cms_api.retry_read"
# Set on the second attempt's environ, so there is never a third.
RETRIED = "cms_api.read_retried"


def install(app: Flask) -> None:
    """Retry safe reads that met a dropped connection; never fail a request in teardown.

    Call after `db.init_app` (teardowns run in reverse: this one closes the session before
    Flask-SQLAlchemy's, which then finds nothing to do) and around the fast path.
    """
    app.teardown_appcontext(_close_session)
    with app.app_context():
        engines = list(db.engines.values())
    app.wsgi_app = RetriedReads(app.wsgi_app, engines)  # type: ignore[method-assign]


def is_dropped_connection(error: BaseException) -> bool:
    """An established connection the server closed (a restart, a terminated backend, a
    network cut): a fresh connection may well succeed. A connection that cannot be opened
    at all is not one: the server is unreachable, and asking again only doubles the wait."""
    if isinstance(error, sa_exc.DisconnectionError):
        return True
    return isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated


def note_unavailable(error: BaseException) -> None:
    """Called as a request is answered 503: ask for a second attempt when that can help."""
    if (
        request.method in SAFE_METHODS
        and is_dropped_connection(error)
        and not request.environ.get(RETRIED)
    ):
        request.environ[RETRY] = True


class RetriedReads:
    """WSGI middleware: run a GET or HEAD once more when its first attempt met a dropped
    connection, before anything of the first answer reaches the client."""

    def __init__(self, downstream: WsgiApp, engines: list[Engine]) -> None:
        self.downstream = downstream
        self.engines = engines

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if environ.get("REQUEST_METHOD") not in SAFE_METHODS:
            return self.downstream(environ, start_response)
        pristine = dict(environ)
        held: list[tuple[Any, ...]] = []
        sent: list[Callable[[bytes], Any]] = []

        def write(data: bytes) -> None:
            # The legacy write callable sends at once: from then on there is no retrying.
            if not sent:
                sent.append(start_response(*held[-1]))
            sent[0](data)

        def holding(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            held.append((status, headers, exc_info))
            return write

        body = self.downstream(environ, holding)
        if not environ.pop(RETRY, False) or sent:
            if held and not sent:
                start_response(*held[-1])
            return body
        if hasattr(body, "close"):
            body.close()
        log.warning(
            "a read met a dropped database connection; trying it once more on a fresh one (%s %s)",
            environ.get("REQUEST_METHOD"),
            environ.get("PATH_INFO"),
        )
        # A dropped connection rarely comes alone (a restart, every backend ended): the
        # pools may hold more of them, and the second attempt must not draw one.
        for engine in self.engines:
            engine.dispose()
        # The same dict, as the layers outside read what the answering attempt notes in it.
        environ.clear()
        environ.update(pristine)
        environ[RETRIED] = True
        return self.downstream(environ, start_response)


def _close_session(_error: BaseException | None) -> None:
    """End the request's session; if its connection is gone, log it and move on.

    Teardown runs after the answer was made: raising here would turn a saved write's answer
    into a server error. The connection is invalidated, so the pool does not reuse it.
    """
    try:
        db.session.remove()
    except Exception:
        log.warning(
            "closing the session failed after the answer (request %s)",
            g.get("request_id"),
            exc_info=True,
        )
        try:
            db.session.registry().invalidate()
        except Exception:
            log.debug("invalidating the session's connections failed", exc_info=True)
        # Whatever happened above, the next context with this id must get a new session.
        db.session.registry.clear()
