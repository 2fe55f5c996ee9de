"""The published site as arrays, the graph of some of its articles, and that graph's columns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from cms_api.services.discovery.graph.metrics import breadth_first, pagerank
from cms_api.services.publishing import site as public_site

# What every export calls the graph (its name, and the start of its file names).
GRAPH_NAME = "related-articles"


@dataclass(eq=False)
class Site:
    """Every article published in one locale and every live link between two of them
    (a translation's are its original's), at one version.

    Articles are numbered in slug order; links are sorted by (source, target) number, so
    any selection of them comes out in a stable order.
    """

    version: str
    locale: str
    ids: list[str]
    slugs: list[str]
    titles: list[str]
    topics: list[str]  # slugs of each article's own topics, space-separated
    canonical_urls: list[str | None]  # the SEO canonical URL of the live content, if set
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
            "canonical_urls": array(self.canonical_urls),
            "anchors": array(self.anchor),
        }

    @cached_property
    def click_depth(self) -> np.ndarray:
        """Clicks from the nearest topic page: 1 for the articles a topic page lists, one
        more per related-link hop, -1 where no path leads."""
        return breadth_first(len(self.slugs), self.source, self.target, self.hubs)

    @cached_property
    def undirected(self) -> tuple[np.ndarray, np.ndarray]:
        """Every link both ways, sorted by the end it leaves from: what a walk that
        follows links in either direction steps along."""
        ends = np.concatenate((self.source, self.target))
        others = np.concatenate((self.target, self.source))
        order = np.argsort(ends, kind="stable")
        return ends[order], others[order]

    def around(self, root: int, depth: int) -> np.ndarray:
        """The numbers of the articles within `depth` links of `root`, following links
        either way."""
        ends, others = self.undirected
        hops = breadth_first(len(self.slugs), ends, others, np.array([root]), deepest=depth + 1)
        return np.flatnonzero(hops > 0)

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
    def columns(self) -> Columns:
        return Columns.of(self)

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


def page_url(locale: str) -> Callable[[str], str]:
    """The public page address of an article in `locale`, for many slugs at once."""
    before, _, after = public_site.page_url("article", "\0", locale).partition("\0")
    return lambda slug: before + slug + after


def node_urls(slugs: list[str], canonical_urls: list[str | None], locale: str) -> list[str]:
    """The address a graph names each article by: its canonical URL when one is set (the
    page search engines index and SEO tools report on), else its public page."""
    url = page_url(locale)
    return [canonical or url(slug) for slug, canonical in zip(slugs, canonical_urls, strict=True)]


@dataclass
class Columns:
    """An exported graph as parallel lists of plain values, the form every writer loops
    over (one pass per column, no per-item objects)."""

    uuids: list[str]
    slugs: list[str]  # the node key in every format: edges name them
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
    def of(cls, graph: Graph) -> Columns:
        site = graph.site
        # Object arrays pick many items at C speed, where a list comprehension would not.
        nodes, edges = graph.nodes, graph.edges
        slugs = site.columns["slugs"][nodes].tolist()
        inlinks = graph.inlinks.tolist()
        return cls(
            uuids=site.columns["ids"][nodes].tolist(),
            slugs=slugs,
            titles=site.columns["titles"][nodes].tolist(),
            urls=node_urls(slugs, site.columns["canonical_urls"][nodes].tolist(), site.locale),
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
