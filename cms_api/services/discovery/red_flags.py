"""Match what a reader typed against the published red flags' triggers, before anything else."""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from cms_api.services import runtime
from cms_api.services.delivery.remembered import Version, current_version, database, unchanged
from cms_api.services.runtime import reading

# Misspellings are forgiven by edit distance (optimal string alignment, so a swapped pair of
# letters is one edit) with rapidfuzz: in-process, C-speed, and a query touches the database
# only for the version check below. PostgreSQL trigram similarity would cost a round trip
# per phrase and scores short words poorly ("hedache" and "headache" share few trigrams).
# Short words must be spelt right: one edit turns "worst" into "worse", "weak" into "week".
ONE_EDIT_FROM = 6
TWO_EDITS_FROM = 9
MAX_QUERY_CHARS = 500

# Straight and curly apostrophes, backticks and acute accents typed as apostrophes.
_APOSTROPHES = re.compile("['\u2019`\u00b4]")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
# The red flags published in one locale: a reader is shown guidance in the language they
# asked in, or none (red flags are written in the site's default locale).
_PUBLISHED = (
    "SELECT entity_id, etag, body FROM published_documents "
    "WHERE kind = 'red_flag' AND locale = %(locale)s "
    "ORDER BY sort_title, entity_id"
)


class TriggerError(ValueError):
    """A trigger an editor wrote cannot be read (an empty group or alternative)."""


def _stem(word: str) -> str:
    """Plurals and third persons fold onto the singular: "headaches", "arms", "allergies"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower-case words without accents or punctuation ("can't" is "cant"), plurals folded."""
    decomposed = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", text.casefold()))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    plain = _NOT_WORD.sub(" ", plain)
    return [_stem(word) for word in plain.split()]


def parse_trigger(trigger: str) -> list[list[list[str]]]:
    """A trigger as groups (all needed) of alternatives (any one will do) of words."""
    groups = []
    for group in trigger.split("+"):
        alternatives = [words(alternative) for alternative in group.split("|")]
        if not alternatives or any(not alternative for alternative in alternatives):
            raise TriggerError(
                f"{trigger!r}: every `+` group and `|` alternative needs at least one word."
            )
        groups.append(alternatives)
    return groups


def _allowed_edits(a: str, b: str) -> int:
    shorter = min(len(a), len(b))
    return 2 if shorter >= TWO_EDITS_FROM else 1 if shorter >= ONE_EDIT_FROM else 0


@dataclass
class Matcher:
    """The published red flags' triggers, compiled: words numbered, phrases as number tuples."""

    # (guidance, triggers): each trigger a tuple of groups, each a tuple of phrases.
    flags: list[tuple[dict[str, Any], list[tuple[tuple[tuple[int, ...], ...], ...]]]]
    vocabulary: list[str]
    numbers: dict[str, int]
    # Words of queries seen before → the vocabulary words they stand for.
    _seen: dict[str, frozenset[int]] = field(default_factory=dict)

    @classmethod
    def compile(cls, documents: Iterable[dict[str, Any]]) -> Matcher:
        numbers: dict[str, int] = {}
        flags = []
        for document in documents:
            triggers = []
            for trigger in document["triggers"]:
                try:
                    groups = parse_trigger(trigger)
                except TriggerError:
                    continue  # refused when written; an old document must not break matching
                triggers.append(
                    tuple(
                        tuple(
                            tuple(numbers.setdefault(word, len(numbers)) for word in phrase)
                            for phrase in group
                        )
                        for group in groups
                    )
                )
            flags.append((document, triggers))
        return cls(flags=flags, vocabulary=list(numbers), numbers=numbers)

    def _meanings(self, word: str) -> frozenset[int]:
        found = self._seen.get(word)
        if found is not None:
            return found
        meanings = set()
        exact = self.numbers.get(word)
        if exact is not None:
            meanings.add(exact)
        if len(word) >= ONE_EDIT_FROM:
            for _, distance, number in process.extract(
                word, self.vocabulary, scorer=OSA.distance, score_cutoff=2, limit=None
            ):
                if distance <= _allowed_edits(word, self.vocabulary[number]):
                    meanings.add(number)
        found = frozenset(meanings)
        if len(self._seen) < 50_000:  # bounded: queries are free text
            self._seen[word] = found
        return found

    def first_match(self, text: str) -> dict[str, Any] | None:
        meanings = [self._meanings(word) for word in words(text[:MAX_QUERY_CHARS])]
        if not meanings:
            return None
        present = set().union(*meanings)
        for guidance, triggers in self.flags:
            for trigger in triggers:
                if all(
                    any(_phrase_in(phrase, meanings, present) for phrase in group)
                    for group in trigger
                ):
                    return guidance
        return None


def _phrase_in(phrase: tuple[int, ...], meanings: list[frozenset[int]], present: set[int]) -> bool:
    if len(phrase) == 1:
        return phrase[0] in present
    if not present.issuperset(phrase):
        return False
    last = len(meanings) - len(phrase)
    return any(
        all(number in meanings[start + offset] for offset, number in enumerate(phrase))
        for start in range(last + 1)
    )


@dataclass(frozen=True)
class _Compiled:
    version: Version
    fingerprint: tuple[tuple[str, str], ...]
    matcher: Matcher


# One compiled matcher per database and locale in each worker, kept while the change feed
# says published content is unchanged (see `remembered`); after a change, compiled again
# only if the red flags' own documents changed.
_COMPILED: dict[Any, _Compiled] = {}
_LOCK = threading.Lock()


def _matcher(locale: str) -> Matcher:
    with reading() as connection:
        key = (database(connection), locale)
        held = _COMPILED.get(key)
        if held is not None and unchanged(connection, held.version):
            return held.matcher
    version = current_version()  # read before what it versions
    with reading() as connection:
        rows = connection.exec_driver_sql(_PUBLISHED, {"locale": locale}).all()
    fingerprint = tuple((str(entity_id), etag) for entity_id, etag, _ in rows)
    with _LOCK:
        held = _COMPILED.get(key)
        if held is not None and held.fingerprint == fingerprint:
            matcher = held.matcher
        else:
            matcher = Matcher.compile(json.loads(body) for _, _, body in rows)
        _COMPILED[key] = _Compiled(version, fingerprint, matcher)
    return matcher


def match(text: str, *, locale: str | None = None) -> dict[str, Any] | None:
    """The published guidance (its public JSON) of the first red flag of `locale`
    (default: the site's), in priority order, whose trigger `text` matches; None when
    none does."""
    if not text or not text.strip():
        return None
    return _matcher(locale or runtime.settings().default_locale).first_match(text)
