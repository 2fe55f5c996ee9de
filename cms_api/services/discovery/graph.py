"""The related-article graph: published articles, their links, SEO metrics, and exports."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, islice, repeat
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

import numpy as np

from cms_api.domain.errors import NotFound
from cms_api.models.article import LINK_RELATIONS
from cms_api.services import runtime
from cms_api.services.publishing import site as public_site

# PageRank as networkx.pagerank(G, alpha=0.85, weight="weight") computes it (its defaults
# for iterations and tolerance), so a tool reading an export finds the same scores.
DAMPING = 0.85
MAX_ITERATIONS = 100
TOLERANCE = 1.0e-6
# Part of every export's ETag: bump it when the serialisation changes, so no cache keeps
# an old rendering under a still-valid tag.
RENDER_VERSION = "1"
# Bytes of rendered exports each process keeps (the whole graph of 100,000 articles is
# about 95 MB as JSON, 145 MB as GraphML).
RENDERED_BUDGET = 256 * 1024 * 1024
GRAPH_NAME = "related-articles"


@dataclass(frozen=True)
class ExportFormat:
    content_type: str
    extension: str
    disposition: str


FORMATS: dict[str, ExportFormat] = {
    "json": ExportFormat("application/json", "json", "inline"),
    "graphml": ExportFormat("application/graphml+xml", "graphml", "attachment"),
    "gexf": ExportFormat("application/gexf+xml", "gexf", "attachment"),
    "csv": ExportFormat("text/csv; charset=utf-8", "csv", "attachment"),
}


@dataclass(frozen=True)
class Filters:
    """Which part of the graph to export: articles on a topic, around an article, or all."""

    topic: str | None = None
    root: str | None = None
    depth: int = 1

    def key(self) -> str:
        return json.dumps([self.topic, self.root, self.depth if self.root else None])

    def filename(self, extension: str) -> str:
        parts = [GRAPH_NAME]
        if self.topic:
            parts.append(f"topic-{self.topic}")
        if self.root:
            parts.append(f"around-{self.root}-depth-{self.depth}")
        return "-".join(parts) + "." + extension


# -- the published site, as one snapshot ----------------------------------------------------


@dataclass(eq=False)
class Site:
    """Every published article and every live link between two of them, at one version.

    Articles are numbered in slug order; links are sorted by (source, target) number, so
    any selection of them comes out in a stable order.
    """

    version: str
    ids: list[str]
    slugs: list[str]
    titles: list[str]
    topics: list[str]  # slugs of each article's own topics, space-separated
    source: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    relation: np.ndarray
    anchor: list[str | None]  # as loaded: anchor_of[link] is the link's place in it
    anchor_of: np.ndarray
    hubs: np.ndarray  # articles a published topic page links to
    index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.index = {slug: number for number, slug in enumerate(self.slugs)}

    @cached_property
    def columns(self) -> dict[str, np.ndarray]:
        """The per-article and per-link texts as object arrays, for picking by number."""

        def array(values: list[Any]) -> np.ndarray:
            column = np.empty(len(values), dtype=object)
            column[:] = values
            return column

        return {
            "ids": array(self.ids),
            "slugs": array(self.slugs),
            "titles": array(self.titles),
            "topics": array(self.topics),
            "anchors": array(self.anchor),
        }

    @cached_property
    def click_depth(self) -> np.ndarray:
        """Clicks from the nearest topic page: 1 for the articles a topic page lists, one
        more per related-link hop, -1 where no path leads."""
        return _breadth_first(len(self.slugs), self.source, self.target, self.hubs)

    def whole(self) -> Graph:
        """The graph of every article. Not cached here: a graph refers to its site, and a
        site that also referred to its graph would form a cycle that only the garbage
        collector frees, keeping a replaced site's hundreds of megabytes alive until it
        runs. Exports of one version share their rendered bodies instead."""
        return Graph.of(self, np.arange(len(self.slugs)))


@dataclass(eq=False)
class Graph:
    """Some articles of a site and the links among them, with metrics of this graph."""

    site: Site
    nodes: np.ndarray  # article numbers in the site, ascending
    edges: np.ndarray  # link numbers in the site, ascending
    source: np.ndarray  # position in `nodes` of each edge's ends
    target: np.ndarray
    inlinks: np.ndarray
    outlinks: np.ndarray
    link_score: np.ndarray

    @cached_property
    def columns(self) -> _Columns:
        return _Columns.of(self)

    @classmethod
    def of(cls, site: Site, nodes: np.ndarray) -> Graph:
        """The graph induced by `nodes`: every link whose two ends are among them."""
        position = np.full(len(site.slugs), -1, dtype=np.int64)
        position[nodes] = np.arange(len(nodes))
        edges = np.flatnonzero((position[site.source] >= 0) & (position[site.target] >= 0))
        source, target = position[site.source[edges]], position[site.target[edges]]
        count = len(nodes)
        return cls(
            site=site,
            nodes=nodes,
            edges=edges,
            source=source,
            target=target,
            inlinks=np.bincount(target, minlength=count),
            outlinks=np.bincount(source, minlength=count),
            link_score=pagerank(count, source, target, site.weight[edges]),
        )


def pagerank(count: int, source: np.ndarray, target: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """networkx's PageRank (its SciPy power iteration) on arrays.

    Each node passes DAMPING of its score along its out-links in proportion to their
    weight; a node without out-links spreads its score over every node; everyone gets
    (1 - DAMPING) / N. Iterates from the uniform vector until the L1 change is below
    N * TOLERANCE, as networkx does.
    """
    if count == 0:
        return np.zeros(0)
    out_weight = np.bincount(source, weights=weight, minlength=count)
    dangling = out_weight == 0
    share = np.zeros(count)
    share[~dangling] = 1.0 / out_weight[~dangling]
    flow = weight * share[source]  # row-normalised link weights
    uniform = np.full(count, 1.0 / count)
    scores = uniform
    for _ in range(MAX_ITERATIONS):
        last = scores
        passed = np.bincount(target, weights=last[source] * flow, minlength=count)
        scores = DAMPING * (passed + last[dangling].sum() * uniform) + (1 - DAMPING) * uniform
        if np.abs(scores - last).sum() < count * TOLERANCE:
            break
    # With a damping of 0.85 the change shrinks below the tolerance well within the
    # iteration limit whatever the graph, so networkx's failure case cannot arise here.
    return scores


def _breadth_first(
    count: int, source: np.ndarray, target: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    """Hops along links from `starts` (depth 1), a whole frontier at a time."""
    depth = np.full(count, -1, dtype=np.int64)
    if count == 0 or len(starts) == 0:
        return depth
    # Links are sorted by source, so each article's out-links are one slice.
    first = np.searchsorted(source, np.arange(count + 1))
    frontier = np.unique(starts)
    level = 1
    depth[frontier] = level
    while len(frontier):
        lengths = first[frontier + 1] - first[frontier]
        total = int(lengths.sum())
        if total == 0:
            break
        offsets = np.repeat(first[frontier] - np.cumsum(lengths) + lengths, lengths)
        reached = target[offsets + np.arange(total)]
        frontier = np.unique(reached[depth[reached] < 0])
        level += 1
        depth[frontier] = level
    return depth


# -- reading the database ---------------------------------------------------------------------

# Everything the graph shows comes from published documents (what readers see, not drafts)
# and live links between them. A link edit re-renders its source's document (its related
# list shows relation, anchor and weight), so this digest of the documents' tags and ETags
# moves whenever the graph can.
_VERSION_SQL = """
SELECT count(*), coalesce(sum(hashtextextended(etag || array_to_string(tags, ' '), 0)), 0)
FROM published_documents WHERE kind IN ('article', 'topic')
"""
# The articles as packed columns in one row, in slug order (the aggregates read the sorted
# rows in turn): a hundred thousand rows become five values and no per-row objects.
# Title and topics are stored as columns when the document is published, so nothing here
# parses the stored JSON.
_NODES_SQL = """
SELECT string_agg(uuid_send(entity_id), ''), json_agg(entity_id)::text, json_agg(slug)::text,
       json_agg(title)::text, json_agg(array_to_string(topic_slugs, ' '))::text
FROM (
    SELECT entity_id, slug, title, topic_slugs FROM published_documents
    WHERE kind = 'article' ORDER BY slug COLLATE "C"
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
# A topic page links to the articles its published document lists.
_HUBS_SQL = """
SELECT string_agg(uuid_send((item ->> 'id')::uuid), '')
FROM published_documents t, json_array_elements(t.body::json -> 'articles' -> 'items') item
WHERE t.kind = 'topic'
"""
_TOPIC_SQL = """
SELECT slug FROM published_documents WHERE kind = 'article' AND tags @> ARRAY[%(tag)s]::text[]
"""
# Articles within `depth` links of the root, following links either way, through
# published articles only. UNION drops repeated (article, hops) rows, and the hop bound
# ends the recursion, so a cycle neither loops nor multiplies rows.
_NEIGHBOURHOOD_SQL = """
WITH RECURSIVE around(id, hops) AS (
    SELECT entity_id, 0 FROM published_documents WHERE kind = 'article' AND slug = %(root)s
  UNION
    SELECT step.id, around.hops + 1
    FROM around
    CROSS JOIN LATERAL (
        SELECT l.target_id AS id FROM related_links l
        WHERE l.source_id = around.id AND l.deleted_at IS NULL
      UNION ALL
        SELECT l.source_id FROM related_links l
        WHERE l.target_id = around.id AND l.deleted_at IS NULL
    ) step
    JOIN published_documents d ON d.kind = 'article' AND d.entity_id = step.id
    WHERE around.hops < %(depth)s
)
SELECT DISTINCT d.slug
FROM around JOIN published_documents d ON d.kind = 'article' AND d.entity_id = around.id
"""


@contextmanager
def _reading(*, snapshot: bool = False) -> Iterator[Any]:
    """A DB-API cursor on a delivery connection; with `snapshot`, inside one
    repeatable-read transaction, so that several statements see one state."""
    with (runtime.snapshot if snapshot else runtime.reading)() as connection:
        yield connection.connection.cursor()


def _version(cursor: Any) -> str:
    count, digest = cursor.execute(_VERSION_SQL).fetchone()
    return f"{count}.{digest}"


def current_version() -> str:
    """A digest of everything the graph is made of; it changes whenever the graph may."""
    with _reading() as cursor:
        return _version(cursor)


class _Numbering:
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


def _load() -> Site:
    with _reading(snapshot=True) as cursor:
        version = _version(cursor)
        keys, ids, slugs, titles, topics = cursor.execute(_NODES_SQL).fetchone()
        sources, targets, weights, relations, anchors = cursor.execute(_EDGES_SQL).fetchone()
        (hubs,) = cursor.execute(_HUBS_SQL).fetchone()
    number = _Numbering(keys or b"")  # 16-byte ids, as links and topic pages name articles
    source, target = number(sources), number(targets)
    weight = np.frombuffer(weights or b"", ">f8").astype(np.float64)
    relation = _RELATIONS[np.frombuffer((relations or "").encode(), np.uint8) - ord("a")]
    # Only links between two published articles; in (source, target) order.
    published = np.flatnonzero((source >= 0) & (target >= 0))
    order = published[np.lexsort((target[published], source[published]))]
    hub_numbers = number(hubs)
    return Site(
        version=version,
        ids=json.loads(ids or "[]"),
        slugs=json.loads(slugs or "[]"),
        titles=json.loads(titles or "[]"),
        topics=json.loads(topics or "[]"),
        source=source[order],
        target=target[order],
        weight=weight[order],
        relation=relation[order],
        anchor=json.loads(anchors or "[]"),
        anchor_of=order,
        hubs=np.unique(hub_numbers[hub_numbers >= 0]),
    )


class _SiteCache:
    """The last loaded site of this process: exports of one version share one load."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._site: Site | None = None

    def get(self, version: str) -> Site:
        site = self._site
        if site is not None and site.version == version:
            return site
        with self._lock:  # one load at a time: concurrent requests wait for it
            site = self._site
            if site is None or site.version != version:
                site = _load()
                self._site = site
            return site

    def clear(self) -> None:
        self._site = None


_CACHE = _SiteCache()


def forget() -> None:
    """Drop what this process has loaded and rendered (tests and benchmarks start cold)."""
    _CACHE.clear()
    _BODIES.clear()


def select(site: Site, filters: Filters) -> Graph:
    if filters.topic is None and filters.root is None:
        return site.whole()
    chosen: np.ndarray | None = None
    if filters.topic is not None:
        chosen = _articles_named(site, _TOPIC_SQL, {"tag": f"topic:{filters.topic}"})
    if filters.root is not None:
        if filters.root not in site.index:
            raise NotFound(f"No published article has the slug {filters.root!r}.")
        around = _articles_named(
            site, _NEIGHBOURHOOD_SQL, {"root": filters.root, "depth": filters.depth}
        )
        chosen = around if chosen is None else np.intersect1d(chosen, around)
    assert chosen is not None
    return Graph.of(site, np.unique(chosen))


def _articles_named(site: Site, sql: str, params: dict[str, Any]) -> np.ndarray:
    """The numbers of the articles whose slugs a query returns."""
    with _reading() as cursor:
        slugs = cursor.execute(sql, params).fetchall()
    index = site.index
    return np.array([index[slug] for (slug,) in slugs if slug in index], dtype=np.int64)


# -- exports --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    body: bytes
    etag: str
    content_type: str
    filename: str
    disposition: str


@dataclass(frozen=True)
class PreparedExport:
    """An export whose ETag is known before anything is loaded or rendered."""

    format: str
    filters: Filters
    version: str
    etag: str

    def render(self) -> Export:
        kind = FORMATS[self.format]
        etag = self.etag
        body = _BODIES.get(etag)
        if body is None:
            site = _CACHE.get(self.version)
            if site.version != self.version:
                # The graph changed between the version check and the load: what is
                # served is the newer state, under its own tag.
                etag = _export_etag(site.version, self.format, self.filters)
            body = WRITERS[self.format](select(site, self.filters), self.filters)
            _BODIES.put(etag, body)
        return Export(
            body=body,
            etag=etag,
            content_type=kind.content_type,
            filename=self.filters.filename(kind.extension),
            disposition=kind.disposition,
        )


class _Bodies:
    """Exports served lately, by ETag, within a byte budget (least recently used leave
    first): SEO tools download the same export again and again between changes."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._lock = threading.Lock()
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0

    def get(self, etag: str) -> bytes | None:
        with self._lock:
            body = self._items.get(etag)
            if body is not None:
                self._items.move_to_end(etag)
            return body

    def put(self, etag: str, body: bytes) -> None:
        if len(body) > self._budget:
            return
        with self._lock:
            if etag in self._items:
                return
            self._items[etag] = body
            self._size += len(body)
            while self._size > self._budget:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


_BODIES = _Bodies(RENDERED_BUDGET)


def _export_etag(version: str, export_format: str, filters: Filters) -> str:
    settings = runtime.settings()
    key = "\n".join(
        [RENDER_VERSION, version, export_format, filters.key(), settings.public_base_url]
    )
    return '"graph-' + hashlib.blake2b(key.encode(), digest_size=16).hexdigest() + '"'


def prepare_export(export_format: str, filters: Filters) -> PreparedExport:
    """The ETag of an export, from the graph's version alone (one small query), so a
    matching If-None-Match costs no load and no rendering."""
    version = current_version()
    return PreparedExport(
        format=export_format,
        filters=filters,
        version=version,
        etag=_export_etag(version, export_format, filters),
    )


def _page_url() -> Callable[[str], str]:
    """The public page address of an article, for many slugs at once."""
    before, _, after = public_site.page_url("article", "\0").partition("\0")
    return lambda slug: before + slug + after


@dataclass
class _Columns:
    """An exported graph as parallel lists of plain values, the form every writer loops
    over (one pass per column, no per-item objects)."""

    ids: list[str]
    slugs: list[str]
    titles: list[str]
    urls: list[str]
    topics: list[str]
    inlinks: list[int]
    outlinks: list[int]
    click_depth: list[int | None]
    link_score: list[float]
    orphan: list[bool]
    sources: list[str]
    targets: list[str]
    relations: list[str]
    anchors: list[str | None]
    weights: list[float]

    @classmethod
    def of(cls, graph: Graph) -> _Columns:
        site, url = graph.site, _page_url()
        # Object arrays pick many items at C speed, where a list comprehension would not.
        nodes, edges = graph.nodes, graph.edges
        slugs = site.columns["slugs"][nodes].tolist()
        inlinks = graph.inlinks.tolist()
        return cls(
            ids=site.columns["ids"][nodes].tolist(),
            slugs=slugs,
            titles=site.columns["titles"][nodes].tolist(),
            urls=[url(slug) for slug in slugs],
            topics=site.columns["topics"][nodes].tolist(),
            inlinks=inlinks,
            outlinks=graph.outlinks.tolist(),
            click_depth=[
                depth if depth > 0 else None for depth in site.click_depth[nodes].tolist()
            ],
            link_score=graph.link_score.tolist(),
            orphan=[count == 0 for count in inlinks],
            sources=site.columns["slugs"][nodes[graph.source]].tolist(),
            targets=site.columns["slugs"][nodes[graph.target]].tolist(),
            relations=site.relation[edges].tolist(),
            anchors=site.columns["anchors"][site.anchor_of[edges]].tolist(),
            weights=site.weight[edges].tolist(),
        )


def _texts(values: list[float]) -> list[str]:
    """repr of each number (what JSON, XML and CSV readers parse back exactly), computed
    once per distinct value: link weights repeat a lot."""
    cache = {value: repr(value) for value in set(values)}
    return [cache[value] for value in values]


# Rows per encoded chunk: large enough that joining is C work, small enough that a batch
# of rows fits in the CPU's caches.
_BATCH_ROWS = 4096


def _encoded(*parts: str | Iterable[str]) -> bytes:
    """The UTF-8 bytes of `parts` in order, each a text or an iterable of row texts.

    Rows are joined and encoded a batch at a time, so neither a list of every row nor the
    whole document as one text is ever built: a third less time and memory than joining
    it all and then encoding it.
    """
    chunks: list[bytes] = []
    for part in parts:
        if isinstance(part, str):
            chunks.append(part.encode())
            continue
        rows = iter(part)
        while batch := list(islice(rows, _BATCH_ROWS)):
            chunks.append("".join(batch).encode())
    return b"".join(chunks)


def _separators(separator: str, count: int) -> Iterator[str]:
    """What goes before each of `count` rows: nothing before the first, `separator` before
    each one after."""
    return chain(("",) if count else (), repeat(separator, count - 1))


def write_json(graph: Graph, filters: Filters) -> bytes:
    """networkx's node-link form: nodes keyed by `slug`, edges naming slugs.

    Written by hand from the columns: slugs, relations and numbers need no escaping and
    the free texts go through the json module's own string encoder, so the output is what
    json.dumps would write, at a fraction of the cost for a hundred thousand nodes.
    """
    data = graph.columns
    quote = encode_basestring
    nodes = (
        f'{comma}{{"id":"{id_}","slug":"{slug}","title":{quote(title)},"url":{quote(url)},'
        f'"topics":{_json_slugs(topics)},"inlinks":{inlinks},"outlinks":{outlinks},'
        f'"click_depth":{"null" if depth is None else depth},"link_score":{score},'
        f'"orphan":{"true" if orphan else "false"}}}'
        for comma, id_, slug, title, url, topics, inlinks, outlinks, depth, score, orphan in zip(
            _separators(",", len(data.ids)),
            data.ids,
            data.slugs,
            data.titles,
            data.urls,
            data.topics,
            data.inlinks,
            data.outlinks,
            data.click_depth,
            _texts(data.link_score),
            data.orphan,
            strict=True,
        )
    )
    edges = (
        f'{comma}{{"source":"{source}","target":"{target}","relation":"{relation}",'
        f'"anchor_text":{"null" if anchor is None else quote(anchor)},"weight":{weight}}}'
        for comma, source, target, relation, anchor, weight in zip(
            _separators(",", len(data.sources)),
            data.sources,
            data.targets,
            data.relations,
            data.anchors,
            _texts(data.weights),
            strict=True,
        )
    )
    info = json.dumps({"name": GRAPH_NAME, "damping": DAMPING}, separators=(",", ":"))
    return _encoded(
        f'{{"directed":true,"multigraph":false,"graph":{info},"nodes":[',
        nodes,
        '],"edges":[',
        edges,
        "]}",
    )


def _json_slugs(slugs: str) -> str:
    """A JSON list of space-separated slugs (which need no escaping)."""
    return '["' + slugs.replace(" ", '","') + '"]' if slugs else "[]"


_CSV_SPECIAL = re.compile('[",\r\n]')
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv(text: str | None) -> str:
    """A CSV field as the csv module quotes it (only when it must). A text that a
    spreadsheet would run as a formula gets a leading apostrophe, as OWASP advises: SEO
    analysts open this file in Excel as often as in Gephi, and anchor texts are typed by
    editors."""
    if not text:
        return ""
    if text.startswith(_FORMULA_START):
        text = "'" + text
    if _CSV_SPECIAL.search(text) is None:
        return text
    return '"' + text.replace('"', '""') + '"'


def write_csv(graph: Graph, filters: Filters) -> bytes:
    """An edge list as Gephi's spreadsheet import reads it, RFC 4180 style. Written by
    hand (a third of the csv module's time): only the anchor text can need quoting."""
    data = graph.columns
    lines = (
        f"{source},{target},Directed,{weight},{_csv(anchor)},{relation}\r\n"
        for source, target, weight, anchor, relation in zip(
            data.sources,
            data.targets,
            _texts(data.weights),
            data.anchors,
            data.relations,
            strict=True,
        )
    )
    return _encoded("Source,Target,Type,Weight,Anchor,Relation\r\n", lines)


# XML 1.0 cannot carry most C0 controls even as references; they are dropped.
_XML_SPECIAL = re.compile('[&<>"\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


_NOT_XML_BUT_NUL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_all(texts: list[str]) -> list[str]:
    """`_xml` of many texts in one pass over them all: PostgreSQL text never holds NUL, so
    NUL can join them and split them apart again."""
    joined = "\0".join(texts)
    if _XML_SPECIAL.search(joined.replace("\0", "")) is None:
        return texts
    return _NOT_XML_BUT_NUL.sub("", joined).translate(_XML_ESCAPES).split("\0")


# (name, GraphML type) of the node attributes, in the order they are written.
_NODE_ATTRIBUTES = (
    ("id", "string"),
    ("title", "string"),
    ("url", "string"),
    ("topics", "string"),
    ("inlinks", "int"),
    ("outlinks", "int"),
    ("click_depth", "int"),
    ("link_score", "double"),
    ("orphan", "boolean"),
)
_EDGE_ATTRIBUTES = (("relation", "string"), ("anchor_text", "string"), ("weight", "double"))


def _optional(values: list[Any], before: str, after: str) -> list[str]:
    """Each value between `before` and `after`, or nothing where it is missing or empty."""
    return ["" if value is None or value == "" else f"{before}{value}{after}" for value in values]


def _xml_anchors(anchors: list[str | None]) -> list[str | None]:
    present = _xml_all([anchor for anchor in anchors if anchor is not None])
    if len(present) == len(anchors):
        return list(present)
    escaped = iter(present)
    return [None if anchor is None else next(escaped) for anchor in anchors]


def write_graphml(graph: Graph, filters: Filters) -> bytes:
    """GraphML, written by hand like the JSON: typed keys for node and edge attributes;
    topics space-separated; a null click depth or anchor, or no topics, is left out."""
    data = graph.columns
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
        'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
    ]
    for name, kind in _NODE_ATTRIBUTES:
        head.append(f'<key id="n_{name}" for="node" attr.name="{name}" attr.type="{kind}"/>\n')
    for name, kind in _EDGE_ATTRIBUTES:
        head.append(f'<key id="e_{name}" for="edge" attr.name="{name}" attr.type="{kind}"/>\n')
    head.append(f'<graph id="{GRAPH_NAME}" edgedefault="directed">\n')
    topics = _optional(data.topics, '<data key="n_topics">', "</data>")
    depths = _optional(data.click_depth, '<data key="n_click_depth">', "</data>")
    nodes = (
        f'<node id="{slug}"><data key="n_id">{id_}</data><data key="n_title">{title}'
        f'</data><data key="n_url">{url}</data>{topic}<data key="n_inlinks">{inlinks}'
        f'</data><data key="n_outlinks">{outlinks}</data>{depth}<data key="n_link_score">'
        f'{score}</data><data key="n_orphan">{"true" if orphan else "false"}</data></node>\n'
        for id_, slug, title, url, topic, inlinks, outlinks, depth, score, orphan in _node_rows(
            data, topics, depths
        )
    )
    anchors = _optional(_xml_anchors(data.anchors), '<data key="e_anchor_text">', "</data>")
    edges = (
        f'<edge id="e{number}" source="{source}" target="{target}"><data key="e_relation">'
        f'{relation}</data>{anchor}<data key="e_weight">{weight}</data></edge>\n'
        for number, source, target, relation, anchor, weight in _edge_rows(data, anchors)
    )
    return _encoded("".join(head), nodes, edges, "</graph>\n</graphml>\n")


def _node_rows(data: Any, topics: list[str], depths: list[str]) -> Iterator[tuple[Any, ...]]:
    """Each node's values as both XML formats write them (text escaped), row by row."""
    return zip(
        data.ids,
        data.slugs,
        _xml_all(data.titles),
        _xml_all(data.urls),
        topics,
        data.inlinks,
        data.outlinks,
        depths,
        _texts(data.link_score),
        data.orphan,
        strict=True,
    )


def _edge_rows(data: Any, anchors: list[str]) -> Iterator[tuple[Any, ...]]:
    """Each edge's number and values as both XML formats write them, row by row."""
    return zip(
        range(len(anchors)),
        data.sources,
        data.targets,
        data.relations,
        anchors,
        _texts(data.weights),
        strict=True,
    )


def write_gexf(graph: Graph, filters: Filters) -> bytes:
    """GEXF 1.3, written by hand like the JSON: the title is the node label, the link
    weight the edge weight, the rest typed attributes (left out where null or empty)."""
    data = graph.columns
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gexf xmlns="http://gexf.net/1.3" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">\n'
        f"<meta><creator>cms-api</creator><description>{GRAPH_NAME}</description></meta>\n"
        '<graph defaultedgetype="directed" mode="static">\n<attributes class="node">\n'
    ]
    for name, kind in _NODE_ATTRIBUTES:
        if name != "title":
            kind = {"int": "integer"}.get(kind, kind)
            head.append(f'<attribute id="{name}" title="{name}" type="{kind}"/>\n')
    head.append('</attributes>\n<attributes class="edge">\n')
    for name in ("relation", "anchor_text"):
        head.append(f'<attribute id="{name}" title="{name}" type="string"/>\n')
    head.append("</attributes>\n<nodes>\n")
    topics = _optional(data.topics, '<attvalue for="topics" value="', '"/>')
    depths = _optional(data.click_depth, '<attvalue for="click_depth" value="', '"/>')
    nodes = (
        f'<node id="{slug}" label="{title}"><attvalues><attvalue for="id" value="{id_}"/>'
        f'<attvalue for="url" value="{url}"/>{topic}<attvalue for="inlinks" '
        f'value="{inlinks}"/><attvalue for="outlinks" value="{outlinks}"/>{depth}'
        f'<attvalue for="link_score" value="{score}"/><attvalue for="orphan" '
        f'value="{"true" if orphan else "false"}"/></attvalues></node>\n'
        for id_, slug, title, url, topic, inlinks, outlinks, depth, score, orphan in _node_rows(
            data, topics, depths
        )
    )
    anchors = _optional(_xml_anchors(data.anchors), '<attvalue for="anchor_text" value="', '"/>')
    edges = (
        f'<edge id="{number}" source="{source}" target="{target}" weight="{weight}">'
        f'<attvalues><attvalue for="relation" value="{relation}"/>{anchor}</attvalues>'
        "</edge>\n"
        for number, source, target, relation, anchor, weight in _edge_rows(data, anchors)
    )
    return _encoded(
        "".join(head),
        nodes,
        "</nodes>\n<edges>\n",
        edges,
        "</edges>\n</graph>\n</gexf>\n",
    )


WRITERS: dict[str, Callable[[Graph, Filters], bytes]] = {
    "json": write_json,
    "graphml": write_graphml,
    "gexf": write_gexf,
    "csv": write_csv,
}


# -- the link report --------------------------------------------------------------------------

_BROKEN_SQL = """
SELECT s.slug, t.slug, l.relation, l.anchor_text, t.deleted_at IS NOT NULL, t.status
FROM related_links l
JOIN published_documents s ON s.kind = 'article' AND s.entity_id = l.source_id
JOIN articles t ON t.id = l.target_id
WHERE l.deleted_at IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM published_documents p WHERE p.kind = 'article' AND p.entity_id = l.target_id
  )
ORDER BY s.slug COLLATE "C", t.slug COLLATE "C"
"""


def report() -> str:
    """Orphans, dead ends and broken links of the whole published site, as JSON."""
    site = _CACHE.get(current_version())
    graph = site.whole()
    url = _page_url()

    def article(number: int) -> dict[str, Any]:
        slug = site.slugs[number]
        return {
            "id": site.ids[number],
            "slug": slug,
            "title": site.titles[number],
            "url": url(slug),
        }

    with _reading() as cursor:
        broken = cursor.execute(_BROKEN_SQL).fetchall()
    orphans = [article(number) for number in np.flatnonzero(graph.inlinks == 0).tolist()]
    dead_ends = [article(number) for number in np.flatnonzero(graph.outlinks == 0).tolist()]
    document = {
        "counts": {
            "articles": len(site.slugs),
            "links": len(site.source),
            "orphans": len(orphans),
            "dead_ends": len(dead_ends),
            "broken_links": len(broken),
        },
        "orphans": orphans,
        "dead_ends": dead_ends,
        "broken_links": [
            {
                "source": source,
                "target": target,
                "relation": relation,
                "anchor_text": anchor,
                "reason": "target_trashed" if trashed else "target_not_published",
                "target_status": status,
            }
            for source, target, relation, anchor, trashed, status in broken
        ],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
