"""Bulk publishing skips the lexicon's parse only for documents that can add no word to it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from cms_api.database import db
from cms_api.domain import search_text
from cms_api.services.publishing import search_index


def _lexicon_words(texts: list[str]) -> list[set[str]]:
    """The words the lexicon statement (`search_index._INDEX_WORDS`) takes from each text:
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


def _candidates(summary: str) -> frozenset[str]:
    found = search_text.lexicon_candidates({"summary": summary}, {})
    assert found is not None
    return found


# What PostgreSQL's parser makes more than words of, and runs at the length limits.
CASES = [
    "Plain words, Capitals and MiXeD case.",
    "self-care well-known re-entry x-ray one-two-three",
    "don't it's the patients' o'clock",
    "https://www.example.com/some/path?query=word#frag and http://host.org",
    "mail someone@example.com or first.last@sub.example.org now",
    "/usr/local/bin file.txt C:\\Windows\\System32 ./relative",
    "version 1.2.3 v2 abc123def 123abc abc123 2nd 3rd e.g. i.e. etc.",
    "snake_case_words and __dunder__ and trailing_",
    "<b>tag</b> &amp; entity &lt;p&gt; <a href='x'>link</a>",
    "a" * 39 + " " + "b" * 40 + " " + "c" * 41 + " " + "d" * 45,
    "camelCaseWord HTTPServer iPhone",
    "+1-800-555-0199 (555) 123 #hashtag @mention $money 50% ~tilde",
    "words.joined.by.dots and,commas;semicolons:colons",
    "",
]


def test_the_candidates_hold_every_word_the_lexicon_takes(app) -> None:
    with app.app_context():
        taken = _lexicon_words(CASES)
        for case, words in zip(CASES, taken, strict=True):
            assert words <= _candidates(case), case
        # Not vacuous: the parser keeps the words of these texts.
        assert {"self", "care", "clock", "and", "tag", "entity", "b" * 40} <= set().union(*taken)
        # And the candidates are more: a URL's or an address's parts are no words of it.
        assert not {"path", "someone", "c" * 41} & set().union(*taken)
        assert {"path", "someone"} <= _candidates(" ".join(CASES))


_ASCII_TEXT = st.text(
    alphabet=st.sampled_from(
        list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        + list(" -_.,:;/@'\"<>&#?=+%!()[]{}\\|~`$^*\t\n")
    ),
    max_size=120,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(_ASCII_TEXT, min_size=1, max_size=40))
def test_the_candidates_of_any_ascii_text_hold_its_lexicon_words(app, texts: list[str]) -> None:
    with app.app_context():
        for case, words in zip(texts, _lexicon_words(texts), strict=True):
            assert words <= _candidates(case), case


def test_a_document_whose_words_python_cannot_tell_has_no_candidates() -> None:
    html = "<p>text</p>"
    plain = {html: "text"}
    tell = search_text.lexicon_candidates
    assert tell({"title": "Caf\u00e9 society"}, {}) is None  # not ASCII
    assert tell({"sections": [{"heading": 12, "body_html": html}]}, plain) is None
    assert tell({"sections": [{"heading": "H", "body_html": "<p>unstripped</p>"}]}, plain) is None
    assert tell({"question": "Why?", "answer_html": "<p>unstripped</p>"}, plain) is None
    assert tell({"summary": {"not": "a string"}}, {}) is None


def test_a_document_s_candidates_come_from_every_text_its_search_entry_reads() -> None:
    first, second, deep = "<p>alpha beta</p>", "<p>gamma</p>", "<p>epsilon</p>"
    document: dict[str, Any] = {
        "title": "Title words",
        "summary": "Summary here",
        "sections": [
            {"heading": "Heading one", "body_html": first, "subsections": []},
            # The index reads every object under the sections, whatever its key.
            {"heading": "Other", "extra": [{"heading": "Nested deep", "body_html": deep}]},
        ],
        "faqs": [{"question": "Asked?", "answer_html": second}],
    }
    plain = {first: "alpha beta", second: "gamma", deep: "epsilon"}
    # Its FAQs' answers are not in its entry: each FAQ has an entry of its own.
    assert search_text.lexicon_candidates(document, plain) == {
        "title", "words", "summary", "here", "heading", "one", "alpha", "beta", "other",
        "nested", "deep", "epsilon",
    }  # fmt: skip
    # A FAQ's own document: its question and answer.
    faq = {"question": "Does it hurt?", "answer_html": second}
    assert search_text.lexicon_candidates(faq, plain) == {"does", "hurt", "gamma"}


def _texts(locale: str, words: set[str] | None) -> search_index.SearchTexts:
    return search_index.SearchTexts(
        known="{}", locale=locale, words=None if words is None else frozenset(words)
    )


def test_only_documents_with_a_word_new_to_the_lexicon_are_parsed_for_it(app) -> None:
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
        assert lexicon.may_add(connection, texts) == [1, 2, 3, 5]
        assert lexicon.known == {"en": {"zyxtumbling"}, "es": {"zyxnuevo"}}
        assert lexicon.stop == {"en": {"the", "and"}, "es": {"los"}}
        # Asked again, the words already sorted out are not looked up again.
        db.session.execute(text("DELETE FROM search_words WHERE word LIKE 'zyx%'"))
        assert lexicon.may_add(connection, texts[:1]) == []
        db.session.rollback()


def test_a_server_that_words_ascii_otherwise_parses_every_document(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_index, "_WORDS_AS_PYTHON", "SELECT false")
    with app.app_context():
        texts = [_texts("en", set()), _texts("en", {"the"})]
        assert search_index._Lexicon().may_add(db.session.connection(), texts) == [0, 1]
        db.session.rollback()


def test_the_seeded_site_s_documents_have_candidates_holding_their_lexicon_words(app) -> None:
    with app.app_context():
        rows = db.session.execute(
            text(
                "SELECT d.body, e.title || ' ' || array_to_string(e.passages, ' ')"
                " FROM published_documents AS d JOIN search_entries AS e USING (kind, entity_id)"
            )
        ).all()
        assert len(rows) > 20
        documents = [json.loads(body) for body, _ in rows]
        taken = _lexicon_words([entry_text for _, entry_text in rows])
        told = 0
        for document, words in zip(documents, taken, strict=True):
            found = search_text.lexicon_candidates(document, search_text.plain_texts([document]))
            if found is not None:
                told += 1
                assert words <= found
        assert told > len(rows) // 2  # most of the seeded site is ASCII
