"""Answers kept in each worker while the change feed says published content is unchanged."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from cms_api.services.runtime import reading

# Every change to a published document writes change events in its own transaction
# (publishing's fan-out), so the feed versions all published content: on every worker and
# replica alike, with no notification to hear or to lose.
#
# A version is a snapshot's xmin with the number of events at or above it. Every
# transaction below the xmin had ended when the version was read, so one that commits
# later has an id at or above it: counting those events again sees any later commit. (The
# newest event id would not: ids are drawn before commit, and a later commit can carry a
# smaller one.) The count reads only the events since that point, from the feed's
# (transaction_id, id) index.
SNAPSHOT_XMIN = "(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint"
EVENTS_SINCE = "(SELECT count(*) FROM change_events WHERE transaction_id >= {xmin})"
_CURRENT = f"""SELECT snapshot.xmin, {EVENTS_SINCE.format(xmin="snapshot.xmin")}
FROM (SELECT {SNAPSHOT_XMIN} AS xmin) AS snapshot"""
_CHECK = "SELECT " + EVENTS_SINCE.format(xmin="%(xmin)s::bigint")

# (xmin, events at or above it)
Version = tuple[int, int]
V = TypeVar("V")


class Memory(Generic[V]):
    """A bounded LRU for one process, safe across threads: at most `size` units, each
    entry weighing `weigh(entry)` of them (one, unless told otherwise)."""

    def __init__(self, size: int, weigh: Callable[[V], int] = lambda entry: 1) -> None:
        self.size = size
        self.weigh = weigh
        self._entries: OrderedDict[Any, tuple[V, int]] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
            return found[0]

    def put(self, key: Any, entry: V) -> None:
        weight = self.weigh(entry)
        if weight > self.size // 8:
            return  # one huge entry would push out many useful ones
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._used -= previous[1]
            self._entries[key] = (entry, weight)
            self._used += weight
            while self._used > self.size:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._used -= evicted

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._used = 0


@dataclass(frozen=True)
class Answer:
    """A read answered earlier: its body, its ETag, the next page's cursor if any, the
    version of published content it was read at (or after), and the locale of its content
    (None: an answer that is in no one locale)."""

    body: str
    etag: str
    next_cursor: str | None
    version: Version
    locale: str | None = None


# Answers by (database, address), at most 16 MB of them in each worker: the pages of
# common lists, popular searches and lookups are asked for again and again between two
# changes. An answer is 2 to 70 KB. The HTTP edge keeps the answers it sends here too
# (anything with a `body`), so that one budget bounds both.
ANSWER_BYTES = 16 << 20
ANSWERS: Memory[Any] = Memory(ANSWER_BYTES, weigh=lambda answer: len(answer.body))


def database(connection: Connection) -> Any:
    """What keeps one database's versions and answers apart from another's in a process."""
    return connection.engine.url


def current_version() -> Version:
    """The version of published content now; read it before what it versions."""
    with reading() as connection:
        return version_seen_by(connection)


def version_seen_by(connection: Connection) -> Version:
    """The version of published content this connection sees (in a snapshot: the
    snapshot's, so that what it reads next is at exactly this version)."""
    xmin, events = connection.exec_driver_sql(_CURRENT).one()
    return xmin, events


def unchanged(connection: Connection, version: Version) -> bool:
    """Whether published content is still at `version`: one small index read."""
    # Through SQLAlchemy, not the driver's cursor, though that would be a little faster:
    # a connection the server dropped must be noticed and replaced as on every read.
    events = connection.exec_driver_sql(_CHECK, {"xmin": version[0]}).scalar()
    return events == version[1]


def recall(address: Any) -> Answer | None:
    """The answer given earlier at this address, if published content has not changed since."""
    with reading() as connection:
        answer = ANSWERS.get((database(connection), address))
        if answer is None or not unchanged(connection, answer.version):
            return None
    return answer


def remember(address: Any, answer: Answer) -> None:
    with reading() as connection:
        ANSWERS.put((database(connection), address), answer)
