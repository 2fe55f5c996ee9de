"""GET /v1/answers: reviewed passages quoted verbatim with citations, or where to ask."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, text

from cms_api.database import db
from cms_api.domain import clock
from cms_api.models import Article, Faq
from cms_api.services.publishing.articles import unpublish_article
from tests.support.api import bearer

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
        ("can a headache after botox last for weeks", "headache-after-botox"),
        ("how long will my lips stay puffy after filler", "lip-filler-swelling"),
        ("does grinding my teeth cause jaw pain and headaches", "tmj-headache"),
    ],
)
def test_seeded_questions_are_answered_from_the_right_article(app, client, question, article):
    body = ask(client, question)

    assert body["answered"] is True and body["urgent"] is False and body["ask"] is None
    assert 1 <= len(body["passages"]) <= 3
    first = body["passages"][0]
    assert first["citation"]["url"].startswith(f"{BASE}/articles/{article}")
    threshold = app.config["CMS_SETTINGS"].answer_threshold
    assert body["confidence"] >= threshold
    assert all(passage["confidence"] >= threshold for passage in body["passages"])


def test_passages_are_quoted_verbatim_with_their_citation(client):
    body = ask(client, "when should i see a doctor for an ear infection")
    doc = client.get("/v1/articles/ear-infection-headache").get_json()
    section = next(s for s in doc["sections"] if s["key"] == "when-to-see-a-doctor")

    passage = next(
        p for p in body["passages"] if p["citation"]["section"] == "when-to-see-a-doctor"
    )
    assert passage["html"] == section["body_html"]
    assert passage["heading"] == section["heading"]
    assert passage["text"].startswith("See a clinician if ear pain lasts")
    citation = passage["citation"]
    assert citation["url"] == f"{BASE}/articles/ear-infection-headache#when-to-see-a-doctor"
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
        body = ask(client, "can a headache after botox last for weeks")
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
    [
        "",
        "q=",
        "q=" + "a" * 301,
        "q=head%01ache",
        "q=botox&lang=en",
        "q=botox&limit=3",
        "q=botox&locale=fr",  # not one of the site's locales
        "q=botox&locale=en_US",  # not a BCP 47 tag
    ],
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


def test_only_eligible_content_is_ever_quoted(app, client, make_token, monkeypatch):
    """Random unpublished, trashed and never reviewed content, and the clock moved past each
    article's next review date: every passage quoted on a day belongs to published,
    reviewed content whose review is current that day, and an article is quoted again
    once the clock is back before its review date."""
    # A draw with articles live, unpublished and trashed, and topic FAQs kept and withdrawn.
    rng = random.Random(99)
    # Questions in the default locale quote its content only: the draw is of that content.
    locale = app.config["CMS_SETTINGS"].default_locale
    with app.app_context():
        articles = db.session.execute(
            select(Article.id, Article.slug).where(Article.locale == locale).order_by(Article.slug)
        ).all()
    # The seeded reviews' next review dates, as publishing stated them to readers.
    review_due = {
        slug: date.fromisoformat(
            client.get(f"/v1/articles/{slug}").get_json()["review"]["next_review_due"]
        )
        for _, slug in articles
    }
    with app.app_context():
        topic_faqs = db.session.scalars(
            select(Faq).where(Faq.article_id.is_(None), Faq.locale == locale).order_by(Faq.question)
        ).all()
        states = {slug: rng.choice(["live", "unpublished", "trashed"]) for _, slug in articles}
        for article_id, slug in articles:
            if states[slug] in ("unpublished", "trashed"):
                unpublish_article(article_id)
            if states[slug] == "trashed":
                db.session.get(Article, article_id).deleted_at = db.func.now()
        withheld_faqs = set()  # withdrawn, or never reviewed
        for faq in topic_faqs:
            if rng.random() < 0.5:
                withheld_faqs.add(faq.question)
                db.session.execute(
                    text("DELETE FROM published_documents WHERE kind = 'faq' AND entity_id = :id"),
                    {"id": faq.id},
                )
        db.session.commit()
    # Never reviewed: a topic FAQ written for one of the questions, submitted, not approved.
    editor = make_token("editor")
    draft = client.post(
        "/v1/admin/faqs",
        json={
            "topic": "cosmetic-injectables",
            "question": "Does lip filler swelling go away?",
            "answer": "Lip filler swelling goes away within two weeks for most people.",
        },
        headers=bearer(editor),
    )
    assert draft.status_code == 201, draft.get_json()
    submitted = client.post(f"{draft.headers['Location']}/submit", headers=bearer(editor))
    assert submitted.status_code == 200, submitted.get_json()
    withheld_faqs.add(draft.get_json()["question"])
    live = {slug for slug, state in states.items() if state == "live"}

    def quoted_on(day: date) -> dict[str, list[tuple[str, str]]]:
        """Every question's passages with the clock at noon on `day`, each checked."""
        monkeypatch.setattr(clock, "utcnow", lambda: datetime.combine(day, time(12), UTC))
        quoted = {}
        for question in QUESTIONS:
            passages = ask(client, question)["passages"]
            quoted[question] = [(p["citation"]["url"], p["heading"]) for p in passages]
            for url, heading in quoted[question]:
                if url.startswith(f"{BASE}/articles/"):
                    slug = url.removeprefix(f"{BASE}/articles/").split("#")[0]
                    assert slug in live, (day, slug, states[slug])
                    assert review_due[slug] >= day, (day, slug, "quoted while overdue")
                else:
                    assert heading not in withheld_faqs, (day, heading)
        return quoted

    def articles_in(quoted: dict[str, list[tuple[str, str]]]) -> set[str]:
        return {
            url.removeprefix(f"{BASE}/articles/").split("#")[0]
            for passages in quoted.values()
            for url, _ in passages
            if url.startswith(f"{BASE}/articles/")
        }

    due_days = sorted({review_due[slug] for slug in live})
    before = due_days[0] - timedelta(days=1)
    first = current = quoted_on(before)
    assert articles_in(first), "the draw left an article the questions quote"
    for due_day in due_days:
        # On its due date a review is still current, so nothing changed since the last day
        # checked; the day after, the articles due that day are overdue.
        assert quoted_on(due_day) == current, due_day
        current = quoted_on(due_day + timedelta(days=1))
    assert not articles_in(current), "every live article is overdue now"
    # Back before every review date: the same passages are quoted again.
    assert quoted_on(before) == first
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
