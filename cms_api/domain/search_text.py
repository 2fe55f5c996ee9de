"""The search text of sanitized HTML, made in Python exactly as SQL's cms_search_plain makes it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

# Migration 0003's cms_search_plain, expression for expression: block tags become a
# space and other tags vanish (a quoted attribute may hold ">"), the entities the
# sanitizer writes are decoded (&amp; last, so that &amp;lt; stays literal), then
# cms_search_squash drops the snippet markers, collapses whitespace and trims spaces.
# ASCII-only: PostgreSQL's `\M` (end of word) and case folding follow the database's
# collation (the C library's, ICU's or the builtin provider's), which all agree with
# Python's on ASCII; the sanitizer writes no other tag names. This assumes a UTF-8
# database (the default on a UTF-8 system): in a one-byte encoding PostgreSQL's regex
# sees bytes, and a locale might call one of them a space.
_BLOCK_NAMES = r"</?(?:p|br|hr|li|ul|ol|h[1-6]|blockquote|pre|table|thead|tbody|tr|th|td|img)"
_BLOCK_TAG = re.compile(
    _BLOCK_NAMES + r"\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.IGNORECASE | re.ASCII
)
# Whether such a name ends where a letter other than ASCII follows is up to the server.
_BLOCK_NAME_THEN_OTHER = re.compile(_BLOCK_NAMES + r"[^\x00-\x7f]", re.IGNORECASE | re.ASCII)
_TAG = re.compile(r"<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_ENTITIES = (
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("&quot;", '"'),
    ("&#39;", "'"),
    ("&nbsp;", " "),
    ("&amp;", "&"),
)
# PostgreSQL's `\s` follows the collation too: space, tab, line feed, carriage return,
# form feed and vertical tab on every server, and other characters on some. In a text
# holding none of the characters some locale (or Python) may call a space, Python's
# whitespace and PostgreSQL's are those six. A text holding one is squashed as the server
# squashes it when the caller knows which of them its `\s` takes (`spaces`, asked of the
# server), and left to SQL otherwise.
LOCALE_SPACES = (
    "\x1c\x1d\x1e\x1f\x85\xa0\u1680\u180e"
    + "".join(chr(code) for code in range(0x2000, 0x200E))
    + "\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"
)
_LOCALE_SPACE = re.compile("[" + re.escape(LOCALE_SPACES) + "]")
_SQUASHERS: dict[str, re.Pattern[str]] = {}


def _squash_as_server(value: str, spaces: str) -> str:
    # cms_search_squash's `\s+` to one space and btrim (of spaces only), for a value
    # holding a character of LOCALE_SPACES, with `spaces` those the server's `\s` takes.
    squasher = _SQUASHERS.get(spaces)
    if squasher is None:
        squasher = _SQUASHERS[spaces] = re.compile("[ \t\n\r\x0b\x0c" + re.escape(spaces) + "]+")
    return squasher.sub(" ", value).strip(" ")


def plain_text(html: str, spaces: str | None = None) -> str | None:
    r"""What `cms_search_plain(html)` returns on a server whose `\s` takes these `spaces`
    of LOCALE_SPACES (None: on every server), or None where that may depend on the
    server's locale (a character that may be a space, when `spaces` is None, or a
    character beyond ASCII right after a block tag's name)."""
    if not html.isascii() and _BLOCK_NAME_THEN_OTHER.search(html):
        return None
    text = _TAG.sub("", _BLOCK_TAG.sub(" ", html))
    if "&" in text:
        for entity, character in _ENTITIES:
            text = text.replace(entity, character)
    if "\ue000" in text or "\ue001" in text:
        text = text.replace("\ue000", "").replace("\ue001", "")
    if _LOCALE_SPACE.search(text):
        return None if spaces is None else _squash_as_server(text, spaces)
    return " ".join(text.split())


def html_in(document: dict[str, Any]) -> Iterator[str]:
    """The HTML a document's search entry and passages are made of, as the index reads
    it: the bodies of every object under its sections (its sections and subsections), its
    FAQs' answers, and a FAQ document's own answer."""
    for item in _objects_in(document.get("sections")):
        if isinstance(item.get("body_html"), str):
            yield item["body_html"]
    faqs = document.get("faqs")
    if isinstance(faqs, list):
        for faq in faqs:
            if isinstance(faq, dict) and isinstance(faq.get("answer_html"), str):
                yield faq["answer_html"]
    if isinstance(document.get("answer_html"), str):
        yield document["answer_html"]


def _objects_in(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in `value`, at any depth (`$.**` in a JSON path)."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _objects_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _objects_in(item)


def plain_texts(documents: Iterable[dict[str, Any]], spaces: str | None = None) -> dict[str, str]:
    """{html: its search text} for the HTML of these documents that Python can strip as
    SQL would (`plain_text`, with the server's `spaces`); the index statement strips the
    rest itself."""
    texts: dict[str, str] = {}
    for document in documents:
        for html in html_in(document):
            if html not in texts:
                text = plain_text(html, spaces)
                if text is not None:
                    texts[html] = text
    return texts


# Each ASCII letter lower-cased, every other byte a space: split, an ASCII text's bytes are
# its runs of letters, each as long as it goes (about twice as fast as a regex's findall).
_LETTERS_LOWERED = bytes(
    byte | 0x20 if chr(byte).isascii() and chr(byte).isalpha() else ord(" ") for byte in range(256)
)
# The lexicon's words (search_index._LEXICON_FROM: `^[[:alpha:]]{3,40}$`).
_SHORTEST_WORD, _LONGEST_WORD = 3, 40


# What leaves a text to the lexicon statement's own parse: a control character (Python's
# `split` takes \x1c to \x1f for spaces, cms_search_squash's `\s` may not; the others are
# left out with them) and `<`, which may open a tag (the parser takes one whole, spaces
# and all).
_NOT_FOR_PYTHON = re.compile(r"[\x00-\x08\x0e-\x1f\x7f<]")


class _CannotTell(Exception):
    """A value Python cannot turn into the text SQL makes of it."""


def lexicon_text(
    kind: str, document: dict[str, Any], plain: dict[str, str], spaces: str | None = None
) -> str | None:
    """The text the lexicon statement parses for this document's search entry (its title,
    a space, and its passages joined by spaces: search_index._ENTRY_TEXTS), made as the
    index statement (_INDEX_ENTRIES) makes it, with `plain` the texts of its HTML
    (`plain_texts`) and `spaces` the server's (`plain_text`). None where Python cannot
    tell: a value that is not a string, HTML that `plain` lacks, a character some server
    may take for a space (unless `spaces` says), a control character or a `<`. Text in
    any script is told (see `foreign_chunks`)."""
    try:
        title = document.get("title")
        parts = [_squashed_any(document.get("question") if title is None else title, spaces) or ""]
        summary = document.get("summary")
        if summary is not None:
            parts.append(_squashed_any(summary, spaces) or "")
        else:
            parts.append(_plain(document.get("answer_html"), plain) or "")
        if kind == "article":
            for item in _objects_in(document.get("sections")):
                heading = _squashed_any(item.get("heading"), spaces)
                text = _plain(item.get("body_html"), plain)
                parts.append(": ".join(part for part in (heading, text) if part))
    except _CannotTell:
        return None
    text = " ".join(parts)
    if _NOT_FOR_PYTHON.search(text):
        return None
    return text


def passage_parts(
    kind: str, document: dict[str, Any], plain: dict[str, str], spaces: str | None = None
) -> list[tuple[str | None, str, str]]:
    """(title, heading, text) of the answer passages the index statement cuts from this
    document (publishing.passages.CUT), as it makes them, with `plain` the texts of its
    HTML (`plain_texts`) and `spaces` the server's (`plain_text`): an article's sections
    with a body and its FAQs, a topic FAQ's answer. A passage whose parts Python cannot
    tell (a character some server may take for a space, unless `spaces` says; HTML that
    `plain` lacks) is left out, and so is any the statement would not cut (no text)."""
    parts: list[tuple[str | None, str, str]] = []

    def add(title: Any, heading: Any, html: Any) -> None:
        try:
            text = _plain(html, plain)
            if text:
                parts.append(
                    (_squashed_any(title, spaces), _squashed_any(heading, spaces) or "", text)
                )
        except _CannotTell:
            pass

    if kind == "article" and document.get("slug") is not None:
        for item in _objects_in(document.get("sections")):
            if "body_html" in item:
                add(document.get("title"), item.get("heading"), item["body_html"])
        faqs = document.get("faqs")
        for faq in faqs if isinstance(faqs, list) else []:
            if isinstance(faq, dict):
                add(document.get("title"), faq.get("question"), faq.get("answer_html"))
    topic = document.get("topic")
    if kind == "faq" and isinstance(topic, dict) and topic.get("slug") is not None:
        add(document.get("question"), document.get("question"), document.get("answer_html"))
    return parts


def _squashed_any(value: Any, spaces: str | None = None) -> str | None:
    # cms_search_squash, on text in any script; one holding a character that some
    # server's `\s` may take for a space and Python's not (or the other way round) only
    # with `spaces`, those the server takes.
    if value is None:
        return None
    if not isinstance(value, str):
        raise _CannotTell
    if "\ue000" in value or "\ue001" in value:
        value = value.replace("\ue000", "").replace("\ue001", "")
    if _LOCALE_SPACE.search(value):
        if spaces is None:
            raise _CannotTell
        return _squash_as_server(value, spaces)
    return " ".join(value.split())


def _plain(html: Any, plain: dict[str, str]) -> str | None:
    if html is None:
        return None
    if not isinstance(html, str) or html not in plain:
        raise _CannotTell
    return plain[html]


def lexicon_candidates(text: str) -> frozenset[str]:
    """The lower-cased runs of ASCII letters of a `lexicon_text`'s ASCII chunks, 3 to 40
    letters long: every word the lexicon could take from those chunks, and perhaps more.
    PostgreSQL's parser keeps an ASCII letter run whole (it never cuts one into two
    words), and a word of the lexicon is all letters, so each is one of these runs. The
    other chunks are `foreign_chunks`."""
    if not text.isascii():
        text = " ".join([chunk for chunk in text.split(" ") if chunk.isascii()])
    runs = set(text.encode().translate(_LETTERS_LOWERED).split())
    return frozenset(run.decode() for run in runs if _SHORTEST_WORD <= len(run) <= _LONGEST_WORD)


def foreign_chunks(text: str) -> list[str]:
    """The chunks of a `lexicon_text` (its parts between spaces) holding a character
    other than ASCII, each once and as `chunks_with` gives them. Which of those characters
    are letters, and so where such a chunk's words begin and end, follows the server's
    locale: the lexicon statement parses these chunks itself. As the parser ends every
    word at a space, they and the ASCII chunks together give every word of the text."""
    if text.isascii():
        return []
    chunks = text.split(" ")
    found = {" " + chunk for chunk in chunks[1:] if not chunk.isascii()}
    if not chunks[0].isascii():
        found.add(chunks[0])  # the text's first chunk, as it is
    return sorted(found)


def chunks_with(text: str, words: set[str] | frozenset[str]) -> list[str]:
    """The chunks of a `lexicon_text` (its parts between spaces) in which one of these
    lower-case `words` is a whole run of letters, each once and as the parser sees it: the
    text's first chunk as it is, any other after a space. PostgreSQL's parser ends every
    word at a space (the tags that may hold one are left out of these texts), but the very
    start of a text is read apart (`~x` there is a path, after a space a word), so parsing
    these chunks finds every word of the text that is in them, and no other."""
    lowered = text.lower()
    found: set[tuple[int, int]] = set()
    for word in words:
        start = lowered.find(word)
        while start >= 0:
            end = start + len(word)
            if (start == 0 or not lowered[start - 1].isalpha()) and (
                end == len(lowered) or not lowered[end].isalpha()
            ):
                right = lowered.find(" ", end)
                found.add((lowered.rfind(" ", 0, start) + 1, len(lowered) if right < 0 else right))
            start = lowered.find(word, start + 1)
    return sorted(
        {text[left:right] if left == 0 else " " + text[left:right] for left, right in found}
    )
