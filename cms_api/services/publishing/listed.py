"""The newest article summaries that profiles and topic pages embed, for many tags at once."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from cms_api.database import db
from cms_api.services.publishing import store

# Each wanted (locale, tag): its total from `listed_article_counts` and its newest
# documents from a backward scan of `listed_articles` (both kept by triggers, migration
# 0023), so the cost follows the number of tags asked for, not the size of the corpus.
# Rows come unsorted: the caller orders them.
_EMBEDDED = text(
    """
    SELECT wanted.locale, wanted.tag, coalesce(counted.documents, 0) AS total,
        newest.published_at, newest.entity_id, d.summary
    FROM unnest(CAST(:locales AS text[]), CAST(:tags AS text[])) AS wanted(locale, tag)
    LEFT JOIN listed_article_counts AS counted
        ON counted.tag = wanted.tag AND counted.locale = wanted.locale
    LEFT JOIN LATERAL (
        SELECT listed.published_at, listed.entity_id
        FROM listed_articles AS listed
        WHERE listed.tag = wanted.tag AND listed.locale = wanted.locale
        ORDER BY listed.published_at DESC, listed.entity_id DESC
        LIMIT :limit
    ) AS newest ON true
    LEFT JOIN published_documents AS d
        ON d.kind = 'article' AND d.entity_id = newest.entity_id
    """
)

# (locale, tag): a hub page in one locale lists the articles published in it.
Wanted = tuple[str, str]


def embedded_articles(wanted: set[Wanted]) -> dict[Wanted, tuple[list[dict[str, Any]], int]]:
    """By (locale, tag): the newest stored article summaries in that locale with the tag
    (newest first), and how many articles there have it in all."""
    if not wanted:
        return {}
    pairs = sorted(wanted)
    rows = db.session.execute(
        _EMBEDDED,
        {
            "locales": [locale for locale, _ in pairs],
            "tags": [tag for _, tag in pairs],
            "limit": store.EMBEDDED_ARTICLES,
        },
    ).all()
    ranked: dict[Wanted, list[Any]] = {key: [] for key in wanted}
    totals = dict.fromkeys(wanted, 0)
    for row in rows:
        totals[(row.locale, row.tag)] = row.total
        if row.summary is not None:
            ranked[(row.locale, row.tag)].append(row)
    return {
        key: (
            [
                json.loads(row.summary)
                for row in sorted(
                    items, key=lambda row: (row.published_at, row.entity_id), reverse=True
                )
            ],
            totals[key],
        )
        for key, items in ranked.items()
    }
