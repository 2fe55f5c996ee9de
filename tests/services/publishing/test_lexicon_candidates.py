"""Bulk publishing parses for the lexicon only what may hold a word new to it, and finds the
words a whole parse would."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from cms_api.database import db
from cms_api.domain import search_text
from cms_api.services.publishing import search_index
from tests.support.seeds import indexed_documents


def _parsed(texts: list[str]) -> list[set[str]]:
    """The words the lexicon statement (`search_index._LEXICON_FROM`) takes from each text:
    parsed with `simple`, unaccented, and all letters, 3 to 40 of them."""
    rows = db.session.execute(
        text(
            "SELECT given.n, unaccent(word) FROM unnest(CAST(:texts AS text[]))"
            " WITH ORDINALITY AS given(text, n)"
            " CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('simple', given.text)))"
            " AS word WHERE unaccent(word) ~ '^[[:alpha:]]{3,40}$'"
        ),
        {"texts": texts},
    ).all()
    words: list[set[str]] = [set() for _ in texts]
    for n, word in rows:
        words[n - 1].add(word)
    return words


# What PostgreSQL's parser makes more than words of, and runs at the length limits.
CASES = [
    "Plain words, Capitals and MiXeD case.",
    "self-care well-known re-entry x-ray one-two-three",
    "don't it's the patients' o'clock",
    "https://www.example.com/some/path?query=word#frag and http://host.org",
    "mail someone@example.com or first.last@sub.example.org now",
    "/usr/local/bin file.txt C:\\Windows\\System32 ./relative ~/home ~tilde",
    "version 1.2.3 v2 abc123def 123abc abc123 2nd 3rd e.g. i.e. etc.",
    "snake_case_words and __dunder__ and trailing_",
    "tag> &amp; entity &lt;p&gt; a>b",
    "a" * 39 + " " + "b" * 40 + " " + "c" * 41 + " " + "d" * 45,
    "camelCaseWord HTTPServer iPhone",
    "+1-800-555-0199 (555) 123 #hashtag @mention $money 50% ~tilde",
    "words.joined.by.dots and,commas;semicolons:colons Heading: text",
    "",
]


def test_the_candidates_hold_every_word_the_lexicon_takes(app) -> None:
    with app.app_context():
        taken = _parsed(CASES)
        for case, words in zip(CASES, taken, strict=True):
            assert words <= search_text.lexicon_candidates(case), case
        # Not vacuous: the parser keeps the words of these texts.
        assert {"self", "care", "clock", "and", "entity", "b" * 40} <= set().union(*taken)
        # And the candidates are more: a URL's or an address's parts are no words of it.
        assert not {"path", "someone", "c" * 41} & set().union(*taken)
        assert {"path", "someone"} <= search_text.lexicon_candidates(" ".join(CASES))


def _pieces_find_what_the_whole_finds(texts: list[str], rng: random.Random) -> None:
    """For each text and a random part of its candidates: parsing the pieces that hold
    them (`chunks_with`) finds every one the whole text's parse finds, and no word the
    whole text's parse does not."""
    chosen = []
    for case in texts:
        candidates = sorted(search_text.lexicon_candidates(case))
        chosen.append(set(rng.sample(candidates, k=rng.randint(0, len(candidates)))))
    pieces = [
        search_text.chunks_with(case, words) for case, words in zip(texts, chosen, strict=True)
    ]
    flat = [piece for parts in pieces for piece in parts]
    parsed = iter(_parsed(flat))
    for case, words, whole, parts in zip(texts, chosen, _parsed(texts), pieces, strict=True):
        found: set[str] = set().union(*(next(parsed) for _ in parts))
        assert whole & words <= found, (case, words)
        assert found <= whole, (case, words)


def test_the_pieces_holding_some_words_find_them_as_the_whole_text_does(app) -> None:
    with app.app_context():
        _pieces_find_what_the_whole_finds(CASES * 5, random.Random(7))
        # Where the text starts, "~x" is a path; after a space, a word. Each chunk once.
        assert search_text.chunks_with("~tilde and ~other ~other", {"tilde", "other"}) == [
            " ~other",
            "~tilde",
        ]


_ASCII_TEXT = st.lists(
    st.sampled_from(
        list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        + list(" -_.,:;/@'\"&#?=+%!()[]{}\\|~`$^*>")
        + ["http://", "www.", ".com", "&amp;", "x@y.z", "1.5", "/usr/bin", "  "]
    ),
    max_size=60,
).map("".join)  # spaces only, as in a lexicon text (squashed, joined with spaces)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(_ASCII_TEXT, min_size=1, max_size=40), seed=st.integers(0, 1000))
def test_any_ascii_text_s_candidates_and_pieces_find_its_lexicon_words(
    app, texts: list[str], seed: int
) -> None:
    with app.app_context():
        for case, words in zip(texts, _parsed(texts), strict=True):
            assert words <= search_text.lexicon_candidates(case), case
        _pieces_find_what_the_whole_finds(texts, random.Random(seed))


# Letters, marks and punctuation beyond ASCII, as real text has them (and one no word).
_BEYOND_ASCII = list(
    "\u00e9\u00e8\u00fc\u00df\u00f1\u00e7\u2019\u201c\u201d\u2014\u00b0\u00b5\u00d7\u4e2d\u0432"
)
_MIXED_TEXT = st.lists(
    st.sampled_from(
        list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        + list(" -_.,:;/@'&#%()~")
        + _BEYOND_ASCII
        # Spaces beyond ASCII's (a lexicon text holds no control character).
        + [space for space in search_text.LOCALE_SPACES if space not in "\x1c\x1d\x1e\x1f"]
        + ["http://", "www.", ".com", "x@y.z", "caf\u00e9", "na\u00efve", "d\u2019eau"]
    ),
    max_size=60,
).map("".join)


def _pieces(case: str) -> list[str]:
    """What the lexicon statement would parse of this text for a lexicon that knows none
    of its words: the chunks holding a candidate, and those beyond ASCII."""
    candidates = search_text.lexicon_candidates(case)
    return search_text.chunks_with(case, candidates) + search_text.foreign_chunks(case)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(_MIXED_TEXT, min_size=1, max_size=40))
def test_a_text_beyond_ascii_gives_its_words_from_its_chunks(app, texts: list[str]) -> None:
    with app.app_context():
        pieces = [_pieces(case) for case in texts]
        parsed = iter(_parsed([piece for parts in pieces for piece in parts]))
        for case, whole, parts in zip(texts, _parsed(texts), pieces, strict=True):
            assert set().union(*(next(parsed) for _ in parts)) == whole, (case, parts)


def test_chunks_beyond_ascii_are_parsed_as_they_are_and_give_no_candidates(app) -> None:
    case = "Caf\u00e9 au lait: fi\u00e8vre and rest, then fi\u00e8vre caf\u00e9s"
    assert search_text.foreign_chunks(case) == [" caf\u00e9s", " fi\u00e8vre", "Caf\u00e9"]
    assert search_text.foreign_chunks("all ascii here") == []
    # "vre" and "caf" are no runs of letters in this text: "e" with a grave is a letter.
    assert search_text.lexicon_candidates(case) == {"lait", "and", "rest", "then"}
    with app.app_context():
        assert set().union(*_parsed(_pieces(case))) == _parsed([case])[0]
        assert {"cafe", "fievre", "lait"} <= _parsed([case])[0]  # unaccented, as the lexicon


def test_a_document_whose_text_python_cannot_tell_has_none() -> None:
    html = "<p>text</p>"
    plain = {html: "text", "<p>lt</p>": "a &lt; b <i>", "<p>x</p>": "control\x07char"}
    tell = search_text.lexicon_text
    assert tell("article", {"title": "10\u00a0mg"}, {}) is None  # a space to some servers
    assert tell("article", {"sections": [{"heading": 12, "body_html": html}]}, plain) is None
    assert tell("article", {"sections": [{"heading": "H", "body_html": "<p>u</p>"}]}, plain) is None
    assert tell("faq", {"question": "Why?", "answer_html": "<p>unstripped</p>"}, plain) is None
    assert tell("faq", {"question": "Why?", "answer_html": "<p>lt</p>"}, plain) is None  # a tag?
    assert tell("faq", {"question": "Why?", "answer_html": "<p>x</p>"}, plain) is None
    assert tell("article", {"title": "Some\x1cthing"}, {}) is None  # a space to some servers
    assert tell("article", {"summary": {"not": "a string"}}, {}) is None


def test_a_document_s_text_is_its_entry_s() -> None:
    first, second, deep = "<p>alpha beta</p>", "<p>gamma</p>", "<p>epsilon</p>"
    document: dict[str, Any] = {
        "title": "  Title\twords ",
        "summary": "Summary\n here",
        "sections": [
            {"heading": "Heading one", "body_html": first, "subsections": []},
            # The index reads every object under the sections, whatever its key.
            {"heading": "Other", "extra": [{"heading": "", "body_html": deep}]},
        ],
        # An article's FAQs are not in its entry: each has an entry of its own.
        "faqs": [{"question": "Asked?", "answer_html": second}],
    }
    plain = {first: "alpha beta", second: "gamma", deep: "epsilon"}
    assert search_text.lexicon_text("article", document, plain) == (
        "Title words Summary here Heading one: alpha beta Other epsilon"
    )
    # A FAQ's own document: its question and answer, or its summary where it has one.
    faq = {"question": "Does it hurt?", "answer_html": second}
    assert search_text.lexicon_text("faq", faq, plain) == "Does it hurt? gamma"
    assert search_text.lexicon_text("faq", {**faq, "summary": "Short"}, plain) == (
        "Does it hurt? Short"
    )


def test_the_seeded_site_s_texts_are_its_entries_texts(app) -> None:
    with app.app_context():
        rows = db.session.execute(
            text(
                "SELECT d.kind, d.body, e.title || ' ' || array_to_string(e.passages, ' ')"
                " FROM published_documents AS d JOIN search_entries AS e USING (kind, entity_id)"
            )
        ).all()
        assert len(rows) > 20
        told = 0
        for kind, body, entry_text in rows:
            document = json.loads(body)
            made = search_text.lexicon_text(kind, document, search_text.plain_texts([document]))
            if made is not None:
                told += 1
                assert made == entry_text
        assert told > len(rows) // 2  # most of the seeded site is ASCII


def _texts(locale: str, words: set[str] | None) -> search_index.SearchTexts:
    """A rendered document whose text is `words` (None: Python cannot tell)."""
    document = {"summary": "bell\x07char" if words is None else " ".join(sorted(words))}
    texts = search_index.search_texts("faq", document, locale)
    assert texts.words == words
    return texts


def test_only_what_may_hold_a_word_new_to_the_lexicon_is_parsed_for_it(app) -> None:
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO search_words (locale, word, lexeme) VALUES"
                " ('en', 'zyxtumbling', 'zyxtumbl'), ('es', 'zyxnuevo', 'zyxnuevo')"
                " ON CONFLICT DO NOTHING"
            )
        )
        connection = db.session.connection()
        lexicon = search_index._Lexicon()
        texts = [
            _texts("en", {"zyxtumbling", "the", "and"}),  # known, and two stop words
            _texts("en", {"zyxtumbling", "zyxbrandnew"}),  # one new word
            _texts("en", None),  # Python could not tell
            None,  # no texts at all
            _texts("es", {"zyxnuevo", "los"}),  # known in its own locale, and a stop word
            _texts("en", {"zyxnuevo"}),  # known in another locale only
        ]
        parsed = lexicon.to_parse(connection, texts)
        assert parsed.entries == [2, 3]
        # Each after the empty title's space.
        assert parsed.chunks == [("en", " zyxbrandnew"), ("en", " zyxnuevo")]
        assert lexicon.known == {"en": {"zyxtumbling"}, "es": {"zyxnuevo"}}
        assert lexicon.stop == {"en": {"the", "and"}, "es": {"los"}}
        # Asked again, the words already sorted out are not looked up again, and a chunk
        # already sent is not sent again (it would add nothing).
        db.session.execute(text("DELETE FROM search_words WHERE word LIKE 'zyx%'"))
        assert lexicon.to_parse(connection, texts[:1]) == search_index._ToParse([], [])
        assert lexicon.to_parse(connection, texts[1:2]) == search_index._ToParse([], [])
        db.session.rollback()


def test_a_server_that_words_ascii_otherwise_parses_every_entry_whole(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_index, "_WORDS_AS_PYTHON", "SELECT false")
    with app.app_context():
        texts = [_texts("en", set()), _texts("en", {"the"})]
        parsed = search_index._Lexicon().to_parse(db.session.connection(), texts)
        assert parsed == search_index._ToParse([0, 1], [])
        db.session.rollback()


# Documents of unusual shapes, each indexed by the SQL statement: its entry's text is
# what Python makes of it (or Python says it cannot tell).
SHAPES: list[tuple[str, dict[str, Any]]] = [
    ("faq", {"title": None, "question": "Asked  here?", "answer_html": "<p>Answer text</p>"}),
    ("faq", {"question": "Q?", "summary": "", "answer_html": "<p>Ignored answer</p>"}),
    ("faq", {"question": "Q?", "summary": None, "answer_html": None}),
    ("article", {"title": "", "question": "Not read", "summary": "S", "sections": []}),
    (
        "article",
        {
            "title": " Spaced\ttitle ",
            "summary": "Sum",
            "sections": [
                {"key": "a", "heading": "", "body_html": "<p>Only body</p>"},
                {"key": "b", "heading": "Only heading"},
                {"key": "c", "heading": None, "body_html": None},
                {"key": "d", "heading": "Both", "body_html": "<p>here <b>bold</b></p>"},
                {"key": "e", "heading": "Deep", "subsections": [{"heading": "Inner"}]},
            ],
            "faqs": [{"question": "Not in the entry", "answer_html": "<p>Answer text</p>"}],
        },
    ),
    ("article", {"title": "T", "sections": [{"heading": 7, "body_html": "<p>x</p>"}]}),
    # (An article's document always has its sections: the index's JSON path requires them.)
    ("faq", {"question": "Why &lt;b&gt;?", "answer_html": "<p>a &lt;b&gt; c</p>"}),
]


def test_unusual_documents_entries_are_made_as_python_makes_their_text(app) -> None:
    with app.app_context():
        rows = {
            kind: db.session.scalar(
                text("SELECT entity_id FROM published_documents WHERE kind = :kind LIMIT 1"),
                {"kind": kind},
            )
            for kind in ("article", "faq")
        }
        told = 0
        for kind, document in SHAPES:
            entity_id = rows[kind]
            db.session.execute(
                text(
                    "UPDATE published_documents SET body = :body, etag = :etag"
                    " WHERE kind = :kind AND entity_id = :id"
                ),
                {
                    "body": json.dumps(document),
                    "etag": f"shape-{told}-{kind}",
                    "kind": kind,
                    "id": entity_id,
                },
            )
            search_index.index_documents([(kind, entity_id)])  # stripped and made in SQL
            entry_text = db.session.scalar(
                text(
                    "SELECT title || ' ' || array_to_string(passages, ' ') FROM search_entries"
                    " WHERE kind = :kind AND entity_id = :id"
                ),
                {"kind": kind, "id": entity_id},
            )
            made = search_text.lexicon_text(kind, document, search_text.plain_texts([document]))
            if made is not None:
                told += 1
                assert made == entry_text, document
        assert told == len(SHAPES) - 2  # the numeric heading and the `<` are left to SQL
        db.session.rollback()


def _lexicon_after(index: Any) -> list[tuple]:
    db.session.execute(text("DELETE FROM search_words"))
    index()
    return db.session.execute(
        text("SELECT locale, word, lexeme FROM search_words ORDER BY 1, 2")
    ).all()


def test_the_seeded_site_s_lexicon_is_the_same_from_chunks_as_from_whole_entries(app) -> None:
    with app.app_context():
        documents = indexed_documents()
        pairs = [key for key, _ in documents]
        texts = [item for _, item in documents]
        # English and Spanish, ASCII and not: the chunks beyond ASCII are parsed as they are.
        assert any(item.foreign for item in texts)
        assert sum(item.text is not None and not item.foreign for item in texts) > 10
        connection = db.session.connection()
        pgvector = False

        def whole() -> None:
            search_index._index(connection, pairs, texts, pgvector)

        def in_chunks() -> None:
            lexicon = search_index._Lexicon()
            half = len(pairs) // 2  # in two pieces: the second finds words of the first known
            search_index._index(connection, pairs[:half], texts[:half], pgvector, lexicon=lexicon)
            search_index._index(connection, pairs[half:], texts[half:], pgvector, lexicon=lexicon)

        expected = _lexicon_after(whole)
        assert len(expected) > 100
        assert _lexicon_after(in_chunks) == expected
        db.session.rollback()
