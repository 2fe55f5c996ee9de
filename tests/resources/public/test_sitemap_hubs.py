"""Sitemaps list canonical pages only, and topic and person pages change with what they list."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

from cms_api.services.publishing import store
from tests.conftest import bearer
from tests.support.api import CLINICAL, PUBLISHABLE, SEEDED_ARTICLE, expect_created

NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
SITE = "https://www.example-health.org"
SEEDED_PAGE = f"{SITE}/articles/{SEEDED_ARTICLE}"


def _sitemap(client) -> dict[str, str]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.data)
    return {
        entry.findtext("sm:loc", namespaces=NS): entry.findtext("sm:lastmod", namespaces=NS)
        for entry in root.findall("sm:url", NS)
    }


def _publish(client, editor: str, reviewer: str, slug: str, **fields: Any) -> str:
    """Create an article (by a seeded author unless told), have it approved and published;
    its admin URL."""
    authors = fields.pop("authors", ["rafael-oyelaran"])
    created = client.post(
        "/v1/admin/articles",
        json={"slug": slug, "title": slug.replace("-", " ").title(), "summary": "A test."}
        | PUBLISHABLE
        | fields,
        headers=bearer(editor),
    )
    expect_created(created, slug)
    url = created.headers["Location"]
    named = client.put(
        f"{url}/authors",
        json={"authors": authors},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    assert named.status_code == 200, named.get_json()
    assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200
    _approve_and_publish(client, editor, reviewer, url)
    return url


def _approve_and_publish(client, editor: str, reviewer: str, url: str) -> None:
    approved = client.post(f"{url}/approve", json=CLINICAL, headers=bearer(reviewer))
    assert approved.status_code == 200, approved.get_json()
    published = client.post(f"{url}/publish", json={}, headers=bearer(editor))
    assert published.status_code == 200, published.get_json()


def _graph(client, slug: str) -> dict[str, Any]:
    response = client.get(f"/v1/articles/{slug}/jsonld")
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


def _typed(graph: dict[str, Any], type_name: str) -> dict[str, Any]:
    [node] = [node for node in graph["@graph"] if node["@type"] == type_name]
    return node


def test_an_article_whose_canonical_is_another_page_is_left_out_with_ids_of_its_own(
    client, make_token
):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    _publish(client, editor, reviewer, "botox-headache-copy", canonical_url=SEEDED_PAGE)

    urls = _sitemap(client)
    assert f"{SITE}/articles/botox-headache-copy" not in urls
    assert SEEDED_PAGE in urls

    copy, seeded = _graph(client, "botox-headache-copy"), _graph(client, SEEDED_ARTICLE)
    page, article = _typed(copy, "MedicalWebPage"), _typed(copy, "Article")
    own = f"{SITE}/articles/botox-headache-copy"
    assert (page["@id"], article["@id"]) == (f"{own}#webpage", f"{own}#article")
    assert page["breadcrumb"]["@id"] == f"{own}#breadcrumb"
    # The duplicate says which page is the one to index, as the canonical page does.
    assert page["url"] == article["url"] == SEEDED_PAGE
    ids = {node["@id"] for node in copy["@graph"] if node["@type"] in ("MedicalWebPage", "Article")}
    seeded_ids = {node["@id"] for node in seeded["@graph"]}
    assert ids.isdisjoint(seeded_ids)


def test_a_canonical_naming_the_articles_own_page_keeps_it_in_the_sitemap(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    # The same page written differently: host case, default port, trailing slash.
    written = "https://WWW.Example-Health.org:443/articles/self-canonical/"
    _publish(client, editor, reviewer, "self-canonical", canonical_url=written)

    urls = _sitemap(client)

    assert f"{SITE}/articles/self-canonical" in urls
    article = client.get("/v1/articles/self-canonical").get_json()
    assert urls[f"{SITE}/articles/self-canonical"] == article["updated_at"]
    page = _typed(_graph(client, "self-canonical"), "MedicalWebPage")
    assert page["@id"] == f"{SITE}/articles/self-canonical#webpage"


def test_related_links_point_at_the_related_articles_canonical_page(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    targets = [
        _publish(client, editor, reviewer, "botox-headache-copy", canonical_url=SEEDED_PAGE),
        _publish(client, editor, reviewer, "plain-related"),
    ]
    source = _publish(client, editor, reviewer, "links-to-both")
    for target in targets:
        target_id = client.get(target, headers=bearer(editor)).get_json()["id"]
        linked = client.post(
            f"{source}/links", json={"target_id": target_id}, headers=bearer(editor)
        )
        assert linked.status_code == 201, linked.get_json()

    related = client.get("/v1/articles/links-to-both").get_json()["related"]
    page = _typed(_graph(client, "links-to-both"), "MedicalWebPage")

    urls = {item["article"]["slug"]: item["url"] for item in related}
    assert urls == {
        "botox-headache-copy": SEEDED_PAGE,
        "plain-related": f"{SITE}/articles/plain-related",
    }
    assert page["relatedLink"] == [item["url"] for item in related]


def test_a_topics_lastmod_moves_when_an_article_it_lists_is_published_again(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer", person_slug="rafael-oyelaran")
    before = _sitemap(client)
    found = client.get(f"/v1/admin/articles?q={SEEDED_ARTICLE}", headers=bearer(editor))
    url = f"/v1/admin/articles/{found.get_json()['items'][0]['id']}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    edited = client.patch(
        url, json={"summary": "Revised."}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert edited.status_code == 200, edited.get_json()
    _approve_and_publish(client, editor, reviewer, url)

    after = _sitemap(client)

    updated = client.get(f"/v1/articles/{SEEDED_ARTICLE}").get_json()["updated_at"]
    assert updated > before[SEEDED_PAGE]
    # Its topic and the topic's parent list it; its author's page lists it too.
    for page in ("topics/headache", "topics/neurological-symptoms"):
        assert before[f"{SITE}/{page}"] < after[f"{SITE}/{page}"] == updated
    assert after[f"{SITE}/people/miriam-castellanos-reed"] == updated


def test_topics_and_people_with_nothing_published_are_absent_until_something_is(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    person = client.post(
        "/v1/admin/people",
        json={"slug": "new-writer", "name": "New Writer"},
        headers=bearer(editor),
    )
    expect_created(person, "person")
    urls = _sitemap(client)
    assert f"{SITE}/topics/migraine" not in urls
    assert client.get("/v1/topics/migraine").status_code == 200, "the page itself stays"
    assert f"{SITE}/people/new-writer" not in urls

    _publish(
        client, editor, reviewer, "migraine-basics", topics=["migraine"], authors=["new-writer"]
    )

    urls = _sitemap(client)
    updated = client.get("/v1/articles/migraine-basics").get_json()["updated_at"]
    assert urls[f"{SITE}/topics/migraine"] == updated
    assert urls[f"{SITE}/people/new-writer"] >= updated


def test_the_sitemap_etag_moves_when_a_hub_page_appears(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    first = client.get("/sitemap.xml")
    assert (
        client.get("/sitemap.xml", headers={"If-None-Match": first.headers["ETag"]}).status_code
        == 304
    )

    _publish(client, editor, reviewer, "migraine-basics", topics=["migraine"])

    again = client.get("/sitemap.xml", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    assert f"{SITE}/topics/migraine" in again.get_data(as_text=True)


def test_a_topics_lastmod_moves_when_an_article_leaves_it(client, make_token, monkeypatch):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    _publish(client, editor, reviewer, "migraine-basics", topics=["migraine"])
    leaving = _publish(client, editor, reviewer, "migraine-triggers", topics=["migraine"])
    before = _sitemap(client)[f"{SITE}/topics/migraine"]
    # The move is published an hour later, so the lastmod it gives cannot tie `before`.
    later = datetime.now(UTC) + timedelta(hours=1)
    monkeypatch.setattr(store, "utcnow", lambda: later)

    etag = client.get(leaving, headers=bearer(editor)).headers["ETag"]
    moved = client.patch(
        leaving, json={"topics": ["headache"]}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert moved.status_code == 200, moved.get_json()
    _approve_and_publish(client, editor, reviewer, leaving)

    after = _sitemap(client)
    # The topic still lists migraine-basics, whose last change is older than `before`: only
    # the article that left can have moved the topic's lastmod.
    assert client.get("/v1/articles/migraine-basics").get_json()["updated_at"] <= before
    assert after[f"{SITE}/topics/migraine"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"{SITE}/topics/headache" in after
