"""Loading the published site from PostgreSQL as arrays, and the version it was loaded at."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from cms_api.models.article import LINK_RELATIONS
from cms_api.services import runtime
from cms_api.services.discovery.graph.model import Site

# Everything the graph shows comes from published documents (what readers see, not drafts)
# and live links between them. A link edit re-renders its source's document (its related
# list shows relation, anchor and weight), so this digest of the documents' tags and ETags
# moves whenever the graph can.
_VERSION_SQL = """
SELECT count(*), coalesce(sum(hashtextextended(etag || array_to_string(tags, ' '), 0)), 0)
FROM published_documents WHERE kind IN ('article', 'topic')
"""
# The articles of one locale as packed columns in one row, in slug order (the aggregates
# read the sorted rows in turn): a hundred thousand rows become a few values and no
# per-row objects. Beside its own id, each article has its work's id, the one related
# links name: an original's own, a translation's source's (links stay on originals, and
# a translation shows its original's, each to the same locale's translation of the
# target). Title and topics are stored as columns when the document is published, so
# nothing here parses the stored JSON. The canonical URL readers see is the live
# revision's: while no edit has followed it (revision_number = live_revision) the
# article row holds that very content, a small column; otherwise the live snapshot says
# it, read for those articles only (reading every stored body or snapshot would cost
# seconds at 100,000 articles). Publishing re-renders the document, so a new canonical
# URL moves the version too.
_NODES_SQL = """
SELECT string_agg(uuid_send(entity_id), ''), string_agg(uuid_send(work_id), ''),
       string_agg(CASE WHEN translation THEN 't' ELSE 'f' END, ''),
       json_agg(entity_id)::text, json_agg(slug)::text,
       json_agg(title)::text, json_agg(array_to_string(topic_slugs, ' '))::text,
       json_agg(canonical_url)::text
FROM (
    SELECT d.entity_id, coalesce(a.source_id, d.entity_id) AS work_id,
           a.source_id IS NOT NULL AS translation, d.slug, d.title, d.topic_slugs,
           CASE WHEN a.live_revision = a.revision_number THEN a.canonical_url
                ELSE (SELECT r.snapshot ->> 'canonical_url' FROM revisions r
                      WHERE r.article_id = a.id AND r.number = a.live_revision)
           END AS canonical_url
    FROM published_documents d LEFT JOIN articles a ON a.id = d.entity_id
    WHERE d.kind = 'article' AND d.locale = %(locale)s ORDER BY d.slug COLLATE "C"
) article
"""
# Links the same way (16-byte ids, doubles, one letter per relation), in one scan.
_EDGES_SQL = (
    """
SELECT string_agg(uuid_send(source_id), ''), string_agg(uuid_send(target_id), ''),
       string_agg(float8send(weight), ''),
       string_agg(CASE relation """
    + " ".join(
        f"WHEN '{name}' THEN '{chr(ord('a') + code)}'" for code, name in enumerate(LINK_RELATIONS)
    )
    + """ END, ''),
       json_agg(anchor_text)::text
FROM related_links WHERE deleted_at IS NULL
"""
)
_RELATIONS = np.array(LINK_RELATIONS, dtype=object)
# A topic page links to the articles its published document lists: in a locale, its
# document in that locale, which lists the articles published in it.
_HUBS_SQL = """
SELECT string_agg(uuid_send((item ->> 'id')::uuid), '')
FROM published_documents t, json_array_elements(t.body::json -> 'articles' -> 'items') item
WHERE t.kind = 'topic' AND t.locale = %(locale)s
"""


@contextmanager
def reading(*, snapshot: bool = False) -> Iterator[Any]:
    """A DB-API cursor on a delivery connection; with `snapshot`, inside one
    repeatable-read transaction, so that several statements see one state."""
    with (runtime.snapshot if snapshot else runtime.reading)() as connection:
        yield connection.connection.cursor()


def _version(cursor: Any) -> str:
    count, digest = cursor.execute(_VERSION_SQL).fetchone()
    return f"{count}.{digest}"


def current_version() -> str:
    """A digest of everything the graph is made of; it changes whenever the graph may."""
    with reading() as cursor:
        return _version(cursor)


class Numbering:
    """Article numbers by 16-byte id, looked up for a whole column of ids at once.

    The ids are random (UUID 4), so their first eight bytes, as an integer, tell articles
    apart and make a fast sorted index; the other eight confirm each match. Should two
    articles ever share the first eight, the whole 16 bytes are compared instead.
    """

    def __init__(self, keys: bytes) -> None:
        halves = np.frombuffer(keys, ">u8").reshape(-1, 2).astype(np.uint64)
        self._high, self._low = halves[:, 0], halves[:, 1]
        self._order = np.argsort(self._high)
        self._sorted = self._high[self._order]
        self._distinct = bool(np.all(np.diff(self._sorted) > 0))
        if not self._distinct:
            whole = np.frombuffer(keys, "S16")
            self._order = np.argsort(whole)
            self._sorted_whole = whole[self._order]

    def __call__(self, wanted: bytes | None) -> np.ndarray:
        """The number of the article each id in `wanted` names; -1 for none."""
        count = len(wanted or b"") // 16
        if not count or not len(self._order):
            return np.full(count, -1, dtype=np.int64)
        assert wanted is not None
        if not self._distinct:
            looked_up = np.frombuffer(wanted, "S16")
            found = np.minimum(np.searchsorted(self._sorted_whole, looked_up), len(self._order) - 1)
            return np.where(self._sorted_whole[found] == looked_up, self._order[found], -1)
        halves = np.frombuffer(wanted, ">u8").reshape(-1, 2).astype(np.uint64)
        found = np.minimum(np.searchsorted(self._sorted, halves[:, 0]), len(self._order) - 1)
        numbers = self._order[found]
        match = (self._sorted[found] == halves[:, 0]) & (self._low[numbers] == halves[:, 1])
        return np.where(match, numbers, -1)


def load(locale: str) -> Site:
    """The published articles of `locale` and the links among them."""
    with reading(snapshot=True) as cursor:
        version = _version(cursor)
        keys, works, translated, ids, slugs, titles, topics, canonical = cursor.execute(
            _NODES_SQL, {"locale": locale}
        ).fetchone()
        sources, targets, weights, relations, anchors = cursor.execute(_EDGES_SQL).fetchone()
        (hubs,) = cursor.execute(_HUBS_SQL, {"locale": locale}).fetchone()
    number = Numbering(keys or b"")  # 16-byte ids, as topic pages name articles
    # Links name works: each end is the work's article in this locale, if published.
    by_work = number if works == keys else Numbering(works or b"")
    source, target = by_work(sources), by_work(targets)
    weight = np.frombuffer(weights or b"", ">f8").astype(np.float64)
    relation = _RELATIONS[np.frombuffer((relations or "").encode(), np.uint8) - ord("a")]
    # Only links between two published articles; in (source, target) order.
    published = np.flatnonzero((source >= 0) & (target >= 0))
    order = published[np.lexsort((target[published], source[published]))]
    anchor = json.loads(anchors or "[]")
    anchor_of = order
    is_translation = np.frombuffer((translated or "").encode(), np.uint8) == ord("t")
    if is_translation.any():
        # An anchor is the original's words, in its language: a translation's page does
        # not show them, so its links have none (the last, added, entry).
        anchor.append(None)
        anchor_of = np.where(is_translation[source[order]], len(anchor) - 1, order)
    hub_numbers = number(hubs)
    return Site(
        version=version,
        locale=locale,
        ids=json.loads(ids or "[]"),
        slugs=json.loads(slugs or "[]"),
        titles=json.loads(titles or "[]"),
        topics=json.loads(topics or "[]"),
        canonical_urls=json.loads(canonical or "[]"),
        source=source[order],
        target=target[order],
        weight=weight[order],
        relation=relation[order],
        anchor=anchor,
        anchor_of=anchor_of,
        hubs=np.unique(hub_numbers[hub_numbers >= 0]),
    )
