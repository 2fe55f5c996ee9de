"""HTML stripped for search in Python gives exactly what SQL's cms_search_plain gives."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from cms_api.database import db
from cms_api.domain import search_text
from cms_api.services import vectors
from cms_api.services.publishing import search_index
from tests.support.seeds import indexed_documents


def _stripped_in_sql(htmls: list[str]) -> list[str | None]:
    return list(
        db.session.scalars(
            text(
                "SELECT cms_search_plain(html) FROM unnest(CAST(:htmls AS text[]))"
                " WITH ORDINALITY AS given(html, n) ORDER BY n"
            ),
            {"htmls": htmls},
        )
    )


def _published_html() -> list[str]:
    bodies = db.session.scalars(
        text("SELECT body FROM published_documents WHERE kind IN ('article', 'faq')")
    )
    return list(
        dict.fromkeys(html for body in bodies for html in search_text.html_in(json.loads(body)))
    )


def test_every_html_of_the_seeded_site_is_stripped_in_python_as_in_sql(app) -> None:
    with app.app_context():
        htmls = _published_html()
        assert len(htmls) > 50  # sections and FAQ answers of the seeded site
        texts = [search_text.plain_text(html) for html in htmls]
        assert all(value is not None for value in texts)  # no locale-dependent space in it
        assert texts == _stripped_in_sql(htmls)


# Each case is the same in both, except those Python leaves to the server.
CASES = [
    "<p>One</p><p>two</p>",
    "<P CLASS='x'>Upper</P>case<BR/>tags",
    "a<strong>b</strong>c<em>d</em>e",
    "<p title=\"a > b\">quoted</p> <a href='x>y'>link</a>",
    '<p title="unclosed>rest of it</p>',
    "<prefix>not a block</prefix>tag<pre>is one</pre><h7>nor</h7><h6>but</h6>",
    "<br><hr><img src=x alt='a'>end",
    "&lt;p&gt; &amp;lt; &quot;q&quot; &#39;s&#39; a&nbsp;b &amp;amp;",
    "  lead\t\ttab\nline\r\nfeed\x0bvertical\x0cform  ",
    "snippet\ue000marks\ue001gone",
    "<li>one</li><li>two</li>",
    "no tags at all",
    "",
    "   ",
    "<p></p>",
    "caf\u00e9 na\u00efve \u4e2d\u6587 \U0001f600",
    "<  p>not a tag name< /p>",
    "a<b",
    "a>b",
    "<p\nclass=x>newline in a tag</p>",
]
LEFT_TO_THE_SERVER = [
    "non\u00a0breaking",
    "em\u2003space",
    "ideographic\u3000space",
    "separator\x1cchar",
    "next\x85line",
    "zero\u200bwidth",
    "<p\u00e9>letter after a name</p>",
]


@pytest.mark.parametrize("html", CASES)
def test_python_strips_as_sql_does(app, html: str) -> None:
    with app.app_context():
        assert [search_text.plain_text(html)] == _stripped_in_sql([html])


@pytest.mark.parametrize("html", LEFT_TO_THE_SERVER)
def test_what_depends_on_the_servers_locale_is_left_to_sql(html: str) -> None:
    assert search_text.plain_text(html) is None


def _spaces() -> str:
    return search_index.server_spaces(db.session.connection())


@pytest.mark.parametrize("html", LEFT_TO_THE_SERVER[:-1])
def test_told_the_servers_spaces_python_strips_any_space_as_sql_does(app, html: str) -> None:
    with app.app_context():
        assert [search_text.plain_text(html, _spaces())] == _stripped_in_sql([html])


def test_a_letter_after_a_block_tags_name_is_left_to_sql_whatever_the_spaces(app) -> None:
    with app.app_context():
        assert search_text.plain_text(LEFT_TO_THE_SERVER[-1], _spaces()) is None


def test_the_servers_spaces_are_asked_once_a_database(app) -> None:
    with app.app_context():
        spaces = _spaces()
        assert set(spaces) <= set(search_text.LOCALE_SPACES)
        # What the server's `\s` takes of those characters, asked one by one.
        taken = db.session.scalars(
            text("SELECT c FROM unnest(CAST(:characters AS text[])) AS c WHERE c ~ '\\s'"),
            {"characters": list(search_text.LOCALE_SPACES)},
        ).all()
        assert set(spaces) == set(taken)
        assert "\u3000" in spaces or "\u00a0" not in spaces  # not vacuous on this server


# fmt: off
_PIECES = st.sampled_from([
    "<p>", "</p>", "<P>", "<br/>", "<li class='a'>", "</LI>", "<pre>", "<prefix>",
    "<h1 id=\"x>y\">", "<h9>", "<strong>", "</em>", "<a href='>'>", "<", ">", '"', "'",
    "&lt;", "&gt;", "&amp;", "&amp;lt;", "&quot;", "&#39;", "&nbsp;", "&", " ", "  ",
    "\t", "\n", "\r", "\x0b", "\x0c", "\u00a0", "\u2003", "\x1e", "\ue000", "\ue001",
    *search_text.LOCALE_SPACES,
    "word", "WORD", "caf\u00e9", "\u00df", "\u0130", "x", "1", "_",
])
# fmt: on


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(_PIECES, max_size=30).map("".join), min_size=1, max_size=20))
def test_any_mix_of_tags_entities_and_spaces_is_stripped_as_sql_strips_it(
    app, htmls: list[str]
) -> None:
    with app.app_context():
        in_sql = _stripped_in_sql(htmls)
        spaces = _spaces()
    for html, expected in zip(htmls, in_sql, strict=True):
        stripped = search_text.plain_text(html)
        if stripped is not None:
            assert stripped == expected, html
        # Told the server's spaces, Python strips all but a letter after a block tag's name.
        assert search_text.plain_text(html, spaces) in (expected, None), html
        if not search_text._BLOCK_NAME_THEN_OTHER.search(html):
            assert search_text.plain_text(html, spaces) == expected, html


def test_the_index_takes_the_text_publishing_stripped(app) -> None:
    with app.app_context():
        entity_id = db.session.scalar(
            text("SELECT entity_id FROM published_documents WHERE kind = 'article' LIMIT 1")
        )
        body = json.loads(
            db.session.scalar(
                text("SELECT body FROM published_documents WHERE entity_id = :id"),
                {"id": entity_id},
            )
        )
        first = next(search_text.html_in(body))
        connection = db.session.connection()
        for table in ("search_entries", "answer_passages"):
            db.session.execute(
                text(f"DELETE FROM {table} WHERE entity_id = :id"), {"id": entity_id}
            )
        params = {"kinds": ["article"], "ids": [entity_id]}
        search_index._run(
            connection,
            search_index._GIVEN,
            params,
            wanted_known=search_index._GIVEN_KNOWN,
            known_params={**params, "known": [json.dumps({first: "zyxwvut given"})]},
            pgvector=vectors.has_pgvector_column(connection),
            lexicon_params=params,
        )
        passages = db.session.scalar(
            text("SELECT passages FROM search_entries WHERE entity_id = :id"), {"id": entity_id}
        )
        assert any("zyxwvut given" in passage for passage in passages)
        quoted = db.session.scalar(
            text("SELECT count(*) FROM answer_passages WHERE entity_id = :id AND text = :text"),
            {"id": entity_id, "text": "zyxwvut given"},
        )
        assert quoted == 1
        db.session.rollback()


def _search_rows(ids: list[uuid.UUID]) -> list[tuple]:
    entries = db.session.execute(
        text(
            "SELECT kind, entity_id, title, passages, vector::text, passage_vectors::text"
            " FROM search_entries WHERE entity_id = ANY(:ids) ORDER BY entity_id"
        ),
        {"ids": ids},
    ).all()
    cut = db.session.execute(
        text(
            "SELECT kind, entity_id, position, text, search_text, vector::text"
            " FROM answer_passages WHERE entity_id = ANY(:ids) ORDER BY entity_id, position"
        ),
        {"ids": ids},
    ).all()
    return [tuple(row) for row in entries + cut]


def test_indexing_with_the_texts_publishing_made_gives_what_indexing_in_sql_gives(app) -> None:
    with app.app_context():
        documents = indexed_documents()
        keys = [key for key, _ in documents]
        ids = [entity_id for _, entity_id in keys]
        texts = dict(documents)
        tables = "DELETE FROM search_entries; DELETE FROM answer_passages"

        db.session.execute(text(tables))
        search_index.index_documents(keys)  # no texts: stripped in SQL
        in_sql = _search_rows(ids)
        db.session.execute(text(tables))
        search_index.index_documents(keys, texts)
        with_python = _search_rows(ids)

        assert len(in_sql) > len(keys)
        assert with_python == in_sql
        db.session.rollback()
