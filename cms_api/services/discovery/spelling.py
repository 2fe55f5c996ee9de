"""Typo correction for queries: each word that matches nothing becomes the nearest indexed word
of the query's locale."""

from __future__ import annotations

import re

from sqlalchemy import Connection

from cms_api.domain import locales

# A word of a query that may be a typo: letters only (numbers and codes are left alone).
_WORD = re.compile(r"[^\W\d_]+")
_MIN_CORRECTABLE = 3  # trigram similarity says little about shorter words

# Each query word whose stem occurs nowhere in the locale's index, with the locale's
# indexed words most similar to it by trigrams (pg_trgm's GIN index answers `%`). A word
# is stemmed in the locale's language (`{configuration}`), as its documents were: Spanish
# "dolor de cabeza" is three known words of the Spanish lexicon, not typos of English ones.
_UNKNOWN_WORDS = """
SELECT typed.word, ARRAY(
    SELECT known.word FROM search_words AS known
    WHERE known.word %% typed.norm AND known.locale = %(locale)s
    ORDER BY similarity(known.word, typed.norm) DESC, known.word
    LIMIT %(suggestions)s
)
FROM (
    SELECT word, lower(unaccent(word)) AS norm,
        tsvector_to_array(to_tsvector({configuration}, word)) AS lexemes
    FROM unnest(%(words)s::text[]) AS word
) AS typed
WHERE cardinality(typed.lexemes) > 0
    AND NOT EXISTS (
        SELECT 1 FROM search_words
        WHERE lexeme = ANY(typed.lexemes) AND locale = %(locale)s
    )
"""
# Trigram similarity finds the candidates; edit distance picks among them, since
# trigrams favour a short word inside the typo ("headake" shares more with "head" than
# with "headache").
_SUGGESTIONS = 8


def correct(connection: Connection, q: str, *, locale: str) -> str | None:
    """`q` with each word that matches nothing in `locale` replaced by the nearest word
    indexed in that locale, or None when there is nothing to correct."""
    words = {
        match.group().casefold()
        for match in _WORD.finditer(q)
        if len(match.group()) >= _MIN_CORRECTABLE
        and match.group().casefold() != "or"  # an operator in web search syntax
        and not q[: match.start()].endswith("-")  # an exclusion: leave it be
    }
    if not words:
        return None
    # The configuration's name comes from `locales`, never from the request.
    statement = _UNKNOWN_WORDS.replace(
        "{configuration}", f"'{locales.search_configuration(locale)}'"
    )
    rows = connection.exec_driver_sql(
        statement, {"words": sorted(words), "suggestions": _SUGGESTIONS, "locale": locale}
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
