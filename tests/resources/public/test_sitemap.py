"""Sitemaps: every published page with its last substantive change; an index past 50,000."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text

from cms_api.database import db
from tests.conftest import bearer

NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
SITE = "https://www.example-health.org"


def _urls(response) -> dict[str, str]:
    assert response.status_code == 200
    assert response.content_type == "application/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    return {
        entry.findtext("sm:loc", namespaces=NS): entry.findtext("sm:lastmod", namespaces=NS)
        for entry in root.findall("sm:url", NS)
    }


def _published_pages(client) -> set[str]:
    """Every published page that is its own canonical page and lists or says something."""
    articles = client.get("/v1/articles?limit=100").get_json()["items"]
    people = client.get("/v1/people?limit=100").get_json()["items"]
    topics: list[dict] = []
    stack = client.get("/v1/topics").get_json()["items"]
    while stack:
        topic = stack.pop()
        # A topic page that lists nothing published is left out.
        page = client.get(f"/v1/topics/{topic['slug']}").get_json()
        if page["articles"]["total"] or page["faqs"]:
            topics.append(topic)
        stack += topic.get("children", [])
    return (
        {f"{SITE}/articles/{item['slug']}" for item in articles}
        | {f"{SITE}/people/{item['slug']}" for item in people}
        | {f"{SITE}/topics/{item['slug']}" for item in topics}
    )


def test_the_sitemap_lists_every_published_page(client):
    urls = _urls(client.get("/sitemap.xml"))

    assert set(urls) == _published_pages(client)
    article = client.get("/v1/articles/headache-after-botox").get_json()
    assert urls[f"{SITE}/articles/headache-after-botox"] == article["updated_at"]
    assert f"{SITE}/topics/headache" in urls
    assert f"{SITE}/people/tobias-lindqvist" in urls


def test_lastmod_is_the_last_substantive_change_not_the_render_time(client, make_token):
    editor = make_token("editor")
    before = client.get("/sitemap.xml")
    lastmod = _urls(before)[f"{SITE}/articles/headache-after-botox"]
    reviewer = client.get("/v1/admin/people?q=tobias-lindqvist", headers=bearer(editor))
    url = f"/v1/admin/people/{reviewer.get_json()['items'][0]['id']}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]

    # A reviewer's new job title re-renders the article that shows the reviewer.
    changed = client.patch(
        url,
        json={"job_title": "Consultant Dermatologist"},
        headers=bearer(editor, **{"If-Match": etag}),
    )
    assert changed.status_code == 200

    after = client.get("/sitemap.xml", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200, "a re-render is a new sitemap version"
    urls = _urls(after)
    assert urls[f"{SITE}/articles/headache-after-botox"] == lastmod
    assert urls[f"{SITE}/people/tobias-lindqvist"] >= lastmod


def test_a_seeded_article_was_last_changed_on_its_seed_date_not_when_seeds_were_loaded(client):
    lastmod = _urls(client.get("/sitemap.xml"))[f"{SITE}/articles/headache-after-botox"]
    article = client.get("/v1/articles/headache-after-botox").get_json()

    # seeds/articles/headache-after-botox.yaml: published_at 2026-10-05T09:00:00Z, and a
    # correction published 2026-10-20T09:00:00Z (a content change: lastmod moves with it).
    assert article["published_at"] == "2026-10-05T09:00:00Z"
    assert lastmod == article["updated_at"] == "2026-10-20T09:00:00Z"


def test_revalidation_answers_304(client):
    first = client.get("/sitemap.xml")

    again = client.get("/sitemap.xml", headers={"If-None-Match": first.headers["ETag"]})

    assert again.status_code == 304
    assert again.headers["ETag"] == first.headers["ETag"]
    assert "max-age" in again.headers["Cache-Control"]


def test_past_the_limit_the_sitemap_becomes_an_index_of_numbered_sitemaps(app, client):
    expected = _published_pages(client)
    settings = app.config["CMS_SETTINGS"]
    app.config["CMS_SETTINGS"] = dataclasses.replace(settings, sitemap_max_urls=5)
    try:
        response = client.get("/sitemap.xml")
        assert response.status_code == 200
        root = ET.fromstring(response.data)
        assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
        locations = [item.findtext("sm:loc", namespaces=NS) for item in root]
        assert len(locations) == -(-len(expected) // 5)
        assert locations[0] == "http://localhost/sitemaps/1.xml"
        seen: set[str] = set()
        for number, location in enumerate(locations, start=1):
            page = _urls(client.get(location.removeprefix("http://localhost")))
            assert 0 < len(page) <= 5
            assert seen.isdisjoint(page)
            seen |= set(page)
            newest = max(page.values())
            assert root[number - 1].findtext("sm:lastmod", namespaces=NS) == newest
        assert seen == expected
        missing = client.get(f"/sitemaps/{len(locations) + 1}.xml")
        assert missing.status_code == 404
        assert missing.content_type == "application/problem+json"
    finally:
        app.config["CMS_SETTINGS"] = settings


@pytest.mark.slow
def test_fifty_thousand_and_one_urls_make_two_sitemaps(app, client):
    count = len(_urls(client.get("/sitemap.xml")))
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO published_documents (kind, entity_id, slug, body, summary, etag, "
                "tags, published_at, updated_at, title, sort_title, reviewed_on) "
                "SELECT 'article', gen_random_uuid(), 'bulk-' || n, '{}', '{}', '\"x\"', '{}', "
                "now(), now(), 'Bulk', 'bulk', current_date FROM generate_series(1, :n) AS n"
            ),
            {"n": 50_001 - count},
        )
        # Publishing announces what it writes; rows written by hand must say so too, or a
        # worker keeps answering from the sitemap it made before.
        db.session.execute(
            text(
                "INSERT INTO change_events (kind, entity_id, slug, action) "
                "VALUES ('article', gen_random_uuid(), 'bulk-1', 'published')"
            )
        )
        db.session.commit()

    root = ET.fromstring(client.get("/sitemap.xml").data)

    assert [item.findtext("sm:loc", namespaces=NS) for item in root] == [
        "http://localhost/sitemaps/1.xml",
        "http://localhost/sitemaps/2.xml",
    ]
    assert len(_urls(client.get("/sitemaps/1.xml"))) == 50_000
    assert len(_urls(client.get("/sitemaps/2.xml"))) == 1


def test_query_parameters_and_bad_numbers_are_refused(client):
    assert client.get("/sitemap.xml?page=2").status_code == 400
    assert client.get("/sitemaps/0.xml").status_code == 404
    assert client.get("/sitemaps/99999999999999999999.xml").status_code == 404
