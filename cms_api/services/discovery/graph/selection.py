"""Which part of the graph an export covers, and picking those articles out of the site."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from cms_api.domain.errors import NotFound
from cms_api.services import runtime
from cms_api.services.discovery.graph.loading import reading
from cms_api.services.discovery.graph.model import GRAPH_NAME, Graph, Site


@dataclass(frozen=True)
class Filters:
    """Which part of the graph to export: a locale's articles on a topic, around an
    article, or all of them."""

    topic: str | None = None
    root: str | None = None
    depth: int = 1
    locale: str | None = None  # None: the site's default locale

    @property
    def site_locale(self) -> str:
        return self.locale or runtime.settings().default_locale

    def key(self) -> str:
        return json.dumps(
            [self.topic, self.root, self.depth if self.root else None, self.site_locale]
        )

    def filename(self, extension: str, *, table: str | None = None) -> str:
        parts = [GRAPH_NAME]
        if self.site_locale != runtime.settings().default_locale:
            parts.append(self.site_locale)
        if self.topic:
            parts.append(f"topic-{self.topic}")
        if self.root:
            parts.append(f"around-{self.root}-depth-{self.depth}")
        if table:
            parts.append(table)
        return "-".join(parts) + "." + extension


_TOPIC_SQL = """
SELECT slug FROM published_documents
WHERE kind = 'article' AND locale = %(locale)s AND tags @> ARRAY[%(tag)s]::text[]
"""


def select(site: Site, filters: Filters) -> Graph:
    """The graph of the articles `filters` keep (raises NotFound for an unknown root)."""
    if filters.topic is None and filters.root is None:
        return site.whole()
    chosen: np.ndarray | None = None
    if filters.topic is not None:
        chosen = _articles_named(
            site, _TOPIC_SQL, {"tag": f"topic:{filters.topic}", "locale": site.locale}
        )
    if filters.root is not None:
        root = site.index.get(filters.root)
        if root is None:
            raise NotFound(f"No published article has the slug {filters.root!r}.")
        # Within `depth` links either way, through published articles only: the links
        # of the site, which are those between two of its published articles.
        around = site.around(root, filters.depth)
        chosen = around if chosen is None else np.intersect1d(chosen, around)
    assert chosen is not None
    return Graph.of(site, np.unique(chosen))


def _articles_named(site: Site, sql: str, params: dict[str, Any]) -> np.ndarray:
    """The numbers of the articles whose slugs a query returns."""
    with reading() as cursor:
        slugs = cursor.execute(sql, params).fetchall()
    index = site.index
    return np.array([index[slug] for (slug,) in slugs if slug in index], dtype=np.int64)
