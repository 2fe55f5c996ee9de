"""Which part of the graph an export covers, and picking those articles out of the site."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from cms_api.domain.errors import NotFound
from cms_api.services.discovery.graph.loading import reading
from cms_api.services.discovery.graph.model import GRAPH_NAME, Graph, Site


@dataclass(frozen=True)
class Filters:
    """Which part of the graph to export: articles on a topic, around an article, or all."""

    topic: str | None = None
    root: str | None = None
    depth: int = 1

    def key(self) -> str:
        return json.dumps([self.topic, self.root, self.depth if self.root else None])

    def filename(self, extension: str, *, table: str | None = None) -> str:
        parts = [GRAPH_NAME]
        if self.topic:
            parts.append(f"topic-{self.topic}")
        if self.root:
            parts.append(f"around-{self.root}-depth-{self.depth}")
        if table:
            parts.append(table)
        return "-".join(parts) + "." + extension


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


def select(site: Site, filters: Filters) -> Graph:
    """The graph of the articles `filters` keep (raises NotFound for an unknown root)."""
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
    with reading() as cursor:
        slugs = cursor.execute(sql, params).fetchall()
    index = site.index
    return np.array([index[slug] for (slug,) in slugs if slug in index], dtype=np.int64)
