"""GET /v1/answers: reviewed passages quoted verbatim with citations, or where to ask."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from cms_api.database import db
from cms_api.models import Article, Faq
from cms_api.services.publishing.articles import unpublish_article

BASE = "https://www.example-health.org"
QUESTIONS = [
    "how long does a headache after botox last",
    "can lip filler cause headaches",
    "is jaw pain with headache serious",
    "why does liver disease make the skin itch",
    "can an ear infection cause a headache",
    "which allergy medicine is best for a headache",
    "does lip filler swelling go away",
    "can botox help tmj pain",
]


def ask(client, q: str) -> dict:
    response = client.get("/v1/answers", query_string={"q": q})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize(
    ("question", "article"),
    [
        ("how long does a headache after botox last", "headache-after-botox"),
        ("can lip filler cause headaches", "lip-filler-swelling"),
        ("is jaw pain with headache serious", "tmj-headache"),
    ],
)
def test_seeded_questions_are_answered_from_the_right_article(client, question, article):
    body = ask(client, question)

    assert body["answered"] is True and body["urgent"] is False and body["ask"] is None
    assert 1 <= len(body["passages"]) <= 3
    first = body["passages"][0]
    assert first["citation"]["url"].startswith(f"{BASE}/articles/{article}")
    assert body["confidence"] >= 0.5


def test_passages_are_quoted_verbatim_with_their_citation(client):
    body = ask(client, "is jaw pain with headache serious")
    doc = client.get("/v1/articles/tmj-headache").get_json()
    section = next(s for s in doc["sections"] if s["key"] == "when-to-see-a-doctor")

    passage = next(
        p for p in body["passages"] if p["citation"]["section"] == "when-to-see-a-doctor"
    )
    assert passage["html"] == section["body_html"]
    assert passage["heading"] == section["heading"]
    assert passage["text"].startswith("See a doctor or dentist if jaw pain")
    citation = passage["citation"]
    assert citation["url"] == f"{BASE}/articles/tmj-headache#when-to-see-a-doctor"
    assert citation["title"] == doc["title"]
    assert citation["reviewed_on"] == doc["review"]["reviewed_on"]
    assert [r["slug"] for r in citation["reviewers"]] == [
        r["slug"] for r in doc["review"]["reviewers"]
    ]


def test_an_unrelated_question_is_not_answered_and_says_where_to_ask(client):
    body = ask(client, "best pizza in town")

    assert body["answered"] is False
    assert body["passages"] == []
    assert body["ask"] == {"href": "/v1/questions", "method": "POST"}
    assert body["confidence"] < 0.5


def test_the_threshold_setting_decides(app, client):
    settings = app.config["CMS_SETTINGS"]
    app.config["CMS_SETTINGS"] = type(settings)(**{**settings.__dict__, "answer_threshold": 1.0})
    try:
        body = ask(client, "how long does a headache after botox last")
    finally:
        app.config["CMS_SETTINGS"] = settings
    assert body["answered"] is False and body["passages"] == []


def test_answers_are_cacheable_and_revalidate(client):
    first = client.get("/v1/answers?q=botox headache")
    assert first.status_code == 200
    assert first.headers["ETag"] and "max-age" in first.headers["Cache-Control"]

    again = client.get(
        "/v1/answers?q=botox headache", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    "query",
    ["", "q=", "q=" + "a" * 301, "q=head%01ache", "q=botox&locale=en", "q=botox&limit=3"],
)
def test_strict_query_parameters(client, query):
    response = client.get(f"/v1/answers?{query}")
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_a_withdrawn_article_is_never_quoted(app, client):
    with app.app_context():
        article_id = db.session.scalar(
            select(Article.id).where(Article.slug == "headache-after-botox")
        )
        unpublish_article(article_id)
        db.session.commit()

    body = ask(client, "how long does a headache after botox last")
    assert all("headache-after-botox" not in p["citation"]["url"] for p in body["passages"])


def test_only_eligible_content_is_ever_quoted(app, client):
    """Random unpublished, trashed and overdue states: every passage quoted belongs to
    published content whose review is not overdue."""
    rng = random.Random(1515)
    with app.app_context():
        articles = db.session.execute(select(Article.id, Article.slug)).all()
        topic_faqs = db.session.scalars(select(Faq).where(Faq.article_id.is_(None))).all()
        states = {
            slug: rng.choice(["live", "unpublished", "trashed", "overdue"]) for _, slug in articles
        }
        for article_id, slug in articles:
            if states[slug] in ("unpublished", "trashed"):
                unpublish_article(article_id)
            if states[slug] == "trashed":
                db.session.get(Article, article_id).deleted_at = db.func.now()
        withdrawn_faqs = set()
        for faq in topic_faqs:
            if rng.random() < 0.5:
                withdrawn_faqs.add(faq.question)
                db.session.execute(
                    text("DELETE FROM published_documents WHERE kind = 'faq' AND entity_id = :id"),
                    {"id": faq.id},
                )
        # Overdue: the stored review of record fell due yesterday.
        overdue = [slug for slug, state in states.items() if state == "overdue"]
        db.session.execute(
            text(
                "UPDATE answer_passages SET review_due = :due "
                "WHERE page_kind = 'article' AND page_slug = ANY(:slugs)"
            ),
            {"due": date.today() - timedelta(days=1), "slugs": overdue},
        )
        db.session.commit()

    eligible = {slug for slug, state in states.items() if state == "live"}
    quoted = 0
    for question in QUESTIONS:
        for passage in ask(client, question)["passages"]:
            quoted += 1
            url = passage["citation"]["url"]
            if url.startswith(f"{BASE}/articles/"):
                assert url.removeprefix(f"{BASE}/articles/").split("#")[0] in eligible
            else:
                assert passage["heading"] not in withdrawn_faqs
    assert any(states[s] != "live" for s in states)  # the draw withdrew something


def test_unanswered_questions_are_counted_folded(client, editor):
    from tests.support.api import bearer

    for asked in ("Best pizza in town?", "best   PIZZA, in town", "best pizza in town"):
        assert ask(client, asked)["answered"] is False
    ask(client, "how long does a headache after botox last")

    items = client.get("/v1/admin/unanswered", headers=bearer(editor)).get_json()["items"]
    pizza = [item for item in items if item["normalized"] == "best pizza in town"]
    assert len(pizza) == 1 and pizza[0]["count"] == 3
    assert pizza[0]["question"] == "Best pizza in town?"
    assert not [item for item in items if "botox" in item["normalized"]]
    assert uuid.UUID(pizza[0]["id"])
