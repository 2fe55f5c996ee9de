"""The link report: orphans and dead ends of the published site, and for editors broken links."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from cms_api.services.discovery.graph.cache import SITES
from cms_api.services.discovery.graph.loading import current_version, reading
from cms_api.services.discovery.graph.model import page_url

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


def _published_report() -> dict[str, Any]:
    """What the published site alone shows: its counts, orphans and dead ends."""
    site = SITES.get(current_version())
    graph = site.whole()
    url = page_url()

    def article(number: int) -> dict[str, Any]:
        slug = site.slugs[number]
        return {
            "id": site.ids[number],
            "slug": slug,
            "title": site.titles[number],
            "url": url(slug),
        }

    orphans = [article(number) for number in np.flatnonzero(graph.inlinks == 0).tolist()]
    dead_ends = [article(number) for number in np.flatnonzero(graph.outlinks == 0).tolist()]
    return {
        "counts": {
            "articles": len(site.slugs),
            "links": len(site.source),
            "orphans": len(orphans),
            "dead_ends": len(dead_ends),
        },
        "orphans": orphans,
        "dead_ends": dead_ends,
    }


def report() -> str:
    """The public report, as JSON: it speaks only of published articles and the links
    among them, so not even a count of links to unpublished ones."""
    return json.dumps(_published_report(), ensure_ascii=False, separators=(",", ":"))


def editorial_report() -> dict[str, Any]:
    """The public report plus the live links from published articles to ones readers
    cannot see (trashed or unpublished), naming those targets: for editors only."""
    document = _published_report()
    with reading() as cursor:
        broken = cursor.execute(_BROKEN_SQL).fetchall()
    document["counts"]["broken_links"] = len(broken)
    document["broken_links"] = [
        {
            "source": source,
            "target": target,
            "relation": relation,
            "anchor_text": anchor,
            "reason": "target_trashed" if trashed else "target_not_published",
            "target_status": status,
        }
        for source, target, relation, anchor, trashed, status in broken
    ]
    return document
