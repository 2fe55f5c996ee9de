"""Published documents in each worker's memory, dropped when PostgreSQL says they changed."""

from __future__ import annotations

import logging
import mmap
import os
import tempfile
import threading
import time
import uuid
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, NamedTuple

import brotli
import psycopg

log = logging.getLogger(__name__)

# Publishing sends notifications on this channel in every transaction that writes or
# removes published documents; PostgreSQL delivers them when (and only if) it commits.
CHANNEL = "cms_documents"
# A payload names changed documents ("article:<32 hex digits>", space-separated); PostgreSQL
# refuses payloads of 8000 bytes or more. A transaction that changes more than NAMED_LIMIT
# documents sends EVERYTHING instead (as does a bare NOTIFY, whose payload is empty).
PAYLOAD_BYTES = 7900
NAMED_LIMIT = 2000
EVERYTHING = "*"
# WAL positions, as bytes since 0/0. The primary's, read by the listener once a commit's
# notification has arrived (so at or after that commit's record), or by a reader after a
# commit in its own process; and how far a replica has replayed (a server that is not in
# recovery has all there is: its current position).
PRIMARY_POSITION = "SELECT (pg_current_wal_lsn() - '0/0')::bigint"
REPLAYED_POSITION = (
    "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
    " ELSE pg_current_wal_lsn() END - '0/0')::bigint"
)

# The address a reader asked for: (kind, slug) or (kind, entity id) in the site's default
# locale, as before locales existed, and (kind, slug or entity id, locale) in another.
Key = tuple[Any, ...]
# A snapshot's addresses fall into this many buckets, each with a digest of its documents'
# addresses and ETags, so a worker finds what changed since from one row per bucket.
BUCKETS = 1024
_ADDRESS = "kind || ':' || locale || ':' || coalesce(slug, '') || ':' || entity_id::text"
_BUCKET = f"(hashtext({_ADDRESS}) & {BUCKETS - 1})"
# Order-free, so PostgreSQL need not sort: the XOR of each document's 64-bit hash.
_DIGESTS = (
    f"SELECT {_BUCKET}, bit_xor(hashtextextended({_ADDRESS} || ':' || etag, 0)), count(*) "
    "FROM published_documents WHERE kind = ANY(%s) GROUP BY 1"
)
Changed = tuple[str, uuid.UUID]  # (kind, entity id): what publishing announces


class Document(NamedTuple):
    """A stored document as the fast path serves it: its ETag and the forms of its body at
    hand. Any lookup's row fits (the first two columns are the body and its ETag)."""

    identity: bytes | None
    etag: str
    gzip: bytes | None = None
    br: bytes | None = None
    entity_id: uuid.UUID | None = None

    def body(self) -> bytes:
        """The uncompressed body (kept, or made from a compressed form)."""
        if self.identity is not None:
            return self.identity
        if self.br is not None:
            return brotli.decompress(self.br)
        assert self.gzip is not None
        return zlib.decompress(self.gzip, 31)

    def size(self) -> int:
        return sum(len(form) for form in (self.identity, self.gzip, self.br) if form is not None)


class Snapshot:
    """Every stored document of the served kinds as it was at one moment, read once before
    gunicorn forks its workers and shared by all of them, recycled ones included.

    The bodies (uncompressed and brotli) sit in one unlinked file mapped read-only, so the
    page cache holds a single copy for every worker and a read copies only the bytes it
    serves; the index (address → offset, sizes, ETag, entity id) is copied lazily by the
    fork. A worker serves from it only once it has compared it with the database after its
    `LISTEN` started (`DocumentCache`), so it never serves a copy older than a change it
    could have heard of."""

    def __init__(self, keys: dict[str, str], default_locale: str) -> None:
        # kind → the column a reader's address names ("slug" or "entity_id")
        self.keys = keys
        self.default_locale = default_locale
        self.index: dict[Key, tuple[int, int, int, str, uuid.UUID]] = {}
        self.addresses: dict[Changed, list[Key]] = {}
        self.buckets: dict[int, list[Key]] = {}
        self.digests: dict[int, tuple[int, int]] = {}
        self._mapped: mmap.mmap | None = None
        self.bytes = 0
        self.seconds = 0.0

    @classmethod
    def load(cls, conninfo: str, keys: dict[str, str], *, default_locale: str) -> Snapshot:
        """Read every stored document of these kinds, in every locale, streaming, in one
        transaction; addressed as the fast path asks (see `Key`)."""
        snapshot = cls(keys, default_locale)
        started = time.perf_counter()
        offset = 0
        with (
            psycopg.connect(conninfo, connect_timeout=10) as conn,
            tempfile.TemporaryFile(prefix="cms-documents-") as file,
        ):
            with conn.transaction(), conn.cursor(name="document_snapshot") as cursor:
                # The digests and the documents as of one moment.
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                snapshot.digests = {
                    bucket: (digest, count)
                    for bucket, digest, count in conn.execute(_DIGESTS, (list(keys),))
                }
                cursor.itersize = 500
                cursor.execute(
                    f"SELECT kind, slug, entity_id, etag, body, body_br, {_BUCKET}, locale "
                    "FROM published_documents WHERE kind = ANY(%s)",
                    (list(keys),),
                )
                for kind, slug, entity_id, etag, body, br, bucket, locale in cursor:
                    identity = body.encode()
                    file.write(identity)
                    if br is not None:
                        br = bytes(br)
                        file.write(br)
                    key = snapshot._key(kind, slug, entity_id, locale)
                    snapshot.index[key] = (offset, len(identity), len(br or b""), etag, entity_id)
                    snapshot.addresses.setdefault((kind, entity_id), []).append(key)
                    snapshot.buckets.setdefault(bucket, []).append(key)
                    offset += len(identity) + len(br or b"")
            file.flush()
            if offset:
                snapshot._mapped = mmap.mmap(file.fileno(), offset, access=mmap.ACCESS_READ)
        snapshot.bytes = offset
        snapshot.seconds = time.perf_counter() - started
        return snapshot

    def _key(self, kind: str, slug: str | None, entity_id: uuid.UUID, locale: str) -> Key:
        value = entity_id if self.keys[kind] == "entity_id" else slug
        return (kind, value) if locale == self.default_locale else (kind, value, locale)

    def __len__(self) -> int:
        return len(self.index)

    def get(self, key: Key, identity: bool = True) -> Document | None:
        """The document at this address: uncompressed, or (`identity` false) brotli when
        there is a brotli form; only the form served is copied out of the mapping."""
        found = self.index.get(key)
        if found is None or self._mapped is None:
            return None
        offset, size, br_size, etag, entity_id = found
        end = offset + size
        if identity or not br_size:
            return Document(self._mapped[offset:end], etag, None, None, entity_id)
        return Document(None, etag, None, self._mapped[end : end + br_size], entity_id)

    def etag(self, key: Key) -> str | None:
        found = self.index.get(key)
        return found[3] if found is not None else None

    def stale(self, conn: psycopg.Connection) -> set[Key]:
        """The addresses whose document is no longer what was read: changed, moved or gone
        (a document added since is simply not here). PostgreSQL digests every bucket; only
        the documents of buckets whose digest changed are read and compared."""
        kinds = list(self.keys)
        digests = {
            bucket: (digest, count) for bucket, digest, count in conn.execute(_DIGESTS, (kinds,))
        }
        changed = [
            bucket
            for bucket in set(digests) | set(self.digests)
            if digests.get(bucket) != self.digests.get(bucket)
        ]
        if not changed:
            return set()
        current = {
            self._key(kind, slug, entity_id, locale): (etag, entity_id)
            for kind, slug, entity_id, etag, locale in conn.execute(
                "SELECT kind, slug, entity_id, etag, locale FROM published_documents "
                f"WHERE kind = ANY(%s) AND {_BUCKET} = ANY(%s)",
                (kinds, changed),
            )
        }
        stale = set()
        for bucket in changed:
            for key in self.buckets.get(bucket, ()):
                _, _, _, etag, entity_id = self.index[key]
                if current.get(key) != (etag, entity_id):
                    stale.add(key)
        return stale


# Every cache in this process, so a commit here drops what it changed at once rather than
# when its own notification comes back: a writer then reads what it wrote.
_caches: weakref.WeakSet[DocumentCache] = weakref.WeakSet()


def drop_local(changed: Iterable[Changed] | None = None) -> None:
    """Drop these documents (or, with None, everything) from every cache in this process."""
    named = None if changed is None else set(changed)
    for cache in list(_caches):
        if named is None or len(named) > NAMED_LIMIT:
            cache.clear()
        else:
            cache.drop(named)


def clear_local() -> None:
    drop_local(None)


def payloads(changed: set[Changed]) -> list[str]:
    """The notification payloads that name these changed documents."""
    if len(changed) > NAMED_LIMIT:
        return [EVERYTHING]
    result: list[str] = []
    current: list[str] = []
    size = 0
    for kind, entity_id in sorted(changed, key=str):
        item = f"{kind}:{entity_id.hex}"
        if current and size + len(item) + 1 > PAYLOAD_BYTES:
            result.append(" ".join(current))
            current, size = [], 0
        current.append(item)
        size += len(item) + 1
    if current:
        result.append(" ".join(current))
    return result


def parse(payload: str) -> set[Changed] | None:
    """The documents a payload names; None for everything (or a payload not understood)."""
    if not payload or payload == EVERYTHING:
        return None
    changed: set[Changed] = set()
    for item in payload.split():
        kind, _, hex_id = item.partition(":")
        try:
            changed.add((kind, uuid.UUID(hex=hex_id)))
        except ValueError:
            return None  # better to drop everything than keep something stale
    return changed


class DocumentCache:
    """Stored documents by address, for one process: compressed bodies in an LRU bounded in
    bytes, and the ETags of many more (a revalidation is answered from those alone).

    A body is kept compressed (brotli, else gzip), about a quarter of its size, and
    decompressed for a client that accepts neither; a gzip form is kept beside it once a
    client asks for gzip. Each entry remembers which document (kind, entity id) it is,
    so a notification naming documents drops exactly their entries, whatever addresses
    they were read by (a former slug included).

    A listener thread holds a `LISTEN` connection (to the primary, directly). While that
    connection is down nothing is kept or served from memory: with no word of changes,
    memory could be stale. A generation number guards the race where a read from before a
    commit would be stored after the notification that invalidated it.

    With `replica`, reads come from a streaming replica, which may not have replayed a
    commit yet when its notification arrives. Each change then also raises the WAL position
    the replica must have replayed before a read from it may be kept (`ticket`): the
    primary's position read by the listener when the notification arrives, or, for a
    commit in this process (`drop_local`), one a reader reads from the primary later
    (`settle`). A read made before the replica was seen there is served but not kept.

    With a `snapshot`, every address it holds is answered from it (after this process's
    own entries), once the listener has compared it with the primary; a change announced
    since marks the changed addresses stale, and an announcement of everything compares
    it again.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        max_bytes: int,
        max_etags: int | None = None,
        replica: bool = False,
        snapshot: Snapshot | None = None,
    ) -> None:
        self.conninfo = conninfo
        self.replica = replica
        # Shared by every worker (see Snapshot); served from only while `_snapshot_ready`,
        # except the addresses in `_stale`, whose documents changed since it was read.
        self.snapshot = snapshot
        self._snapshot_ready = False
        self._stale: set[Key] = set()
        # The position a replica must have replayed for its reads to be kept; None while a
        # commit in this process has not been placed yet. And how far it was seen to have.
        self._required: int | None = 0
        self._replayed = 0
        self.max_bytes = max_bytes
        # About 300 bytes each: a 64 MB budget also keeps 65,536 ETags (~20 MB).
        self.max_etags = max_etags if max_etags is not None else max(1024, max_bytes >> 10)
        self._entries: OrderedDict[Key, Document] = OrderedDict()
        self._bytes = 0
        # Every address in `_entries` and more: address → (ETag, entity id), oldest first.
        self._etags: dict[Key, tuple[str, uuid.UUID]] = {}
        self._addresses: dict[Changed, set[Key]] = {}
        self._lock = threading.Lock()
        self._generation = 0
        self._listening = False
        self._pid: int | None = None
        _caches.add(self)

    # -- reads ----------------------------------------------------------------------------

    def get(self, key: Key, identity: bool = True) -> Document | None:
        """The document at this address, if kept (from the snapshot: uncompressed, or with
        `identity` false in brotli where it has that form)."""
        self._ensure_listener()
        if not self._listening:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry
        if self._snapshot_ready and key not in self._stale:
            return self.snapshot.get(key, identity)  # type: ignore[union-attr]
        return None

    def etag(self, key: Key) -> str | None:
        """The ETag of the document at this address, if known (no body needed)."""
        self._ensure_listener()
        if not self._listening:
            return None
        known = self._etags.get(key)
        if known is not None:
            return known[0]
        if self._snapshot_ready and key not in self._stale:
            return self.snapshot.etag(key)  # type: ignore[union-attr]
        return None

    def generation(self) -> int:
        return self._generation

    def ticket(self) -> tuple[int, int | None]:
        """For a read from a replica: the generation, and the WAL position the replica must
        have replayed before the read for it to be kept (None: not known yet, see `settle`)."""
        with self._lock:
            return self._generation, self._required

    def settle(self, position: int, generation: int) -> None:
        """The primary's position, read after `ticket` gave `generation` and None: it
        follows every commit this process had announced, if none was announced since."""
        with self._lock:
            if generation == self._generation:
                self._required = max(self._required or 0, position)

    @property
    def listening(self) -> bool:
        return self._listening

    def caught_up(self, required: int) -> bool:
        """Whether the replica was seen to have replayed `required` (a read from now on
        sees all that position holds)."""
        return self._replayed >= required

    def replayed(self, position: int) -> None:
        """The replica was seen to have replayed this far (replay only moves forward)."""
        with self._lock:
            self._replayed = max(self._replayed, position)

    def put(self, key: Key, entry: Document, generation: int) -> None:
        """Keep what was read at `generation`, unless a change has been announced since."""
        size = entry.size()
        if entry.entity_id is None or size > self.max_bytes // 8:
            return
        with self._lock:
            if not self._listening or generation != self._generation:
                return
            self._remember(key, entry.etag, entry.entity_id)
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= previous.size()
            self._entries[key] = entry
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size()

    def put_etag(self, key: Key, etag: str, entity_id: uuid.UUID, generation: int) -> None:
        """Keep an ETag read at `generation` (as `put` does a body)."""
        with self._lock:
            if self._listening and generation == self._generation:
                self._remember(key, etag, entity_id)

    def _remember(self, key: Key, etag: str, entity_id: uuid.UUID) -> None:
        known = self._etags.pop(key, None)
        if known is not None and known[1] != entity_id:
            self._forget_address(key, known[1])
        self._etags[key] = (etag, entity_id)
        self._addresses.setdefault((key[0], entity_id), set()).add(key)
        while len(self._etags) > self.max_etags:
            oldest = next(iter(self._etags))
            _, oldest_id = self._etags.pop(oldest)
            self._forget_address(oldest, oldest_id)
            evicted = self._entries.pop(oldest, None)
            if evicted is not None:
                self._bytes -= evicted.size()

    def _forget_address(self, key: Key, entity_id: uuid.UUID) -> None:
        addresses = self._addresses.get((key[0], entity_id))
        if addresses is not None:
            addresses.discard(key)
            if not addresses:
                del self._addresses[(key[0], entity_id)]

    # -- invalidation ---------------------------------------------------------------------

    def drop(self, changed: Iterable[Changed], position: int | None = None) -> None:
        """Forget these documents, by whatever address each was read; `position`: the
        primary's WAL position after the change (None: not known, a commit here)."""
        with self._lock:
            self._generation += 1
            self._require(position)
            addresses = self.snapshot.addresses if self.snapshot is not None else {}
            for document in changed:
                self._stale.update(addresses.get(document, ()))
                for key in self._addresses.pop(document, ()):
                    self._etags.pop(key, None)
                    entry = self._entries.pop(key, None)
                    if entry is not None:
                        self._bytes -= entry.size()

    def clear(self, position: int | None = None) -> None:
        with self._lock:
            self._generation += 1
            self._require(position)
            self._empty()

    def _require(self, position: int | None) -> None:
        if self.replica:
            if position is None:
                self._required = None
            elif self._required is not None:
                self._required = max(self._required, position)

    def _empty(self) -> None:
        # The snapshot too, until the listener compares it with the database again.
        self._snapshot_ready = False
        self._entries.clear()
        self._etags.clear()
        self._addresses.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes

    # -- the listener ---------------------------------------------------------------------

    def _ensure_listener(self) -> None:
        # Started on first use in each process: a thread started before gunicorn forks
        # its workers (preload_app) would not exist in them.
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._listening = False
        self._empty()
        threading.Thread(target=self._listen, name="document-cache", daemon=True).start()

    def _listen(self) -> None:
        delay = 1.0
        while True:
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    # Changes made while no one listened.
                    self.clear(self._position(conn))
                    self._compare_snapshot(conn)
                    self._listening = True
                    delay = 1.0
                    for batch in _notifications(conn):
                        # Read now, the position follows the commits that sent these.
                        position = self._position(conn)
                        changed: set[Changed] | None = set()
                        for notification in batch:
                            named = parse(notification.payload)
                            changed = None if named is None or changed is None else changed | named
                        if changed is None:
                            self.clear(position)
                            self._compare_snapshot(conn)
                        else:
                            self.drop(changed, position)
            except psycopg.Error as error:
                if self._listening or delay == 1.0:  # once per outage, not every retry
                    log.warning("document cache listener: %s", error.__class__.__name__)
            self._stop_serving()
            time.sleep(delay)
            delay = min(delay * 2, 30.0)

    def _compare_snapshot(self, conn: psycopg.Connection) -> None:
        """Serve the snapshot again, but for what changed since it was read. The comparison
        follows the LISTEN, so a change it misses is one whose announcement is still to
        come; one announced meanwhile in this process (a new generation) compares again."""
        if self.snapshot is None:
            return
        for _ in range(3):
            generation = self._generation
            stale = self.snapshot.stale(conn)
            with self._lock:
                if generation == self._generation:
                    self._stale = stale
                    self._snapshot_ready = True
                    return

    def _position(self, conn: psycopg.Connection) -> int | None:
        if not self.replica:
            return None
        row = conn.execute(PRIMARY_POSITION).fetchone()
        return int(row[0]) if row else None

    def _stop_serving(self) -> None:
        with self._lock:
            self._listening = False
            self._generation += 1
            self._empty()


def _notifications(conn: psycopg.Connection) -> Any:
    """The notifications as they arrive, a batch at a time: between batches the connection
    is free for a query (the generator holds its lock). After 30 s without any, a query
    makes sure the connection is alive."""
    while True:
        batch = list(conn.notifies(timeout=30, stop_after=1))
        if batch:
            yield batch
        else:
            conn.execute("SELECT 1")


def conninfo_of(engine: Any) -> str:
    """A libpq connection string for the engine's database."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
