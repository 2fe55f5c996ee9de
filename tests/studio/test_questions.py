"""Reader questions in the studio over the test client: answer, reject, promote, refusals."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient

from cms_api.database import db
from cms_api.models import ReaderQuestion
from tests.studio.test_reviews import signed_in
from tests.support.api import SEEDED_ARTICLE


def _asked(client: FlaskClient, text: str) -> str:
    sent = client.post("/v1/questions", json={"question": text, "article": SEEDED_ARTICLE})
    assert sent.status_code == 202, sent.get_json()
    return sent.get_json()["id"]


def _question(app: Flask, question_id: str) -> ReaderQuestion:
    with app.app_context():
        found = db.session.get(ReaderQuestion, uuid.UUID(question_id))
        assert found is not None
        return found


def test_new_questions_are_listed_for_editors_only(app: Flask, client: FlaskClient) -> None:
    question_id = _asked(client, "Can the headache start a week later?")
    signed_in(app, client, "editor")
    html = client.get("/studio/questions").get_data(as_text=True)
    assert "Can the headache start a week later?" in html and f"question-{question_id}" in html
    assert client.get("/studio/questions?status=bogus").status_code == 404


def test_reviewers_may_not_manage_questions(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client, "reviewer")
    assert client.get("/studio/questions").status_code == 403


def test_answering_needs_text_and_a_current_version(app: Flask, client: FlaskClient) -> None:
    question_id = _asked(client, "Is it normal to feel tired after the injection?")
    csrf = signed_in(app, client, "editor")
    url = f"/studio/questions/{question_id}/answer"
    empty = client.post(url, data={"csrf_token": csrf, "version": "1", "answer": "  "})
    assert empty.status_code == 422
    assert "field__error" in empty.get_data(as_text=True)
    stale = client.post(url, data={"csrf_token": csrf, "version": "7", "answer": "Yes."})
    assert stale.status_code == 409
    answered = client.post(url, data={"csrf_token": csrf, "version": "1", "answer": "Often, yes."})
    assert answered.status_code == 303
    question = _question(app, question_id)
    assert question.status == "answered" and question.answer == "Often, yes."


def test_rejecting_is_final(app: Flask, client: FlaskClient) -> None:
    question_id = _asked(client, "Buy cheap pills here, best prices online")
    csrf = signed_in(app, client, "editor")
    url = f"/studio/questions/{question_id}/reject"
    assert client.post(url, data={"csrf_token": csrf, "version": "1"}).status_code == 303
    assert _question(app, question_id).status == "rejected"
    again = client.post(url, data={"csrf_token": csrf, "version": "2"})
    assert again.status_code == 409
    assert "Cannot reject a question that is rejected." in again.get_data(as_text=True)


def test_promoting_without_an_answer_is_refused_then_makes_an_faq(
    app: Flask, client: FlaskClient
) -> None:
    question_id = _asked(client, "How long does a headache after Botox last?")
    csrf = signed_in(app, client, "editor")
    url = f"/studio/questions/{question_id}/promote"
    refused = client.post(url, data={"csrf_token": csrf, "version": "1"})
    assert refused.status_code == 422
    assert "The question has no answer yet" in refused.get_data(as_text=True)
    promoted = client.post(
        url,
        data={"csrf_token": csrf, "version": "1", "faq_answer": "Usually a few days."},
    )
    assert promoted.status_code == 303
    question = _question(app, question_id)
    assert question.status == "promoted" and question.faq_id is not None
