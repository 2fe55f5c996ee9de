"""The newest article summaries that profiles and topic pages embed, for many tags at once."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from cms_api.database import db
from cms_api.services.publishing import store

# Up to this many tags, each is looked up through the tags index; past it, one pass
# over the article documents' tags answers them all. A refresh after a bulk publish
# asks for hundreds (every author, reviewer and topic of its articles), and every lookup
# through the index also scans the index's pending list, which a bulk insert leaves long
# until (auto)vacuum merges it.
FEW_TAGS = 16

# Each wanted tag's documents, ranked without their summaries; only each tag's newest
# are read in full. Rows come unsorted: the caller orders them.
_EMBEDDED = text(
    """
    WITH tagged AS (
        SELECT item.tag, d.entity_id,
            row_number() OVER (
                PARTITION BY item.tag ORDER BY d.published_at DESC, d.entity_id DESC
            ) AS n,
            count(*) OVER (PARTITION BY item.tag) AS total
        FROM published_documents AS d
        CROSS JOIN LATERAL unnest(d.tags) AS item(tag)
        JOIN unnest(CAST(:tags AS text[])) AS wanted(tag) ON wanted.tag = item.tag
        WHERE d.kind = 'article'
    )
    SELECT tagged.tag, tagged.total, tagged.n, d.summary
    FROM tagged
    JOIN published_documents AS d ON d.kind = 'article' AND d.entity_id = tagged.entity_id
    WHERE tagged.n <= :limit
    """
)


def embedded_articles(tags: set[str]) -> dict[str, tuple[list[dict[str, Any]], int]]:
    """By tag: its newest stored article summaries and how many articles have it in all,
    as `store.embedded_articles` answers for one tag."""
    if len(tags) <= FEW_TAGS:
        return {tag: store.embedded_articles(tag) for tag in tags}
    rows = db.session.execute(
        _EMBEDDED, {"tags": sorted(tags), "limit": store.EMBEDDED_ARTICLES}
    ).all()
    ranked: dict[str, list[tuple[int, str]]] = {tag: [] for tag in tags}
    totals = dict.fromkeys(tags, 0)
    for tag, total, n, summary in rows:
        ranked[tag].append((n, summary))
        totals[tag] = total
    return {
        tag: ([json.loads(summary) for _, summary in sorted(items)], totals[tag])
        for tag, items in ranked.items()
    }
