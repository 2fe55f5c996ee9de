"""Passages nearest a question by meaning: pgvector where the server has it, else memory."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import Connection

from cms_api.services import embedding
from cms_api.services.delivery import remembered

PassageKey = tuple[str, uuid.UUID, int]

# Whether answer_passages has migration 0017's pgvector column, per database: a server
# gains pgvector only through a migration, which a running process does not see anyway.
_HAS_COLUMN: dict[Any, bool] = {}
_COLUMN = """
SELECT EXISTS (
    SELECT FROM pg_attribute
    WHERE attrelid = 'answer_passages'::regclass AND attname = 'embedding_vector'
        AND NOT attisdropped
)
"""
# Eligible passages only (a review of record, not overdue), as every list of candidates.
# The HNSW index yields the nearest first; with the iterative scan pgvector keeps reading
# past ineligible ones instead of returning fewer than asked for.
_NEAREST = """
SELECT kind, entity_id, position
FROM answer_passages
WHERE embedding_vector IS NOT NULL
    AND reviewed_on IS NOT NULL AND (review_due IS NULL OR review_due >= %(today)s)
ORDER BY embedding_vector <#> %(query)s::vector
LIMIT %(limit)s
"""
_ITERATIVE_SCAN = "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)"
_LOAD = """
SELECT kind, entity_id, position, reviewed_on IS NOT NULL AS reviewed, review_due, embedding
FROM answer_passages
WHERE embedding IS NOT NULL
"""
# Matrices kept per database in each worker (tests and benches open many databases).
KEPT_DATABASES = 4
# A date past any review due date, for passages that have none.
_NEVER_DUE = date.max.toordinal()


def has_pgvector_column(connection: Connection) -> bool:
    database = remembered.database(connection)
    known = _HAS_COLUMN.get(database)
    if known is None:
        known = _HAS_COLUMN[database] = bool(connection.exec_driver_sql(_COLUMN).scalar())
    return known


def nearest(
    connection: Connection, query: np.ndarray, *, today: date, limit: int, mode: str = "auto"
) -> list[PassageKey]:
    """The `limit` eligible passages whose embedding is nearest `query`, nearest first.

    `connection` should be a snapshot: the in-memory scan checks its version against it.
    """
    if mode == "auto" and has_pgvector_column(connection):
        connection.exec_driver_sql(_ITERATIVE_SCAN)
        rows = connection.exec_driver_sql(
            _NEAREST,
            {"query": embedding.to_pgvector(query), "today": today, "limit": limit},
        ).all()
        return [(row.kind, row.entity_id, row.position) for row in rows]
    return _in_memory(connection).nearest(query, today, limit)


@dataclass(frozen=True)
class _Matrix:
    """Every embedded passage of one database at one version of published content."""

    version: remembered.Version
    keys: list[PassageKey]
    vectors: np.ndarray  # (passages, DIMENSIONS) float32, unit rows
    reviewed: np.ndarray  # bool per passage
    due: np.ndarray  # the review due date's ordinal per passage

    def nearest(self, query: np.ndarray, today: date, limit: int) -> list[PassageKey]:
        if not self.keys:
            return []
        scores = self.vectors @ query
        scores[~(self.reviewed & (self.due >= today.toordinal()))] = -np.inf
        count = min(limit, len(self.keys))
        best = np.argpartition(-scores, count - 1)[:count]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [self.keys[i] for i in best if scores[i] != -np.inf]


_MATRICES: OrderedDict[Any, _Matrix] = OrderedDict()
_guard = threading.Lock()


def _in_memory(connection: Connection) -> _Matrix:
    """This database's matrix, read again when published content has changed since.

    A worker reads every embedding (about 1 KB a passage) after each change: fine for the
    servers this is the fallback for; larger sites want pgvector.
    """
    database = remembered.database(connection)
    with _guard:
        kept = _MATRICES.get(database)
    if kept is not None and remembered.unchanged(connection, kept.version):
        return kept
    version = remembered.version_seen_by(connection)
    rows = connection.exec_driver_sql(_LOAD).all()
    matrix = _Matrix(
        version=version,
        keys=[(row.kind, row.entity_id, row.position) for row in rows],
        vectors=np.frombuffer(b"".join(row.embedding for row in rows), dtype="<f4")
        .reshape(len(rows), embedding.DIMENSIONS)
        .astype(np.float32),
        reviewed=np.array([row.reviewed for row in rows], dtype=bool),
        due=np.array(
            [row.review_due.toordinal() if row.review_due else _NEVER_DUE for row in rows],
            dtype=np.int64,
        ),
    )
    with _guard:
        _MATRICES[database] = matrix
        _MATRICES.move_to_end(database)
        while len(_MATRICES) > KEPT_DATABASES:
            _MATRICES.popitem(last=False)
    return matrix
