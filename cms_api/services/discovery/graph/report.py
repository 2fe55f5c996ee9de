"""The link report: orphans and dead ends of the published site, and for editors broken links."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from cms_api.services.discovery.graph.cache import SITES
from cms_api.services.discovery.graph.loading import current_version, reading
from cms_api.services.discovery.graph.model import page_url

# Live links whose target readers of the locale cannot reach: from each published
# article of the locale (a translation's links are its original's) to a target that is
# trashed or unpublished, and has no published translation in the locale either.
_BROKEN_SQL = """
SELECT s.slug, t.slug, l.relation, l.anchor_text, t.deleted_at IS NOT NULL, t.status
FROM related_links l
CROSS JOIN LATERAL (
    SELECT l.source_id AS id
  UNION ALL
    SELECT a.id FROM articles a WHERE a.source_id = l.source_id AND a.locale = %(locale)s
) member
JOIN published_documents s
    ON s.kind = 'article' AND s.entity_id = member.id AND s.locale = %(locale)s
JOIN articles t ON t.id = l.target_id
WHERE l.deleted_at IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM published_documents p WHERE p.kind = 'article' AND p.entity_id = l.target_id
  )
  AND NOT EXISTS (
      SELECT 1 FROM articles x
      JOIN published_documents p ON p.kind = 'article' AND p.entity_id = x.id
      WHERE x.source_id = l.target_id AND x.locale = %(locale)s
  )
ORDER BY s.slug COLLATE "C", t.slug COLLATE "C"
"""


def _published_report(locale: str) -> dict[str, Any]:
    """What the site published in `locale` alone shows: its counts, orphans and dead ends."""
    site = SITES.get(current_version(), locale)
    graph = site.whole()
    url = page_url(locale)

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


def report(locale: str) -> str:
    """The public report of `locale`, as JSON: it speaks only of published articles and
    the links among them, so not even a count of links to unpublished ones."""
    return json.dumps(_published_report(locale), ensure_ascii=False, separators=(",", ":"))


def editorial_report(locale: str) -> dict[str, Any]:
    """The public report plus the live links from published articles to ones readers
    cannot see (trashed or unpublished), naming those targets: for editors only."""
    document = _published_report(locale)
    with reading() as cursor:
        broken = cursor.execute(_BROKEN_SQL, {"locale": locale}).fetchall()
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
