"""The related-article graph: what SEO tools download, read back with a graph library."""

from __future__ import annotations

import csv
import io
import uuid

import networkx as nx
import pytest
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, ArticleAuthor, Person, RelatedLink
from cms_api.services.discovery.graph import cache as graph_cache
from cms_api.services.publishing.articles import publish_article
from cms_api.services.publishing.site import page_url
from tests.conftest import bearer

SEEDED = {
    "allergy-headache-relief",
    "ear-infection-headache",
    "headache-after-botox",
    "headache-with-ear-pain",
    "lip-filler-swelling",
    "liver-rash",
    "tmj-headache",
}
BOTOX = "headache-after-botox"


@pytest.fixture(autouse=True)
def _cold_cache():
    # Each test's data lives in its own rolled-back transaction; so does its graph.
    graph_cache.forget()
    yield
    graph_cache.forget()


def _json(client, query: str = "") -> dict:
    response = client.get(f"/v1/graph{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _edges(document: dict) -> dict[tuple[str, str], dict]:
    return {(edge["source"], edge["target"]): edge for edge in document["edges"]}


def _article_id(app, slug: str) -> uuid.UUID:
    with app.app_context():
        return db.session.scalar(select(Article.id).where(Article.slug == slug))


def _publish_new(app, slug: str, *, links_from: list[str] = ()) -> None:
    """Publish an article on no topic, so no topic page lists it."""
    with app.app_context():
        author = db.session.scalars(select(Person)).first()
        article = Article(
            id=uuid.uuid4(), slug=slug, title=f"About {slug}", summary="Short.", status="draft"
        )
        article.authorships = [ArticleAuthor(person=author)]
        db.session.add(article)
        db.session.flush()
        for source in links_from:
            source_id = db.session.scalar(select(Article.id).where(Article.slug == source))
            db.session.add(RelatedLink(source_id=source_id, target_id=article.id, weight=0.9))
        db.session.flush()
        publish_article(article.id)
        db.session.commit()


def _page(app, slug: str) -> str:
    with app.test_request_context():
        return page_url("article", slug)


def test_the_json_export_shows_every_published_article_and_live_link(app, client):
    response = client.get("/v1/graph")

    assert response.status_code == 200
    assert response.content_type == "application/json"
    assert response.headers["ETag"].startswith('"')
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert response.headers["Content-Disposition"] == 'inline; filename="related-articles.json"'
    document = response.get_json()
    assert document["directed"] is True
    nodes = {node["slug"]: node for node in document["nodes"]}
    assert set(nodes) == SEEDED
    assert [node["slug"] for node in document["nodes"]] == sorted(SEEDED), "stable order"
    botox = nodes[BOTOX]
    assert botox["url"] == _page(app, BOTOX)
    assert botox["url"].startswith("https://www.example-health.org/")
    assert botox["title"] == "Headache After Botox: Causes, Prevention and Treatment"
    assert botox["topics"] == ["headache", "cosmetic-injectables"]
    assert botox["outlinks"] == 6
    assert botox["id"] == BOTOX
    assert uuid.UUID(botox["uuid"])
    edges = _edges(document)
    assert len(edges) == 23
    assert edges[(BOTOX, "tmj-headache")] == {
        "source": BOTOX,
        "target": "tmj-headache",
        "relation": "differential",
        "anchor_text": "TMJ headache",
        "weight": 0.6,
    }
    assert sum(node["inlinks"] for node in nodes.values()) == len(edges)
    # Every seeded article is listed on a topic page, so each is one click from a hub.
    assert {node["click_depth"] for node in nodes.values()} == {1}
    assert not any(node["orphan"] for node in nodes.values())
    assert sum(node["link_score"] for node in nodes.values()) == pytest.approx(1.0)


def _read_back(response) -> nx.DiGraph:
    """The export as a generic graph library reads it."""
    body = response.get_data()
    if response.mimetype == "application/json":
        return nx.node_link_graph(response.get_json(), edges="edges", name="slug")
    if response.mimetype == "application/graphml+xml":
        return nx.read_graphml(io.BytesIO(body))
    if response.mimetype == "application/gexf+xml":
        return nx.read_gexf(io.BytesIO(body))
    assert response.mimetype == "text/csv"
    graph = nx.DiGraph()
    for row in csv.DictReader(io.StringIO(body.decode("utf-8"))):
        assert row["Type"] == "Directed"
        graph.add_edge(
            row["Source"],
            row["Target"],
            weight=float(row["Weight"]),
            relation=row["Relation"],
            anchor_text=row["Anchor"] or None,
        )
    return graph


@pytest.mark.parametrize(
    ("export_format", "content_type", "filename"),
    [
        ("json", "application/json", "related-articles.json"),
        ("graphml", "application/graphml+xml", "related-articles.graphml"),
        ("gexf", "application/gexf+xml", "related-articles.gexf"),
        ("csv", "text/csv; charset=utf-8", "related-articles.csv"),
    ],
)
def test_every_format_reads_back_as_the_same_graph_with_the_same_scores(
    client, export_format, content_type, filename
):
    reference = _json(client)
    response = client.get(f"/v1/graph?format={export_format}")

    assert response.status_code == 200
    assert response.content_type == content_type
    disposition = "inline" if export_format == "json" else "attachment"
    assert response.headers["Content-Disposition"] == f'{disposition}; filename="{filename}"'
    graph = _read_back(response)
    assert graph.is_directed()
    assert set(graph.nodes) == {node["slug"] for node in reference["nodes"]}
    expected_edges = _edges(reference)
    assert set(graph.edges) == set(expected_edges)
    for (source, target), data in graph.edges.items():
        expected = expected_edges[(source, target)]
        assert data["weight"] == expected["weight"]
        assert data["relation"] == expected["relation"]
        assert data.get("anchor_text") == expected["anchor_text"]
    # A tool computing PageRank on the file finds the scores the export states.
    scores = nx.pagerank(graph, alpha=0.85, weight="weight")
    for node in reference["nodes"]:
        assert scores[node["slug"]] == pytest.approx(node["link_score"], rel=1e-9, abs=1e-12)
        if export_format in ("graphml", "gexf"):
            read = graph.nodes[node["slug"]]
            assert read["link_score"] == node["link_score"]
            assert read["inlinks"] == node["inlinks"]
            assert read["outlinks"] == node["outlinks"]
            assert read["click_depth"] == node["click_depth"]
            assert read["orphan"] is node["orphan"]
            assert read["url"] == node["url"]
            assert read["topics"].split() == node["topics"]
            title = read["label"] if export_format == "gexf" else read["title"]
            assert title == node["title"]


def test_revalidation_answers_304_until_the_graph_changes(app, client, make_token):
    first = client.get("/v1/graph?format=gexf")
    etag = first.headers["ETag"]

    again = client.get("/v1/graph?format=gexf", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["ETag"] == etag
    assert again.get_data() == b""
    assert client.get("/v1/graph?format=csv").headers["ETag"] != etag, "one tag per format"

    editor = make_token("editor")
    source = _article_id(app, BOTOX)
    links = client.get(f"/v1/admin/articles/{source}/links", headers=bearer(editor)).get_json()
    link = next(item for item in links["items"] if item["target"] == "tmj-headache")
    url = f"/v1/admin/links/{link['id']}"
    link_etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    edited = client.patch(
        url, json={"weight": 0.95}, headers=bearer(editor, **{"If-Match": link_etag})
    )
    assert edited.status_code == 200

    changed = client.get("/v1/graph?format=gexf", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert _edges(_json(client))[(BOTOX, "tmj-headache")]["weight"] == 0.95


def test_trashed_links_and_unpublished_articles_leave_the_graph(app, client, make_token):
    editor = make_token("editor")
    source = _article_id(app, BOTOX)
    links = client.get(f"/v1/admin/articles/{source}/links", headers=bearer(editor)).get_json()
    link = next(item for item in links["items"] if item["target"] == "liver-rash")
    url = f"/v1/admin/links/{link['id']}"
    link_etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    trashed = client.delete(url, headers=bearer(editor, **{"If-Match": link_etag}))
    assert trashed.status_code == 204

    assert (BOTOX, "liver-rash") not in _edges(_json(client))

    tmj = _article_id(app, "tmj-headache")
    unpublished = client.post(f"/v1/admin/articles/{tmj}/unpublish", headers=bearer(editor))
    assert unpublished.status_code == 200, unpublished.get_json()

    document = _json(client)
    assert "tmj-headache" not in {node["slug"] for node in document["nodes"]}
    assert not [edge for edge in document["edges"] if "tmj-headache" in edge.values()]
    # Links to unpublished targets are for editors only (the public report names none).
    assert "broken_links" not in client.get("/v1/graph/report").get_json()
    report = client.get("/v1/admin/graph/report", headers=bearer(editor)).get_json()
    broken = {(item["source"], item["target"]): item for item in report["broken_links"]}
    assert set(broken) == {
        (BOTOX, "tmj-headache"),
        ("headache-with-ear-pain", "tmj-headache"),
    }
    assert broken[(BOTOX, "tmj-headache")] == {
        "source": BOTOX,
        "target": "tmj-headache",
        "relation": "differential",
        "anchor_text": "TMJ headache",
        "reason": "target_not_published",
        "target_status": "draft",
    }
    assert report["counts"]["broken_links"] == 2


def test_click_depth_counts_hops_from_the_topic_pages(app, client):
    # Linked only from a seeded article (one click from a topic page): two clicks.
    _publish_new(app, "jaw-clicking", links_from=["tmj-headache"])
    # Linked only from that one: three. On no topic page and linked from nowhere: none.
    _publish_new(app, "jaw-exercises", links_from=["jaw-clicking"])
    _publish_new(app, "lonely-article")

    nodes = {node["slug"]: node for node in _json(client)["nodes"]}

    assert nodes["tmj-headache"]["click_depth"] == 1
    assert nodes["jaw-clicking"]["click_depth"] == 2
    assert nodes["jaw-exercises"]["click_depth"] == 3
    assert nodes["lonely-article"]["click_depth"] is None
    assert nodes["lonely-article"]["orphan"] is True
    assert nodes["lonely-article"]["inlinks"] == nodes["lonely-article"]["outlinks"] == 0
    graphml = _read_back(client.get("/v1/graph?format=graphml"))
    assert "click_depth" not in graphml.nodes["lonely-article"], "null is left out"
    report = client.get("/v1/graph/report").get_json()
    assert [item["slug"] for item in report["orphans"]] == ["lonely-article"]
    assert [item["slug"] for item in report["dead_ends"]] == ["jaw-exercises", "lonely-article"]
    assert report["orphans"][0]["url"] == _page(app, "lonely-article")


def test_a_topic_keeps_its_articles_and_the_links_among_them(client):
    listed = client.get("/v1/articles?topic=ear-conditions&limit=100").get_json()["items"]
    on_topic = {item["slug"] for item in listed}

    document = _json(client, "?topic=ear-conditions")

    assert {node["slug"] for node in document["nodes"]} == on_topic
    assert on_topic and on_topic < SEEDED
    for edge in document["edges"]:
        assert edge["source"] in on_topic and edge["target"] in on_topic
    everything = _edges(_json(client))
    assert set(_edges(document)) == {key for key in everything if set(key) <= on_topic}
    # Scores describe the graph served, so a tool reading the file agrees.
    graph = nx.node_link_graph(document, edges="edges", name="slug")
    scores = nx.pagerank(graph, alpha=0.85, weight="weight")
    for node in document["nodes"]:
        assert node["link_score"] == pytest.approx(scores[node["slug"]], rel=1e-9)
    response = client.get("/v1/graph?topic=ear-conditions&format=csv")
    assert (
        'filename="related-articles-topic-ear-conditions.csv"'
        in (response.headers["Content-Disposition"])
    )
    assert _json(client, "?topic=no-such-topic") == {
        **document,
        "nodes": [],
        "edges": [],
    }


def test_a_root_keeps_the_articles_within_depth_links_either_way(client):
    document = _json(client, "?root=lip-filler-swelling")  # depth 1 by default

    # It links to headache-after-botox and allergy-headache-relief; headache-after-botox
    # and liver-rash link to it.
    assert {node["slug"] for node in document["nodes"]} == {
        "lip-filler-swelling",
        BOTOX,
        "allergy-headache-relief",
        "liver-rash",
    }
    assert (BOTOX, "allergy-headache-relief") in _edges(document), "links among them too"
    wider = _json(client, "?root=lip-filler-swelling&depth=2")
    assert {node["slug"] for node in wider["nodes"]} == SEEDED
    both = _json(client, "?root=lip-filler-swelling&topic=cosmetic-injectables")
    assert {node["slug"] for node in both["nodes"]} == {"lip-filler-swelling", BOTOX}
    gexf = client.get("/v1/graph?root=liver-rash&depth=3&format=gexf")
    assert gexf.headers["Content-Disposition"] == (
        'attachment; filename="related-articles-around-liver-rash-depth-3.gexf"'
    )


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [
        ("?root=no-such-article", 404, None),
        ("?depth=2", 400, "depth"),
        ("?root=liver-rash&depth=0", 400, "depth"),
        ("?root=liver-rash&depth=6", 400, "depth"),
        ("?root=liver-rash&depth=two", 400, "depth"),
        ("?root=Not%20A%20Slug", 400, "root"),
        ("?format=xml", 400, "format"),
        ("?format=json&format=csv", 400, "format"),
        ("?topic=%00", 400, "topic"),
        ("?sort=title", 400, "sort"),
    ],
)
def test_bad_queries_get_a_problem_document(client, query, status, parameter):
    response = client.get(f"/v1/graph{query}")

    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status
    if parameter:
        assert problem["type"] == "/problems/invalid-parameter"
        assert parameter in problem["errors"]["query"]
        assert f"'{parameter}'" in problem["detail"]


def test_the_report_of_the_seeded_site(client):
    response = client.get("/v1/graph/report")

    assert response.status_code == 200
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"].startswith("public")
    report = response.get_json()
    assert report == {
        "counts": {
            "articles": 7,
            "links": 23,
            "orphans": 0,
            "dead_ends": 0,
        },
        "orphans": [],
        "dead_ends": [],
    }
    etag = response.headers["ETag"]
    assert client.get("/v1/graph/report", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/v1/graph/report?format=csv").status_code == 400


def test_a_trashed_target_is_a_broken_link_of_its_own_kind(app, client, make_token):
    editor = make_token("editor")
    liver = _article_id(app, "liver-rash")
    etag = client.get(f"/v1/admin/articles/{liver}", headers=bearer(editor)).headers["ETag"]
    trashed = client.delete(
        f"/v1/admin/articles/{liver}", headers=bearer(editor, **{"If-Match": etag})
    )
    assert trashed.status_code == 204, trashed.get_json()

    report = client.get("/v1/admin/graph/report", headers=bearer(editor)).get_json()

    assert {(item["target"], item["reason"]) for item in report["broken_links"]} == {
        ("liver-rash", "target_trashed")
    }
    assert [item["source"] for item in report["broken_links"]] == [BOTOX]
