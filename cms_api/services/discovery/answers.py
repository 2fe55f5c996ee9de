"""Instant answers: reviewed passages quoted verbatim, or the question counted for editors."""

from __future__ import annotations

import math
import re
import unicodedata
import uuid
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, text

from cms_api.database import db
from cms_api.domain import clock
from cms_api.domain.errors import NotFound
from cms_api.domain.paging import Keyset, Page, uuid_value, whole_number
from cms_api.models import UnansweredQuestion
from cms_api.services import runtime
from cms_api.services.discovery import red_flags
from cms_api.services.discovery.search import planned_for_its_words
from cms_api.services.paging import paginate
from cms_api.services.publishing.site import page_url

# Passages quoted at most, and candidates each ranked list contributes to the fusion.
ANSWER_LIMIT = 3
CANDIDATES = 20
# The best fused candidates whose confidence is weighed.
SHORTLIST = 10
# The constant of reciprocal rank fusion (Cormack et al.): 1 / (k + rank) per list.
RRF_K = 60
# How similar (pg_trgm word_similarity) a passage's words must be to the whole query to be
# a trigram candidate: pg_trgm's default, 0.6, is for single words, not questions.
TRIGRAM_THRESHOLD = 0.3
ASK = {"href": "/v1/questions", "method": "POST"}

# The candidates of both lists, each with what the confidence is made of, in one
# statement. A query term's weight is its inverse passage frequency, so that "lip filler"
# counts for more than "headache" in a site about headaches; `coverage` is the weighted
# share of the query's terms a passage has. Only passages of reviewed content whose review
# is not overdue are candidates; unpublished and trashed content has none (the passages
# leave with their document).
_CANDIDATES = """
WITH query AS MATERIALIZED (
    SELECT
        websearch_to_tsquery('cms_search', :q) AS all_terms,
        tsvector_to_array(to_tsvector('cms_search', :q)) AS lexemes,
        lower(:q) AS plain
),
terms AS MATERIALIZED (
    SELECT term.lexeme, sqrt(ln(1 + passages.total / (1 + found.n))) AS weight
    FROM query
    CROSS JOIN unnest(query.lexemes) AS term(lexeme)
    CROSS JOIN (SELECT count(*)::float AS total FROM answer_passages) AS passages
    CROSS JOIN LATERAL (
        SELECT count(*) AS n FROM answer_passages AS p
        WHERE p.vector @@ quote_literal(term.lexeme)::tsquery
    ) AS found
),
-- Any of the words, not all: a question's extra words ("is", "serious") must not hide
-- the passage that has the rest; coverage then says how much of the question it holds.
wanted AS MATERIALIZED (
    SELECT
        nullif(replace(query.all_terms::text, ' & ', ' | '), '')::tsquery AS any_terms,
        query.plain
    FROM query
),
eligible AS (
    SELECT p.* FROM answer_passages AS p
    WHERE p.reviewed_on IS NOT NULL AND (p.review_due IS NULL OR p.review_due >= :today)
),
-- Ranked by the weighted share of the query's terms first (a passage with every term
-- beats one repeating a common word), then by ts_rank_cd (terms near each other, in the
-- heading rather than the text).
lexical AS (
    SELECT p.kind, p.entity_id, p.position, 'lexical' AS list,
        row_number() OVER (
            ORDER BY held.weight DESC, ts_rank_cd(p.vector, wanted.any_terms) DESC,
                p.kind, p.entity_id, p.position
        ) AS rank
    FROM eligible AS p
    CROSS JOIN wanted
    CROSS JOIN LATERAL (
        SELECT sum(t.weight) AS weight FROM terms AS t
        WHERE p.vector @@ quote_literal(t.lexeme)::tsquery
    ) AS held
    WHERE p.vector @@ wanted.any_terms
    ORDER BY rank
    LIMIT :candidates
),
trigram AS (
    SELECT p.kind, p.entity_id, p.position, 'trigram' AS list,
        row_number() OVER (
            ORDER BY wanted.plain <<-> p.search_text, p.kind, p.entity_id, p.position
        ) AS rank
    FROM eligible AS p, wanted
    WHERE wanted.plain <% p.search_text
    ORDER BY rank
    LIMIT :candidates
),
candidates AS (SELECT * FROM lexical UNION ALL SELECT * FROM trigram)
SELECT
    c.list, c.rank, p.kind, p.entity_id, p.position, p.page_kind, p.page_slug, p.anchor,
    p.title, p.heading, p.html, p.text, p.reviewers, p.reviewed_on,
    coalesce(
        (SELECT sum(t.weight) FROM terms AS t WHERE t.lexeme = ANY(tsvector_to_array(p.vector)))
            / nullif((SELECT sum(t.weight) FROM terms AS t), 0),
        0
    ) AS coverage,
    word_similarity(wanted.plain, p.search_text) AS similarity,
    length(p.vector) AS words
FROM candidates AS c
JOIN answer_passages AS p USING (kind, entity_id, position)
CROSS JOIN wanted
"""
_COUNT_UNANSWERED = """
INSERT INTO unanswered_questions AS known
    (normalized, text, asked_count, first_asked_at, last_asked_at)
VALUES (:normalized, :text, 1, :now, :now)
ON CONFLICT (normalized) DO UPDATE SET
    asked_count = known.asked_count + 1,
    last_asked_at = excluded.last_asked_at
"""


def fuse(rankings: Sequence[Sequence[Hashable]], k: int = RRF_K) -> list[tuple[Hashable, float]]:
    """Reciprocal rank fusion: each ranked list (best first) gives an item 1 / (k + rank),
    rank from 1; the items by their summed score, best first (ties in first-seen order).

    Any number of lists: a semantic ranking joins the lexical and trigram ones as a third.
    """
    scores: dict[Hashable, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


def confidence(
    coverage: float, similarity: float, lists_agreeing: int, lists: int, words: int = 0
) -> float:
    """How sure a passage answers the query, 0..1: a logistic of the weighted share of the
    query's terms it holds (most of the signal), how closely its words follow the query's
    spelling and order (trigram word similarity), whether every ranked list found it, and
    its length (distinct words past 60 count against it: a long section holds many
    questions' words without answering them).

    Tuned on the seeded site: a passage holding the query's rare words and most of the
    rest scores above 0.8; one sharing only a common word ("headache") with it scores
    under 0.2.
    """
    agreement = lists_agreeing / lists if lists else 0.0
    z = 9.0 * coverage + 2.0 * similarity + 1.0 * agreement - 7.0
    z -= 1.5 * max(0.0, math.log(max(words, 1) / 60))
    return 1.0 / (1.0 + math.exp(-z))


def normalized(question: str) -> str:
    """The form unanswered questions are counted under: case, punctuation and whitespace
    folded ("Best pizza, in town?" and "best pizza in  town" are one question)."""
    folded = unicodedata.normalize("NFKC", question).casefold()
    kept = "".join(" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in folded)
    return re.sub(r"\s+", " ", kept).strip()


def urgent_guidance(question: str) -> dict[str, Any] | None:
    """Red-flag guidance for an emergency presentation, checked before any retrieval."""
    return red_flags.match(question)


@dataclass(frozen=True)
class _Candidate:
    row: Any
    lists: frozenset[str]

    @property
    def key(self) -> tuple[str, uuid.UUID, int]:
        return (self.row.kind, self.row.entity_id, self.row.position)


def answer(question: str, *, threshold: float) -> dict[str, Any]:
    """The answer to `question` (see the `AnswerOut` schema). An unanswered one is counted
    for the editors, once per computed answer."""
    guidance = urgent_guidance(question)
    if guidance is not None:
        return {
            "q": question,
            "answered": True,
            "urgent": True,
            "guidance": guidance,
            "confidence": None,
            "passages": [],
            "ask": None,
        }
    passages, best = _retrieve(question, clock.utcnow().date(), threshold)
    if not passages:
        _count_unanswered(question)
    return {
        "q": question,
        "answered": bool(passages),
        "urgent": False,
        "guidance": None,
        "confidence": round(best, 3),
        "passages": passages,
        "ask": None if passages else ASK,
    }


def _retrieve(question: str, today: date, threshold: float) -> tuple[list[dict[str, Any]], float]:
    with runtime.snapshot() as shared, planned_for_its_words(shared) as connection:
        # Local to this read-only transaction: the pooled connection keeps pg_trgm's default.
        connection.execute(
            text("SELECT set_config('pg_trgm.word_similarity_threshold', :value, true)"),
            {"value": str(TRIGRAM_THRESHOLD)},
        )
        rows = connection.execute(
            text(_CANDIDATES),
            {"q": question, "today": today, "candidates": CANDIDATES},
        ).all()
    rankings: dict[str, list[tuple[int, tuple[str, uuid.UUID, int]]]] = {}
    found: dict[tuple[str, uuid.UUID, int], Any] = {}
    in_lists: dict[tuple[str, uuid.UUID, int], set[str]] = {}
    for row in rows:
        key = (row.kind, row.entity_id, row.position)
        rankings.setdefault(row.list, []).append((row.rank, key))
        found[key] = row
        in_lists.setdefault(key, set()).add(row.list)
    lists = [[key for _, key in sorted(ranking)] for ranking in rankings.values()]
    # The fused ranking chooses the shortlist; the confidence orders what is quoted, so a
    # passage both lists merely liked does not go before one that holds the question.
    scored = [
        (_confidence(found[key], len(in_lists[key]), len(lists)), key, score)
        for key, score in fuse(lists)[:SHORTLIST]
    ]
    scored.sort(key=lambda item: -item[0])
    quoted = [
        _passage(found[key], sure, score)
        for sure, key, score in scored[:ANSWER_LIMIT]
        if sure >= threshold
    ]
    return quoted, scored[0][0] if scored else 0.0


def _confidence(row: Any, lists_agreeing: int, lists: int) -> float:
    return confidence(row.coverage, row.similarity, lists_agreeing, max(lists, 2), row.words)


def _passage(row: Any, sure: float, score: float) -> dict[str, Any]:
    url = page_url(row.page_kind, row.page_slug)
    return {
        "text": row.text,
        "html": row.html,
        "heading": row.heading,
        "confidence": round(sure, 3),
        "score": round(score, 6),
        "citation": {
            "url": f"{url}#{row.anchor}" if row.anchor else url,
            "title": row.title,
            "section": row.anchor,
            "reviewers": row.reviewers,
            "reviewed_on": row.reviewed_on.isoformat() if row.reviewed_on else None,
        },
    }


def _count_unanswered(question: str) -> None:
    key = normalized(question)
    if not key:
        return
    db.session.execute(
        text(_COUNT_UNANSWERED),
        {"normalized": key, "text": question, "now": clock.utcnow()},
    )
    db.session.commit()


UNANSWERED_KEYSET = Keyset("unanswered", (whole_number, uuid_value))


def list_unanswered(*, limit: int, cursor: str | None) -> Page[UnansweredQuestion]:
    """Questions no answer was confident enough for, not dismissed, most asked first."""
    return paginate(
        select(UnansweredQuestion),
        [UnansweredQuestion.dismissed_at.is_(None)],
        order=(UnansweredQuestion.asked_count, UnansweredQuestion.id),
        descending=True,
        keyset=UNANSWERED_KEYSET,
        cursor=cursor,
        limit=limit,
    )


def dismiss_unanswered(question_id: uuid.UUID) -> UnansweredQuestion:
    """Take a question off the editors' list (answered by new content, or not worth it).
    It keeps being counted, out of sight; dismissing twice changes nothing."""
    question = db.session.scalar(
        select(UnansweredQuestion).where(UnansweredQuestion.id == question_id).with_for_update()
    )
    if question is None:
        raise NotFound("No unanswered question has this id.")
    if question.dismissed_at is None:
        question.dismissed_at = clock.utcnow()
        db.session.commit()
    return question
