"""Answer passages are stored with the embeddings publishing made of them beforehand."""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from cms_api.database import db
from cms_api.domain import search_text
from cms_api.services import embedding, vectors
from cms_api.services.publishing import passages, search_index

Key = tuple[str, uuid.UUID]


def _keys(kind: str, *, where: str = "true", limit: int = 3) -> list[Key]:
    rows = db.session.execute(
        text(
            f"SELECT kind, entity_id FROM published_documents WHERE kind = :kind AND {where}"
            " ORDER BY locale, slug, entity_id LIMIT :limit"
        ),
        {"kind": kind, "limit": limit},
    ).all()
    assert rows  # the seeded site
    return [(row.kind, row.entity_id) for row in rows]


def _texts(keys: list[Key]) -> dict[Key, search_index.SearchTexts]:
    """What publishing hands the index for these stored documents."""
    rows = db.session.execute(
        text(
            "SELECT kind, entity_id, body, locale FROM published_documents"
            " WHERE entity_id = ANY(:ids)"
        ),
        {"ids": [entity_id for _, entity_id in keys]},
    ).all()
    return {
        (row.kind, row.entity_id): search_index.search_texts(
            row.kind, json.loads(row.body), row.locale
        )
        for row in rows
    }


def _passages(keys: list[Key]) -> list[Any]:
    return db.session.execute(
        text(
            "SELECT kind, entity_id, position, title, heading, text, embedding"
            " FROM answer_passages WHERE entity_id = ANY(:ids) ORDER BY entity_id, position"
        ),
        {"ids": [entity_id for _, entity_id in keys]},
    ).all()


def _assert_embedded_as_their_text(rows: list[Any]) -> None:
    assert rows and all(row.embedding is not None for row in rows)
    again = embedding.embed(
        [embedding.passage_text(row.title, row.heading, row.text) for row in rows]
    )
    stored = np.vstack([embedding.from_bytes(row.embedding) for row in rows])
    assert np.array_equal(again, stored)
    if vectors.has_pgvector_column(db.session.connection()):
        # pgvector's column holds the same embedding, given to 7 significant digits.
        found = db.session.execute(
            text(
                "SELECT embedding_vector::text FROM answer_passages"
                " WHERE (kind, entity_id, position) IN (SELECT * FROM unnest("
                " CAST(:kinds AS text[]), CAST(:ids AS uuid[]), CAST(:positions AS int[])))"
                " ORDER BY entity_id, position"
            ),
            {
                "kinds": [row.kind for row in rows],
                "ids": [row.entity_id for row in rows],
                "positions": [row.position for row in rows],
            },
        ).scalars()
        in_pgvector = np.array([json.loads(item) for item in found], dtype=np.float32)
        assert in_pgvector.shape == stored.shape
        assert np.allclose(in_pgvector, stored, rtol=1e-6, atol=1e-9)


def _cut_again(keys: list[Key]) -> None:
    """Drop these documents' passages, so that indexing them cuts them anew."""
    db.session.execute(
        text("DELETE FROM answer_passages WHERE entity_id = ANY(:ids)"),
        {"ids": [entity_id for _, entity_id in keys]},
    )


def _embedded_after(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, uuid.UUID, int]]:
    """The passages embedded after their cut from now on (`passages.store_embeddings`)."""
    stored: list[tuple[str, uuid.UUID, int]] = []
    original = passages.store_embeddings

    def recorded(connection: Any, rows: list[Any], pgvector: bool) -> None:
        stored.extend((row.kind, row.entity_id, row.position) for row in rows)
        original(connection, rows, pgvector)

    monkeypatch.setattr(passages, "store_embeddings", recorded)
    return stored


def _updated_passages() -> int:
    """Rows of answer_passages this transaction has updated. The tests of one worker share
    a transaction (each rolls back to a savepoint), so compare it before and after."""
    return db.session.scalar(
        text("SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'answer_passages'")
    )


@pytest.mark.parametrize("beside_rendering", [False, True])
def test_passages_are_inserted_with_their_embeddings_and_never_updated(
    app, monkeypatch: pytest.MonkeyPatch, beside_rendering: bool
) -> None:
    embedded_after = _embedded_after(monkeypatch)
    with app.app_context():
        keys = _keys("article", where="locale = 'en'") + _keys(
            "faq", where="body::jsonb->'topic' IS NOT NULL AND body::jsonb->'topic' <> 'null'"
        )
        texts = _texts(keys)
        before = {(row.kind, row.entity_id, row.position) for row in _passages(keys)}
        updated = _updated_passages()
        _cut_again(keys)
        if beside_rendering:
            with search_index.alongside():
                search_index.index_documents(keys, texts)
        else:
            search_index.index_documents(keys, texts)
        rows = _passages(keys)
        assert {(row.kind, row.entity_id, row.position) for row in rows} == before
        assert {row.kind for row in rows} == {"article", "faq"}
        _assert_embedded_as_their_text(rows)
        assert embedded_after == []
        assert _updated_passages() == updated
        db.session.rollback()


# Characters some servers' `\s` takes for a space and others not: kept, or squashed, as
# this server's is asked to.
_SPACED = "\u00a0\u202f\u2003\u3000\u2007"


def test_passages_of_text_with_any_space_are_inserted_with_their_embeddings(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedded_after = _embedded_after(monkeypatch)
    with app.app_context():
        key = _keys("article", where="locale = 'en'", limit=1)[0]
        body = json.loads(
            db.session.scalar(
                text("SELECT body FROM published_documents WHERE entity_id = :id"), {"id": key[1]}
            )
        )
        # French typography and its kin in the title, a heading and a section's text.
        body["title"] = f"Neck{_SPACED[0]}pain{_SPACED[1]}: causes {_SPACED[2]} relief "
        section = body["sections"][0]
        section["heading"] = f"{_SPACED[3]}Overview{_SPACED[4]}and{_SPACED}more"
        section["body_html"] = f"<p>Rest{_SPACED[0]}helps{_SPACED[2]}{_SPACED[2]}a lot.</p>"
        db.session.execute(
            text("UPDATE published_documents SET body = :body WHERE entity_id = :id"),
            {"body": json.dumps(body), "id": key[1]},
        )
        texts = _texts([key])
        assert len(texts[key].passages) >= 2
        assert any(_SPACED[0] in passage for passage in texts[key].passages)
        updated = _updated_passages()
        _cut_again([key])
        search_index.index_documents([key], texts)
        rows = _passages([key])
        assert sorted(texts[key].passages) == sorted(
            embedding.passage_text(row.title, row.heading, row.text) for row in rows
        )
        _assert_embedded_as_their_text(rows)
        assert embedded_after == []
        assert _updated_passages() == updated
        db.session.rollback()


@pytest.mark.parametrize(
    ("expected", "left_out"),
    [
        # Python left the first passage out (as it does a part it cannot tell), and
        # expected one that the document does not have.
        (lambda passages: ("Not a passage of it", *passages[1:]), 1),
        # In another order.
        (lambda passages: passages[::-1], 0),
    ],
    ids=["one-unexpected", "reordered"],
)
def test_given_embeddings_are_matched_to_passages_by_text(
    app,
    monkeypatch: pytest.MonkeyPatch,
    expected: Callable[[tuple[str, ...]], tuple[str, ...]],
    left_out: int,
) -> None:
    embedded_after = _embedded_after(monkeypatch)
    with app.app_context():
        keys = _keys("article", where="locale = 'en'", limit=1)
        texts = _texts(keys)
        key = keys[0]
        given = texts[key].passages
        assert len(set(given)) == len(given) > 2
        texts[key] = dataclasses.replace(texts[key], passages=expected(given))
        _cut_again(keys)
        search_index.index_documents(keys, texts)
        rows = _passages(keys)
        _assert_embedded_as_their_text(rows)
        # Embedded after its cut: each passage whose text was not among those given.
        unexpected = set(given[:left_out])
        assert embedded_after == [
            (row.kind, row.entity_id, row.position)
            for row in rows
            if embedding.passage_text(row.title, row.heading, row.text) in unexpected
        ]
        assert len(embedded_after) == left_out
        db.session.rollback()


def test_publishing_expects_every_passage_of_the_seeded_documents(app) -> None:
    with app.app_context():
        rows = db.session.execute(
            text(
                "SELECT d.kind, d.entity_id, d.body,"
                " array_remove(array_agg(p.title ORDER BY p.position), NULL) AS titles,"
                " array_agg(p.heading ORDER BY p.position) AS headings,"
                " array_agg(p.text ORDER BY p.position) AS texts,"
                " count(*) FILTER (WHERE p.title IS NULL) AS untitled"
                " FROM published_documents AS d JOIN answer_passages AS p USING (kind, entity_id)"
                " GROUP BY d.kind, d.entity_id, d.body"
            )
        ).all()
        assert {row.kind for row in rows} == {"article", "faq"}
        # The seeded Spanish articles among them: text in any script is told.
        assert any(not row.body.isascii() for row in rows)
        for row in rows:
            assert not row.untitled
            cut = [
                embedding.passage_text(title, heading, body)
                for title, heading, body in zip(row.titles, row.headings, row.texts, strict=True)
            ]
            document = json.loads(row.body)
            expected = [
                embedding.passage_text(title or "", heading, body)
                for title, heading, body in search_text.passage_parts(
                    row.kind, document, search_text.plain_texts([document])
                )
            ]
            assert sorted(expected) == sorted(cut)


def test_passage_parts_follow_the_cut() -> None:
    html = "<p>Rest <em>helps</em>.</p>"
    article = {
        "slug": "neck-pain",
        "title": " Neck   pain ",
        "sections": [
            {"key": "overview", "heading": "Overview", "body_html": html},
            {"key": "empty", "heading": "Nothing", "body_html": ""},
            {"key": "no-body", "heading": "Heading only"},
            {
                "key": "causes",
                "heading": None,
                "body_html": "<p>Posture.</p>",
                "subsections": [
                    # Snippet markers go; whitespace of every kind becomes one space.
                    {
                        "key": "sleep",
                        "heading": "\ue000Sleep\ue001 \t\n well",
                        "body_html": "<p>Pillows.</p>",
                    }
                ],
            },
            {"key": "abroad", "heading": "Überblick", "body_html": "<p>Text.</p>"},
            # A no-break space: some servers' `\s` takes it for a space, others not.
            {"key": "unsure", "heading": "Neck\u00a0pain", "body_html": "<p>Text.</p>"},
        ],
        "faqs": [{"question": "Is it serious?", "answer_html": "<p>Rarely.</p>"}, "not a FAQ"],
    }
    plain = search_text.plain_texts([article])
    assert search_text.passage_parts("article", article, plain) == [
        ("Neck pain", "Overview", "Rest helps."),
        ("Neck pain", "", "Posture."),
        ("Neck pain", "Sleep well", "Pillows."),
        ("Neck pain", "Überblick", "Text."),
        ("Neck pain", "Is it serious?", "Rarely."),
    ]
    assert search_text.passage_parts("article", {**article, "slug": None}, plain) == []
    # A topic's FAQ is a passage of its own; an article's FAQ document is not one.
    faq = {"question": "Why?", "answer_html": "<p>Because.</p>", "topic": {"slug": "neck"}}
    plain = search_text.plain_texts([faq])
    assert search_text.passage_parts("faq", faq, plain) == [("Why?", "Why?", "Because.")]
    assert search_text.passage_parts("faq", {**faq, "topic": None}, plain) == []


def test_a_failed_publish_makes_no_embeddings_ahead_for_statements_that_will_not_run(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[list[str]] = []

    def given_embeddings(texts: list[str], *, pgvector: bool) -> dict[str, Any]:
        made.append(texts)
        return passages.NO_EMBEDDINGS

    monkeypatch.setattr(passages, "given_embeddings", given_embeddings)
    with app.app_context():
        keys = _keys("article", where="locale = 'en'")
        texts = _texts(keys)
        busy = threading.Event()

        def publish() -> None:
            with search_index.alongside():
                worker = db.session.info[search_index._WORKER]
                worker.embedder.submit(busy.wait, 10)  # the embedding thread is busy
                search_index.index_documents(keys, texts)  # its embeddings wait behind
                threading.Timer(0.3, busy.set).start()
                raise RuntimeError("the publish failed")

        with pytest.raises(RuntimeError, match="the publish failed"):
            publish()
        assert made == []
        db.session.rollback()
