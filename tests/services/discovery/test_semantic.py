"""Semantic retrieval: embeddings made at publish, nearest passages from pgvector or memory."""

from __future__ import annotations

import sys
from datetime import date, timedelta

import numpy as np
import pytest
import requests
from sqlalchemy import select, text

from cms_api.database import db
from cms_api.models import Article
from cms_api.services import embedding, vectors
from cms_api.services.publishing.articles import unpublish_article

TODAY = date(2026, 12, 3)
# Lay words for what the seeded articles call otherwise.
PARAPHRASES = {
    "swollen mouth days later": "lip-filler-swelling",
    "pounding head after wrinkle shots": "headache-after-botox",
    "itchy skin yellow eyes": "liver-rash",
}
PARAPHRASE = "swollen mouth days later"


def _has_pgvector() -> bool:
    with db.engine.connect() as connection:
        return vectors.has_pgvector_column(connection)


def _where_passages(connection, sql: str, **params) -> list:
    return connection.execute(text(f"SELECT * FROM answer_passages {sql}"), params).all()


def _nearest(question: str, mode: str, *, today: date = TODAY, limit: int = 5) -> list:
    keys = vectors.nearest(
        db.session.connection(), embedding.embed([question])[0], today=today, limit=limit, mode=mode
    )
    slugs = {
        (row.kind, row.entity_id, row.position): (row.page_slug, row.anchor)
        for row in _where_passages(db.session.connection(), "")
    }
    return [slugs[key] for key in keys]


def test_the_model_loads_from_its_wheel_without_the_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the embedding model reached for the network")

    monkeypatch.setattr(requests, "get", no_network)
    monkeypatch.setattr(embedding, "_model", None)
    # Importing wordllama itself would reconfigure the root logger (logging.basicConfig).
    monkeypatch.delitem(sys.modules, "wordllama", raising=False)
    vectors_ = embedding.embed(["sore jaw in the morning", "", "????"])

    assert "wordllama" not in sys.modules
    assert vectors_.shape == (3, embedding.DIMENSIONS) and vectors_.dtype == np.float32
    assert np.isclose(np.linalg.norm(vectors_[0]), 1.0, atol=1e-5)
    assert not np.isnan(vectors_).any()  # text with no known token embeds as zeros, not NaN


def test_related_texts_are_closer_than_unrelated_ones():
    query, near, far = embedding.embed(
        [PARAPHRASE, "Swollen lips after filler injections", "Renewing a passport abroad"]
    )
    assert query @ near > query @ far + 0.1


def test_a_text_embeds_the_same_in_a_batch_as_alone():
    """Publishing embeds passages in batches; a question is embedded alone. Both must give
    the same vector, or instant answers would rank differently after a bulk publish."""
    texts = [
        embedding.passage_text("Headache after Botox", "Overview", "A dull ache " * 200),
        "pounding head after wrinkle shots",
        "",
        "Ωmega naïve café, 40 °C?",
        embedding.passage_text("Lip filler swelling", "", "Swelling is common for days."),
    ]
    batch = embedding.embed(texts)
    alone = np.vstack([embedding.embed([item]) for item in texts])
    assert batch.shape == (len(texts), embedding.DIMENSIONS)
    assert np.array_equal(batch, alone)
    assert np.count_nonzero(batch[0]) > 0


def test_every_published_passage_is_embedded_at_publish(app):
    with app.app_context():
        connection = db.session.connection()
        rows = _where_passages(connection, "")
        assert rows and all(len(row.embedding) == 4 * embedding.DIMENSIONS for row in rows)
        stored = embedding.from_bytes(rows[0].embedding)
        again = embedding.embed(
            [embedding.passage_text(rows[0].title, rows[0].heading, rows[0].text)]
        )
        assert np.allclose(stored, again[0], atol=1e-6)
        if vectors.has_pgvector_column(connection):
            assert not _where_passages(connection, "WHERE embedding_vector IS NULL")


@pytest.mark.parametrize("mode", ["auto", "memory"])
def test_paraphrases_find_their_article_by_meaning(app, mode):
    with app.app_context():
        for question, slug in PARAPHRASES.items():
            assert _nearest(question, mode)[0][0] == slug, question


def test_both_ways_agree_on_the_nearest_passages(app):
    """pgvector's HNSW index and the exact in-memory scan give the same order here."""
    with app.app_context():
        if not _has_pgvector():
            pytest.skip("this server has no pgvector; the embedded PostgreSQL 18 run covers it")
        for question in (PARAPHRASE, "grinding teeth at night and a sore head", "itchy skin"):
            assert _nearest(question, "auto") == _nearest(question, "memory")


@pytest.mark.parametrize("mode", ["auto", "memory"])
def test_overdue_and_withdrawn_passages_are_never_near(app, mode):
    with app.app_context():
        due = db.session.execute(
            text("SELECT min(review_due) FROM answer_passages WHERE page_slug = :slug"),
            {"slug": "lip-filler-swelling"},
        ).scalar()
        before = _nearest(PARAPHRASE, mode, today=due, limit=50)
        after = _nearest(PARAPHRASE, mode, today=due + timedelta(days=1), limit=50)
        assert "lip-filler-swelling" in {slug for slug, _ in before}
        assert "lip-filler-swelling" not in {slug for slug, _ in after}

        article_id = db.session.scalar(
            select(Article.id).where(Article.slug == "lip-filler-swelling")
        )
        unpublish_article(article_id)
        db.session.flush()
        # The in-memory scan reads its matrix again: publishing changed the content version.
        withdrawn = _nearest(PARAPHRASE, mode, today=due, limit=50)
        assert "lip-filler-swelling" not in {slug for slug, _ in withdrawn}


def test_render_embeds_passages_stored_without_one(app, runner):
    with app.app_context():
        count = db.session.execute(text("SELECT count(*) FROM answer_passages")).scalar()
        db.session.execute(text("UPDATE answer_passages SET embedding = NULL"))
        if _has_pgvector():
            db.session.execute(text("UPDATE answer_passages SET embedding_vector = NULL"))
        db.session.commit()

    result = runner.invoke(args=["render", "--if-outdated"])

    assert f"Embedded {count} answer passages" in result.output
    with app.app_context():
        assert not _where_passages(db.session.connection(), "WHERE embedding IS NULL")
        if _has_pgvector():
            assert not _where_passages(db.session.connection(), "WHERE embedding_vector IS NULL")
    assert "Embedded" not in runner.invoke(args=["render", "--if-outdated"]).output
