"""Nothing reaches a reviewed article's readers unreviewed: FAQs, promoted questions, anchors."""

from __future__ import annotations

from sqlalchemy import func, select

from cms_api.database import db
from cms_api.models import ChangeEvent
from tests.support.api import bearer

ARTICLE = "tmj-headache"


def _article(client, token: str, slug: str = ARTICLE) -> dict:
    found = client.get(f"/v1/admin/articles?q={slug}", headers=bearer(token)).get_json()
    article_id = next(item["id"] for item in found["items"] if item["slug"] == slug)
    return client.get(f"/v1/admin/articles/{article_id}", headers=bearer(token)).get_json()


def _public(client, slug: str = ARTICLE) -> dict:
    response = client.get(f"/v1/articles/{slug}")
    assert response.status_code == 200
    return {
        "etag": response.headers["ETag"],
        "document": response.get_json(),
        "faqs": client.get(f"/v1/articles/{slug}/faqs").get_json(),
        "jsonld": client.get(f"/v1/articles/{slug}/jsonld").get_data(as_text=True),
    }


def _feed_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ChangeEvent))


def _search(client, words: str) -> list[str]:
    found = client.get("/v1/search", query_string={"q": words}).get_json()
    return [item.get("title") or item.get("question") for item in found["items"]]


def _review_and_publish(client, make_token, editor: str, slug: str = ARTICLE) -> None:
    article = _article(client, editor, slug)
    base = f"/v1/admin/articles/{article['id']}"
    if article["status"] == "draft":
        assert client.post(f"{base}/submit", headers=bearer(editor)).status_code == 200
    reviewer = make_token("reviewer")
    approved = client.post(f"{base}/approve", json={"kind": "clinical"}, headers=bearer(reviewer))
    assert approved.status_code == 200, approved.get_json()
    published = client.post(f"{base}/publish", json={}, headers=bearer(editor))
    assert published.status_code == 200, published.get_json()


def _write(client, method: str, url: str, token: str, **body) -> dict:
    etag = client.get(url, headers=bearer(token)).headers["ETag"]
    response = client.open(
        url, method=method, json=body, headers=bearer(token, **{"If-Match": etag})
    )
    assert response.status_code in (200, 204), response.get_json()
    return response.get_json() if response.status_code == 200 else {}


def test_editing_a_published_articles_faq_waits_for_the_articles_review(
    app, client, editor, make_token
):
    before, feed = _public(client), _feed_count(app)
    faq = before["document"]["faqs"][0]
    revision = _article(client, editor)["revision_number"]

    edited = _write(
        client, "PATCH", f"/v1/admin/faqs/{faq['id']}", editor, answer="Quixotically unreviewed."
    )

    assert edited["awaiting_review"] is True
    assert edited["article_revision"] == revision + 1
    assert "approved and published" in edited["review_note"]
    article = _article(client, editor)
    assert article["revision_number"] == revision + 1
    assert article["status"] == "in_review", "a reviewed article goes back to review"
    assert _public(client) == before, "article, its FAQs and its JSON-LD are unchanged"
    assert client.get(f"/v1/faqs/{faq['id']}").get_json()["answer_html"] == faq["answer_html"]
    assert _search(client, "quixotically") == []
    assert _feed_count(app) == feed, "nothing was announced to readers"

    _review_and_publish(client, make_token, editor)

    shown = _public(client)["document"]["faqs"][0]
    assert "Quixotically unreviewed." in shown["answer_html"]
    assert "Quixotically" in client.get(f"/v1/faqs/{faq['id']}").get_json()["answer_html"]
    assert "Quixotically" in _public(client)["jsonld"]
    faq_now = client.get(f"/v1/admin/faqs/{faq['id']}", headers=bearer(editor)).get_json()
    assert faq_now["awaiting_review"] is False


def test_new_reordered_and_trashed_article_faqs_wait_for_the_articles_review(
    client, editor, make_token
):
    before = _public(client)
    ids = [item["id"] for item in before["document"]["faqs"]]
    article_id = _article(client, editor)["id"]
    created = client.post(
        "/v1/admin/faqs",
        json={
            "article_id": article_id,
            "question": "Is a night guard worth it?",
            "answer": "Often.",
            "status": "published",
            "position": 99,
        },
        headers=bearer(editor),
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["awaiting_review"] is True
    _write(client, "DELETE", f"/v1/admin/faqs/{ids[0]}", editor)
    _write(client, "PATCH", f"/v1/admin/faqs/{ids[1]}", editor, position=50)

    assert _public(client) == before
    assert client.get(f"/v1/faqs/{ids[0]}").status_code == 200
    assert client.get(f"/v1/faqs/{created.get_json()['id']}").status_code == 404

    _review_and_publish(client, make_token, editor)

    shown = [item["id"] for item in _public(client)["document"]["faqs"]]
    assert shown == [*ids[2:], ids[1], created.get_json()["id"]]
    assert client.get(f"/v1/faqs/{ids[0]}").status_code == 404


def test_a_promoted_reader_question_waits_for_the_articles_review(app, client, editor, make_token):
    asked = client.post(
        "/v1/questions", json={"question": "Does chewing gum make it worse?", "article": ARTICLE}
    )
    assert asked.status_code in (201, 202), asked.get_json()
    queue = client.get("/v1/admin/questions?status=new", headers=bearer(editor)).get_json()
    question = next(q for q in queue["items"] if q["question"] == "Does chewing gum make it worse?")
    before, feed = _public(client), _feed_count(app)

    promoted = client.post(
        f"/v1/admin/questions/{question['id']}/promote",
        json={"answer": "It can: give the jaw a rest."},
        headers=bearer(editor),
    )

    assert promoted.status_code == 200, promoted.get_json()
    faq = client.get(f"/v1/admin/faqs/{promoted.get_json()['faq_id']}", headers=bearer(editor))
    assert faq.get_json()["awaiting_review"] is True
    assert _public(client) == before
    assert _feed_count(app) == feed
    _review_and_publish(client, make_token, editor)
    assert _public(client)["document"]["faqs"][-1]["question"] == "Does chewing gum make it worse?"


def test_a_reader_question_promoted_onto_a_topic_is_a_draft_awaiting_review(client, editor):
    asked = client.post(
        "/v1/questions", json={"question": "Is a jaw click a worry?", "topic": "headache"}
    )
    assert asked.status_code in (201, 202), asked.get_json()
    queue = client.get("/v1/admin/questions?status=new", headers=bearer(editor)).get_json()
    question = next(q for q in queue["items"] if q["question"] == "Is a jaw click a worry?")
    before = client.get("/v1/topics/temporomandibular-disorders").get_json()

    promoted = client.post(
        f"/v1/admin/questions/{question['id']}/promote",
        json={"topic": "temporomandibular-disorders", "answer": "Rarely on its own."},
        headers=bearer(editor),
    )

    assert promoted.status_code == 200, promoted.get_json()
    faq = client.get(f"/v1/admin/faqs/{promoted.get_json()['faq_id']}", headers=bearer(editor))
    assert faq.get_json()["status"] == "draft"
    assert faq.get_json()["topic"] == "temporomandibular-disorders"
    assert faq.get_json()["awaiting_review"] is True
    assert client.get("/v1/topics/temporomandibular-disorders").get_json() == before
    assert client.get(f"/v1/faqs/{faq.get_json()['id']}").status_code == 404


def _person_with(client, admin: str, slug: str, credentials: list[dict]) -> None:
    created = client.post(
        "/v1/admin/people",
        json={"slug": slug, "name": slug.replace("-", " ").title(), "credentials": credentials},
        headers=bearer(admin),
    )
    assert created.status_code == 201, created.get_json()


def test_a_topic_faq_is_reviewed_on_its_own(client, editor, make_token, admin_token):
    created = client.post(
        "/v1/admin/faqs",
        json={"topic": "headache", "question": "Does water help?", "answer": "Often a little."},
        headers=bearer(editor),
    )
    assert created.status_code == 201, created.get_json()
    faq = created.get_json()
    url = f"/v1/admin/faqs/{faq['id']}"
    assert faq["status"] == "draft" and faq["live"] is None and faq["awaiting_review"] is True
    assert client.get(f"/v1/faqs/{faq['id']}").status_code == 404

    refused = client.patch(
        url,
        json={"status": "published"},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    assert refused.status_code == 422
    assert "status" in refused.get_json()["errors"]["json"]
    assert client.post(f"{url}/approve", headers=bearer(make_token("reviewer"))).status_code == 409
    assert client.post(f"{url}/submit", headers=bearer(make_token("reviewer"))).status_code == 403
    submitted = client.post(f"{url}/submit", headers=bearer(editor))
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "in_review"
    assert client.post(f"{url}/approve", headers=bearer(editor)).status_code == 403

    # Reviewers who cannot sign off: an expired credential only, or a person in the trash.
    _person_with(
        client,
        admin_token,
        "expired-reviewer",
        [
            {
                "kind": "license",
                "name": "Old Licence",
                "valid_from": "2001-01-01",
                "valid_until": "2011-01-01",
            }
        ],
    )
    expired = client.post(
        f"{url}/approve", headers=bearer(make_token("reviewer", person_slug="expired-reviewer"))
    )
    assert expired.status_code == 409
    assert expired.content_type == "application/problem+json"
    assert "credential" in expired.get_json()["reasons"][0]
    _person_with(client, admin_token, "trashed-reviewer", [{"kind": "degree", "name": "MD"}])
    trashed_token = make_token("reviewer", person_slug="trashed-reviewer")
    _write(
        client,
        "DELETE",
        "/v1/admin/people/"
        + next(
            p["id"]
            for p in client.get(
                "/v1/admin/people?q=trashed-reviewer", headers=bearer(admin_token)
            ).get_json()["items"]
        ),
        admin_token,
    )
    trashed = client.post(f"{url}/approve", headers=bearer(trashed_token))
    assert trashed.status_code == 409
    assert "trash" in trashed.get_json()["reasons"][0]
    assert client.get(f"/v1/faqs/{faq['id']}").status_code == 404

    approved = client.post(
        f"{url}/approve", json={"notes": "Fine."}, headers=bearer(make_token("reviewer"))
    )
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "published"
    assert approved.get_json()["reviewed_by"] == "tobias-lindqvist"
    public = client.get(f"/v1/faqs/{faq['id']}").get_json()
    assert public["question"] == "Does water help?"
    assert public["reviewed_by"]["slug"] == "tobias-lindqvist"
    assert public["reviewed_on"] == approved.get_json()["reviewed_on"]
    assert faq["id"] in {
        item["id"] for item in client.get("/v1/topics/headache").get_json()["faqs"]
    }

    edited = _write(client, "PATCH", url, editor, answer="Drink some water.")
    assert edited["status"] == "draft" and edited["awaiting_review"] is True
    assert edited["live"] == {"question": "Does water help?", "answer": "Often a little."}
    assert "Often a little." in client.get(f"/v1/faqs/{faq['id']}").get_json()["answer_html"]
    client.post(f"{url}/submit", headers=bearer(editor))
    sent_back = client.post(
        f"{url}/request-changes",
        json={"notes": "Say how much."},
        headers=bearer(make_token("reviewer")),
    )
    assert sent_back.status_code == 200 and sent_back.get_json()["status"] == "draft"
    assert "Often a little." in client.get(f"/v1/faqs/{faq['id']}").get_json()["answer_html"]


def test_article_faqs_are_reviewed_with_their_article(client, editor):
    faq = _public(client)["document"]["faqs"][0]
    answer = client.post(f"/v1/admin/faqs/{faq['id']}/submit", headers=bearer(editor))
    assert answer.status_code == 409
    assert "article" in answer.get_json()["detail"]
    refused = client.patch(
        f"/v1/admin/faqs/{faq['id']}",
        json={"status": "in_review"},
        headers=bearer(editor, **{"If-Match": "*"}),
    )
    assert refused.status_code == 422


def test_a_link_anchor_text_waits_for_the_source_articles_review(client, editor, make_token):
    source = _article(client, editor)
    links = client.get(
        f"/v1/admin/articles/{source['id']}/links", headers=bearer(editor)
    ).get_json()
    link = links["items"][0]
    before = _public(client)
    shown = {item["article"]["slug"]: item for item in before["document"]["related"]}
    assert shown[link["target"]]["anchor_text"] == link["anchor_text"]

    _write(client, "PATCH", f"/v1/admin/links/{link['id']}", editor, anchor_text="Cures everything")
    target = _article(client, editor, "lip-filler-swelling")
    added = client.post(
        f"/v1/admin/articles/{source['id']}/links",
        json={
            "target_id": target["id"],
            "relation": "see_also",
            "weight": 0.4,
            "anchor_text": "Unreviewed words",
        },
        headers=bearer(editor),
    )
    assert added.status_code == 201, added.get_json()

    related = {item["article"]["slug"]: item for item in _public(client)["document"]["related"]}
    assert related[link["target"]]["anchor_text"] == link["anchor_text"], "the reviewed anchor"
    new = related["lip-filler-swelling"]
    assert new["anchor_text"] == new["article"]["title"], "the target's own title, not new words"
    assert "Unreviewed" not in _public(client)["jsonld"]
    assert _article(client, editor)["status"] == "in_review"

    _review_and_publish(client, make_token, editor)
    related = {item["article"]["slug"]: item for item in _public(client)["document"]["related"]}
    assert related[link["target"]]["anchor_text"] == "Cures everything"
    assert related["lip-filler-swelling"]["anchor_text"] == "Unreviewed words"


def test_a_topic_faq_moved_onto_an_article_leaves_readers_until_the_article_is_reviewed(
    client, editor, make_token
):
    created = client.post(
        "/v1/admin/faqs",
        json={"topic": "headache", "question": "Is a cold compress good?", "answer": "Yes."},
        headers=bearer(editor),
    ).get_json()
    url = f"/v1/admin/faqs/{created['id']}"
    client.post(f"{url}/submit", headers=bearer(editor))
    client.post(f"{url}/approve", headers=bearer(make_token("reviewer")))
    assert client.get(f"/v1/faqs/{created['id']}").get_json()["topic"]["slug"] == "headache"

    moved = _write(client, "PATCH", url, editor, article_id=_article(client, editor)["id"])

    assert moved["status"] == "published" and moved["live"] is None
    assert moved["awaiting_review"] is True
    assert client.get(f"/v1/faqs/{created['id']}").status_code == 404
    topic_faqs = client.get("/v1/topics/headache").get_json()["faqs"]
    assert created["id"] not in {item["id"] for item in topic_faqs}
    _review_and_publish(client, make_token, editor)
    shown = client.get(f"/v1/faqs/{created['id']}").get_json()
    assert shown["article"]["slug"] == ARTICLE and shown["topic"] is None


def test_an_faq_edit_cancels_the_articles_schedule_and_says_so(client, editor, make_token):
    faqs = _public(client)["document"]["faqs"]
    _write(client, "PATCH", f"/v1/admin/faqs/{faqs[0]['id']}", editor, answer="First edit.")
    article = _article(client, editor)
    base = f"/v1/admin/articles/{article['id']}"
    reviewer = make_token("reviewer")
    assert (
        client.post(f"{base}/approve", json={"kind": "clinical"}, headers=bearer(reviewer))
    ).status_code == 200
    later = "2099-01-01T00:00:00+00:00"
    scheduled = client.post(f"{base}/publish", json={"publish_at": later}, headers=bearer(editor))
    assert scheduled.get_json()["publish_at"], scheduled.get_json()

    edited = _write(client, "PATCH", f"/v1/admin/faqs/{faqs[1]['id']}", editor, answer="Second.")

    assert edited["schedule_cancelled"] is True
    assert "cancelled the article's scheduled publication" in edited["review_note"]
    assert _article(client, editor)["publish_at"] is None
    audit = client.get(
        f"/v1/admin/audit?target_id={article['id']}&limit=100", headers=bearer(editor)
    ).get_json()["items"]
    assert "article.schedule_cancelled" in {event["action"] for event in audit}
