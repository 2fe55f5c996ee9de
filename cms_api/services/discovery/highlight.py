"""Search highlights as safe HTML: phrase-aware marks, and ellipses where a snippet is cut."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# ts_headline wraps matches in these private-use characters. Indexing strips them from
# the text, so once a headline is HTML-escaped they can only mark matches.
MARK_START, MARK_END = "\ue000", "\ue001"
# Between the fragments of a snippet: an empty mark, which no text (the markers are
# stripped from it) and no match (a matched word is never empty) can produce.
FRAGMENT_BREAK = MARK_START + MARK_END
MARKED = re.compile(f"{MARK_START}([^{MARK_END}]+){MARK_END}")
ELLIPSIS = "…"
FRAGMENT_JOINT = f" {ELLIPSIS} "

# What PostgreSQL's text parser reads as an HTML tag: it is no word, and ts_headline
# leaves it out of a snippet's fragments.
_TAG = re.compile(r"<[/!?]?[A-Za-z][^<>]*>")
_WORD = re.compile(r"[^\W_]+")
_SPACES = re.compile(r"\s+")

# A tsquery as PostgreSQL writes it: quoted lexemes (with `:*` or weights), `!`, `&`,
# `|`, `<->`, `<N>` and parentheses.
_TOKEN = re.compile(r"\s*(?:'((?:[^'\\]|''|\\.)*)'(?::[*A-Da-d]+)?|(<->|<\d+>|[&|!()]))")
_PRECEDENCE = {"|": 1, "&": 2}  # a phrase operator binds tighter than both: 3
_PHRASE = 3

Node = tuple  # ("word", lexeme) | ("!", node) | ("&" or "|", left, right) | (distance, left, right)
Run = list[tuple[str, int]]  # a phrase's lexemes, each with its distance from the one before


@dataclass(frozen=True)
class Terms:
    """What a query highlights: lexemes that count on their own, and phrases."""

    words: frozenset[str]
    # Each phrase as its lexemes in order, each with its distance from the one before.
    phrases: tuple[tuple[tuple[str, int], ...], ...]


def terms(tree: str | None) -> Terms | None:
    """The highlighted terms of a query's positive part (`querytree`), or None if it
    cannot be read (then every match ts_headline marked stays marked)."""
    if not tree:
        return None
    try:
        node, rest = _expression(_tokens(tree), 0)
    except (ValueError, IndexError):
        return None
    if rest:
        return None
    words: set[str] = set()
    phrases: list[tuple[tuple[str, int], ...]] = []
    _collect(node, words, phrases)
    return Terms(frozenset(words), tuple(phrases))


def title_html(headline: str, found: Terms | None, lexemes: Mapping[str, Sequence[str]]) -> str:
    """A whole title with its matches in `<mark>`, everything else escaped."""
    return _marked(headline, found, lexemes)


def snippet_html(
    headline: str, passage: str, found: Terms | None, lexemes: Mapping[str, Sequence[str]]
) -> str:
    """A snippet's fragments of `passage`, marked and escaped, joined by ` … `, with `…`
    where the passage goes on before the first fragment or after the last."""
    fragments = [fragment for fragment in headline.split(FRAGMENT_BREAK) if fragment.strip()]
    if not fragments:
        return ""
    snippet = FRAGMENT_JOINT.join(_marked(fragment, found, lexemes) for fragment in fragments)
    text = _plain(passage)
    first, last = _plain(fragments[0]), _plain(fragments[-1])
    start, end = text.find(first), text.rfind(last)
    before = text[:start] if start >= 0 else None
    after = text[end + len(last) :] if end >= 0 else None
    # A fragment starts and ends with a word: punctuation beyond it is no cut, and is
    # given back so that a passage shown whole reads as written.
    if before is None or _WORD.search(before):
        snippet = f"{ELLIPSIS} {snippet}"
    else:
        snippet = _escape(before) + snippet
    if after is None or _WORD.search(after):
        snippet = f"{snippet} {ELLIPSIS}"
    else:
        snippet += _escape(after)
    return snippet


def _plain(text: str) -> str:
    # As a snippet's fragment shows the text: without tags, markers or runs of spaces.
    text = _TAG.sub(" ", text).replace(MARK_START, "").replace(MARK_END, "")
    return _SPACES.sub(" ", text).strip()


def _marked(text: str, found: Terms | None, lexemes: Mapping[str, Sequence[str]]) -> str:
    parts = MARKED.split(text)
    gaps, words = parts[0::2], parts[1::2]  # gaps[i] is the text before words[i]
    spans = (
        [(i, i) for i in range(len(words))]
        if found is None
        else _spans([frozenset(lexemes.get(word, ())) for word in words], gaps, found)
    )
    out: list[str] = []
    done = 0  # words before this one are written
    for first, last in spans:
        out += _plain_run(gaps, words, done, first)
        inside = [words[first]]
        for i in range(first + 1, last + 1):
            inside += [gaps[i], words[i]]
        out.append(f"<mark>{_escape(''.join(inside))}</mark>")
        done = last + 1
    out += _plain_run(gaps, words, done, len(words))
    out.append(_escape(gaps[-1]))
    return "".join(out)


def _plain_run(gaps: list[str], words: list[str], start: int, stop: int) -> list[str]:
    """The words from `start` to before `stop`, unmarked, each after its gap."""
    run: list[str] = []
    for i in range(start, stop):
        run += [_escape(gaps[i]), _escape(words[i])]
    if stop < len(words):
        run.append(_escape(gaps[stop]))
    return run


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _spans(found_in: list[frozenset[str]], gaps: list[str], found: Terms) -> list[tuple[int, int]]:
    """Which marked words stay marked, as (first, last) runs: a phrase where its words
    stand in order (the longest first), and a word of the query that counts alone."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(found_in):
        lengths = [len(phrase) for phrase in found.phrases if _phrase_at(phrase, i, found_in, gaps)]
        if lengths:
            spans.append((i, i + max(lengths) - 1))
            i += max(lengths)
            continue
        if found_in[i] & found.words:
            spans.append((i, i))
        i += 1
    return spans


def _phrase_at(
    phrase: tuple[tuple[str, int], ...], i: int, found_in: list[frozenset[str]], gaps: list[str]
) -> bool:
    if i + len(phrase) > len(found_in):
        return False
    for k, (lexeme, distance) in enumerate(phrase):
        if lexeme not in found_in[i + k]:
            return False
        # `<N>`: N - 1 words (stop words, which match nothing) between the two.
        if k and len(_WORD.findall(_TAG.sub(" ", gaps[i + k]))) != distance - 1:
            return False
    return True


def _tokens(tree: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(tree.rstrip()):
        match = _TOKEN.match(tree, position)
        if match is None:
            raise ValueError(tree)
        lexeme, operator = match.groups()
        if operator is None:
            tokens.append(("word", re.sub(r"''|\\(.)", lambda m: m.group(1) or "'", lexeme)))
        else:
            tokens.append(("op", operator))
        position = match.end()
    return tokens


def _expression(tokens: list[tuple[str, str]], lowest: int) -> tuple[Node, list]:
    left, tokens = _operand(tokens)
    while tokens and tokens[0][0] == "op" and tokens[0][1] not in "!()":
        operator = tokens[0][1]
        precedence = _PRECEDENCE.get(operator, _PHRASE)
        if precedence < lowest:
            break
        right, tokens = _expression(tokens[1:], precedence + 1)
        if operator in _PRECEDENCE:
            left = (operator, left, right)
        else:
            left = (1 if operator == "<->" else int(operator[1:-1]), left, right)
    return left, tokens


def _operand(tokens: list[tuple[str, str]]) -> tuple[Node, list]:
    kind, value = tokens[0]
    if kind == "word":
        return ("word", value), tokens[1:]
    if value == "!":
        negated, rest = _operand(tokens[1:])
        return ("!", negated), rest
    if value == "(":
        inner, rest = _expression(tokens[1:], 0)
        if not rest or rest[0] != ("op", ")"):
            raise ValueError("unbalanced")
        return inner, rest[1:]
    raise ValueError(value)


def _collect(node: Node, words: set[str], phrases: list[tuple[tuple[str, int], ...]]) -> None:
    kind = node[0]
    if kind == "word":
        words.add(node[1])
    elif kind == "!":
        return  # excluded: nothing to highlight
    elif kind in _PRECEDENCE:
        _collect(node[1], words, phrases)
        _collect(node[2], words, phrases)
    else:
        sequence = _sequence(node)
        if sequence is not None:
            sequence = _without_compounds(sequence)
        if sequence is None:  # not a plain run of words: its words count alone
            _collect(node[1], words, phrases)
            _collect(node[2], words, phrases)
        elif len(sequence) == 1:
            words.add(sequence[0][0])
        else:
            phrases.append(tuple(sequence))


def _sequence(node: Node) -> Run | None:
    if node[0] == "word":
        return [(node[1], 0)]
    if not isinstance(node[0], int):
        return None
    left, right = _sequence(node[1]), _sequence(node[2])
    if left is None or right is None:
        return None
    return [*left, (right[0][0], node[0]), *right[1:]]


def _without_compounds(sequence: Run) -> Run:
    """A hyphenated word (`cafe-au-lait`) is a lexeme of its own followed by its parts; a
    headline marks only the parts, so the whole is left out."""
    kept: Run = []
    carried: int | None = None
    for k, (lexeme, distance) in enumerate(sequence):
        following = sequence[k + 1] if k + 1 < len(sequence) else None
        if "-" in lexeme and following is not None and following[1] == 1:
            carried = distance if carried is None else carried
            continue
        kept.append((lexeme, distance if carried is None else carried))
        carried = None
    if kept:
        kept[0] = (kept[0][0], 0)
    return kept
