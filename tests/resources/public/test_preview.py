"""A frontend shows an article's draft through delivery with a preview token, and only then."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import PreviewToken
from cms_api.services.integrations import previews
from tests.conftest import bearer

PUBLISHED = "headache-after-botox"
DRAFT = {
    "slug": "sunburn-relief",
    "title": "Sunburn Relief: What Actually Helps",
    "summary": "Cool, moisturise, protect, and know when a burn needs a doctor.",
    "topics": ["skin-rash"],
    "sections": [
        {"key": "overview", "heading": "Overview", "body": "Sunburn is skin damage from UV."},
        {"key": "treatment", "heading": "Treatment", "body": "Cool the skin with *water*."},
    ],
}
PRIVATE = "private, no-store"


def _article_id(client, editor: str, slug: str) -> str:
    found = client.get(f"/v1/admin/articles?q={slug}", headers=bearer(editor)).get_json()
    return next(item["id"] for item in found["items"] if item["slug"] == slug)


def _mint(client, editor: str, article_id: str, **body: int) -> str:
    response = client.post(
        f"/v1/admin/articles/{article_id}/preview-tokens", json=body, headers=bearer(editor)
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


@pytest.fixture
def draft(client, editor) -> tuple[str, str]:
    """A never-published draft created over the admin API: its id and a preview token."""
    created = client.post("/v1/admin/articles", json=DRAFT, headers=bearer(editor))
    assert created.status_code == 201, created.get_json()
    article_id = created.get_json()["id"]
    return article_id, _mint(client, editor, article_id)


def _assert_refused(response, detail: str) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("PreviewToken")
    assert detail in response.get_json()["detail"]
    assert DRAFT["title"] not in response.get_data(as_text=True)


def test_a_frontend_previews_a_draft_that_was_never_published(client, draft):
    _, token = draft

    response = client.get("/v1/articles/sunburn-relief", headers={"X-Preview-Token": token})

    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == PRIVATE
    assert response.headers["ETag"].startswith('"')
    article = response.get_json()
    assert article["slug"] == "sunburn-relief"
    assert article["title"] == DRAFT["title"]
    assert [section["key"] for section in article["sections"]] == ["overview", "treatment"]
    assert article["sections"][1]["body_html"] == "<p>Cool the skin with <em>water</em>.</p>"
    assert [topic["slug"] for topic in article["topics"]] == ["skin-rash"]
    # Dated as if published when its working copy last changed, so the page renders whole.
    assert article["published_at"] is not None
    assert article["structured_data"]["@graph"]
    # Readers still get nothing.
    public = client.get("/v1/articles/sunburn-relief")
    assert public.status_code == 404
    assert public.headers["Cache-Control"] == "no-store"


def test_the_token_works_as_a_query_parameter_too(client, editor, draft):
    article_id, token = draft
    minted = client.post(
        f"/v1/admin/articles/{article_id}/preview-tokens", json={}, headers=bearer(editor)
    ).get_json()

    by_url = client.get(minted["preview_url"])
    by_header = client.get("/v1/articles/sunburn-relief", headers={"X-Preview-Token": token})

    assert by_url.status_code == 200
    assert by_url.headers["Cache-Control"] == PRIVATE
    assert by_url.get_json() == by_header.get_json()


def test_preview_shows_unpublished_edits_while_readers_keep_the_published_text(client, editor):
    article_id = _article_id(client, editor, PUBLISHED)
    url = f"/v1/admin/articles/{article_id}"
    published_title = client.get(f"/v1/articles/{PUBLISHED}").get_json()["title"]
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    edited = client.patch(
        url,
        json={"title": "Headache after Botox: revised"},
        headers=bearer(editor, **{"If-Match": etag}),
    )
    assert edited.status_code == 200, edited.get_json()
    token = _mint(client, editor, article_id)

    preview = client.get(f"/v1/articles/{PUBLISHED}", headers={"X-Preview-Token": token})
    public = client.get(f"/v1/articles/{PUBLISHED}")

    assert preview.status_code == 200
    assert preview.headers["Cache-Control"] == PRIVATE
    assert preview.get_json()["title"] == "Headache after Botox: revised"
    assert public.status_code == 200
    assert public.get_json()["title"] == published_title
    assert public.headers["Cache-Control"].startswith("public")
    assert preview.headers["ETag"] != public.headers["ETag"]
    # Previewing writes nothing: the working copy keeps its version.
    assert client.get(url, headers=bearer(editor)).headers["ETag"] == edited.headers["ETag"]


def test_revalidating_a_preview_never_answers_from_the_published_etag(client, editor):
    article_id = _article_id(client, editor, PUBLISHED)
    url = f"/v1/admin/articles/{article_id}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    client.patch(url, json={"summary": "Edited."}, headers=bearer(editor, **{"If-Match": etag}))
    token = _mint(client, editor, article_id)
    published_etag = client.get(f"/v1/articles/{PUBLISHED}").headers["ETag"]

    stale = client.get(
        f"/v1/articles/{PUBLISHED}",
        headers={"X-Preview-Token": token, "If-None-Match": published_etag},
    )
    same = client.get(
        f"/v1/articles/{PUBLISHED}",
        headers={"X-Preview-Token": token, "If-None-Match": stale.headers["ETag"]},
    )

    assert stale.status_code == 200
    assert stale.get_json()["summary"] == "Edited."
    assert same.status_code == 304
    assert same.headers["Cache-Control"] == PRIVATE


def _preview_etag(client, slug: str, token: str) -> str:
    response = client.get(f"/v1/articles/{slug}", headers={"X-Preview-Token": token})
    assert response.status_code == 200, response.get_json()
    return response.headers["ETag"]


@pytest.mark.parametrize("slug", [DRAFT["slug"], PUBLISHED], ids=["draft", "edited-published"])
def test_a_preview_keeps_its_etag_until_the_working_copy_changes(
    client, editor, draft, monkeypatch, slug
):
    article_id = draft[0] if slug == DRAFT["slug"] else _article_id(client, editor, slug)
    url = f"/v1/admin/articles/{article_id}"

    def edit(summary: str) -> None:
        etag = client.get(url, headers=bearer(editor)).headers["ETag"]
        edited = client.patch(
            url, json={"summary": summary}, headers=bearer(editor, **{"If-Match": etag})
        )
        assert edited.status_code == 200, edited.get_json()

    if slug == PUBLISHED:
        edit("Edited, not yet published.")
    token = _mint(client, editor, article_id)
    first = _preview_etag(client, slug, token)
    a_second_later = utcnow() + timedelta(seconds=1)
    monkeypatch.setattr(previews, "utcnow", lambda: a_second_later)

    again = _preview_etag(client, slug, token)
    edit("Edited once more.")
    after_the_edit = _preview_etag(client, slug, token)

    assert again == first
    assert after_the_edit != first


def test_preview_selects_sections_like_delivery(client, draft):
    _, token = draft
    headers = {"X-Preview-Token": token}

    only = client.get("/v1/articles/sunburn-relief?sections=treatment", headers=headers)
    unknown = client.get("/v1/articles/sunburn-relief?sections=causes", headers=headers)

    assert only.status_code == 200
    assert [section["key"] for section in only.get_json()["sections"]] == ["treatment"]
    assert unknown.status_code == 400
    assert unknown.get_json()["type"] == "/problems/invalid-parameter"


def test_faqs_related_and_jsonld_preview_the_draft_too(client, draft):
    _, token = draft
    headers = {"X-Preview-Token": token}

    faqs = client.get("/v1/articles/sunburn-relief/faqs", headers=headers)
    related = client.get(f"/v1/articles/sunburn-relief/related?preview_token={token}")
    structured = client.get("/v1/articles/sunburn-relief/jsonld", headers=headers)

    for response in (faqs, related, structured):
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == PRIVATE
    assert faqs.get_json() == {
        "items": [],
        "page": {"limit": 100, "next_cursor": None, "total": 0},
    }
    assert related.get_json()["items"] == []
    assert structured.content_type == "application/ld+json"
    assert DRAFT["title"] in structured.get_data(as_text=True)
    assert client.get("/v1/articles/sunburn-relief/jsonld").status_code == 404


def test_an_expired_token_is_refused(app, client, draft):
    _, token = draft
    with app.app_context():
        stored = db.session.query(PreviewToken).filter_by(digest=previews.token_digest(token))
        stored.one().expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()

    response = client.get("/v1/articles/sunburn-relief", headers={"X-Preview-Token": token})

    _assert_refused(response, "expired")


def test_a_revoked_token_is_refused(client, editor, draft):
    article_id, token = draft
    listed = client.get(f"/v1/admin/articles/{article_id}/preview-tokens", headers=bearer(editor))
    token_id = listed.get_json()["items"][0]["id"]
    assert (
        client.post(
            f"/v1/admin/preview-tokens/{token_id}/revoke", headers=bearer(editor)
        ).status_code
        == 200
    )

    response = client.get(f"/v1/articles/sunburn-relief?preview_token={token}")

    _assert_refused(response, "revoked")


def test_a_token_for_another_article_is_refused_not_answered_with_the_published_one(client, draft):
    _, token = draft

    response = client.get(f"/v1/articles/{PUBLISHED}", headers={"X-Preview-Token": token})
    faqs = client.get(f"/v1/articles/{PUBLISHED}/faqs", headers={"X-Preview-Token": token})

    _assert_refused(response, "another article")
    _assert_refused(faqs, "another article")


@pytest.mark.parametrize(
    "token", ["cmspv_" + "x" * 43, "garbage", "cms_" + "x" * 43, "", "cmspv_" + "x" * 500]
)
def test_garbage_tokens_are_refused(client, draft, token):
    response = client.get("/v1/articles/sunburn-relief", headers={"X-Preview-Token": token})
    published = client.get(f"/v1/articles/{PUBLISHED}", headers={"X-Preview-Token": token})

    _assert_refused(response, "unknown")
    _assert_refused(published, "unknown")


def test_a_token_for_a_trashed_article_is_refused(client, editor, draft):
    article_id, token = draft
    url = f"/v1/admin/articles/{article_id}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    assert client.delete(url, headers=bearer(editor, **{"If-Match": etag})).status_code == 204

    response = client.get("/v1/articles/sunburn-relief", headers={"X-Preview-Token": token})

    _assert_refused(response, "trash")


def test_a_header_and_a_different_query_token_are_refused(client, draft):
    _, token = draft

    response = client.get(
        "/v1/articles/sunburn-relief?preview_token=cmspv_other",
        headers={"X-Preview-Token": token},
    )
    same = client.get(
        f"/v1/articles/sunburn-relief?preview_token={token}", headers={"X-Preview-Token": token}
    )

    _assert_refused(response, "two different tokens")
    assert same.status_code == 200


def test_a_renamed_article_redirects_privately_from_its_former_slug(client, editor):
    article_id = _article_id(client, editor, PUBLISHED)
    url = f"/v1/admin/articles/{article_id}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    renamed = client.patch(
        url, json={"slug": "botox-and-headache"}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert renamed.status_code == 200, renamed.get_json()
    token = _mint(client, editor, article_id)

    moved = client.get(f"/v1/articles/{PUBLISHED}?preview_token={token}")

    assert moved.status_code == 301
    assert moved.headers["Location"] == f"/v1/articles/botox-and-headache?preview_token={token}"
    assert moved.headers["Cache-Control"] == PRIVATE
    assert client.get(moved.headers["Location"]).headers["Cache-Control"] == PRIVATE


def test_a_renamed_draft_tells_the_token_holder_where_it_is_now(client, editor, draft):
    article_id, token = draft
    url = f"/v1/admin/articles/{article_id}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    renamed = client.patch(
        url, json={"slug": "sunburn-care"}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert renamed.status_code == 200, renamed.get_json()

    old_link = client.get(f"/v1/articles/sunburn-relief?preview_token={token}")
    new_link = client.get(f"/v1/articles/sunburn-care?preview_token={token}")

    _assert_refused(old_link, "now at /v1/articles/sunburn-care")
    assert new_link.status_code == 200
    # A draft was never public, so its old slug means nothing to readers.
    assert client.get("/v1/articles/sunburn-relief").status_code == 404


def test_without_a_token_delivery_is_unchanged(client):
    # `Authorization` is not a preview: delivery ignores it, as before.
    plain = client.get(f"/v1/articles/{PUBLISHED}")
    with_auth = client.get(f"/v1/articles/{PUBLISHED}", headers={"Authorization": "Bearer x"})

    assert plain.status_code == with_auth.status_code == 200
    assert plain.headers["Cache-Control"].startswith("public")
    assert plain.get_data() == with_auth.get_data()


def test_a_browser_frontend_on_another_origin_can_use_the_preview_url(client, editor, draft):
    article_id, _ = draft
    minted = client.post(
        f"/v1/admin/articles/{article_id}/preview-tokens", json={}, headers=bearer(editor)
    ).get_json()

    # A plain GET with a query is a CORS "simple request": no preflight to pass.
    response = client.get(
        minted["preview_url"], headers={"Origin": "https://preview.example-health.org"}
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == PRIVATE


def test_every_answer_about_an_article_tells_shared_caches_it_varies_with_the_token(client, draft):
    _, token = draft
    public = client.get(f"/v1/articles/{PUBLISHED}")
    answers = {
        "public": public,
        "revalidated": client.get(
            f"/v1/articles/{PUBLISHED}", headers={"If-None-Match": public.headers["ETag"]}
        ),
        "sections": client.get(f"/v1/articles/{PUBLISHED}?sections=causes"),
        "faqs": client.get(f"/v1/articles/{PUBLISHED}/faqs"),
        "related": client.get(f"/v1/articles/{PUBLISHED}/related"),
        "jsonld": client.get(f"/v1/articles/{PUBLISHED}/jsonld"),
        "draft, public": client.get("/v1/articles/sunburn-relief"),
        "draft, preview": client.get(
            "/v1/articles/sunburn-relief", headers={"X-Preview-Token": token}
        ),
        "refused": client.get("/v1/articles/sunburn-relief", headers={"X-Preview-Token": "x"}),
    }

    assert {name: answer.status_code for name, answer in answers.items()} == {
        "public": 200,
        "revalidated": 304,
        "sections": 200,
        "faqs": 200,
        "related": 200,
        "jsonld": 200,
        "draft, public": 404,
        "draft, preview": 200,
        "refused": 401,
    }
    for name, answer in answers.items():
        assert "X-Preview-Token" in answer.vary, name
    # A list is the same for everyone.
    assert "X-Preview-Token" not in client.get("/v1/articles").vary
