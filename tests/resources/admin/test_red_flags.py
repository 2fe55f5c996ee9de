"""Red flags over HTTP: written, reviewed by an eligible reviewer, published, listed publicly."""

from __future__ import annotations

from tests.support.api import NO_ID, PROBLEM, bearer

BODY = {
    "slug": "sudden-confusion",
    "name": "Sudden confusion",
    "priority": 45,
    "triggers": ["sudden | suddenly + confused | confusion", "dont know where i am"],
    "title": "Sudden confusion needs emergency care",
    "body": "Call for help **now**. <script>alert(1)</script>",
    "action": {"label": "Call 911 or your local emergency number", "url": "tel:911"},
}
SEEDED = [
    "suicide-or-self-harm",
    "anaphylaxis",
    "chest-pain",
    "stroke-signs",
    "thunderclap-headache",
    "headache-fever-stiff-neck",
    "filler-vascular-occlusion",
]


def _create(client, token, **changes):
    response = client.post("/v1/admin/red-flags", json={**BODY, **changes}, headers=bearer(token))
    assert response.status_code == 201, response.get_json()
    return response


def _person_with(client, admin: str, slug: str, credentials: list[dict]) -> None:
    created = client.post(
        "/v1/admin/people",
        json={"slug": slug, "name": slug.replace("-", " ").title(), "credentials": credentials},
        headers=bearer(admin),
    )
    assert created.status_code == 201, created.get_json()


def test_seeded_red_flags_are_listed_in_priority_order(client):
    response = client.get("/v1/red-flags?limit=100")
    assert response.status_code == 200
    body = response.get_json()
    assert [item["slug"] for item in body["items"]] == SEEDED
    assert body["page"]["total"] == len(SEEDED)
    suicide = body["items"][0]
    assert suicide["action"]["url"] == "tel:988"
    assert "988" in suicide["body_html"]
    assert suicide["reviewed_by"]["slug"] == "tobias-lindqvist"
    assert suicide["locale"] == "en"
    # Cacheable like every public list: an ETag, and a 304 for a client that has it.
    etag = response.headers["ETag"]
    assert "public" in response.headers["Cache-Control"]
    again = client.get("/v1/red-flags?limit=100", headers={"If-None-Match": etag})
    assert again.status_code == 304
    one = client.get("/v1/red-flags/stroke-signs")
    assert one.status_code == 200 and one.get_json()["slug"] == "stroke-signs"
    assert client.get("/v1/red-flags/no-such-flag").status_code == 404
    assert client.get("/v1/red-flags?unexpected=1").status_code == 400


def test_a_red_flag_is_written_reviewed_and_published(client, editor, make_token, admin_token):
    reviewer = make_token("reviewer")
    created = _create(client, editor)
    flag = created.get_json()
    assert flag["status"] == "draft" and flag["live"] is False
    assert flag["allowed_transitions"] == ["submit"]
    assert created.headers["Location"].endswith(f"/v1/admin/red-flags/{flag['id']}")
    url = f"/v1/admin/red-flags/{flag['id']}"
    assert client.get("/v1/red-flags/sudden-confusion").status_code == 404

    # Out of order: no approval or publishing before review.
    assert client.post(f"{url}/approve", headers=bearer(reviewer)).status_code == 409
    early = client.post(f"{url}/publish", headers=bearer(editor))
    assert early.status_code == 409 and early.content_type == PROBLEM
    assert early.get_json()["allowed_transitions"] == ["submit"]

    assert client.post(f"{url}/submit", headers=bearer(reviewer)).status_code == 403
    submitted = client.post(f"{url}/submit", headers=bearer(editor))
    assert submitted.status_code == 200 and submitted.get_json()["status"] == "in_review"
    assert client.post(f"{url}/approve", headers=bearer(editor)).status_code == 403

    # A reviewer whose only credential expired cannot sign off.
    _person_with(
        client,
        admin_token,
        "lapsed-reviewer",
        [{"kind": "license", "name": "Old Licence", "valid_until": "2011-01-01"}],
    )
    lapsed = client.post(
        f"{url}/approve", headers=bearer(make_token("reviewer", person_slug="lapsed-reviewer"))
    )
    assert lapsed.status_code == 409 and lapsed.content_type == PROBLEM
    assert lapsed.get_json()["type"] == "/problems/reviewer-not-eligible"
    assert "credential" in lapsed.get_json()["reasons"][0]

    approved = client.post(f"{url}/approve", json={"notes": "Clear."}, headers=bearer(reviewer))
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "approved"
    assert approved.get_json()["reviewed_by"] == "tobias-lindqvist"
    assert approved.get_json()["reviewed_on"]
    assert client.get("/v1/red-flags/sudden-confusion").status_code == 404

    published = client.post(f"{url}/publish", headers=bearer(editor))
    assert published.status_code == 200
    assert published.get_json()["status"] == "published" and published.get_json()["live"]
    public = client.get("/v1/red-flags/sudden-confusion").get_json()
    assert public["title"] == BODY["title"]
    assert "<strong>now</strong>" in public["body_html"]
    assert "<script>" not in public["body_html"]
    assert public["reviewed_by"] == {"slug": "tobias-lindqvist", "name": "Tobias Lindqvist"}
    listed = [item["slug"] for item in client.get("/v1/red-flags").get_json()["items"]]
    assert listed.index("sudden-confusion") == listed.index("stroke-signs") + 1

    changes, query = [], {"limit": 100}
    while True:  # the seeds' own events come first
        page = client.get("/v1/changes", query_string=query).get_json()
        changes += page["items"]
        if not page["items"]:  # the feed always gives a cursor to come back with
            break
        query["since"] = page["page"]["next_cursor"]
    assert any(
        item["kind"] == "red_flag" and item["url"] == "/v1/red-flags/sudden-confusion"
        for item in changes
    )
    audit = client.get(
        f"/v1/admin/audit?target_type=red_flag&target_id={flag['id']}", headers=bearer(editor)
    )
    assert audit.status_code == 200, audit.get_json()
    actions = {item["action"] for item in audit.get_json()["items"]}
    assert {"red_flag.create", "red_flag.approve", "red_flag.publish"} <= actions


def test_edits_need_if_match_and_send_the_red_flag_back_to_draft(client, editor, make_token):
    reviewer = make_token("reviewer")
    flag = _create(client, editor).get_json()
    url = f"/v1/admin/red-flags/{flag['id']}"
    for step, token in (("submit", editor), ("approve", reviewer), ("publish", editor)):
        assert client.post(f"{url}/{step}", headers=bearer(token)).status_code == 200

    assert client.patch(url, json={"title": "New"}, headers=bearer(editor)).status_code == 428
    stale = client.patch(
        url, json={"title": "New"}, headers=bearer(editor, **{"If-Match": '"stale"'})
    )
    assert stale.status_code == 412
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    edited = client.patch(
        url, json={"title": "New title"}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert edited.status_code == 200
    assert edited.get_json()["status"] == "draft" and edited.get_json()["live"] is True
    assert edited.headers["ETag"] != etag
    # Readers keep the reviewed words.
    assert client.get("/v1/red-flags/sudden-confusion").get_json()["title"] == BODY["title"]

    etag = edited.headers["ETag"]
    trashed = client.delete(url, headers=bearer(editor, **{"If-Match": etag}))
    assert trashed.status_code == 204
    assert client.get("/v1/red-flags/sudden-confusion").status_code == 404
    assert client.get(url, headers=bearer(editor)).get_json()["deleted_at"]
    assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 404
    restored = client.post(f"{url}/restore", headers=bearer(editor))
    assert restored.status_code == 200 and restored.get_json()["status"] == "draft"
    assert client.post(f"{url}/restore", headers=bearer(editor)).status_code == 409


def test_writes_are_validated(client, editor, make_token):
    bad_trigger = client.post(
        "/v1/admin/red-flags", json={**BODY, "triggers": ["headache + "]}, headers=bearer(editor)
    )
    assert bad_trigger.status_code == 422
    assert "triggers" in bad_trigger.get_json()["errors"]["json"]
    bad_link = client.post(
        "/v1/admin/red-flags",
        json={**BODY, "action": {"label": "Call", "url": "javascript:alert(1)"}},
        headers=bearer(editor),
    )
    assert bad_link.status_code == 422
    unknown = client.post(
        "/v1/admin/red-flags", json={**BODY, "status": "published"}, headers=bearer(editor)
    )
    assert unknown.status_code == 422
    _create(client, editor)
    taken = client.post("/v1/admin/red-flags", json=BODY, headers=bearer(editor))
    assert taken.status_code == 409
    viewer = make_token("viewer")
    assert client.post("/v1/admin/red-flags", json=BODY, headers=bearer(viewer)).status_code == 403
    listed = client.get("/v1/admin/red-flags?status=draft", headers=bearer(viewer))
    assert listed.status_code == 200
    assert [item["slug"] for item in listed.get_json()["items"]] == ["sudden-confusion"]
    assert client.get(f"/v1/admin/red-flags/{NO_ID}", headers=bearer(viewer)).status_code == 404


def test_request_changes_sends_it_back(client, editor, make_token):
    reviewer = make_token("reviewer")
    flag = _create(client, editor).get_json()
    url = f"/v1/admin/red-flags/{flag['id']}"
    assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200
    back = client.post(
        f"{url}/request-changes", json={"notes": "Add the time"}, headers=bearer(reviewer)
    )
    assert back.status_code == 200 and back.get_json()["status"] == "draft"


def test_published_guidance_follows_its_reviewers_name(client, editor):
    people = client.get("/v1/admin/people?q=tobias-lindqvist", headers=bearer(editor))
    person = next(p for p in people.get_json()["items"] if p["slug"] == "tobias-lindqvist")
    url = f"/v1/admin/people/{person['id']}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    renamed = client.patch(
        url, json={"name": "Tobias Lindqvist-Berg"}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert renamed.status_code == 200, renamed.get_json()
    guidance = client.get("/v1/red-flags/chest-pain").get_json()
    assert guidance["reviewed_by"] == {"slug": "tobias-lindqvist", "name": "Tobias Lindqvist-Berg"}
