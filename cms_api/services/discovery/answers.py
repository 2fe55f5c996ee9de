"""Instant answers: reviewed passages quoted verbatim, or the question counted for editors."""

from __future__ import annotations

import math
import re
import threading
import time
import unicodedata
import uuid
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Connection, TextClause, select, text

from cms_api.database import db
from cms_api.domain import clock
from cms_api.domain.errors import NotFound
from cms_api.domain.paging import Keyset, Page, uuid_value, whole_number
from cms_api.models import UnansweredQuestion
from cms_api.services import embedding, runtime, vectors
from cms_api.services.delivery.remembered import database
from cms_api.services.discovery import intents, red_flags
from cms_api.services.discovery.search import configuration, planned_for_its_words, site_locale
from cms_api.services.paging import paginate
from cms_api.services.publishing.site import page_url
from cms_api.services.vectors import PassageKey

# Passages quoted at most, and candidates each ranked list contributes to the fusion.
ANSWER_LIMIT = 3
CANDIDATES = 20
# How many passages a term may be in before it counts as common (see _CANDIDATES).
FREQUENT = 500
# The best fused candidates whose confidence is weighed.
SHORTLIST = 20
# Lexical, trigram and semantic: agreement is the share of them that found a passage.
RANKED_LISTS = 3
# The constant of reciprocal rank fusion (Cormack et al.): 1 / (k + rank) per list.
RRF_K = 60
# The nearest passages by meaning are found among every locale's, then those of the
# question's locale kept: when too few were, up to this many are looked at.
NEAREST_MAX = 16 * CANDIDATES
# How long a worker goes by the locales' shares of the passages it read from the planner's
# statistics (which change only when the table is analyzed) before reading them again.
SHARES_SECONDS = 300.0
# How similar (pg_trgm word_similarity) a question must be to a passage's heading to make
# it a trigram candidate: pg_trgm's default, 0.6, is for single words, not questions.
TRIGRAM_THRESHOLD = 0.3
ASK = {"href": "/v1/questions", "method": "POST"}

# The candidates of the three lists, each with what the confidence is made of, in one
# statement. A query term's weight is its inverse passage frequency, so that "lip filler"
# counts for more than "headache" in a site about headaches; `coverage` is the weighted
# share of the query's terms a passage has. Only passages of reviewed content whose review
# is not overdue are candidates; unpublished and trashed content has none (the passages
# leave with their document). Only passages of the question's locale are candidates, and
# frequencies are counted among them: the question is parsed and stemmed in the locale's
# language (`{language}`), as they were.
#
# The work is bounded whatever the words: a term's passages are counted up to :frequent
# (past it a term is simply common), and the lexical list ranks only the passages holding
# every term or one of the uncommon ones, at most :frequent of each. A question of common
# words only ("what helps head pain") on a large site is left to the other two lists
# rather than scoring tens of thousands of passages.
_CANDIDATES = """
WITH query AS MATERIALIZED (
    SELECT
        websearch_to_tsquery({language}, :q) AS all_terms,
        tsvector_to_array(to_tsvector({language}, :q)) AS lexemes,
        lower(:q) AS plain
),
passages AS MATERIALIZED (
    -- The locale's passages as the planner estimates them where the table has been
    -- analyzed (its rows times the locale's share of them, `locale_share`, a whole number
    -- of them: exact where ANALYZE read every row), else (small, new) a count.
    SELECT coalesce(
        (SELECT round(nullif(greatest(reltuples, 0), 0) * CAST(:share AS float)) FROM pg_class
            WHERE oid = 'answer_passages'::regclass),
        (SELECT count(*) FROM answer_passages WHERE locale = :locale)
    )::float AS total
),
terms AS MATERIALIZED (
    SELECT term.lexeme, found.n, sqrt(ln(1 + passages.total / (1 + found.n))) AS weight
    FROM query
    CROSS JOIN unnest(query.lexemes) AS term(lexeme)
    CROSS JOIN passages
    CROSS JOIN LATERAL (
        SELECT count(*) AS n FROM (
            SELECT FROM answer_passages AS p
            WHERE p.vector @@ quote_literal(term.lexeme)::tsquery AND p.locale = :locale
            LIMIT :frequent
        ) AS limited
    ) AS found
),
-- Any of the words, not all: a question's extra words ("is", "serious") must not hide
-- the passage that has the rest; coverage then says how much of the question it holds.
wanted AS MATERIALIZED (
    SELECT
        nullif(replace(query.all_terms::text, ' & ', ' | '), '')::tsquery AS any_terms,
        nullif(querytree(query.all_terms), 'T')::tsquery AS every_term,
        (
            SELECT string_agg(quote_literal(t.lexeme), ' | ')::tsquery FROM terms AS t
            WHERE t.n < :frequent
        ) AS uncommon_terms,
        query.plain
    FROM query
),
-- Not materialized: each list below reads it through its own index (GIN on the tsvector,
-- GIN trigram on the heading), which a materialized row set would not have.
eligible AS NOT MATERIALIZED (
    SELECT p.* FROM answer_passages AS p
    WHERE p.reviewed_on IS NOT NULL AND (p.review_due IS NULL OR p.review_due >= :today)
        AND p.locale = :locale
),
matched AS (
    (SELECT p.kind, p.entity_id, p.position FROM eligible AS p, wanted
        WHERE p.vector @@ wanted.every_term LIMIT :frequent)
    UNION
    (SELECT p.kind, p.entity_id, p.position FROM eligible AS p, wanted
        WHERE p.vector @@ wanted.uncommon_terms LIMIT :frequent)
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
    FROM matched
    JOIN answer_passages AS p USING (kind, entity_id, position)
    CROSS JOIN wanted
    CROSS JOIN LATERAL (
        SELECT sum(t.weight) AS weight FROM terms AS t
        WHERE p.vector @@ quote_literal(t.lexeme)::tsquery
    ) AS held
    ORDER BY rank
    LIMIT :candidates
),
-- Typos and near wordings of a heading, which for an FAQ is its question: a reader's
-- question often restates one. At most :frequent headings are read (a question near
-- thousands of "When to see a doctor" headings reads some of them, all alike).
trigram AS (
    SELECT near.kind, near.entity_id, near.position, 'trigram' AS list,
        row_number() OVER (
            ORDER BY near.distance, near.kind, near.entity_id, near.position
        ) AS rank
    FROM (
        SELECT p.kind, p.entity_id, p.position, lower(:q) <<-> p.heading AS distance
        FROM eligible AS p
        WHERE lower(:q) <% p.heading
        LIMIT :frequent
    ) AS near
    ORDER BY rank
    LIMIT :candidates
),
-- The passages of the locale nearest the question by meaning, found before this statement
-- (pgvector or the in-memory scan: services.vectors, kept to the locale by `_nearest`),
-- nearest first.
semantic AS (
    SELECT given.kind, given.entity_id, given.position, 'semantic' AS list, given.rank
    FROM unnest(
        CAST(:semantic_kinds AS text[]), CAST(:semantic_ids AS uuid[]),
        CAST(:semantic_positions AS int[])
    ) WITH ORDINALITY AS given(kind, entity_id, position, rank)
),
candidates AS (
    SELECT * FROM lexical UNION ALL SELECT * FROM trigram UNION ALL SELECT * FROM semantic
)
SELECT
    c.list, c.rank, p.kind, p.entity_id, p.position, p.locale, p.page_kind, p.page_slug, p.anchor,
    p.title, p.heading, p.html, p.text, p.reviewers, p.reviewed_on,
    coalesce(
        (SELECT sum(t.weight) FROM terms AS t WHERE t.lexeme = ANY(tsvector_to_array(p.vector)))
            / nullif((SELECT sum(t.weight) FROM terms AS t), 0),
        0
    ) AS coverage,
    word_similarity(wanted.plain, p.heading) AS heading_similarity,
    p.embedding
FROM candidates AS c
JOIN answer_passages AS p USING (kind, entity_id, position)
CROSS JOIN wanted
WHERE p.locale = :locale
"""
# What ANALYZE last measured of the passages' locales: the most common ones, their
# shares, and how many locales there are.
_LOCALE_STATISTICS = """
SELECT most_common_vals::text::text[] AS locales, most_common_freqs AS shares, n_distinct
FROM pg_stats
WHERE schemaname = current_schema() AND tablename = 'answer_passages' AND attname = 'locale'
"""
# The passages among these (kind, entity_id, position) keys that are in the locale, in
# the order given.
_OF_LOCALE = """
SELECT given.kind, given.entity_id, given.position
FROM unnest(%(kinds)s::text[], %(ids)s::uuid[], %(positions)s::int[])
    WITH ORDINALITY AS given(kind, entity_id, position, n)
JOIN answer_passages AS p USING (kind, entity_id, position)
WHERE p.locale = %(locale)s
ORDER BY given.n
"""
_COUNT_UNANSWERED = """
INSERT INTO unanswered_questions AS known
    (locale, normalized, text, asked_count, first_asked_at, last_asked_at)
VALUES (:locale, :normalized, :text, 1, :now, :now)
ON CONFLICT (locale, normalized) DO UPDATE SET
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


@dataclass(frozen=True)
class Features:
    """What a candidate passage's confidence is computed from."""

    # The weighted share of the question's terms the passage holds (rare terms count more).
    coverage: float
    # The cosine of the question's and the passage's embeddings: closeness in meaning.
    cosine: float
    # The share of the ranked lists (lexical, trigram, semantic) that found it.
    agreement: float
    # How closely the question's words, typos and all, follow its heading (pg_trgm word
    # similarity): an FAQ's heading is its question, which a reader's often restates.
    heading_similarity: float = 0.0
    # The cosine of the question with its heading alone, and with its page's title.
    heading_cosine: float = 0.0
    title_cosine: float = 0.0
    # How far behind the shortlist's best cosine and coverage it is (0 for the best).
    cosine_gap: float = 0.0
    coverage_gap: float = 0.0
    # Whether it is the kind of passage the question asks for (services.discovery.intents):
    # 1 when a kind matches, and `intent_other` 1 when both have kinds and none match.
    intent_match: float = 0.0
    intent_other: float = 0.0

    def values(self) -> tuple[float, ...]:
        return (
            self.coverage,
            self.cosine,
            self.agreement,
            self.heading_similarity,
            self.heading_cosine,
            self.title_cosine,
            self.cosine_gap,
            self.coverage_gap,
            self.intent_match,
            self.intent_other,
        )


# Two steps, both fitted to the development set (bench/answers_devset.yaml) by
# bench/calibrate_answers.py. First a linear score over Features.values() orders the
# shortlist (fitted question by question, as a softmax over each shortlist).
RANKING_WEIGHTS = (2.521, 2.065, 0.687, 0.517, 0.246, 1.113, -2.065, -2.521, 1.101, -0.997)
RANKING_BIAS = 0.0
# Then the confidence, the estimated probability that the passage answers the question, is
# a logistic of its score and of its lead over the best other shortlisted passage: when two
# passages score alike the ranking cannot tell which one is meant, and quoting the first is
# a guess however well both match. CALIBRATION is (per unit of score, per unit of lead,
# constant); the lead is clipped to +-LEAD_CAP, and a lone passage leads by LEAD_CAP.
CALIBRATION = (0.701, 1.144, -3.318)
LEAD_CAP = 5.0


def ranking_score(features: Features) -> float:
    """The passage's ranking score (see RANKING_WEIGHTS)."""
    return RANKING_BIAS + sum(
        w * x for w, x in zip(RANKING_WEIGHTS, features.values(), strict=True)
    )


def confidence(score: float, lead: float) -> float:
    """How likely the passage answers the question, 0..1, from its ranking score and its
    lead over the best other passage (see CALIBRATION)."""
    per_score, per_lead, constant = CALIBRATION
    clipped = max(-LEAD_CAP, min(LEAD_CAP, lead))
    z = per_score * score + per_lead * clipped + constant
    return 1.0 / (1.0 + math.exp(-z))


def leads(scores: Sequence[float]) -> list[float]:
    """Each score's lead over the best of the others (LEAD_CAP when there are none)."""
    if len(scores) < 2:
        return [LEAD_CAP] * len(scores)
    ordered = sorted(scores, reverse=True)
    return [score - (ordered[1] if score == ordered[0] else ordered[0]) for score in scores]


def normalized(question: str) -> str:
    """The form unanswered questions are counted under: case, punctuation and whitespace
    folded ("Best pizza, in town?" and "best pizza in  town" are one question)."""
    folded = unicodedata.normalize("NFKC", question).casefold()
    kept = "".join(" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in folded)
    return re.sub(r"\s+", " ", kept).strip()


def urgent_guidance(question: str, locale: str | None = None) -> dict[str, Any] | None:
    """Red-flag guidance for an emergency presentation, checked before any retrieval: the
    guidance published in the question's locale (default: the site's)."""
    return red_flags.match(question, locale=locale)


@dataclass(frozen=True)
class Ranked:
    """A shortlisted passage: its stored row, fused score, features and confidence."""

    row: Any
    score: float
    features: Features
    confidence: float
    # Its ranking score (ranking_score) and lead over the best other passage.
    ranking: float = 0.0
    lead: float = 0.0


def answer(question: str, *, threshold: float, locale: str | None = None) -> dict[str, Any]:
    """The answer to `question` from the content of `locale` (default: the site's; see
    the `AnswerOut` schema). An unanswered one is counted for the editors, under its
    locale, once per computed answer."""
    locale = site_locale(locale)
    guidance = urgent_guidance(question, locale)
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
    passages, best = _retrieve(question, clock.utcnow().date(), threshold, locale)
    if not passages:
        _count_unanswered(question, locale)
    return {
        "q": question,
        "answered": bool(passages),
        "urgent": False,
        "guidance": None,
        "confidence": round(best, 3),
        "passages": passages,
        "ask": None if passages else ASK,
    }


def _retrieve(
    question: str, today: date, threshold: float, locale: str
) -> tuple[list[dict[str, Any]], float]:
    shortlist = ranked(question, today, locale=locale)
    quoted = [
        _passage(item.row, item.confidence, item.score)
        for item in shortlist[:ANSWER_LIMIT]
        if item.confidence >= threshold
    ]
    return quoted, shortlist[0].confidence if shortlist else 0.0


def ranked(question: str, today: date, *, locale: str | None = None) -> list[Ranked]:
    """The shortlist for `question` among the passages of `locale` (default: the site's),
    most confident first, whatever the threshold."""
    locale = site_locale(locale)
    # The one embedding computed on the read path: the question's (about 50 µs).
    query_vector = embedding.embed([question])[0]
    with runtime.snapshot() as shared, planned_for_its_words(shared) as connection:
        share = locale_share(connection, locale)
        semantic = _nearest(connection, query_vector, today=today, locale=locale, share=share)
        rows = connection.execute(
            _candidates(configuration(locale)),
            {
                "q": question,
                "locale": locale,
                # Unknown (no statistics, or none yet of this locale): every passage counts.
                "share": 1.0 if share is None else share,
                "today": today,
                "candidates": CANDIDATES,
                "frequent": FREQUENT,
                "trigram_threshold": TRIGRAM_THRESHOLD,
                "semantic_kinds": [kind for kind, _, _ in semantic],
                "semantic_ids": [entity_id for _, entity_id, _ in semantic],
                "semantic_positions": [position for _, _, position in semantic],
            },
        ).all()
    rankings: dict[str, list[tuple[int, PassageKey]]] = {}
    found: dict[PassageKey, Any] = {}
    in_lists: dict[PassageKey, set[str]] = {}
    for row in rows:
        key = (row.kind, row.entity_id, row.position)
        rankings.setdefault(row.list, []).append((row.rank, key))
        found[key] = row
        in_lists.setdefault(key, set()).add(row.list)
    lists = [[key for _, key in sorted(ranking)] for ranking in rankings.values()]
    # The fused ranking chooses the shortlist; the confidence orders what is quoted, so a
    # passage the lists merely liked does not go before one that holds the question.
    fused = fuse(lists)[:SHORTLIST]
    rows = [found[key] for key, _ in fused]
    # Headings and titles are embedded here, a shortlist at a time (well under a millisecond).
    headings = embedding.embed([row.heading for row in rows] + [row.title for row in rows])
    cosines = [_cosine(query_vector, row.embedding) for row in rows]
    best_cosine = max(cosines, default=0.0)
    best_coverage = max((float(row.coverage) for row in rows), default=0.0)
    asks_for = intents.of_question(question)
    featured = []
    for index, ((key, score), row) in enumerate(zip(fused, rows, strict=True)):
        answers_kinds = intents.of_passage(row.anchor, row.heading)
        features = Features(
            coverage=float(row.coverage),
            cosine=cosines[index],
            agreement=len(in_lists[key]) / RANKED_LISTS,
            heading_similarity=float(row.heading_similarity),
            heading_cosine=float(headings[index] @ query_vector),
            title_cosine=float(headings[len(rows) + index] @ query_vector),
            cosine_gap=best_cosine - cosines[index],
            coverage_gap=best_coverage - float(row.coverage),
            intent_match=float(bool(asks_for & answers_kinds)),
            intent_other=float(bool(asks_for and answers_kinds and not asks_for & answers_kinds)),
        )
        featured.append((row, score, features, ranking_score(features)))
    ahead = leads([ranking for *_, ranking in featured])
    shortlist = [
        Ranked(row, score, features, confidence(ranking, lead), ranking, lead)
        for (row, score, features, ranking), lead in zip(featured, ahead, strict=True)
    ]
    # By score, not confidence: equal scores tie on confidence too, whatever their order.
    shortlist.sort(key=lambda item: -item.ranking)
    return shortlist


@cache  # one statement per language
def _candidates(language: str) -> TextClause:
    return text(_CANDIDATES.replace("{language}", language))


_SHARES: dict[Any, tuple[float, list[str], list[float], float]] = {}
_SHARES_LOCK = threading.Lock()


def locale_share(connection: Connection, locale: str) -> float | None:
    """The share of the answer passages that are in `locale`, as ANALYZE last measured it
    (for a locale too rare to be among the most common values, the share each of the
    others is left); None when the statistics do not know (never analyzed, or analyzed
    before the locale had passages)."""
    key = database(connection)
    with _SHARES_LOCK:
        kept = _SHARES.get(key)
    if kept is None or time.monotonic() - kept[0] > SHARES_SECONDS:
        row = connection.exec_driver_sql(_LOCALE_STATISTICS).first()
        found = (row.locales or [], row.shares or [], row.n_distinct) if row else ([], [], 0.0)
        kept = (time.monotonic(), *found)
        with _SHARES_LOCK:
            _SHARES[key] = kept
    _, common, shares, distinct = kept
    if locale in common:
        return float(shares[common.index(locale)])
    others = distinct - len(common)
    left = (1.0 - sum(shares)) / others if others >= 1 else 0.0
    return left if left > 0 else None


def _nearest(
    connection: Connection, query_vector: Any, *, today: date, locale: str, share: float | None
) -> list[PassageKey]:
    """The CANDIDATES eligible passages of `locale` nearest the question, nearest first.

    When every passage is in `locale` (`share`), they are the nearest of all. Otherwise
    the nearest of all locales are looked at, more of them while too few are in `locale`
    (up to NEAREST_MAX): a locale with most of the passages needs one look, a locale with
    few of them may be left with fewer than CANDIDATES, which only shortens the semantic
    list. The model is trained on English (see `embedding`): in other languages it places
    texts by their shared tokens (names, cognates) more than by meaning, and the lexical
    and trigram lists do most of the finding.
    """
    mode = runtime.settings().vector_search
    if share == 1.0:
        # Were the statistics older than another locale's passages, the statement would
        # still leave those out: it quotes the question's locale only.
        return vectors.nearest(connection, query_vector, today=today, limit=CANDIDATES, mode=mode)
    limit = CANDIDATES
    while True:
        found = vectors.nearest(connection, query_vector, today=today, limit=limit, mode=mode)
        kept = [
            (row.kind, row.entity_id, row.position)
            for row in connection.exec_driver_sql(
                _OF_LOCALE,
                {
                    "kinds": [kind for kind, _, _ in found],
                    "ids": [entity_id for _, entity_id, _ in found],
                    "positions": [position for _, _, position in found],
                    "locale": locale,
                },
            ).all()
        ]
        if len(kept) >= CANDIDATES or len(found) < limit or limit >= NEAREST_MAX:
            return kept[:CANDIDATES]
        limit *= 4


def _cosine(query_vector: Any, stored: bytes | None) -> float:
    # Not embedded yet (right after the migration, before `cms-api render --if-outdated`).
    if stored is None:
        return 0.0
    return float(embedding.from_bytes(stored) @ query_vector)


def _passage(row: Any, sure: float, score: float) -> dict[str, Any]:
    url = page_url(row.page_kind, row.page_slug, row.locale)
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


def _count_unanswered(question: str, locale: str) -> None:
    key = normalized(question)
    if not key:
        return
    db.session.execute(
        text(_COUNT_UNANSWERED),
        {"locale": locale, "normalized": key, "text": question, "now": clock.utcnow()},
    )
    db.session.commit()


UNANSWERED_KEYSET = Keyset("unanswered", (whole_number, uuid_value))


def list_unanswered(
    *, limit: int, cursor: str | None, locale: str | None = None
) -> Page[UnansweredQuestion]:
    """Questions no answer was confident enough for, not dismissed, most asked first;
    those asked in `locale` only, if given."""
    filters = [UnansweredQuestion.dismissed_at.is_(None)]
    if locale is not None:
        filters.append(UnansweredQuestion.locale == locale)
    return paginate(
        select(UnansweredQuestion),
        filters,
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
