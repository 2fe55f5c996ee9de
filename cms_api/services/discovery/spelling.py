"""Typo correction for queries: each word that matches nothing becomes the nearest indexed word."""

from __future__ import annotations

import re

from sqlalchemy import Connection

# A word of a query that may be a typo: letters only (numbers and codes are left alone).
_WORD = re.compile(r"[^\W\d_]+")
_MIN_CORRECTABLE = 3  # trigram similarity says little about shorter words

# Each query word whose stem occurs nowhere in the index, with the indexed words most
# similar to it by trigrams (pg_trgm's GIN index answers `%`).
_UNKNOWN_WORDS = """
SELECT typed.word, ARRAY(
    SELECT known.word FROM search_words AS known
    WHERE known.word %% typed.norm
    ORDER BY similarity(known.word, typed.norm) DESC, known.word
    LIMIT %(suggestions)s
)
FROM (
    SELECT word, lower(unaccent(word)) AS norm,
        tsvector_to_array(to_tsvector('cms_search', word)) AS lexemes
    FROM unnest(%(words)s::text[]) AS word
) AS typed
WHERE cardinality(typed.lexemes) > 0
    AND NOT EXISTS (SELECT 1 FROM search_words WHERE lexeme = ANY(typed.lexemes))
"""
# Trigram similarity finds the candidates; edit distance picks among them, since
# trigrams favour a short word inside the typo ("headake" shares more with "head" than
# with "headache").
_SUGGESTIONS = 8


def correct(connection: Connection, q: str) -> str | None:
    """`q` with each word that matches nothing replaced by the nearest indexed word, or
    None when there is nothing to correct."""
    words = {
        match.group().casefold()
        for match in _WORD.finditer(q)
        if len(match.group()) >= _MIN_CORRECTABLE
        and match.group().casefold() != "or"  # an operator in web search syntax
        and not q[: match.start()].endswith("-")  # an exclusion: leave it be
    }
    if not words:
        return None
    rows = connection.exec_driver_sql(
        _UNKNOWN_WORDS, {"words": sorted(words), "suggestions": _SUGGESTIONS}
    ).all()
    replacements = {
        # Ties keep the trigram order: `min` returns the first of equals.
        word: min(candidates, key=lambda known, word=word: edit_distance(word, known))
        for word, candidates in rows
        if candidates
    }
    if not replacements:
        return None
    return _WORD.sub(lambda match: replacements.get(match.group().casefold(), match.group()), q)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance where swapping two adjacent letters is one edit ("botxo")."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]
