"""The review of record: what a page says about its review is what happened to its live content."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from cms_api.database import db
from cms_api.domain.clock import add_months, utcnow
from cms_api.models import Article, Credential, MedicalReview, Person
from cms_api.services.editorial import workflow
from cms_api.services.publishing import render
from tests.conftest import bearer
from tests.support.api import CLINICAL

SLUG = "tmj-headache"  # live revision 1, reviewed 2026-06-08 by rafael-oyelaran
REVIEWED = "2026-06-08"
DUE = "2027-06-08"
CORRECTION = {"kind": "correction", "note": "Corrected the spelling of temporomandibular."}


def _admin_url(client, editor: str, slug: str = SLUG) -> str:
    found = client.get(f"/v1/admin/articles?q={slug}", headers=bearer(editor)).get_json()
    return f"/v1/admin/articles/{next(i['id'] for i in found['items'] if i['slug'] == slug)}"


def _edit(client, editor: str, url: str, **fields: object):
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    response = client.patch(url, json=fields, headers=bearer(editor, **{"If-Match": etag}))
    assert response.status_code == 200, response.get_json()
    return response


def _page(client, slug: str = SLUG) -> tuple[dict, dict, dict]:
    """The public article, and its JSON-LD web page and article nodes."""
    article = client.get(f"/v1/articles/{slug}").get_json()
    graph = client.get(f"/v1/articles/{slug}/jsonld").get_json()["@graph"]
    page = next(node for node in graph if node["@type"] == "MedicalWebPage")
    node = next(node for node in graph if node["@type"] == "Article")
    return article, page, node


def _due(client, editor: str, slug: str = SLUG) -> dict:
    items = client.get("/v1/admin/reviews/due?within_days=3650", headers=bearer(editor))
    return next(item for item in items.get_json()["items"] if item["slug"] == slug)


def test_an_unpublished_or_withdrawn_approval_never_reaches_the_live_page(
    client, runner, make_token
):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = _admin_url(client, editor)
    _edit(client, editor, url, summary="A revised summary awaiting review.")

    approved = client.post(f"{url}/approve", json=CLINICAL, headers=bearer(reviewer))
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["last_reviewed_at"] == REVIEWED
    assert "Rendered" in runner.invoke(args=["render"]).output  # any re-render

    article, page, _ = _page(client)
    assert article["last_reviewed_at"] == REVIEWED
    assert article["next_review_due"] == DUE
    assert [person["slug"] for person in article["reviewers"]] == ["rafael-oyelaran"]
    assert article["review"]["revision"] == 1 and article["review"]["reviewed_on"] == REVIEWED
    assert page["lastReviewed"] == REVIEWED
    assert len(page["reviewedBy"]) == 1 and "rafael-oyelaran" in page["reviewedBy"][0]["@id"]
    assert _due(client, editor)["next_review_due"] == DUE

    sent_back = client.post(f"{url}/request-changes", json={}, headers=bearer(reviewer))
    assert sent_back.status_code == 200
    body = sent_back.get_json()
    assert body["approval_current"] is False
    withdrawn = [r["withdrawn_at"] for r in body["reviews"] if r["revision_number"] == 2]
    assert withdrawn and all(withdrawn)
    runner.invoke(args=["render"])
    assert _page(client)[0]["last_reviewed_at"] == REVIEWED
    # A withdrawn approval does not count as one: submitting again needs a new one.
    assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200
    assert client.post(f"{url}/publish", json={}, headers=bearer(editor)).status_code == 409


def test_a_clinical_review_going_live_becomes_the_review_of_record(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = _admin_url(client, editor)
    _edit(client, editor, url, summary="A revised summary, reviewed in full.")
    assert client.post(f"{url}/approve", json=CLINICAL, headers=bearer(reviewer)).status_code == 200

    published = client.post(f"{url}/publish", json={}, headers=bearer(editor))

    assert published.status_code == 200, published.get_json()
    today = utcnow().date()
    article, page, _ = _page(client)
    assert article["last_reviewed_at"] == page["lastReviewed"] == today.isoformat()
    review = article["review"]
    assert {key: value for key, value in review.items() if key != "reviewers"} == {
        "kind": "clinical",
        "revision": 2,
        "reviewed_on": today.isoformat(),
        "next_review_due": add_months(today, 12).isoformat(),
    }
    assert [person["slug"] for person in article["review"]["reviewers"]] == ["tobias-lindqvist"]
    assert [person["slug"] for person in article["reviewers"]] == ["tobias-lindqvist"]
    assert _due(client, editor)["next_review_due"] == add_months(today, 12).isoformat()
    reviews = published.get_json()["reviews"]
    assert all(r["published_at"] for r in reviews if r["revision_number"] in (1, 2))


def test_a_correction_is_listed_and_moves_date_modified_but_not_the_review(
    client, runner, make_token
):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = _admin_url(client, editor)
    before, _, before_node = _page(client)
    _edit(client, editor, url, summary="A summary with a typo fixed.")
    approved = client.post(
        f"{url}/approve", json={**CORRECTION, "notes": "Typo only."}, headers=bearer(reviewer)
    )
    assert approved.status_code == 200, approved.get_json()
    assert client.post(f"{url}/publish", json={}, headers=bearer(editor)).status_code == 200
    runner.invoke(args=["render"])

    article, page, node = _page(client)
    today = utcnow().date().isoformat()
    assert article["summary"] == "A summary with a typo fixed."
    assert article["last_reviewed_at"] == page["lastReviewed"] == REVIEWED
    assert article["next_review_due"] == DUE and article["review"]["revision"] == 1
    assert [person["slug"] for person in article["reviewers"]] == ["rafael-oyelaran"]
    assert article["corrections"] == [{"date": today, "note": CORRECTION["note"], "revision": 2}]
    assert node["correction"] == [
        {"@type": "CorrectionComment", "text": CORRECTION["note"], "datePublished": today}
    ]
    assert node["dateModified"] == article["updated_at"] != before["updated_at"]
    assert node["dateModified"] != before_node["dateModified"]
    assert "Typo only." not in str(article)  # the internal notes stay internal
    assert _due(client, editor)["next_review_due"] == DUE


def test_the_kind_of_approval_is_explicit_and_a_correction_needs_a_note_and_a_record(
    client, make_token
):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = _admin_url(client, editor)
    _edit(client, editor, url, summary="Changed.")

    for body in ({}, {"notes": "ok"}, {"kind": "typo"}, {"kind": "correction"}):
        response = client.post(f"{url}/approve", json=body, headers=bearer(reviewer))
        assert response.status_code == 422, body
        assert response.content_type == "application/problem+json"

    draft = client.post(
        "/v1/admin/articles",
        json={"slug": "never-live", "title": "Never live"},
        headers=bearer(editor),
    ).headers["Location"]
    assert client.post(f"{draft}/submit", headers=bearer(editor)).status_code == 200
    refused = client.post(f"{draft}/approve", json=CORRECTION, headers=bearer(reviewer))
    assert refused.status_code == 409
    assert "clinical review of record" in refused.get_json()["detail"]


def test_a_reviewer_must_be_active_and_hold_a_credential_valid_today(app, client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = _admin_url(client, editor)
    _edit(client, editor, url, summary="Changed.")
    yesterday = utcnow().date() - timedelta(days=1)
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.slug == "tobias-lindqvist"))
        for item in person.credentials:
            item.valid_from, item.valid_until = date(2001, 1, 1), yesterday
        db.session.commit()

    expired = client.post(f"{url}/approve", json=CLINICAL, headers=bearer(reviewer))

    assert expired.status_code == 409
    problem = expired.get_json()
    assert f"expired on {yesterday.isoformat()}" in problem["detail"]
    assert problem["reasons"]

    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.slug == "tobias-lindqvist"))
        person.credentials.append(Credential(kind="license", name="Renewed licence"))
        person.deleted_at = utcnow()
        db.session.commit()
    trashed = client.post(f"{url}/approve", json=CLINICAL, headers=bearer(reviewer))
    assert trashed.status_code == 409
    assert "in the trash" in trashed.get_json()["detail"]

    with app.app_context():
        db.session.scalar(select(Person).where(Person.slug == "tobias-lindqvist")).deleted_at = None
        db.session.commit()
    assert client.post(f"{url}/approve", json=CLINICAL, headers=bearer(reviewer)).status_code == 200


def test_publishing_needs_an_author_a_disclaimer_and_content(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    url = client.post(
        "/v1/admin/articles",
        json={"slug": "incomplete", "title": "Empty", "sections": [{"key": "a", "heading": "A"}]},
        headers=bearer(editor),
    ).headers["Location"]
    assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200
    assert client.post(f"{url}/approve", json=CLINICAL, headers=bearer(reviewer)).status_code == 200

    for body in ({}, {"publish_at": (utcnow() + timedelta(days=1)).isoformat()}):
        refused = client.post(f"{url}/publish", json=body, headers=bearer(editor))
        assert refused.status_code == 409
        assert refused.get_json()["missing"] == [
            "author",
            "disclaimer",
            "content (a section with a body)",
        ]
    assert client.get("/v1/articles/incomplete").status_code == 404


def test_a_credential_shows_whether_it_is_valid_and_the_daily_job_keeps_that_true(
    client, runner, monkeypatch
):
    shown = client.get(f"/v1/articles/{SLUG}").get_json()["reviewers"][0]["credentials"]
    assert shown and all(item["valid"] for item in shown)
    ending = min(
        (item for item in shown if item["valid_until"]), key=lambda item: item["valid_until"]
    )
    # Time passes, and nothing else: the day after that credential's last valid day.
    day_after = date.fromisoformat(ending["valid_until"]) + timedelta(days=1)
    later = datetime.combine(day_after, time(12), tzinfo=UTC)
    for clock_user in (render, workflow):
        monkeypatch.setattr(clock_user, "utcnow", lambda: later)

    output = runner.invoke(args=["publish-due"]).output

    assert "Re-rendered rafael-oyelaran" in output
    shown = client.get(f"/v1/articles/{SLUG}").get_json()["reviewers"][0]["credentials"]
    assert next(item for item in shown if item["name"] == ending["name"])["valid"] is False
    profile = client.get("/v1/people/rafael-oyelaran").get_json()["credentials"]
    assert next(item for item in profile if item["name"] == ending["name"])["valid"] is False
    # The job runs every minute: the profile is right now, so nobody is rendered again.
    assert "Re-rendered" not in runner.invoke(args=["publish-due"]).output


def test_the_seeded_correction_is_in_the_history_of_headache_after_botox(app, client):
    article, page, node = _page(client, "headache-after-botox")

    assert article["last_reviewed_at"] == page["lastReviewed"] == "2026-10-02"
    assert article["review"]["revision"] == 1
    assert [item["revision"] for item in article["corrections"]] == [2]
    assert article["corrections"][0]["date"] == "2026-10-20"
    assert "onabotulinumtoxinA" in article["corrections"][0]["note"]
    assert node["correction"][0]["@type"] == "CorrectionComment"
    assert "onabotulinumtoxinA" in article["sections"][0]["body_html"]
    with app.app_context():
        kinds = db.session.execute(
            select(MedicalReview.revision_number, MedicalReview.kind)
            .join(Article)
            .where(Article.slug == "headache-after-botox")
            .order_by(MedicalReview.revision_number)
        ).all()
    assert [tuple(row) for row in kinds] == [(1, "clinical"), (2, "correction")]
