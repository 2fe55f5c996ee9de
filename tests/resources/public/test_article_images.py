"""Pictures readers get: lead, person and topic images, images in sections, and their changes."""

from __future__ import annotations

import io
import re
import uuid
from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import bearer
from tests.support.api import CLINICAL, NO_ID, PROBLEM, PUBLISHABLE, SEEDED_ARTICLE
from tests.support.media import media_settings, picture

SRCSET_ENTRY = re.compile(r"^\S+/v1/media/[0-9a-f]{64}\.(jpg|webp) \d+w$")


@pytest.fixture(autouse=True)
def _own_media_store(app, tmp_path):
    """Uploads in these tests go to a store of their own."""
    with media_settings(app, media_root=str(tmp_path / "media")):
        yield


def _upload(client: FlaskClient, token: str, *, alt: str = "A sore jaw", **fields: Any) -> str:
    response = client.post(
        "/v1/admin/images",
        data={"file": (_jpeg(), "jaw.jpg"), "alt_text": alt, **fields},
        headers=bearer(token),
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _jpeg() -> io.BytesIO:
    return io.BytesIO(picture(1000, 700))


def _patch(client: FlaskClient, token: str, url: str, body: dict[str, Any]) -> Any:
    etag = client.get(url, headers=bearer(token)).headers["ETag"]
    return client.patch(url, json=body, headers=bearer(token, **{"If-Match": etag}))


def _publish_new(client: FlaskClient, editor: str, reviewer: str, **fields: Any) -> str:
    """An article created with `fields`, reviewed and published; its admin URL."""
    created = client.post(
        "/v1/admin/articles",
        json={"slug": f"jaw-{uuid.uuid4().hex[:8]}", "title": "Jaw pain", **PUBLISHABLE, **fields},
        headers=bearer(editor),
    )
    assert created.status_code == 201, created.get_json()
    url = created.headers["Location"]
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    client.put(
        f"{url}/authors",
        json={"authors": ["rafael-oyelaran"]},
        headers=bearer(editor, **{"If-Match": etag}),
    )
    _review_and_publish(client, editor, reviewer, url)
    return url


def _review_and_publish(client: FlaskClient, editor: str, reviewer: str, url: str) -> None:
    assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200
    approved = client.post(f"{url}/approve", json=CLINICAL, headers=bearer(reviewer))
    assert approved.status_code == 200, approved.get_json()
    published = client.post(f"{url}/publish", json={}, headers=bearer(editor))
    assert published.status_code == 200, published.get_json()


def _public(client: FlaskClient, admin_url: str, editor: str) -> dict[str, Any]:
    slug = client.get(admin_url, headers=bearer(editor)).get_json()["slug"]
    response = client.get(f"/v1/articles/{slug}")
    assert response.status_code == 200
    return response.get_json()


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))


def _imgs(html: str) -> list[dict[str, str | None]]:
    parser = _Images()
    parser.feed(html)
    return parser.images


def _assert_srcset(value: str | None, extension: str) -> None:
    assert value
    entries = value.split(", ")
    assert all(SRCSET_ENTRY.match(entry) for entry in entries), value
    assert all(entry.split(" ")[0].endswith(f".{extension}") for entry in entries)
    widths = [int(entry.rsplit(" ", 1)[1][:-1]) for entry in entries]
    assert widths == sorted(set(widths))


def test_a_seeded_article_shows_its_lead_image_ready_for_a_picture_element(client):
    document = client.get(f"/v1/articles/{SEEDED_ARTICLE}").get_json()

    image = document["lead_image"]
    assert image["alt"].startswith("Illustration of a person in profile")
    assert image["decorative"] is False
    assert image["credit"] == "Illustration: Example Health"
    assert image["license_url"] == "https://creativecommons.org/licenses/by/4.0/"
    assert (image["width"], image["height"]) == (800, 450)
    assert set(image["ratios"]) == {"16:9", "4:3", "1:1"}
    for ratio, crop in image["ratios"].items():
        across, down = map(int, ratio.split(":"))
        assert abs(crop["width"] / crop["height"] - across / down) < 0.01
        assert crop["src"].endswith(".jpg")
        # The fallback is the JPEG at the largest width.
        assert crop["srcset"]["jpeg"].split(", ")[-1] == f"{crop['src']} {crop['width']}w"
        _assert_srcset(crop["srcset"]["jpeg"], "jpg")
        _assert_srcset(crop["srcset"]["webp"], "webp")


def test_summaries_people_and_the_publisher_carry_their_pictures(client):
    listed = client.get("/v1/articles", query_string={"limit": 50}).get_json()["items"]
    assert listed and all(item["lead_image"] for item in listed)
    small = listed[0]["lead_image"]
    assert set(small["ratios"]) == {"16:9", "1:1"}
    assert all(crop["width"] <= 800 for crop in small["ratios"].values())

    document = client.get(f"/v1/articles/{SEEDED_ARTICLE}").get_json()
    author = document["authors"][0]
    assert author["image"]["alt"].startswith("Monogram of Dr.")
    assert author["photo_url"]  # kept for clients that read it
    assert document["publisher"]["logo"]["url"].endswith(".png")
    assert document["publisher"]["logo"]["width"] >= 112

    person = client.get(f"/v1/people/{author['slug']}").get_json()
    assert person["image"]["ratios"]["1:1"]["src"] == author["image"]["ratios"]["1:1"]["src"]
    # A related article's summary shows its lead image's small form.
    assert document["related"][0]["article"]["lead_image"]["ratios"]["16:9"]["src"]


def test_unknown_or_trashed_images_are_refused_when_attached(client, editor, admin_token):
    unknown = client.post(
        "/v1/admin/articles",
        json={"slug": "with-unknown-image", "title": "Unknown", "lead_image_id": NO_ID},
        headers=bearer(editor),
    )
    assert unknown.status_code == 422
    assert unknown.content_type == PROBLEM
    assert "lead_image_id" in unknown.get_json()["errors"]["json"]

    image_id = _upload(client, editor)
    trashed = client.delete(
        f"/v1/admin/images/{image_id}",
        headers=bearer(editor, **{"If-Match": _etag(client, editor, image_id)}),
    )
    assert trashed.status_code == 204
    refused = client.post(
        "/v1/admin/articles",
        json={"slug": "with-trashed-image", "title": "Trashed", "lead_image_id": image_id},
        headers=bearer(editor),
    )
    assert refused.status_code == 409
    assert refused.content_type == PROBLEM

    people = client.get("/v1/admin/people", headers=bearer(editor)).get_json()["items"]
    person_url = f"/v1/admin/people/{people[0]['id']}"
    assert _patch(client, editor, person_url, {"image_id": NO_ID}).status_code == 422
    assert _patch(client, editor, person_url, {"image_id": image_id}).status_code == 409


def _etag(client: FlaskClient, token: str, image_id: str) -> str:
    return client.get(f"/v1/admin/images/{image_id}", headers=bearer(token)).headers["ETag"]


def test_a_new_lead_image_reaches_readers_only_when_its_revision_goes_live(
    client, editor, make_token
):
    reviewer = make_token("reviewer")
    first, second = _upload(client, editor, alt="First"), _upload(client, editor, alt="Second")
    url = _publish_new(client, editor, reviewer, lead_image_id=first)
    assert _public(client, url, editor)["lead_image"]["id"] == first

    edited = _patch(client, editor, url, {"lead_image_id": second})
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["lead_image_id"] == second
    assert edited.get_json()["status"] == "in_review"  # an edit of live content goes back
    diff = client.get(url, headers=bearer(editor)).get_json()["review_diff"]["changes"]
    assert diff["lead_image_id"] == {"from": first, "to": second}
    # Still the approved one for readers.
    assert _public(client, url, editor)["lead_image"]["id"] == first

    approved = client.post(f"{url}/approve", json=CLINICAL, headers=bearer(reviewer))
    assert approved.status_code == 200
    assert client.post(f"{url}/publish", json={}, headers=bearer(editor)).status_code == 200
    assert _public(client, url, editor)["lead_image"]["id"] == second


def test_images_in_sections_render_with_sizes_and_their_stored_alt_text(client, editor, make_token):
    reviewer = make_token("reviewer")
    image_id = _upload(client, editor, alt="A jaw joint, circled")
    body = f"Where it hurts:\n\n![](image:{image_id})\n\nAnd ![the joint](image:{image_id})."
    sections = [{"key": "overview", "heading": "Overview", "body": body}]
    url = _publish_new(client, editor, reviewer, sections=sections)

    html = _public(client, url, editor)["sections"][0]["body_html"]
    plain, captioned = _imgs(html)
    assert plain["alt"] == "A jaw joint, circled"
    assert captioned["alt"] == "the joint"
    for img in (plain, captioned):
        assert img["src"] and img["src"].endswith(".jpg")
        _assert_srcset(img["srcset"], "jpg")
        assert img["sizes"] and img["width"] and img["height"]
        assert img["loading"] == "lazy"
    assert "image:" not in html


def test_a_section_showing_an_unknown_image_is_refused_naming_the_section(client, editor):
    sections = [
        {"key": "overview", "heading": "Overview", "body": "Fine."},
        {"key": "causes", "heading": "Causes", "body": f"![jaw](image:{NO_ID})"},
    ]
    response = client.post(
        "/v1/admin/articles",
        json={"slug": "unknown-section-image", "title": "Jaw", "sections": sections},
        headers=bearer(editor),
    )

    assert response.status_code == 422
    problem = response.get_json()
    assert "'causes'" in problem["detail"]
    assert problem["errors"]["json"]["sections"]["1"]["body"]


def test_alt_text_and_trash_re_render_the_documents_showing_the_image(client, editor, make_token):
    reviewer = make_token("reviewer")
    image_id = _upload(client, editor, alt="Before")
    sections = [{"key": "overview", "heading": "Overview", "body": f"![](image:{image_id})"}]
    url = _publish_new(client, editor, reviewer, lead_image_id=image_id, sections=sections)

    image_url = f"/v1/admin/images/{image_id}"
    assert _patch(client, editor, image_url, {"alt_text": "After"}).status_code == 200
    document = _public(client, url, editor)
    assert document["lead_image"]["alt"] == "After"
    assert _imgs(document["sections"][0]["body_html"])[0]["alt"] == "After"

    trashed = client.delete(
        image_url, headers=bearer(editor, **{"If-Match": _etag(client, editor, image_id)})
    )
    assert trashed.status_code == 204
    document = _public(client, url, editor)
    assert document["lead_image"] is None
    assert _imgs(document["sections"][0]["body_html"]) == []


def test_a_topic_shows_its_image(client, editor):
    image_id = _upload(client, editor, alt="A head with a headache")
    topics = client.get("/v1/admin/topics", query_string={"q": "headache"}, headers=bearer(editor))
    topic = next(item for item in topics.get_json()["items"] if item["slug"] == "headache")

    changed = _patch(client, editor, f"/v1/admin/topics/{topic['id']}", {"image_id": image_id})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["image_id"] == image_id
    image = client.get("/v1/topics/headache").get_json()["image"]
    assert image["alt"] == "A head with a headache"
    assert image["ratios"]["4:3"]["srcset"]["webp"]
