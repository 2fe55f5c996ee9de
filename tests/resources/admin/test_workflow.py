"""The review workflow's rules: illegal moves, scheduling, review dates and flags."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import Article, Credential, Person
from tests.conftest import bearer
from tests.support.api import CLINICAL, PUBLISHABLE


def _new_reviewed_article(client, editor: str, reviewer: str, slug: str) -> str:
    url = client.post(
        "/v1/admin/articles",
        json={"slug": slug, "title": "Scheduled", **PUBLISHABLE},
        headers=bearer(editor),
    ).headers["Location"]
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    client.put(
        f"{url}/authors",
        json={"authors": ["rafael-oyelaran"]},
        headers=bearer(editor, **{"If-Match": etag}),
    )
    assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200
    assert client.post(f"{url}/approve", json=CLINICAL, headers=bearer(reviewer)).status_code == 200
    return url


def test_illegal_transitions_are_409_naming_the_allowed_ones(client, make_token):
    editor = make_token("editor")
    url = client.post(
        "/v1/admin/articles", json={"slug": "moves", "title": "Moves"}, headers=bearer(editor)
    ).headers["Location"]

    response = client.post(f"{url}/unpublish", headers=bearer(editor))

    assert response.status_code == 409
    problem = response.get_json()
    assert problem["type"] == "/problems/illegal-transition"
    assert problem["allowed_transitions"] == ["submit", "archive"]
    assert "submit" in problem["detail"]


def test_future_publish_at_schedules_and_publish_due_publishes(app, client, runner, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = _new_reviewed_article(client, editor, reviewer, "scheduled-article")
    later = (utcnow() + timedelta(hours=1)).isoformat()

    scheduled = client.post(f"{url}/publish", json={"publish_at": later}, headers=bearer(editor))

    assert scheduled.status_code == 200
    assert scheduled.get_json()["status"] == "approved"
    assert scheduled.get_json()["publish_at"]
    assert client.get("/v1/articles/scheduled-article").status_code == 404
    assert "Nothing due" in runner.invoke(args=["publish-due"]).output

    with app.app_context():
        article = db.session.scalar(select(Article).where(Article.slug == "scheduled-article"))
        article.publish_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    result = runner.invoke(args=["publish-due"])

    assert "Published scheduled-article" in result.output
    assert client.get("/v1/articles/scheduled-article").status_code == 200
    assert "Nothing due" in runner.invoke(args=["publish-due"]).output


def test_reviews_due_lists_overdue_articles_and_flags_expired_credentials(app, client, make_token):
    viewer = make_token("viewer")
    with app.app_context():
        article = db.session.scalar(select(Article).where(Article.slug == "liver-rash"))
        article.next_review_due = date.today() - timedelta(days=3)
        reviewer = db.session.scalar(select(Person).where(Person.slug == "tobias-lindqvist"))
        reviewer.credentials.append(
            Credential(
                kind="license", name="Old licence", valid_until=date.today() - timedelta(days=1)
            )
        )
        db.session.commit()

    due = client.get("/v1/admin/reviews/due?within_days=0", headers=bearer(viewer)).get_json()

    entry = next(item for item in due["items"] if item["slug"] == "liver-rash")
    assert entry["overdue"] is True
    assert any("expired" in flag for flag in entry["review_flags"])
    assert any("overdue" in flag.lower() for flag in entry["review_flags"])
    overdue = client.get("/v1/admin/articles?overdue=true", headers=bearer(viewer)).get_json()
    assert [item["slug"] for item in overdue["items"]] == ["liver-rash"]


def test_audit_log_filters_by_actor_target_and_time(client, make_token):
    editor = make_token("editor")
    admin = make_token("admin")
    start = utcnow().isoformat()
    created = client.post(
        "/v1/admin/articles", json={"slug": "audited", "title": "Audited"}, headers=bearer(editor)
    ).get_json()

    by_target = client.get(
        f"/v1/admin/audit?target_type=article&target_id={created['id']}", headers=bearer(admin)
    ).get_json()
    assert [event["action"] for event in by_target["items"]] == ["article.create"]
    event = by_target["items"][0]
    assert event["after"]["title"] == "Audited"
    by_actor = client.get(f"/v1/admin/audit?actor={event['actor_id']}", headers=bearer(admin))
    assert {e["target_id"] for e in by_actor.get_json()["items"]} == {created["id"]}
    since = client.get("/v1/admin/audit", query_string={"since": start}, headers=bearer(admin))
    assert created["id"] in {e["target_id"] for e in since.get_json()["items"]}
    until = client.get("/v1/admin/audit", query_string={"until": start}, headers=bearer(admin))
    assert created["id"] not in {e["target_id"] for e in until.get_json()["items"]}


def test_an_edit_cancels_a_schedule_and_says_so_in_the_answer_and_the_audit_log(
    app, client, runner, make_token
):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = _new_reviewed_article(client, editor, reviewer, "pinned-schedule")
    later = (utcnow() + timedelta(hours=1)).isoformat()
    scheduled = client.post(f"{url}/publish", json={"publish_at": later}, headers=bearer(editor))
    assert scheduled.get_json()["publish_at_revision"] == 2
    assert scheduled.get_json()["schedule_cancelled"] is False

    edited = client.patch(
        url,
        json={"title": "Edited after scheduling"},
        headers=bearer(editor, **{"If-Match": scheduled.headers["ETag"]}),
    )

    assert edited.status_code == 200
    body = edited.get_json()
    assert body["schedule_cancelled"] is True
    assert body["publish_at"] is None and body["publish_at_revision"] is None
    audit = client.get(
        f"/v1/admin/audit?target_id={body['id']}&limit=50", headers=bearer(editor)
    ).get_json()["items"]
    assert "article.schedule_cancelled" in {event["action"] for event in audit}
    with app.app_context():
        article = db.session.scalar(select(Article).where(Article.slug == "pinned-schedule"))
        # Even a schedule left behind on another revision never publishes this one.
        article.status, article.publish_at = "approved", utcnow() - timedelta(minutes=1)
        article.publish_at_revision = 2
        db.session.commit()
    assert "Nothing due" in runner.invoke(args=["publish-due"]).output
    assert client.get("/v1/articles/pinned-schedule").status_code == 404


def test_the_submit_answer_shows_the_reviewer_what_changes_from_the_live_revision(
    client, make_token
):
    editor = make_token("editor")
    found = client.get("/v1/admin/articles?q=liver-rash", headers=bearer(editor)).get_json()
    url = f"/v1/admin/articles/{found['items'][0]['id']}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    assert client.get(url, headers=bearer(editor)).get_json()["review_diff"] is None
    old_title = client.get(url, headers=bearer(editor)).get_json()["title"]

    edited = client.patch(
        url, json={"title": "Liver rash, revised"}, headers=bearer(editor, **{"If-Match": etag})
    )

    diff = edited.get_json()["review_diff"]
    assert diff["from_revision"] == 1 and diff["to_revision"] == 2
    assert diff["changes"] == {"title": {"from": old_title, "to": "Liver rash, revised"}}
