"""A WSGI fast path that serves stored published documents by address before Flask routes."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
from flask import Flask, request
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from cms_api.database import db, libpq_url
from cms_api.document_cache import (
    PRIMARY_POSITION,
    REPLAYED_POSITION,
    Document,
    DocumentCache,
    Snapshot,
    conninfo_of,
)
from cms_api.domain.headers import PREVIEW_HEADER_NAME
from cms_api.http.conditional import (
    IDENTITY,
    JSON_CONTENT_TYPE,
    acceptable_codings,
    matching_variant,
    public_cache_control,
    variant_etag,
)
from cms_api.http.requests import REQUEST_ID
from cms_api.observability import ROUTE
from cms_api.services.runtime import runtime_of

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# The addresses served here, with the published document kind and the key they name.
# Everything else, and anything these do not find (a former slug's 301, a 404, a
# database error's 503), goes on to the Flask views, which stay the reference behaviour.
ROUTES = (
    (re.compile(r"/v1/articles/([a-z0-9]+(?:-[a-z0-9]+)*)"), "article", "slug"),
    (re.compile(r"/v1/people/([a-z0-9]+(?:-[a-z0-9]+)*)"), "person", "slug"),
    (re.compile(r"/v1/topics/([a-z0-9]+(?:-[a-z0-9]+)*)"), "topic", "slug"),
    (re.compile(r"/v1/faqs/([0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12})"), "faq", "entity_id"),
)
# The Flask rule each kind's view is routed by, so logs and metrics name the route alike.
RULES = {
    "article": "/v1/articles/<slug>",
    "person": "/v1/people/<slug>",
    "topic": "/v1/topics/<slug>",
    "faq": "/v1/faqs/<uuid:faq_id>",
}
SLUG_MAX = 120
# The column each kind's address names, as a snapshot of every document keys them.
KEYS = {kind: key for _, kind, key in ROUTES}
VARY = {
    "article": f"Accept-Encoding, {PREVIEW_HEADER_NAME}",
    "person": "Accept-Encoding",
    "topic": "Accept-Encoding",
    "faq": "Accept-Encoding",
}
# `X-Preview-Token` as WSGI names it (the query form already falls through).
PREVIEW_HEADER = "HTTP_" + PREVIEW_HEADER_NAME.upper().replace("-", "_")
DATABASE_ERROR = "cms_api.fast_path_database_error"
_WHERE = {
    "slug": "WHERE kind = %s AND slug = %s",
    "entity_id": "WHERE kind = %s AND entity_id = %s",
}
# The reads behind an answer, by key column. Every lookup (tests inject their own) answers
# with the row, and reads its first two columns as the body and the ETag; the memory of
# StoredDocuments keeps what a read brought (bodies compressed), and the gzip form only
# once a client has asked for it (most ask for brotli).
_QUERIES = {
    key: f"SELECT body, etag, NULL, body_br, entity_id FROM published_documents {where}"
    for key, where in _WHERE.items()
}
_QUERIES_GZIP = {
    key: f"SELECT body, etag, body_gzip, body_br, entity_id FROM published_documents {where}"
    for key, where in _WHERE.items()
}
# For a client that takes no compression: memory then keeps the uncompressed body too, so
# such clients (server-side fetches, load generators) are not served a decompression each.
_QUERIES_IDENTITY = {
    key: f"SELECT body AS identity, etag, NULL, body_br, entity_id FROM published_documents {where}"
    for key, where in _WHERE.items()
}
# A revalidation's read: the ETag alone, no body (the empty first column fits the shape).
_ETAG_QUERIES = {
    key: f"SELECT '', etag, entity_id FROM published_documents {where}"
    for key, where in _WHERE.items()
}
_WITH_GZIP = frozenset(_QUERIES_GZIP.values())
_WITH_IDENTITY = frozenset(_QUERIES_IDENTITY.values())
_ETAG_ONLY = frozenset(_ETAG_QUERIES.values())


def install(app: Flask) -> None:
    """Put the fast path in front of the app's routes."""
    app.wsgi_app = PublishedDocumentFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(_reraise_database_error)


def warm(app: Flask) -> Snapshot | None:
    """Read every served document into a snapshot the app's workers will share (called in
    gunicorn's master before it forks them; see cms_api.gunicorn_conf). None when the
    fast path or the document cache is off."""
    documents = runtime_of(app).document_lookup
    settings = app.config["CMS_SETTINGS"]
    fast = PublishedDocumentFastPath.serves(app)
    if not isinstance(documents, StoredDocuments) or not fast or settings.document_cache_mb <= 0:
        return None
    with app.app_context():
        primary = db.engine
    documents.snapshot = Snapshot.load(_listen_conninfo(settings, primary), KEYS)
    return documents.snapshot


def _route(path: str) -> tuple[str, str, Any] | None:
    """The document kind, key column and key value a path names, if it is served here."""
    for pattern, kind, key in ROUTES:
        match = pattern.fullmatch(path)
        if match is not None and len(match[1]) <= SLUG_MAX:
            return kind, key, match[1] if key == "slug" else uuid.UUID(match[1])
    return None


def _reraise_database_error() -> None:
    error = request.environ.pop(DATABASE_ERROR, None)
    if isinstance(error, psycopg.Error):
        # As SQLAlchemy would have wrapped it, so the usual handlers answer it.
        raise DBAPIError.instance(None, None, error, psycopg.Error)
    if error is not None:
        raise error


class PublishedDocumentFastPath:
    """Answer `GET`/`HEAD` of a published article, person, topic or FAQ in one query.

    These are most of a site's traffic, and through Flask, flask-smorest, webargs and
    flask-cors each costs several times the query itself. The answer here is
    byte-for-byte the Flask view's (the test suite compares them): the stored body, its
    ETag, a 304 for a matching If-None-Match, Cache-Control, X-Request-ID and the CORS
    headers of the default `*` configuration. With an origin allow-list, CORS needs
    flask-cors's per-origin logic, so the fast path stands aside.
    """

    def __init__(self, app: Flask, downstream: WsgiApp) -> None:
        self.app = app
        self.downstream = downstream
        self.enabled = self.serves(app)
        self.exposed = ", ".join(sorted(app.config["CMS_CORS_EXPOSE_HEADERS"]))
        with app.app_context():
            self.cache_control = public_cache_control()

    @staticmethod
    def serves(app: Flask) -> bool:
        """Whether the fast path answers for this app (see the class docstring)."""
        settings = app.config["CMS_SETTINGS"]
        return settings.cors_origins == ["*"] and app.config.get("CMS_FAST_PATH", True)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        if (
            not self.enabled
            or environ.get("REQUEST_METHOD") not in ("GET", "HEAD")
            or environ.get("QUERY_STRING")
            # A draft preview: the stored published document is exactly what it must not get.
            or PREVIEW_HEADER in environ
        ):
            return self.downstream(environ, start_response)
        route = _route(environ.get("PATH_INFO", ""))
        if route is None:
            return self.downstream(environ, start_response)
        kind, key, value = route
        lookup = runtime_of(self.app).document_lookup
        codings = acceptable_codings(environ.get("HTTP_ACCEPT_ENCODING"))
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        try:
            found = None
            if if_none_match:
                # A revalidation is answered from the ETag alone; only a changed document
                # reads its body.
                found = lookup(_ETAG_QUERIES[key], kind, value)
                matched = found and matching_variant(if_none_match, found[1], codings)
                if matched:
                    start_response("304 NOT MODIFIED", self._headers(environ, kind, matched))
                    return [b""]
            if found is not None or not if_none_match:
                # The body in the client's preferred coding (brotli when it takes both:
                # the smaller, and the one memory keeps for every document).
                if codings[0] == "gzip":
                    queries = _QUERIES_GZIP
                elif codings[0] == "br":
                    queries = _QUERIES
                else:
                    queries = _QUERIES_IDENTITY
                found = lookup(queries[key], kind, value)
        except (SQLAlchemyError, psycopg.Error) as error:
            # Flask answers it (a 503 problem) as the view would have, without waiting
            # for the unreachable database a second time.
            environ[DATABASE_ERROR] = error
            return self.downstream(environ, start_response)
        if found is None:
            return self.downstream(environ, start_response)
        document = Document(*found)
        # A document changed since the ETag read above may match now.
        matched = matching_variant(if_none_match, document.etag, codings)
        if matched:
            start_response("304 NOT MODIFIED", self._headers(environ, kind, matched))
            return [b""]
        coding = next(c for c in codings if c == IDENTITY or getattr(document, c) is not None)
        data = document.body() if coding == IDENTITY else getattr(document, coding)
        etag = variant_etag(document.etag, coding)
        headers = [
            ("Content-Type", JSON_CONTENT_TYPE),
            ("Content-Length", str(len(data))),
            *self._headers(environ, kind, etag),
        ]
        if coding != IDENTITY:
            headers.append(("Content-Encoding", coding))
        start_response("200 OK", headers)
        return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [data]

    def _headers(self, environ: dict[str, Any], kind: str, etag: str) -> list[tuple[str, str]]:
        """What a 200 and a 304 both carry (RFC 9110 15.4.5: a 304 has the 200's ETag,
        Cache-Control and Vary)."""
        environ[ROUTE] = RULES[kind]
        supplied_id = environ.get("HTTP_X_REQUEST_ID", "")
        return [
            ("ETag", etag),
            ("Cache-Control", self.cache_control),
            ("X-Request-ID", supplied_id if REQUEST_ID.match(supplied_id) else uuid.uuid4().hex),
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Expose-Headers", self.exposed),
            # Every answer, uncompressed too: a shared cache must not hand one client's
            # coding to another. Articles also vary with a preview token, as their
            # blueprint says.
            ("Vary", VARY[kind]),
        ]


class StoredDocuments:
    """The fast path's reads of stored documents: each worker's memory first, then one query
    on a raw pooled connection (no Connection object, no result wrapping).

    With a replica (``DATABASE_REPLICA_URL``) the `delivery` engine reads there, and a read
    is kept in memory only if the replica had replayed every change announced before it
    (`DocumentCache.ticket`); the cache listens on ``DATABASE_LISTEN_URL`` (the primary)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._engine: Any = None
        self._primary: Any = None
        self.cache: DocumentCache | None = None
        # Read before the fork (`warm`), shared by every worker's cache.
        self.snapshot: Snapshot | None = None

    def memory(self) -> DocumentCache | None:
        """This process's document cache, made on first use (None: turned off)."""
        if self._engine is None:
            settings = self.app.config["CMS_SETTINGS"]
            with self.app.app_context():
                self._engine = db.engines["delivery"]
                self._primary = db.engine
            if settings.document_cache_mb > 0:
                self.cache = DocumentCache(
                    _listen_conninfo(settings, self._primary),
                    max_bytes=settings.document_cache_mb << 20,
                    replica=bool(settings.database_replica_url),
                    snapshot=self.snapshot,
                )
        return self.cache

    def __call__(self, sql: str, kind: str, value: Any) -> Document | None:
        self.memory()
        if sql in _ETAG_ONLY:
            return self._etag(sql, kind, value)
        cache, generation, keep = self.cache, 0, True
        if cache is not None:
            entry = cache.get((kind, value), identity=sql in _WITH_IDENTITY)
            if (
                entry is not None
                and (entry.gzip is not None or sql not in _WITH_GZIP)
                and (entry.identity is not None or sql not in _WITH_IDENTITY)
            ):
                return entry
            # Before reading: see DocumentCache.put (and .ticket).
            if cache.replica:
                generation, keep = self._ticket(cache)
            else:
                generation = cache.generation()
        row = self._query(sql, kind, value)
        if row is None:
            return None
        body, etag, gzip, br, entity_id = row
        document = Document(body.encode(), etag, gzip, br, entity_id)
        if cache is not None and keep:
            # Compressed, a quarter of the size: the uncompressed body is made again from
            # it when asked for (about 70 us for 33 KB of brotli), unless this client takes
            # no compression, whose next requests then find it kept.
            compressed = gzip is not None or br is not None
            keep_identity = not compressed or sql in _WITH_IDENTITY
            kept = document if keep_identity else document._replace(identity=None)
            cache.put((kind, value), kept, generation)
        return document

    def _etag(self, sql: str, kind: str, value: Any) -> Document | None:
        """The document's ETag alone, from memory or from its column (no body is read)."""
        cache, generation, keep = self.cache, 0, True
        if cache is not None:
            etag = cache.etag((kind, value))
            if etag is not None:
                return Document(None, etag)
            if cache.replica:
                generation, keep = self._ticket(cache)
            else:
                generation = cache.generation()
        row = self._query(sql, kind, value)
        if row is None:
            return None
        if cache is not None and keep:
            cache.put_etag((kind, value), row[1], row[2], generation)
        return Document(None, row[1], entity_id=row[2])

    def _ticket(self, cache: DocumentCache) -> tuple[int, bool]:
        """Before a read from the replica: the cache's generation, and whether the read may
        be kept, the replica having replayed every change announced so far. Costs nothing
        until a change is announced, then one query (two after a commit in this process)
        until the replica is seen past it."""
        generation, required = cache.ticket()
        if not cache.listening:
            return generation, False  # nothing is kept meanwhile: no need to ask
        try:
            if required is None:  # a commit here: the primary's position now follows it
                cache.settle(self._position(self._primary, PRIMARY_POSITION), generation)
                generation, required = cache.ticket()
                if required is None:
                    return generation, False
            if not cache.caught_up(required):
                cache.replayed(self._position(self._engine, REPLAYED_POSITION))
        except (SQLAlchemyError, psycopg.Error):
            # The read itself may still be answered (the replica without the primary):
            # it is only not kept.
            return generation, False
        return generation, cache.caught_up(required)

    def _position(self, engine: Any, sql: str) -> int:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(sql)
            row = cursor.fetchone()
            cursor.close()
            return int(row[0]) if row and row[0] is not None else 0
        finally:
            connection.close()

    def _query(self, sql: str, kind: str, value: Any) -> tuple[Any, ...] | None:
        """The row, read on a pooled connection; if the server had dropped that connection,
        read once more on a fresh one (a connection that cannot be opened is not retried:
        the server is unreachable, and the view's 503 should come without a second wait)."""
        for attempt in (1, 2):
            connection = self._engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute(sql, (kind, value))
                row = cursor.fetchone()
                cursor.close()
                return row
            except Exception as error:
                dropped = attempt == 1 and self._engine.dialect.is_disconnect(
                    error, connection.dbapi_connection, None
                )
                connection.invalidate(error)
                if not dropped:
                    raise
                log.warning("a stored document read met a dropped connection; reading again")
                # The others in the pool were likely dropped with it (a restart, every
                # backend ended): the second attempt must not draw one of them.
                self._engine.dispose()
            finally:
                connection.close()
        return None  # not reached: the second attempt returns or raises


def _listen_conninfo(settings: Any, primary: Any) -> str:
    """Where the document cache listens: ``DATABASE_LISTEN_URL``, else the primary."""
    if settings.database_listen_url:
        return libpq_url(settings.database_listen_url)
    return conninfo_of(primary)
