"""JSON-LD pictures: the article's image in three crops, the page's primary image, people, logo."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask.testing import FlaskClient

from cms_api.database import db
from cms_api.services.publishing.articles import publish_article
from tests.conftest import bearer
from tests.support.api import AUTHOR_PERSON, SEEDED_ARTICLE

SITE = "https://www.example-health.org"


def _graph(client: FlaskClient, slug: str = SEEDED_ARTICLE) -> dict[str, Any]:
    response = client.get(f"/v1/articles/{slug}/jsonld")
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


def _node(graph: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(node for node in graph["@graph"] if node["@type"] == kind)


def test_the_article_image_is_three_crops_each_at_least_50000_pixels(client):
    graph = _graph(client)
    document = client.get(f"/v1/articles/{SEEDED_ARTICLE}").get_json()

    nodes = {node.get("@id"): node for node in graph["@graph"]}
    # Each crop is a node of its own that the article and the page refer to.
    images = [nodes[ref["@id"]] for ref in _node(graph, "Article")["image"]]
    assert [round(item["width"] / item["height"], 2) for item in images] == [1.78, 1.33, 1.0]
    for item, crop in zip(images, document["lead_image"]["ratios"].values(), strict=True):
        assert item["@type"] == "ImageObject"
        assert item["url"] == crop["src"]
        assert item["width"] * item["height"] >= 50_000
        assert item["creditText"] == "Illustration: Example Health"
        assert item["license"] == "https://creativecommons.org/licenses/by/4.0/"
    page = _node(graph, "MedicalWebPage")
    assert page["primaryImageOfPage"] == {"@id": images[0]["@id"]}
    assert images[0]["@id"] == f"{SITE}/articles/{SEEDED_ARTICLE}#primaryimage"


def test_people_show_their_square_crop_and_the_publisher_its_logo(client):
    graph = _graph(client)
    document = client.get(f"/v1/articles/{SEEDED_ARTICLE}").get_json()

    person = next(
        node
        for node in graph["@graph"]
        if node["@type"] == "Person" and node["@id"].endswith(f"/{AUTHOR_PERSON}#person")
    )
    square = document["authors"][0]["image"]["ratios"]["1:1"]
    assert person["image"] == {
        "@type": "ImageObject",
        "url": square["src"],
        "width": square["width"],
        "height": square["height"],
    }
    logo = _node(graph, "Organization")["logo"]
    assert logo == {"@type": "ImageObject", **document["publisher"]["logo"]}
    assert logo["width"] >= 112 and logo["height"] >= 112


def test_a_person_without_a_library_image_falls_back_to_the_photo_url(client, editor):
    people = client.get("/v1/admin/people", headers=bearer(editor)).get_json()["items"]
    author = next(item for item in people if item["slug"] == AUTHOR_PERSON)
    url = f"/v1/admin/people/{author['id']}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    changed = client.patch(
        url, json={"image_id": None}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert changed.status_code == 200, changed.get_json()

    person = next(
        node
        for node in _graph(client)["@graph"]
        if node["@type"] == "Person" and node["@id"].endswith(f"/{AUTHOR_PERSON}#person")
    )
    assert person["image"] == author["photo_url"]
    assert client.get(f"/v1/people/{AUTHOR_PERSON}").get_json()["image"] is None


def test_an_article_without_a_lead_image_claims_none(client, editor, app):
    created = client.post(
        "/v1/admin/articles",
        json={"slug": "no-picture", "title": "No picture"},
        headers=bearer(editor),
    ).get_json()
    with app.app_context():
        publish_article(uuid.UUID(created["id"]))
        db.session.commit()

    graph = _graph(client, "no-picture")
    assert "image" not in _node(graph, "Article")
    assert "primaryImageOfPage" not in _node(graph, "MedicalWebPage")
