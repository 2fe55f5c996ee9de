"""Editors work through readers' questions: list, answer, reject, promote into an FAQ."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from flask import Flask

from cms_api.database import db
from cms_api.services.editorial import questions
from tests.conftest import bearer

URL = "/v1/admin/questions"
ARTICLE = "headache-after-botox"
PROBLEM = "application/problem+json"


@pytest.fixture
def ask(app: Flask) -> Callable[..., str]:
    """Store a reader's question (as POST /v1/questions would) and return its id."""

    def make(text: str = "Can a headache after Botox start a week later?", **target: str) -> str:
        with app.app_context():
            question = questions.submit({"question": text, "email": "reader@example.org", **target})
            db.session.commit()
            return str(question.id)

    return make


def test_editors_list_the_queue_newest_first_with_keyset_pages(client, make_token, ask):
    editor, viewer = make_token("editor"), make_token("viewer")
    ids = {ask(f"Question number {n} about Botox?", article=ARTICLE) for n in range(3)}

    first = client.get(f"{URL}?status=new&limit=2", headers=bearer(editor))
    assert first.status_code == 200, first.get_json()
    assert first.headers["Cache-Control"] == "no-store"
    page = first.get_json()
    assert page["page"]["total"] == 3
    assert len(page["items"]) == 2
    assert page["page"]["next_cursor"]
    second = client.get(
        f"{URL}?status=new&limit=2&cursor={page['page']['next_cursor']}", headers=bearer(editor)
    ).get_json()
    assert second["page"]["next_cursor"] is None
    listed = page["items"] + second["items"]
    assert {item["id"] for item in listed} == ids
    assert all(item["article"] == ARTICLE for item in listed)
    assert all(item["email"] == "reader@example.org" for item in listed)

    # A viewer (a preview frontend) reads the queue but not the readers' addresses.
    as_viewer = client.get(URL, headers=bearer(viewer)).get_json()["items"]
    assert {item["email"] for item in as_viewer} == {None}

    answered = client.get(f"{URL}?status=answered", headers=bearer(editor)).get_json()
    assert answered["items"] == []
    assert answered["page"]["total"] == 0


@pytest.mark.parametrize(
    "query", ["status=pending", "limit=0", "cursor=not-a-cursor", "sort=created_at"]
)
def test_bad_list_parameters_are_400_problems(client, make_token, query):
    response = client.get(f"{URL}?{query}", headers=bearer(make_token("editor")))

    assert response.status_code == 400
    assert response.content_type == PROBLEM


def test_an_editor_answers_with_an_audit_entry_and_optional_if_match(client, make_token, ask):
    editor = make_token("editor")
    question_id = ask(topic="headache")
    read = client.get(f"{URL}/{question_id}", headers=bearer(editor))
    assert read.status_code == 200
    assert read.get_json()["topic"] == "headache"
    etag = read.headers["ETag"]

    answered = client.post(
        f"{URL}/{question_id}/answer",
        json={"answer": "  Rarely; most start within two days.  "},
        headers=bearer(editor, **{"If-Match": etag}),
    )
    assert answered.status_code == 200, answered.get_json()
    body = answered.get_json()
    assert (body["status"], body["answer"]) == ("answered", "Rarely; most start within two days.")
    assert body["handled_at"] is not None
    assert answered.headers["ETag"] != etag

    # An If-Match from before the answer is stale; without one the write goes through.
    stale = client.post(
        f"{URL}/{question_id}/answer",
        json={"answer": "Overwritten?"},
        headers=bearer(editor, **{"If-Match": etag}),
    )
    assert stale.status_code == 412
    assert stale.get_json()["current_etag"] == answered.headers["ETag"]
    again = client.post(
        f"{URL}/{question_id}/answer", json={"answer": "Rarely."}, headers=bearer(editor)
    )
    assert again.status_code == 200
    assert again.get_json()["answer"] == "Rarely."

    audit = client.get(
        f"/v1/admin/audit?target_type=question&target_id={question_id}", headers=bearer(editor)
    ).get_json()["items"]
    assert [event["action"] for event in audit] == ["question.answer", "question.answer"]
    assert audit[-1]["before"] == {"status": "new", "answer": None}
    assert audit[-1]["after"]["status"] == "answered"


def test_answers_are_validated(client, make_token, ask):
    editor, question_id = make_token("editor"), ask()
    for body in ({}, {"answer": "   "}, {"answer": "Fine.", "extra": 1}):
        response = client.post(f"{URL}/{question_id}/answer", json=body, headers=bearer(editor))
        assert response.status_code == 422, body
        assert response.content_type == PROBLEM


def test_a_rejected_question_is_final(client, make_token, ask):
    editor, question_id = make_token("editor"), ask()

    rejected = client.post(f"{URL}/{question_id}/reject", headers=bearer(editor))
    assert rejected.status_code == 200, rejected.get_json()
    assert rejected.get_json()["status"] == "rejected"

    for action, body in (("answer", {"answer": "Late."}), ("promote", {}), ("reject", None)):
        response = client.post(f"{URL}/{question_id}/{action}", json=body, headers=bearer(editor))
        assert response.status_code == 409, action
        problem = response.get_json()
        assert problem["type"] == "/problems/illegal-transition"
        assert problem["allowed_transitions"] == []


def _review_and_publish(client, make_token, editor: str, slug: str) -> None:
    found = client.get(f"/v1/admin/articles?q={slug}", headers=bearer(editor)).get_json()
    article = next(item for item in found["items"] if item["slug"] == slug)
    url = f"/v1/admin/articles/{article['id']}"
    if article["status"] == "draft":
        assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200
    approved = client.post(
        f"{url}/approve", json={"kind": "clinical"}, headers=bearer(make_token("reviewer"))
    )
    assert approved.status_code == 200, approved.get_json()
    assert client.post(f"{url}/publish", json={}, headers=bearer(editor)).status_code == 200


def test_promoting_puts_an_faq_in_the_articles_next_revision(client, make_token, ask):
    editor = make_token("editor")
    before = client.get(f"/v1/articles/{ARTICLE}/faqs").get_json()["items"]
    question_id = ask(article=ARTICLE)
    client.post(
        f"{URL}/{question_id}/answer",
        json={"answer": "Rarely. **See a doctor** if it is severe."},
        headers=bearer(editor),
    )

    promoted = client.post(
        f"{URL}/{question_id}/promote",
        json={"question": "Can a headache start a week after Botox?"},
        headers=bearer(editor),
    )

    assert promoted.status_code == 200, promoted.get_json()
    body = promoted.get_json()
    assert body["status"] == "promoted"
    faq_id = body["faq_id"]
    # Readers keep the reviewed FAQs until the article's new revision is reviewed.
    assert client.get(f"/v1/articles/{ARTICLE}/faqs").get_json()["items"] == before
    assert client.get(f"/v1/faqs/{faq_id}").status_code == 404
    faq = client.get(f"/v1/admin/faqs/{faq_id}", headers=bearer(editor)).get_json()
    assert faq["status"] == "published" and faq["awaiting_review"] is True
    _review_and_publish(client, make_token, editor, ARTICLE)
    faqs = client.get(f"/v1/articles/{ARTICLE}/faqs").get_json()["items"]
    assert [faq["id"] for faq in faqs[:-1]] == [faq["id"] for faq in before]
    newest = faqs[-1]  # appended after the editors' own FAQs
    assert newest["id"] == faq_id
    assert newest["question"] == "Can a headache start a week after Botox?"
    assert "<strong>See a doctor</strong>" in newest["answer_html"]
    assert newest["position"] > max(faq["position"] for faq in before)
    one = client.get(f"/v1/faqs/{faq_id}")
    assert one.status_code == 200
    assert one.get_json()["article"]["slug"] == ARTICLE
    article = client.get(f"/v1/articles/{ARTICLE}").get_json()
    assert faq_id in {faq["id"] for faq in article["faqs"]}

    audit = client.get(
        f"/v1/admin/audit?target_type=faq&target_id={faq_id}", headers=bearer(editor)
    ).get_json()["items"]
    assert [event["action"] for event in audit] == ["faq.create"]
    assert audit[0]["after"]["from_question"] == question_id


def test_promoting_a_topic_question_names_the_article_and_gives_the_answer(client, make_token, ask):
    editor, question_id = make_token("editor"), ask(topic="headache")
    promote = f"{URL}/{question_id}/promote"

    missing_answer = client.post(promote, json={"article": ARTICLE}, headers=bearer(editor))
    unknown = client.post(
        promote, json={"article_id": str(uuid.uuid4()), "answer": "Yes."}, headers=bearer(editor)
    )
    both = client.post(
        promote,
        json={"article": ARTICLE, "article_id": str(uuid.uuid4()), "answer": "Yes."},
        headers=bearer(editor),
    )
    article_and_topic = client.post(
        promote,
        json={"article": ARTICLE, "topic": "headache", "answer": "Yes."},
        headers=bearer(editor),
    )
    for response, field in (
        (article_and_topic, "topic"),
        (missing_answer, "answer"),
        (unknown, "article_id"),
        (both, "article"),
    ):
        assert response.status_code == 422, response.get_json()
        assert field in response.get_json()["errors"]["json"]

    promoted = client.post(
        promote, json={"article": ARTICLE, "answer": "Yes, occasionally."}, headers=bearer(editor)
    )
    assert promoted.status_code == 200, promoted.get_json()
    faq = client.get(
        f"/v1/admin/faqs/{promoted.get_json()['faq_id']}", headers=bearer(editor)
    ).get_json()
    assert faq["article"] == ARTICLE and faq["answer"] == "Yes, occasionally."
    assert faq["awaiting_review"] is True


def test_a_long_question_must_be_reworded_to_become_an_faq(client, make_token, ask):
    editor = make_token("editor")
    question_id = ask("Long question? " + "Details. " * 60, article=ARTICLE)
    promote = f"{URL}/{question_id}/promote"

    too_long = client.post(promote, json={"answer": "Short answer."}, headers=bearer(editor))
    assert too_long.status_code == 422
    assert "question" in too_long.get_json()["errors"]["json"]
    reworded = client.post(
        promote,
        json={"question": "What if the headache lasts?", "answer": "Short answer."},
        headers=bearer(editor),
    )
    assert reworded.status_code == 200, reworded.get_json()


def test_roles_and_tokens(client, make_token, ask):
    question_id = ask()
    viewer = make_token("viewer")

    assert client.get(f"{URL}/{question_id}", headers=bearer(viewer)).status_code == 200
    for action, body in (("answer", {"answer": "No."}), ("reject", None), ("promote", {})):
        forbidden = client.post(f"{URL}/{question_id}/{action}", json=body, headers=bearer(viewer))
        assert forbidden.status_code == 403, action
        assert forbidden.get_json()["type"] == "/problems/forbidden"
    anonymous = client.get(URL)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.post(f"{URL}/{question_id}/reject").status_code == 401
    missing = client.get(f"{URL}/{uuid.uuid4()}", headers=bearer(viewer))
    assert missing.status_code == 404
    assert missing.content_type == PROBLEM
