"""Editors draft, reviewers approve, editors publish: the admin article API end to end."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from tests.conftest import bearer
from tests.support.api import CLINICAL

DRAFT = {
    "slug": "sunburn-relief",
    "title": "Sunburn Relief: What Actually Helps",
    "summary": "Cool, moisturise, protect, and know when a burn needs a doctor.",
    "topics": ["skin-rash"],
    "sections": [
        {"key": "overview", "heading": "Overview", "body": "Sunburn is skin damage from UV."},
        {
            "key": "treatment",
            "heading": "Treatment",
            "body": "Cool the skin.",
            "subsections": [{"key": "home-care", "heading": "Home care", "body": "Aloe gel."}],
        },
    ],
    "citations": [{"title": "Sunburn", "url": "https://medlineplus.gov/sunburn.html"}],
    "disclaimer": "General information only; see a doctor for a burn that blisters widely.",
}


def test_draft_review_publish_edit_and_restore(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")

    created = client.post("/v1/admin/articles", json=DRAFT, headers=bearer(editor))
    assert created.status_code == 201, created.get_json()
    article = created.get_json()
    url = created.headers["Location"]
    assert url == f"/v1/admin/articles/{article['id']}"
    assert article["status"] == "draft"
    assert article["revision_number"] == 1
    etag = created.headers["ETag"]

    authors = client.put(
        f"{url}/authors",
        json={"authors": ["rafael-oyelaran"]},
        headers=bearer(editor, **{"If-Match": etag}),
    )
    assert authors.status_code == 200, authors.get_json()
    assert authors.get_json()["authors"] == ["rafael-oyelaran"]

    # Publishing without an approval is refused and names what is allowed.
    early = client.post(f"{url}/publish", headers=bearer(editor))
    assert early.status_code == 409
    assert early.get_json()["allowed_transitions"] == ["submit", "archive"]

    assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200
    # Editors cannot approve; reviewers can.
    assert client.post(f"{url}/approve", json=CLINICAL, headers=bearer(editor)).status_code == 403
    approved = client.post(
        f"{url}/approve", json={**CLINICAL, "notes": "Accurate."}, headers=bearer(reviewer)
    )
    assert approved.status_code == 200, approved.get_json()
    body = approved.get_json()
    assert body["status"] == "approved"
    assert body["approval_current"] is True
    assert body["reviews"][0]["revision_number"] == body["revision_number"]

    published = client.post(f"{url}/publish", json={}, headers=bearer(editor))
    assert published.status_code == 200, published.get_json()
    assert published.get_json()["live_revision"] == body["revision_number"]
    public = client.get("/v1/articles/sunburn-relief")
    assert public.status_code == 200
    assert public.get_json()["reviewers"][0]["slug"] == "tobias-lindqvist"
    listed = client.get("/v1/articles?limit=100").get_json()["items"]
    assert "sunburn-relief" in {item["slug"] for item in listed}

    # A second editor working from an old ETag loses, visibly.
    current = client.get(url, headers=bearer(editor)).headers["ETag"]
    stale = client.patch(
        url, json={"title": "Old view"}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert stale.status_code == 412
    assert stale.get_json()["current_etag"] == current
    assert (
        client.patch(url, json={"title": "No precondition"}, headers=bearer(editor)).status_code
        == 428
    )

    edited = client.patch(
        url,
        json={"title": "Sunburn Relief, Revised"},
        headers=bearer(editor, **{"If-Match": current}),
    )
    assert edited.status_code == 200
    assert edited.get_json()["status"] == "in_review", "an edit after approval goes back to review"
    assert edited.get_json()["approval_current"] is False
    # Readers still see the approved revision.
    assert client.get("/v1/articles/sunburn-relief").get_json()["title"] == DRAFT["title"]

    assert client.post(f"{url}/approve", json=CLINICAL, headers=bearer(reviewer)).status_code == 200
    assert client.post(f"{url}/publish", json={}, headers=bearer(editor)).status_code == 200
    assert (
        client.get("/v1/articles/sunburn-relief").get_json()["title"] == "Sunburn Relief, Revised"
    )

    revisions = client.get(f"{url}/revisions", headers=bearer(editor)).get_json()["items"]
    numbers = [revision["number"] for revision in revisions]
    assert numbers == sorted(numbers, reverse=True)
    diff = client.get(f"{url}/revisions/{numbers[0]}/diff?against=1", headers=bearer(editor))
    assert diff.get_json()["changes"]["title"] == {
        "from": DRAFT["title"],
        "to": "Sunburn Relief, Revised",
    }

    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    restored = client.post(
        f"{url}/revisions/1/restore", headers=bearer(editor, **{"If-Match": etag})
    )
    assert restored.status_code == 200, restored.get_json()
    assert restored.get_json()["title"] == DRAFT["title"]
    assert restored.get_json()["revision_number"] == numbers[0] + 1

    audit = client.get(
        f"/v1/admin/audit?target_id={article['id']}&limit=100", headers=bearer(editor)
    ).get_json()["items"]
    actions = [event["action"] for event in reversed(audit)]
    for expected in (
        "article.create",
        "article.authors",
        "article.submit",
        "article.approve",
        "article.publish",
        "article.update",
        "article.restore_revision",
    ):
        assert expected in actions


def test_reviewer_cannot_approve_own_article(client, make_token):
    editor = make_token("editor")
    author_reviewer = make_token("reviewer", person_slug="rafael-oyelaran")
    url = client.post("/v1/admin/articles", json=DRAFT, headers=bearer(editor)).headers["Location"]
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    client.put(
        f"{url}/authors",
        json={"authors": ["rafael-oyelaran"]},
        headers=bearer(editor, **{"If-Match": etag}),
    )
    client.post(f"{url}/submit", headers=bearer(editor))

    response = client.post(f"{url}/approve", json=CLINICAL, headers=bearer(author_reviewer))

    assert response.status_code == 409
    assert "wrote" in response.get_json()["detail"]


def test_trash_hides_and_restore_brings_back_article_faqs_and_links(client, make_token):
    editor = make_token("editor")
    found = client.get("/v1/admin/articles?q=tmj-headache", headers=bearer(editor)).get_json()
    article = found["items"][0]
    url = f"/v1/admin/articles/{article['id']}"
    faqs_before = client.get("/v1/faqs?article=tmj-headache").get_json()["items"]
    assert faqs_before
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]

    assert client.delete(url, headers=bearer(editor, **{"If-Match": etag})).status_code == 204

    assert client.get("/v1/articles/tmj-headache").status_code == 404
    assert client.get("/v1/faqs?article=tmj-headache").get_json()["items"] == []
    related = client.get("/v1/articles/headache-after-botox/related").get_json()["items"]
    assert "tmj-headache" not in {item["article"]["slug"] for item in related}
    trash = client.get("/v1/admin/articles?trashed=true", headers=bearer(editor)).get_json()
    assert article["id"] in {item["id"] for item in trash["items"]}

    assert client.post(f"{url}/restore", headers=bearer(editor)).status_code == 200

    assert client.get("/v1/articles/tmj-headache").status_code == 200
    assert client.get("/v1/faqs?article=tmj-headache").get_json()["items"] == faqs_before
    related = client.get("/v1/articles/headache-after-botox/related").get_json()["items"]
    assert "tmj-headache" in {item["article"]["slug"] for item in related}


def test_plain_edits_cannot_set_state(client, make_token):
    editor = make_token("editor")
    url = client.post("/v1/admin/articles", json=DRAFT, headers=bearer(editor)).headers["Location"]
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    for field, value in (
        ("status", "published"),
        ("authors", ["rafael-oyelaran"]),
        ("reviews", []),
        ("live_revision", 1),
    ):
        response = client.patch(
            url, json={field: value}, headers=bearer(editor, **{"If-Match": etag})
        )
        assert response.status_code == 422, field
        assert field in response.get_json()["errors"]["json"]


def test_markdown_is_sanitized_on_the_way_out(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    hostile = {
        **DRAFT,
        "slug": "hostile-markdown",
        "sections": [
            {
                "key": "overview",
                "heading": "x",
                "body": (
                    "<script>alert(1)</script> [click](javascript:alert(1)) "
                    '<iframe src="https://evil.example"></iframe> <img src=x onerror=alert(1)>'
                ),
            }
        ],
    }
    url = client.post("/v1/admin/articles", json=hostile, headers=bearer(editor)).headers[
        "Location"
    ]
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    client.put(
        f"{url}/authors",
        json={"authors": ["rafael-oyelaran"]},
        headers=bearer(editor, **{"If-Match": etag}),
    )
    client.post(f"{url}/submit", headers=bearer(editor))
    client.post(f"{url}/approve", json=CLINICAL, headers=bearer(reviewer))
    assert client.post(f"{url}/publish", json={}, headers=bearer(editor)).status_code == 200

    html = client.get("/v1/articles/hostile-markdown").get_json()["sections"][0]["body_html"]
    tags = _tags(html)
    assert not {name for name, _ in tags} & {"script", "iframe", "img"}
    for _, attributes in tags:
        assert not any(name.startswith("on") for name, _ in attributes)
        assert not any(
            (value or "").strip().lower().startswith("javascript:") for _, value in attributes
        )
    assert "&lt;script&gt;" in html, "raw HTML is shown as text, not dropped silently"


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_unstorable_text_is_a_422_naming_the_field_not_a_500(client, make_token):
    editor = make_token("editor")
    for body in (
        {**DRAFT, "slug": "nul-title", "title": "Bad\x00title"},
        {**DRAFT, "slug": "surrogate", "summary": "lone \ud800 surrogate"},
        {**DRAFT, "slug": "nested-nul", "sections": [{"key": "a", "heading": "h\x00"}]},
    ):
        response = client.post(
            "/v1/admin/articles",
            data=json.dumps(body),
            content_type="application/json",
            headers=bearer(editor),
        )
        assert response.status_code == 422, response.get_json()
        assert response.content_type == "application/problem+json"
    # The session is still usable afterwards.
    ok = client.post(
        "/v1/admin/articles", json={**DRAFT, "slug": "after-bad-input"}, headers=bearer(editor)
    )
    assert ok.status_code == 201


def test_renaming_a_published_article_keeps_the_old_slug_answering_301(client, make_token):
    editor = make_token("editor")
    found = client.get("/v1/admin/articles?q=tmj-headache", headers=bearer(editor)).get_json()
    url = f"/v1/admin/articles/{found['items'][0]['id']}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]

    taken = client.patch(
        url, json={"slug": "liver-rash"}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert taken.status_code == 409
    renamed = client.patch(
        url, json={"slug": "jaw-headache"}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert renamed.status_code == 200, renamed.get_json()
    assert renamed.get_json()["status"] == "published", "a rename is not a content change"

    moved = client.get("/v1/articles/tmj-headache")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith("/v1/articles/jaw-headache")
    assert client.get("/v1/articles/jaw-headache").get_json()["slug"] == "jaw-headache"
    related = client.get("/v1/articles/headache-after-botox/related").get_json()["items"]
    assert "jaw-headache" in {item["article"]["slug"] for item in related}

    other = client.get("/v1/admin/articles?q=liver-rash", headers=bearer(editor)).get_json()
    other_url = f"/v1/admin/articles/{other['items'][0]['id']}"
    other_etag = client.get(other_url, headers=bearer(editor)).headers["ETag"]
    former = client.patch(
        other_url, json={"slug": "tmj-headache"}, headers=bearer(editor, **{"If-Match": other_etag})
    )
    assert former.status_code == 409, "a former slug still answers for its article"
