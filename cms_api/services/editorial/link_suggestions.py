"""Related-link suggestions for an article, from shared topics and shared words; accepting one."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text

from cms_api.database import db
from cms_api.domain.errors import NotFound
from cms_api.domain.locales import search_configuration
from cms_api.models import Article, ArticleTopic, RelatedLink, Topic
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial import links as links_admin

# How a suggestion's score is made: the share of the article's topics the target is on,
# and how many word stems their titles and summaries share (cosine of the two stem sets),
# with a little extra when the target already links back.
TOPIC_WEIGHT = 0.5
TEXT_WEIGHT = 0.5
LINKS_BACK_BONUS = 0.1
# A candidate is a published article sharing a topic or a title word with the article;
# the best by that cheap measure are then scored on their whole title and summary.
SHORTLIST = 200
SHOWN_TERMS = 8

# One statement, whatever the corpus: candidates (published in the article's locale, not
# of its work, not linked from it already, even by a link in the trash: restore that one
# instead), a shortlist by shared topics and title words, then the stems of each shortlisted
# title and summary. Links are made between originals and shared by their translations,
# so "linked" and "links back" are asked of the works (the original and the article).
_SUGGESTIONS_SQL = text(
    """
WITH source AS (
    SELECT CAST(:tags AS text[]) AS tags,
           tsvector_to_array(to_tsvector(CAST(:config AS regconfig), :words)) AS terms
),
-- Each stem of the article's text with the first word of the text it came from, so
-- reasons can quote words ("headache"), not stems ("headach").
vocabulary AS (
    SELECT DISTINCT ON (stem) stem, word
    FROM regexp_split_to_table(lower(:words), '[^[:alnum:]]+') WITH ORDINALITY AS w(word, n),
         unnest(tsvector_to_array(to_tsvector(CAST(:config AS regconfig), w.word))) AS stem
    ORDER BY stem, n
),
candidates AS (
    SELECT d.entity_id, d.slug, d.summary, coalesce(a.source_id, a.id) AS work,
           ARRAY(SELECT unnest(d.tags) INTERSECT SELECT unnest(source.tags)) AS shared_tags,
           cardinality(ARRAY(
               SELECT unnest(tsvector_to_array(
                   to_tsvector(CAST(:config AS regconfig), d.sort_title)
               ))
               INTERSECT SELECT unnest(source.terms)
           )) AS title_hits
    FROM published_documents d
    JOIN articles a ON a.id = d.entity_id
    CROSS JOIN source
    WHERE d.kind = 'article'
      AND d.locale = :locale
      -- Not the article itself, nor its original or another of its translations.
      AND coalesce(a.source_id, a.id) <> :work
      AND NOT EXISTS (
          SELECT 1 FROM related_links l
          WHERE l.source_id IN (:article_id, :work)
            AND l.target_id IN (d.entity_id, coalesce(a.source_id, a.id))
      )
),
shortlist AS (
    SELECT *, count(*) OVER () AS total
    FROM candidates
    WHERE cardinality(shared_tags) > 0 OR title_hits > 0
    ORDER BY cardinality(shared_tags) DESC, title_hits DESC, slug
    LIMIT :shortlist
)
SELECT s.entity_id, s.slug, x.title, s.shared_tags, s.total,
       tsvector_to_array(to_tsvector(
           CAST(:config AS regconfig), x.title || ' ' || coalesce(x.summary, '')
       )) AS terms,
       EXISTS (
           SELECT 1 FROM related_links l
           WHERE l.source_id IN (s.entity_id, s.work) AND l.target_id IN (:article_id, :work)
             AND l.deleted_at IS NULL
       ) AS links_back,
       (SELECT terms FROM source) AS source_terms,
       (SELECT json_object_agg(stem, word) FROM vocabulary) AS words
FROM shortlist s, json_to_record(s.summary::json) AS x(title text, summary text)
"""
)


@dataclass(frozen=True)
class Suggestion:
    target_id: uuid.UUID
    slug: str
    title: str
    score: float
    shared_topics: list[str]
    shared_terms: list[str]
    reasons: list[str]

    def present(self) -> dict[str, Any]:
        return {
            "target_id": self.target_id,
            "slug": self.slug,
            "title": self.title,
            "score": self.score,
            "shared_topics": self.shared_topics,
            "shared_terms": self.shared_terms,
            "reasons": self.reasons,
        }


def _topic_slugs(article: Article) -> list[str]:
    """The article's own topics (its working copy: editors link while they write)."""
    return list(
        db.session.scalars(
            select(Topic.slug)
            .join(ArticleTopic, ArticleTopic.topic_id == Topic.id)
            .where(ArticleTopic.article_id == article.id, Topic.deleted_at.is_(None))
            .order_by(ArticleTopic.position, Topic.slug)
        )
    )


def suggest(article: Article, *, limit: int) -> tuple[list[Suggestion], int]:
    """The best `limit` articles published in the article's locale to link to from
    `article`, best first, and how many candidates there were. Words are compared with
    the locale's stemmer."""
    topics = _topic_slugs(article)
    rows = db.session.execute(
        _SUGGESTIONS_SQL,
        {
            "tags": [f"topic:{slug}" for slug in topics],
            "words": f"{article.title} {article.summary or ''}",
            "article_id": article.id,
            "work": article.source_id or article.id,
            "locale": article.locale,
            "config": search_configuration(article.locale),
            "shortlist": SHORTLIST,
        },
    ).all()
    total = rows[0].total if rows else 0
    suggestions = [_score(row, topics) for row in rows]
    suggestions.sort(key=lambda item: (-item.score, item.slug))
    return suggestions[:limit], total


def _score(row: Any, topics: list[str]) -> Suggestion:
    shared_topics = [slug for slug in topics if f"topic:{slug}" in row.shared_tags]
    source_terms, target_terms = set(row.source_terms or ()), set(row.terms or ())
    words = row.words or {}
    shared_terms = sorted({words.get(stem, stem) for stem in source_terms & target_terms})
    topic_share = len(shared_topics) / len(topics) if topics else 0.0
    text_share = (
        len(source_terms & target_terms) / math.sqrt(len(source_terms) * len(target_terms))
        if source_terms and target_terms
        else 0.0
    )
    score = TOPIC_WEIGHT * topic_share + TEXT_WEIGHT * text_share
    reasons = [f"Shares the topic {slug}" for slug in shared_topics]
    if shared_terms:
        reasons.append("Similar wording: " + ", ".join(shared_terms[:SHOWN_TERMS]))
    if row.links_back:
        score += LINKS_BACK_BONUS
        reasons.append("Already links to this article")
    return Suggestion(
        target_id=row.entity_id,
        slug=row.slug,
        title=row.title,
        score=round(min(score, 1.0), 4),
        shared_topics=shared_topics,
        shared_terms=shared_terms[:SHOWN_TERMS],
        reasons=reasons,
    )


_PUBLISHED_TITLE_SQL = text(
    """
SELECT x.title FROM published_documents d, json_to_record(d.summary::json) AS x(title text)
WHERE d.kind = 'article' AND d.entity_id = :target_id
"""
)


def accept(
    article: Article, target_id: uuid.UUID, data: dict[str, Any], actor: Actor
) -> RelatedLink:
    """Link `article` to a suggested target, as `POST .../links` would (same checks,
    audit entry and re-rendering); the anchor text defaults to the target's title."""
    title = db.session.scalar(_PUBLISHED_TITLE_SQL, {"target_id": target_id})
    if title is None or target_id == article.id:
        raise NotFound("No published article with this id can be suggested for this one.")
    anchor = data.get("anchor_text") or title[:200]
    # Links are kept between the works' originals, and each translation shows them in its
    # own locale: a suggested translation stands for its original.
    target = db.session.get(Article, target_id)
    if target is not None and target.source_id is not None:
        target_id = target.source_id
    if article.source_id is not None:
        # The link goes on the original, whose anchor text is in the original's language:
        # text typed for the translation would be shown in the wrong one.
        original_target = db.session.get(Article, target_id)
        anchor = original_target.title[:200] if original_target is not None else None
        article = db.session.get(Article, article.source_id) or article
    return links_admin.create_link(
        article,
        {
            "target_id": target_id,
            "relation": data.get("relation", "see_also"),
            "weight": data.get("weight", 0.5),
            "anchor_text": anchor,
            "position": None,
        },
        actor,
    )
