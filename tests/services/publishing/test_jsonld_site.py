"""The WebSite node: every article page is part of the publisher's site, by reference."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article
from cms_api.services.publishing.articles import refresh_articles
from tests.support.api import SEEDED_ARTICLE

BASE = "https://www.example-health.org"


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nodes(item)


def _graph(client, slug: str) -> dict[str, Any]:
    response = client.get(f"/v1/articles/{slug}/jsonld")
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


def _typed(graph: dict[str, Any], type_name: str) -> dict[str, Any]:
    [node] = [node for node in graph["@graph"] if node["@type"] == type_name]
    return node


def _published_slugs(client) -> list[str]:
    return [item["slug"] for item in client.get("/v1/articles?limit=100").get_json()["items"]]


def test_the_page_is_part_of_the_website_which_the_publisher_publishes(client):
    graph = _graph(client, SEEDED_ARTICLE)

    website, page = _typed(graph, "WebSite"), _typed(graph, "MedicalWebPage")
    publisher = _typed(graph, "Organization")
    assert website == {
        "@type": "WebSite",
        "@id": f"{BASE}/#website",
        "url": f"{BASE}/",
        "name": "Example Health",
        "publisher": {"@id": publisher["@id"]},
    }
    assert page["isPartOf"] == {"@id": website["@id"]}
    # No public search page is documented for the site, so no SearchAction.
    assert "potentialAction" not in website


def test_every_reference_in_every_article_graph_is_defined_once_in_it(client):
    slugs = _published_slugs(client)
    assert len(slugs) >= 7

    for slug in slugs:
        graph = _graph(client, slug)
        defined = [node["@id"] for node in graph["@graph"]]
        defined += [
            node["@id"]
            for node in _nodes(graph["@graph"])
            if "@id" in node and "@type" in node and node not in graph["@graph"]
        ]
        # Translations of the work are described in their own pages' graphs.
        local = [
            {key: value for key, value in node.items() if key != "workTranslation"}
            for node in graph["@graph"]
        ]
        referenced = {node["@id"] for node in _nodes(local) if set(node) == {"@id"}}
        assert len(defined) == len(set(defined)), slug
        assert referenced <= set(defined), (slug, referenced - set(defined))
        assert {"@id": f"{BASE}/#website"} == _typed(graph, "MedicalWebPage")["isPartOf"]


def test_the_website_follows_the_public_address_and_the_publishers_name(
    app, client, monkeypatch: pytest.MonkeyPatch
):
    settings = dataclasses.replace(
        app.config["CMS_SETTINGS"],
        public_base_url="https://health.example.net/",
        publisher_name="Example Net Health",
    )
    monkeypatch.setitem(app.config, "CMS_SETTINGS", settings)
    with app.app_context():
        refresh_articles(
            db.session.scalars(select(Article.id).where(Article.slug == SEEDED_ARTICLE))
        )
        db.session.commit()

    graph = _graph(client, SEEDED_ARTICLE)

    website = _typed(graph, "WebSite")
    assert website["@id"] == "https://health.example.net/#website"
    assert website["url"] == "https://health.example.net/"
    assert website["name"] == "Example Net Health"
    assert website["publisher"] == {"@id": "https://health.example.net/#organization"}
    assert _typed(graph, "MedicalWebPage")["isPartOf"] == {"@id": website["@id"]}
