"""Readers ask questions: accepted with 202, validated strictly, rate limited per address."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cms_api.config import Settings
from cms_api.database import db
from cms_api.models import Article, ArticleSlug, ReaderQuestion
from cms_api.ratelimit import limiter
from cms_api.resources.public.questions import QUESTION_BODY_LIMIT
from cms_api.schemas.public.questions import QUESTION_MAX
from cms_api.services.publishing.articles import publish_article
from tests.conftest import build_app
from tests.http.test_request_limits import CountingStream

PROBLEM = "application/problem+json"
ARTICLE = "headache-after-botox"
QUESTION = "Can a headache after Botox start a week later?"


@pytest.fixture(autouse=True)
def _fresh_limits(app: Flask) -> Iterator[None]:
    """Each test starts with the whole allowance, whatever the tests before it sent."""
    limiter.reset()
    yield
    limiter.reset()


def _stored(app: Flask, question_id: str) -> ReaderQuestion | None:
    with app.app_context():
        return db.session.get(ReaderQuestion, uuid.UUID(question_id))


def test_a_question_on_an_article_is_accepted_and_stored(app, client):
    response = client.post(
        "/v1/questions",
        json={"question": f"  {QUESTION}\n", "article": ARTICLE, "email": "reader@example.org"},
    )

    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["status"] == "new"
    assert set(body) == {"id", "status"}
    stored = _stored(app, body["id"])
    assert stored is not None
    assert stored.question == QUESTION  # surrounding whitespace is not the reader's words
    assert stored.email == "reader@example.org"
    assert stored.article_id is not None
    assert stored.topic_id is None
    assert response.headers["X-RateLimit-Limit"] == "5"
    assert response.headers["X-RateLimit-Remaining"] == "4"


def test_a_question_on_a_topic_or_on_nothing_is_accepted(app, client):
    on_topic = client.post("/v1/questions", json={"question": QUESTION, "topic": "headache"})
    general = client.post("/v1/questions", json={"question": QUESTION, "email": None})

    assert on_topic.status_code == 202, on_topic.get_json()
    assert general.status_code == 202, general.get_json()
    assert _stored(app, on_topic.get_json()["id"]).topic_id is not None
    stored = _stored(app, general.get_json()["id"])
    assert (stored.article_id, stored.topic_id, stored.email) == (None, None, None)


def test_a_question_names_its_article_in_its_locale(app, client):
    with app.app_context():
        source_id = db.session.scalar(
            select(Article.id).where(Article.slug == ARTICLE, Article.locale == "en")
        )
        spanish = Article(
            id=uuid.uuid4(),
            locale="es",
            slug="preguntas-sobre-el-botox",
            title="Dolor de cabeza tras el bótox",
            summary="Por qué aparece y cuánto dura.",
        )
        db.session.add(spanish)
        db.session.flush()
        publish_article(spanish.id)
        db.session.commit()
        spanish_id = spanish.id

    in_spanish = client.post(
        "/v1/questions",
        json={
            "question": "¿Puede empezar el dolor una semana después?",
            "article": "preguntas-sobre-el-botox",
            "locale": "es",
        },
    )
    in_default = client.post(
        "/v1/questions", json={"question": QUESTION, "article": ARTICLE, "locale": "en"}
    )

    assert in_spanish.status_code == 202, in_spanish.get_json()
    assert in_default.status_code == 202, in_default.get_json()
    assert _stored(app, in_spanish.get_json()["id"]).article_id == spanish_id
    assert _stored(app, in_default.get_json()["id"]).article_id == source_id


def test_a_former_slug_still_names_the_article(app, client):
    with app.app_context():
        article_id = db.session.scalar(select(Article.id).where(Article.slug == ARTICLE))
        db.session.add(ArticleSlug(slug="botox-headache", article_id=article_id))
        db.session.commit()

    response = client.post(
        "/v1/questions", json={"question": QUESTION, "article": "botox-headache"}
    )

    assert response.status_code == 202, response.get_json()
    assert _stored(app, response.get_json()["id"]).article_id == article_id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "question"),
        ({"question": None}, "question"),
        ({"question": 42}, "question"),
        ({"question": "Too short"}, "question"),
        ({"question": "          x          "}, "question"),  # short once stripped
        ({"question": "x" * 2001}, "question"),
        ({"question": "Is a NUL \x00 storable at all?"}, "question"),
        ({"question": "Is a lone \ud800 surrogate storable?"}, "question"),
        ({"question": QUESTION, "article": ARTICLE, "topic": "headache"}, "topic"),
        ({"question": QUESTION, "article": "Not A Slug"}, "article"),
        ({"question": QUESTION, "email": "not-an-address"}, "email"),
        ({"question": QUESTION, "name": "Ann"}, "name"),
        ({"question": QUESTION, "article": ARTICLE, "locale": "fr"}, "locale"),
        ({"question": QUESTION, "article": ARTICLE, "locale": "en_GB"}, "locale"),
    ],
)
def test_invalid_bodies_are_422_problems_naming_the_field(client, body, field):
    response = client.post("/v1/questions", json=body)

    assert response.status_code == 422, response.get_json()
    assert response.content_type == PROBLEM
    problem = response.get_json()
    assert problem["type"] == "/problems/validation-error"
    assert field in problem["errors"]["json"]


@pytest.mark.parametrize(
    ("article", "topic", "field"),
    [
        ("no-such-article", None, "article"),
        ("headache-after-botox-draft", None, "article"),
        (None, "no-such-topic", "topic"),
    ],
)
def test_unknown_or_unpublished_targets_are_422_problems(app, client, article, topic, field):
    if article == "headache-after-botox-draft":
        # A draft is invisible to readers, so it cannot be asked about either.
        with app.app_context():
            db.session.add(
                Article(
                    id=uuid.uuid4(),
                    slug=article,
                    title="Draft",
                    summary="",
                    status="draft",
                    call_to_actions=[],
                    review_interval_months=12,
                )
            )
            db.session.commit()
    body = {"question": QUESTION, "article": article, "topic": topic}

    response = client.post("/v1/questions", json=body)

    assert response.status_code == 422, response.get_json()
    assert response.content_type == PROBLEM
    assert list(response.get_json()["errors"]["json"]) == [field]


def test_a_body_that_is_not_json_is_a_415_problem(client):
    response = client.post("/v1/questions", data=f"question={QUESTION}", content_type="text/plain")

    assert response.status_code == 415
    assert response.content_type == PROBLEM
    assert response.get_json()["type"] == "/problems/unsupported-media-type"


@pytest.mark.parametrize("data", ['{"question": ', "[1, 2]", "null", "\xff\xfe"])
def test_malformed_json_is_a_problem_not_a_500(client, data):
    response = client.post("/v1/questions", data=data, content_type="application/json")

    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert response.content_type == PROBLEM


def test_unknown_query_parameters_are_400(client):
    response = client.post("/v1/questions?debug=1", json={"question": QUESTION})

    assert response.status_code == 400
    assert response.get_json()["type"] == "/problems/invalid-parameter"


def test_past_the_limit_an_address_gets_a_429_problem_with_retry_after(app):
    settings = Settings(
        database_url=app.config["SQLALCHEMY_DATABASE_URI"], question_rate_limit="2 per minute"
    )
    limited: FlaskClient = build_app(
        app.config["SQLALCHEMY_DATABASE_URI"], CMS_SETTINGS=settings
    ).test_client()
    reader = {"REMOTE_ADDR": "203.0.113.7"}
    ask = {"json": {"question": QUESTION}, "environ_base": reader}

    first = limited.post("/v1/questions", **ask)
    # Invalid attempts count too: the limit is on sending, not on being accepted.
    second = limited.post("/v1/questions", json={}, environ_base=reader)
    third = limited.post("/v1/questions", **ask, headers={"X-Request-ID": "rate-test"})
    other_reader = limited.post(
        "/v1/questions", json={"question": QUESTION}, environ_base={"REMOTE_ADDR": "203.0.113.8"}
    )

    assert (first.status_code, second.status_code) == (202, 422)
    assert first.headers["X-RateLimit-Remaining"] == "1"
    assert third.status_code == 429
    assert third.content_type == PROBLEM
    problem = third.get_json()
    assert problem["type"] == "/problems/rate-limited"
    assert problem["status"] == 429
    assert problem["request_id"] == "rate-test" == third.headers["X-Request-ID"]
    assert 0 <= int(third.headers["Retry-After"]) <= 60
    assert third.headers["X-RateLimit-Limit"] == "2"
    assert third.headers["X-RateLimit-Remaining"] == "0"
    assert int(third.headers["X-RateLimit-Reset"]) > 0
    assert other_reader.status_code == 202  # the limit is per client address


def _counted(client: FlaskClient, body: bytes, **environ: str):
    stream = CountingStream(body)
    response = client.post(
        "/v1/questions",
        input_stream=stream,
        headers={"Content-Type": "application/json", "Content-Length": str(len(body))},
        environ_base=environ,
    )
    return response, stream


def test_a_body_over_the_questions_own_limit_is_refused_unread(client):
    padding = "x" * QUESTION_BODY_LIMIT
    response, stream = _counted(client, json.dumps({"question": padding}).encode())
    assert response.status_code == 413, response.get_json()
    assert response.content_type == PROBLEM
    assert str(QUESTION_BODY_LIMIT) in response.get_json()["detail"]
    assert stream.reads == 0


def test_the_longest_question_escaped_to_the_full_fits_the_limit(client):
    # Every character a surrogate pair written as two \u escapes: the worst a client can send.
    longest = json.dumps({"question": "\U0001f600" * QUESTION_MAX, "email": "a" * 64 + "@x.org"})
    assert len(longest.encode()) <= QUESTION_BODY_LIMIT
    response, _ = _counted(client, longest.encode())
    assert response.status_code == 202, response.get_json()


def test_past_the_limit_the_body_is_not_even_read(app):
    settings = Settings(
        database_url=app.config["SQLALCHEMY_DATABASE_URI"], question_rate_limit="1 per minute"
    )
    limited = build_app(app.config["SQLALCHEMY_DATABASE_URI"], CMS_SETTINGS=settings).test_client()
    body = json.dumps({"question": QUESTION}).encode()
    first, first_stream = _counted(limited, body, REMOTE_ADDR="203.0.113.9")
    second, second_stream = _counted(limited, b"[" * 20_000, REMOTE_ADDR="203.0.113.9")
    assert (first.status_code, second.status_code) == (202, 429)
    assert first_stream.reads > 0
    assert second_stream.reads == 0


def test_the_operation_is_documented_with_its_errors(client):
    operation = client.get("/openapi.json").get_json()["paths"]["/v1/questions"]["post"]

    assert operation["summary"] == "Ask a question"
    assert {"202", "400", "415", "422", "429"} <= set(operation["responses"])
    too_many = operation["responses"]["429"]
    assert "Retry-After" in too_many["headers"]
    assert "application/problem+json" in too_many["content"]


def test_the_same_slug_in_two_locales_names_the_article_of_the_locale_asked(app, client):
    with app.app_context():
        english_id = db.session.scalar(
            select(Article.id).where(Article.slug == ARTICLE, Article.locale == "en")
        )
        namesake = Article(
            id=uuid.uuid4(), locale="es", slug=ARTICLE, title="Homónimo", summary="Mismo slug."
        )
        db.session.add(namesake)
        db.session.flush()
        publish_article(namesake.id)
        db.session.commit()
        namesake_id = namesake.id

    asked = {
        locale: client.post(
            "/v1/questions", json={"question": QUESTION, "article": ARTICLE, "locale": locale}
        )
        for locale in ("en", "es")
    }
    without = client.post("/v1/questions", json={"question": QUESTION, "article": ARTICLE})

    assert all(response.status_code == 202 for response in (*asked.values(), without))
    assert _stored(app, asked["en"].get_json()["id"]).article_id == english_id
    assert _stored(app, asked["es"].get_json()["id"]).article_id == namesake_id
    assert _stored(app, without.get_json()["id"]).article_id == english_id
