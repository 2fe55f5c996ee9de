"""GET /v1/admin/unanswered and dismissing: questions instant answers declined, as work."""

from __future__ import annotations

from tests.support.api import NO_ID, PROBLEM, bearer


def _ask(client, q: str, times: int = 1) -> None:
    for _ in range(times):
        response = client.get("/v1/answers", query_string={"q": q})
        assert response.get_json()["answered"] is False


def test_most_asked_first_with_counts_and_dates_paginated(client, editor):
    _ask(client, "best pizza in town", 3)
    _ask(client, "how to bake sourdough bread", 1)
    _ask(client, "cheap flights to lisbon", 2)

    first = client.get("/v1/admin/unanswered?limit=2", headers=bearer(editor))
    assert first.status_code == 200
    page = first.get_json()
    assert [item["count"] for item in page["items"]] == [3, 2]
    assert page["items"][0]["normalized"] == "best pizza in town"
    assert page["items"][0]["first_asked_at"] <= page["items"][0]["last_asked_at"]
    cursor = page["page"]["next_cursor"]
    rest = client.get(
        f"/v1/admin/unanswered?limit=2&cursor={cursor}", headers=bearer(editor)
    ).get_json()
    assert [item["normalized"] for item in rest["items"]] == ["how to bake sourdough bread"]


def test_dismissed_questions_leave_the_list(client, editor):
    _ask(client, "best pizza in town")
    item = client.get("/v1/admin/unanswered", headers=bearer(editor)).get_json()["items"][0]

    dismissed = client.post(f"/v1/admin/unanswered/{item['id']}/dismiss", headers=bearer(editor))
    assert dismissed.status_code == 200 and dismissed.get_json()["dismissed_at"]
    again = client.post(f"/v1/admin/unanswered/{item['id']}/dismiss", headers=bearer(editor))
    assert again.get_json()["dismissed_at"] == dismissed.get_json()["dismissed_at"]

    items = client.get("/v1/admin/unanswered", headers=bearer(editor)).get_json()["items"]
    assert item["id"] not in {i["id"] for i in items}


def test_dismissing_an_unknown_question_is_404(client, editor):
    response = client.post(f"/v1/admin/unanswered/{NO_ID}/dismiss", headers=bearer(editor))
    assert response.status_code == 404 and response.content_type.startswith(PROBLEM)


def test_viewers_read_but_cannot_dismiss(client, make_token):
    viewer = make_token("viewer")
    _ask(client, "best pizza in town")
    item = client.get("/v1/admin/unanswered", headers=bearer(viewer)).get_json()["items"][0]
    response = client.post(f"/v1/admin/unanswered/{item['id']}/dismiss", headers=bearer(viewer))
    assert response.status_code == 403
