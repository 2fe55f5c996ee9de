"""Remembered list pages, searches and lookups answered before Flask routes the request."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from flask import Flask, request
from sqlalchemy.exc import SQLAlchemyError

from cms_api.database import db
from cms_api.document_cache import PRIMARY_POSITION, REPLAYED_POSITION, DocumentCache
from cms_api.fastpath import StoredDocuments
from cms_api.http.requests import REQUEST_ID
from cms_api.observability import ROUTE
from cms_api.ratelimit import limiter
from cms_api.services.delivery import remembered
from cms_api.services.runtime import reading, runtime_of

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# The public reads whose views answer from memory (`answered_from_memory`): what they
# answer follows from the address alone and the published content, so the same address
# gets the same bytes until a change. Search is rate limited, and a search answered here
# still counts against its client's limit (see `_counted`).
PATHS = frozenset(
    {"/v1/articles", "/v1/faqs", "/v1/people", "/v1/topics", "/v1/lookup", "/v1/search"}
)
SEARCH = "/v1/search"
# What the views make per request and this layer makes again: the request id, and the
# rate limit's headers (of search).
REQUEST_ID_HEADER = "X-Request-ID"
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
RETRY_AFTER = "Retry-After"
_PER_REQUEST = frozenset(name.lower() for name in (REQUEST_ID_HEADER, *RATE_LIMIT_HEADERS))
_PER_REQUEST_LIMITED = _PER_REQUEST | {RETRY_AFTER.lower()}
# Where the search view leaves the rate limit it counted, for this layer to count the same.
COUNTED_LIMIT = "cms_api.counted_limit"
# The address that cannot be a document's, whose look-up in the document cache only makes
# sure the cache's listener runs in this process (it starts on first use in each one).
_NO_DOCUMENT = ("", "")


@dataclass(frozen=True)
class CountedLimit:
    """The rate limit a search was counted against: its item, and the storage key around
    the client's address (flask-limiter's prefix before it, the scope after)."""

    item: Any
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True)
class Kept:
    """An answer the views gave, as sent: body and headers (less those made per request),
    with what says whether published content has changed since it was read."""

    body: bytes
    headers: tuple[tuple[str, str], ...]
    route: str
    # The document cache's generation before the read (None: the cache was not told of
    # changes then), and the change feed's version before it (None: not read).
    generation: int | None
    version: remembered.Version | None
    # The settings it was answered under: the views read them per request (the base of
    # `Link`, Cache-Control, the search limit), so an answer kept under others is not used.
    settings: Any = None
    limit: CountedLimit | None = None


def install(app: Flask) -> None:
    """Put the remembered answers in front of the app's routes (and of the documents')."""
    app.wsgi_app = RememberedFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
    app.after_request(_note_counted_limit)


def _note_counted_limit(response: Any) -> Any:
    """Leave the search's rate limit in the request's environ, for `RememberedFastPath`."""
    if request.path == SEARCH and response.status_code == 200:
        limits = limiter.current_limits
        client = request.remote_addr or "127.0.0.1"
        if len(limits) == 1 and client in limits[0].request_args:
            arguments = list(limits[0].request_args)
            position = arguments.index(client)
            request.environ[COUNTED_LIMIT] = CountedLimit(
                limits[0].limit, tuple(arguments[:position]), tuple(arguments[position + 1 :])
            )
    return response


class RememberedFastPath:
    """Answer `GET` of a list page, search or lookup a worker answered before, from memory.

    Through Flask, flask-smorest and webargs such an answer costs several times what it
    took to find it. The first request for an address goes to the views, which stay the
    reference behaviour (validation, problems, headers); a 200 is kept as it was sent and
    given again, byte for byte, with a request id of its own, while published content is
    unchanged. Anything else (another method, `If-None-Match`, another path) goes on.

    Unchanged means: while the document cache (`DocumentCache`) is told of every change by
    PostgreSQL's `NOTIFY`, that no change was announced since the answer was read (no read
    at all); otherwise, that the change feed's version is the one read before it (one
    small read, as the views' own memory checks). With a replica, an answer is kept only
    if the replica had replayed every change announced before it was read, so no answer
    kept is older than a change this worker was told about.
    """

    def __init__(self, app: Flask, downstream: WsgiApp) -> None:
        self.app = app
        self.downstream = downstream
        settings = app.config["CMS_SETTINGS"]
        # With an origin allow-list, CORS headers depend on the request's Origin.
        self.enabled = settings.cors_origins == ["*"] and app.config.get("CMS_FAST_PATH", True)
        # Kept with the views' own answers, in the one budget of each worker, and keyed
        # apart from them (and from another app's in the same process) by this object.
        self.answers = remembered.ANSWERS
        self.identity = object()
        self.replica = bool(settings.database_replica_url)
        self._engines: tuple[Any, Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if (
            not self.enabled
            or environ.get("REQUEST_METHOD") != "GET"
            or environ.get("PATH_INFO") not in PATHS
            or "HTTP_IF_NONE_MATCH" in environ
        ):
            return self.downstream(environ, start_response)
        key = (self.identity, environ["PATH_INFO"], environ.get("QUERY_STRING", ""))
        cache = self._document_cache()
        if cache is not None and not _told_of_changes(cache):
            cache = None
        kept = self.answers.get(key)
        if (
            kept is not None
            and kept.settings is self.app.config["CMS_SETTINGS"]
            and self._current(kept, cache)
        ):
            headers = self._counted(kept, environ)
            if headers is not None:
                environ[ROUTE] = kept.route
                start_response("200 OK", headers)
                return [kept.body]
        return self._answer_and_keep(key, cache, environ, start_response)

    # -- answering from memory ------------------------------------------------------------

    def _current(self, kept: Kept, cache: DocumentCache | None) -> bool:
        """Whether published content is still what the kept answer was read at. `cache`:
        the document cache while it is told of changes, else None."""
        if cache is not None:
            # Only an answer kept at a generation: one checked against a replica's change
            # feed could be older than a change this worker was told about.
            return kept.generation is not None and kept.generation == cache.generation()
        if kept.version is None:
            return False
        try:
            with self._reading() as connection:
                return remembered.unchanged(connection, kept.version)
        except (SQLAlchemyError, psycopg.Error):
            return False  # the views answer, and say what is wrong

    def _counted(self, kept: Kept, environ: dict[str, Any]) -> list[tuple[str, str]] | None:
        """The answer's headers for this request; for a search, once it is counted against
        the client's rate limit (None: over the limit, or not countable here)."""
        supplied = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = supplied if REQUEST_ID.match(supplied) else uuid.uuid4().hex
        headers = [*kept.headers, (REQUEST_ID_HEADER, request_id)]
        if kept.limit is None:
            return headers if environ["PATH_INFO"] != SEARCH else None
        strategy = limiter.limiter
        if strategy is None or getattr(limiter, "_storage_dead", False):
            return None
        client = environ.get("REMOTE_ADDR") or "127.0.0.1"
        arguments = (*kept.limit.before, client, *kept.limit.after)
        item = kept.limit.item
        try:
            if not strategy.hit(item, *arguments):
                return None  # the view answers the 429, and counts it
            reset, remaining = strategy.get_window_stats(item, *arguments)
        except Exception:
            log.warning("a rate limit could not be counted here; the view counts it")
            return None
        reset_at = int(reset + 1)
        # As flask-limiter writes them on the view's answer.
        headers += [
            (RATE_LIMIT_HEADERS[0], str(item.amount)),
            (RATE_LIMIT_HEADERS[1], str(remaining)),
            (RATE_LIMIT_HEADERS[2], str(reset_at)),
            (RETRY_AFTER, str(int(reset_at - time.time()))),
        ]
        return headers

    # -- keeping what the views answer ----------------------------------------------------

    def _answer_and_keep(
        self,
        key: tuple[object, str, str],
        cache: DocumentCache | None,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
    ):
        settings = self.app.config["CMS_SETTINGS"]
        generation = self._ticket(cache) if cache is not None else None
        version = None
        if cache is None:
            try:
                with self._reading() as connection:
                    version = remembered.version_seen_by(connection)
            except (SQLAlchemyError, psycopg.Error):
                version = None  # nothing is kept; the view answers, and says what is wrong
        answered: list[tuple[str, list[tuple[str, str]], Any]] = []

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered.append((status, headers, exc_info))
            return start_response(status, headers, exc_info)

        body = self.downstream(environ, recording)
        if (generation is None and version is None) or not answered:
            return body
        status, headers, exc_info = answered[-1]
        route = environ.get(ROUTE)
        limit = environ.get(COUNTED_LIMIT)
        if (
            status != "200 OK"
            or exc_info is not None
            or route is None
            or (key[1] == SEARCH and limit is None)
        ):
            return body
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        dropped = _PER_REQUEST_LIMITED if limit is not None else _PER_REQUEST
        self.answers.put(
            key,
            Kept(
                body=data,
                headers=tuple((n, v) for n, v in headers if n.lower() not in dropped),
                route=route,
                generation=generation,
                version=version,
                settings=settings,
                limit=limit,
            ),
        )
        return [data]

    def _ticket(self, cache: DocumentCache) -> int | None:
        """Before reading: the generation an answer is kept at, or None (nothing is kept)
        when, with a replica, the replica was not seen to have replayed every change
        announced so far."""
        generation, required = cache.ticket()
        if not cache.replica:
            return generation
        try:
            if required is None:  # a commit here: the primary's position now follows it
                cache.settle(self._position(primary=True), generation)
                generation, required = cache.ticket()
                if required is None:
                    return None
            if not cache.caught_up(required):
                cache.replayed(self._position(primary=False))
        except (SQLAlchemyError, psycopg.Error):
            return None
        return generation if cache.caught_up(required) else None

    # -- connections ----------------------------------------------------------------------

    def _document_cache(self) -> DocumentCache | None:
        """This worker's document cache, whose listener hears every change announced."""
        lookup = runtime_of(self.app).document_lookup
        if not isinstance(lookup, StoredDocuments):
            return None  # a lookup injected by tests: no cache
        return lookup.memory()

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        """A delivery connection as the views get one (from the replica, if one is set),
        without a request context."""
        with self.app.app_context():
            if self.replica:
                with db.engines["delivery"].connect() as connection:
                    yield connection
            else:
                with reading() as connection:
                    yield connection

    def _position(self, *, primary: bool) -> int:
        if self._engines is None:
            with self.app.app_context():
                self._engines = (db.engine, db.engines["delivery"])
        engine = self._engines[0 if primary else 1]
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(PRIMARY_POSITION if primary else REPLAYED_POSITION)
            row = cursor.fetchone()
            cursor.close()
            return int(row[0]) if row and row[0] is not None else 0
        finally:
            connection.close()


def _told_of_changes(cache: DocumentCache) -> bool:
    """Whether the cache's listener is connected (a look-up starts it in this process)."""
    cache.etag(_NO_DOCUMENT)
    return cache.listening
