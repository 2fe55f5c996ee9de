"""A WSGI fast path that serves stored published documents by address before Flask routes."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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
    Key,
    Snapshot,
    conninfo_of,
)
from cms_api.domain import locales
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
# The query string of a read in one of the site's locales: `locale=<tag>` alone, the tag
# in its normal form (any other spelling, or anything more, goes to the views).
LOCALE_QUERY = "locale="


@dataclass(frozen=True)
class Statements:
    """The reads behind an answer in one locale, by key column ("slug", "entity_id").

    Every lookup (tests inject their own) is called with a statement, the kind and the
    key, and answers with the row, whose first two columns are the body and the ETag. The
    locale is written into the statement, so every lookup keeps those two parameters and
    each (read, locale) is one prepared statement, found by one probe of the
    (kind, locale, slug) index or the primary key. The memory of StoredDocuments keeps
    what a read brought (bodies compressed), and the gzip form only once a client has
    asked for it (most ask for brotli)."""

    locale: str
    # The body (uncompressed) and the brotli form, for a client that takes brotli.
    brotli: dict[str, str]
    # With the gzip form too, for a client that prefers gzip.
    gzip: dict[str, str]
    # For a client that takes no compression: memory then keeps the uncompressed body too,
    # so such clients (server-side fetches, load generators) are not served a
    # decompression each.
    identity: dict[str, str]
    # A revalidation's read: the ETag alone, no body (the empty first column fits the shape).
    etag: dict[str, str]


# What each statement reads: ("br" | "gzip" | "identity" | "etag", locale).
_SHAPES: dict[str, tuple[str, str]] = {}
_STATEMENTS: dict[str, Statements] = {}


def statements(locale: str) -> Statements:
    """The reads of documents in `locale` (a tag in its normal form), made once."""
    found = _STATEMENTS.get(locale)
    if found is not None:
        return found
    if locales.normalized(locale) != locale:
        # Only letters, digits and hyphens can reach the statement's text.
        raise ValueError(f"{locale!r} is not a locale tag in its normal form.")
    where = {
        "slug": f"WHERE kind = %s AND locale = '{locale}' AND slug = %s",
        "entity_id": f"WHERE kind = %s AND entity_id = %s AND locale = '{locale}'",
    }
    columns = {
        "br": "body, etag, NULL, body_br, entity_id",
        "gzip": "body, etag, body_gzip, body_br, entity_id",
        "identity": "body AS identity, etag, NULL, body_br, entity_id",
        "etag": "'', etag, entity_id",
    }
    made = {
        form: {
            key: f"SELECT {selected} FROM published_documents {condition}"
            for key, condition in where.items()
        }
        for form, selected in columns.items()
    }
    for form, by_key in made.items():
        for sql in by_key.values():
            _SHAPES[sql] = (form, locale)
    found = Statements(locale, made["br"], made["gzip"], made["identity"], made["etag"])
    _STATEMENTS[locale] = found
    return found


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
    documents.snapshot = Snapshot.load(
        _listen_conninfo(settings, primary), KEYS, default_locale=settings.default_locale
    )
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
    ETag, a 304 for a matching If-None-Match, Cache-Control, Content-Language,
    X-Request-ID and the CORS headers of the default `*` configuration. With an origin
    allow-list, CORS needs flask-cors's per-origin logic, so the fast path stands aside.

    Every locale is served alike: the default locale's address has no query string, and
    another's is the same address with `?locale=<tag>` (the tag in its normal form).
    """

    def __init__(self, app: Flask, downstream: WsgiApp) -> None:
        self.app = app
        self.downstream = downstream
        self.enabled = self.serves(app)
        self.exposed = ", ".join(sorted(app.config["CMS_CORS_EXPOSE_HEADERS"]))
        settings = app.config["CMS_SETTINGS"]
        self.default = statements(settings.default_locale)
        # The query strings served here, each naming one of the site's locales.
        self.localized = {LOCALE_QUERY + locale: statements(locale) for locale in settings.locales}
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
            # A draft preview: the stored published document is exactly what it must not get.
            or PREVIEW_HEADER in environ
        ):
            return self.downstream(environ, start_response)
        query = environ.get("QUERY_STRING")
        reads = self.localized.get(query) if query else self.default
        if reads is None:
            return self.downstream(environ, start_response)
        route = _route(environ.get("PATH_INFO", ""))
        if route is None:
            return self.downstream(environ, start_response)
        kind, key, value = route
        locale = reads.locale
        lookup = runtime_of(self.app).document_lookup
        codings = acceptable_codings(environ.get("HTTP_ACCEPT_ENCODING"))
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        try:
            found = None
            if if_none_match:
                # A revalidation is answered from the ETag alone; only a changed document
                # reads its body.
                found = lookup(reads.etag[key], kind, value)
                matched = found and matching_variant(if_none_match, found[1], codings)
                if matched:
                    headers = self._headers(environ, kind, matched, locale)
                    start_response("304 NOT MODIFIED", headers)
                    return [b""]
            if found is not None or not if_none_match:
                # The body in the client's preferred coding (brotli when it takes both:
                # the smaller, and the one memory keeps for every document).
                if codings[0] == "gzip":
                    queries = reads.gzip
                elif codings[0] == "br":
                    queries = reads.brotli
                else:
                    queries = reads.identity
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
            start_response("304 NOT MODIFIED", self._headers(environ, kind, matched, locale))
            return [b""]
        coding = next(c for c in codings if c == IDENTITY or getattr(document, c) is not None)
        data = document.body() if coding == IDENTITY else getattr(document, coding)
        etag = variant_etag(document.etag, coding)
        headers = [
            ("Content-Type", JSON_CONTENT_TYPE),
            ("Content-Length", str(len(data))),
            *self._headers(environ, kind, etag, locale),
        ]
        if coding != IDENTITY:
            headers.append(("Content-Encoding", coding))
        start_response("200 OK", headers)
        return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [data]

    def _headers(
        self, environ: dict[str, Any], kind: str, etag: str, locale: str
    ) -> list[tuple[str, str]]:
        """What a 200 and a 304 both carry (RFC 9110 15.4.5: a 304 has the 200's ETag,
        Cache-Control, Content-Language and Vary)."""
        environ[ROUTE] = RULES[kind]
        supplied_id = environ.get("HTTP_X_REQUEST_ID", "")
        return [
            ("ETag", etag),
            ("Cache-Control", self.cache_control),
            # Chosen by `?locale=` alone (no Accept-Language): nothing to add to Vary.
            ("Content-Language", locale),
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
        # Memory keys a document by its address: (kind, key) in the default locale, as
        # before locales existed, and (kind, key, locale) in another.
        self.default_locale = app.config["CMS_SETTINGS"].default_locale

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
        form, locale = _SHAPES[sql]
        address = (kind, value) if locale == self.default_locale else (kind, value, locale)
        if form == "etag":
            return self._etag(sql, address)
        cache, generation, keep = self.cache, 0, True
        if cache is not None:
            entry = cache.get(address, identity=form == "identity")
            if (
                entry is not None
                and (entry.gzip is not None or form != "gzip")
                and (entry.identity is not None or form != "identity")
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
            keep_identity = not compressed or form == "identity"
            kept = document if keep_identity else document._replace(identity=None)
            cache.put(address, kept, generation)
        return document

    def _etag(self, sql: str, address: Key) -> Document | None:
        """The document's ETag alone, from memory or from its column (no body is read)."""
        kind, value = address[0], address[1]
        cache, generation, keep = self.cache, 0, True
        if cache is not None:
            etag = cache.etag(address)
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
            cache.put_etag(address, row[1], row[2], generation)
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
