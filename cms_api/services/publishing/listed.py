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

# Each wanted (locale, tag)'s documents, ranked without their summaries; only each one's
# newest are read in full. Rows come unsorted: the caller orders them.
_EMBEDDED = text(
    """
    WITH tagged AS (
        SELECT wanted.locale, item.tag, d.entity_id,
            row_number() OVER (
                PARTITION BY wanted.locale, item.tag
                ORDER BY d.published_at DESC, d.entity_id DESC
            ) AS n,
            count(*) OVER (PARTITION BY wanted.locale, item.tag) AS total
        FROM published_documents AS d
        CROSS JOIN LATERAL unnest(d.tags) AS item(tag)
        JOIN unnest(CAST(:locales AS text[]), CAST(:tags AS text[])) AS wanted(locale, tag)
            ON wanted.tag = item.tag AND wanted.locale = d.locale
        WHERE d.kind = 'article'
    )
    SELECT tagged.locale, tagged.tag, tagged.total, tagged.n, d.summary
    FROM tagged
    JOIN published_documents AS d ON d.kind = 'article' AND d.entity_id = tagged.entity_id
    WHERE tagged.n <= :limit
    """
)

# (locale, tag): a hub page in one locale lists the articles published in it.
Wanted = tuple[str, str]


def embedded_articles(wanted: set[Wanted]) -> dict[Wanted, tuple[list[dict[str, Any]], int]]:
    """By (locale, tag): the newest stored article summaries in that locale with the tag,
    and how many articles there have it in all, as `store.embedded_articles` answers."""
    if len(wanted) <= FEW_TAGS:
        return {(locale, tag): store.embedded_articles(tag, locale) for locale, tag in wanted}
    pairs = sorted(wanted)
    rows = db.session.execute(
        _EMBEDDED,
        {
            "locales": [locale for locale, _ in pairs],
            "tags": [tag for _, tag in pairs],
            "limit": store.EMBEDDED_ARTICLES,
        },
    ).all()
    ranked: dict[Wanted, list[tuple[int, str]]] = {key: [] for key in wanted}
    totals = dict.fromkeys(wanted, 0)
    for locale, tag, total, n, summary in rows:
        ranked[(locale, tag)].append((n, summary))
        totals[(locale, tag)] = total
    return {
        key: ([json.loads(summary) for _, summary in sorted(items)], totals[key])
        for key, items in ranked.items()
    }
