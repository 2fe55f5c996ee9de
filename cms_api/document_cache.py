"""Published documents in each worker's memory, dropped when PostgreSQL says they changed."""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import OrderedDict
from typing import Any

import psycopg

log = logging.getLogger(__name__)

# Publishing sends a notification on this channel in every transaction that writes or
# removes a published document; PostgreSQL delivers it when (and only if) it commits.
CHANNEL = "cms_documents"
Entry = tuple[bytes, str]  # the encoded body and its ETag
# Every cache in this process, so a commit here empties them at once rather than when
# its own notification comes back: a writer then reads what it wrote.
_caches: weakref.WeakSet[DocumentCache] = weakref.WeakSet()


def clear_local() -> None:
    for cache in list(_caches):
        cache.clear()


class DocumentCache:
    """An LRU of encoded documents by (kind, key), bounded in bytes, for one process.

    A listener thread holds a `LISTEN` connection; any notification empties the cache, so
    a reader sees a publish within milliseconds of its commit. While that connection is
    down nothing is cached or served from memory: with no word of changes, memory could
    be stale. A generation number guards the race where a read from before a commit would
    be stored after the notification that invalidated it.
    """

    def __init__(self, conninfo: str, *, max_bytes: int) -> None:
        self.conninfo = conninfo
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, Any], Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._generation = 0
        self._listening = False
        self._pid: int | None = None
        _caches.add(self)

    # -- reads ----------------------------------------------------------------------------

    def get(self, key: tuple[str, Any]) -> Entry | None:
        self._ensure_listener()
        if not self._listening:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def generation(self) -> int:
        return self._generation

    def put(self, key: tuple[str, Any], entry: Entry, generation: int) -> None:
        """Keep what was read at `generation`, unless a change has been announced since."""
        size = len(entry[0])
        if size > self.max_bytes // 8:
            return
        with self._lock:
            if not self._listening or generation != self._generation:
                return
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous[0])
            self._entries[key] = entry
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted[0])

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
            self._bytes = 0

    # -- the listener ---------------------------------------------------------------------

    def _ensure_listener(self) -> None:
        # Started on first use in each process: a thread started before gunicorn forks
        # its workers would not exist in them.
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._listening = False
        self._entries.clear()
        threading.Thread(target=self._listen, name="document-cache", daemon=True).start()

    def _listen(self) -> None:
        delay = 1.0
        while True:
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.clear()  # changes made while no one listened
                    self._listening = True
                    delay = 1.0
                    for _ in _notifications(conn):
                        self.clear()
            except psycopg.Error as error:
                if self._listening or delay == 1.0:  # once per outage, not every retry
                    log.warning("document cache listener: %s", error.__class__.__name__)
            self._stop_serving()
            time.sleep(delay)
            delay = min(delay * 2, 30.0)

    def _stop_serving(self) -> None:
        with self._lock:
            self._listening = False
            self._generation += 1
            self._entries.clear()
            self._bytes = 0


def _notifications(conn: psycopg.Connection) -> Any:
    # A timeout makes the generator return now and then, so a dead connection is noticed.
    while True:
        yield from conn.notifies(timeout=30)
        conn.execute("SELECT 1")


def conninfo_of(engine: Any) -> str:
    """A libpq connection string for the engine's database."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
