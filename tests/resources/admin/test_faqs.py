"""Editors write FAQs on articles and topics; delivery shows the published ones, sanitized."""

from __future__ import annotations

from html.parser import HTMLParser

from tests.conftest import bearer

HOSTILE_ANSWER = (
    "Rest helps. <script>alert(1)</script> [more](javascript:alert(1)) <img src=x onerror=alert(1)>"
)


def _article_id(client, token: str, slug: str) -> str:
    found = client.get(f"/v1/admin/articles?q={slug}", headers=bearer(token)).get_json()
    return next(item["id"] for item in found["items"] if item["slug"] == slug)


def _audit_actions(client, token: str, target_id: str) -> list[str]:
    events = client.get(
        f"/v1/admin/audit?target_id={target_id}&limit=100", headers=bearer(token)
    ).get_json()["items"]
    return [event["action"] for event in reversed(events)]


def _approve(client, make_token, editor: str, url: str) -> dict:
    assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200
    approved = client.post(f"{url}/approve", headers=bearer(make_token("reviewer")))
    assert approved.status_code == 200, approved.get_json()
    return approved


def _review_and_publish(client, make_token, editor: str, article_id: str) -> None:
    url = f"/v1/admin/articles/{article_id}"
    if client.get(url, headers=bearer(editor)).get_json()["status"] == "draft":
        assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200
    approved = client.post(
        f"{url}/approve", json={"kind": "clinical"}, headers=bearer(make_token("reviewer"))
    )
    assert approved.status_code == 200, approved.get_json()
    assert client.post(f"{url}/publish", json={}, headers=bearer(editor)).status_code == 200


def test_topic_faq_create_edit_trash_restore(client, make_token):
    editor = make_token("editor")
    created = client.post(
        "/v1/admin/faqs",
        json={
            "topic": "headache",
            "question": "Does sleep help a headache?",
            "answer": HOSTILE_ANSWER,
        },
        headers=bearer(editor),
    )
    assert created.status_code == 201, created.get_json()
    faq = created.get_json()
    url = created.headers["Location"]
    assert url == f"/v1/admin/faqs/{faq['id']}"
    assert created.headers["ETag"]
    assert created.headers["Cache-Control"] == "no-store"
    assert faq["topic"] == "headache"
    assert faq["article_id"] is None
    assert faq["answer"] == HOSTILE_ANSWER, "the admin API returns the Markdown source"
    assert client.get(f"/v1/faqs/{faq['id']}").status_code == 404, "not reviewed yet"
    _approve(client, make_token, editor, url)

    public = client.get(f"/v1/faqs/{faq['id']}")
    assert public.status_code == 200
    html = public.get_json()["answer_html"]
    tags = _tags(html)
    assert {name for name, _ in tags} == {"p"}, "no script, no img: raw HTML is shown as text"
    assert all(attributes == [] for _, attributes in tags), "no onerror, no javascript: href"
    assert "&lt;script&gt;" in html
    topic_faqs = client.get("/v1/topics/headache").get_json()["faqs"]
    assert faq["id"] in {item["id"] for item in topic_faqs}

    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    assert client.patch(url, json={"position": 3}, headers=bearer(editor)).status_code == 428
    edited = client.patch(
        url,
        json={"question": "Can sleep ease a headache?"},
        headers=bearer(editor, **{"If-Match": etag}),
    )
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["version"] > faq["version"]
    stale = client.patch(url, json={"position": 3}, headers=bearer(editor, **{"If-Match": etag}))
    assert stale.status_code == 412
    assert stale.get_json()["current_etag"] == edited.headers["ETag"]
    assert client.get(f"/v1/faqs/{faq['id']}").get_json()["question"] == (
        "Does sleep help a headache?"
    ), "readers keep the approved words until the new ones are approved"
    approved = _approve(client, make_token, editor, url)
    assert client.get(f"/v1/faqs/{faq['id']}").get_json()["question"] == (
        "Can sleep ease a headache?"
    )
    edited = approved

    assert client.delete(url, headers=bearer(editor)).status_code == 428
    trashed = client.delete(url, headers=bearer(editor, **{"If-Match": edited.headers["ETag"]}))
    assert trashed.status_code == 204
    assert client.get(f"/v1/faqs/{faq['id']}").status_code == 404
    topic_faqs = client.get("/v1/topics/headache").get_json()["faqs"]
    assert faq["id"] not in {item["id"] for item in topic_faqs}
    trash = client.get("/v1/admin/faqs?trashed=true", headers=bearer(editor)).get_json()
    assert faq["id"] in {item["id"] for item in trash["items"]}
    assert client.get(url, headers=bearer(editor)).get_json()["deleted_at"] is not None
    assert (
        client.patch(url, json={"position": 1}, headers=bearer(editor, **{"If-Match": "*"}))
    ).status_code == 404, "a trashed FAQ is restored before it is edited"

    restored = client.post(f"{url}/restore", headers=bearer(editor))
    assert restored.status_code == 200
    assert restored.get_json()["deleted_at"] is None
    assert client.get(f"/v1/faqs/{faq['id']}").status_code == 200
    assert client.post(f"{url}/restore", headers=bearer(editor)).status_code == 409

    assert _audit_actions(client, editor, faq["id"]) == [
        "faq.create",
        "faq.submit",
        "faq.approve",
        "faq.update",
        "faq.submit",
        "faq.approve",
        "faq.trash",
        "faq.restore",
    ]


def test_article_faq_shows_once_the_article_is_reviewed_and_moves_to_a_topic(client, make_token):
    editor = make_token("editor")
    article_id = _article_id(client, editor, "tmj-headache")
    created = client.post(
        "/v1/admin/faqs",
        json={
            "article_id": article_id,
            "question": "Can a night guard help?",
            "answer": "Often, for people who **grind** their teeth.",
            "position": 99,
        },
        headers=bearer(editor),
    )
    assert created.status_code == 201, created.get_json()
    faq = created.get_json()
    assert faq["status"] == "draft"
    assert faq["article"] == "tmj-headache"
    questions = {
        item["question"] for item in client.get("/v1/articles/tmj-headache/faqs").json["items"]
    }
    assert "Can a night guard help?" not in questions, "drafts stay private"

    before = client.get("/v1/articles/tmj-headache").get_json()
    published = client.patch(
        created.headers["Location"],
        json={"status": "published"},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    assert published.status_code == 200
    assert published.get_json()["awaiting_review"] is True
    assert client.get("/v1/articles/tmj-headache").get_json() == before, "awaits review"
    _review_and_publish(client, make_token, editor, article_id)
    published = client.get(created.headers["Location"], headers=bearer(editor))
    assert published.get_json()["awaiting_review"] is False
    article = client.get("/v1/articles/tmj-headache").get_json()
    assert article["faqs"][-1]["question"] == "Can a night guard help?"
    assert "<strong>grind</strong>" in article["faqs"][-1]["answer_html"]

    moved = client.patch(
        created.headers["Location"],
        json={"topic": "temporomandibular-disorders"},
        headers=bearer(editor, **{"If-Match": published.headers["ETag"]}),
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["article_id"] is None
    assert moved.get_json()["topic"] == "temporomandibular-disorders"
    assert moved.get_json()["status"] == "draft", "a topic FAQ needs its own review"
    article = client.get("/v1/articles/tmj-headache").get_json()
    assert faq["id"] in {item["id"] for item in article["faqs"]}, "the live revision has it"
    topic = client.get("/v1/topics/temporomandibular-disorders").get_json()
    assert faq["id"] not in {item["id"] for item in topic["faqs"]}
    _approve(client, make_token, editor, created.headers["Location"])
    _review_and_publish(client, make_token, editor, article_id)
    article = client.get("/v1/articles/tmj-headache").get_json()
    assert faq["id"] not in {item["id"] for item in article["faqs"]}
    topic = client.get("/v1/topics/temporomandibular-disorders").get_json()
    assert faq["id"] in {item["id"] for item in topic["faqs"]}


def test_a_faq_belongs_to_exactly_one_known_owner(client, make_token):
    editor = make_token("editor")
    article_id = _article_id(client, editor, "tmj-headache")
    base = {"question": "Q?", "answer": "A."}
    for body, field in (
        (base, "article_id"),
        ({**base, "article_id": article_id, "topic": "headache"}, "topic"),
        ({**base, "topic": "no-such-topic"}, "topic"),
        ({**base, "article_id": "00000000-0000-0000-0000-000000000000"}, "article_id"),
        ({**base, "topic": "headache", "version": 7}, "version"),
        ({**base, "topic": "headache", "status": "archived"}, "status"),
    ):
        response = client.post("/v1/admin/faqs", json=body, headers=bearer(editor))
        assert response.status_code == 422, body
        assert response.content_type == "application/problem+json"
        assert field in response.get_json()["errors"]["json"], body


def test_faq_roles_and_list_paging(client, make_token):
    reviewer, viewer = make_token("reviewer"), make_token("viewer")
    body = {"topic": "migraine", "question": "Q?", "answer": "A."}

    assert client.post("/v1/admin/faqs", json=body).status_code == 401
    assert client.post("/v1/admin/faqs", json=body, headers=bearer(viewer)).status_code == 403
    assert client.post("/v1/admin/faqs", json=body, headers=bearer(reviewer)).status_code == 403
    assert client.get("/v1/admin/faqs").status_code == 401

    first = client.get("/v1/admin/faqs?limit=1", headers=bearer(viewer))
    assert first.status_code == 200
    page = first.get_json()["page"]
    assert page["total"] > 1
    assert 'rel="next"' in first.headers["Link"]
    second = client.get(
        f"/v1/admin/faqs?limit=1&cursor={page['next_cursor']}", headers=bearer(viewer)
    ).get_json()
    assert second["items"][0]["id"] != first.get_json()["items"][0]["id"]
    assert (
        client.get(f"/v1/admin/faqs/{second['items'][0]['id']}", headers=bearer(viewer)).status_code
        == 200
    )
    assert client.get("/v1/admin/faqs?cursor=nonsense", headers=bearer(viewer)).status_code == 400
    assert client.get(
        "/v1/admin/faqs?status=published&topic=headache", headers=bearer(viewer)
    ).json["items"]


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collector().feed(html)
    return found
