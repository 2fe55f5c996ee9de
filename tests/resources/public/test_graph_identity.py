"""One node key in every graph export: each reads back as exactly the published articles."""

from __future__ import annotations

import csv
import inspect
import io
import uuid
import warnings
import xml.etree.ElementTree as ET

import igraph
import networkx as nx
import pytest
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, ArticleAuthor, ArticleTopic, Person, RelatedLink, Topic
from cms_api.services.discovery.graph import cache as graph_cache
from cms_api.services.publishing.articles import publish_article
from cms_api.services.publishing.site import page_url
from tests.conftest import bearer

GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"
GEXF = "{http://gexf.net/1.3}"
# On a topic, so on its topic page, and linked from and to nothing.
ISOLATED = "jaw-stiffness-in-the-morning"
# On no topic and linked from nothing: no topics, no click depth.
UNREACHABLE = "lonely-article"
CANONICAL = "https://partner.example.org/guides/jaw-pain"
NODE_COLUMNS = [
    "Id",
    "Label",
    "uuid",
    "url",
    "topics",
    "inlinks",
    "outlinks",
    "click_depth",
    "link_score",
    "orphan",
]


@pytest.fixture(autouse=True)
def _cold_cache():
    # Each test's data lives in its own rolled-back transaction; so does its graph.
    graph_cache.forget()
    yield
    graph_cache.forget()


def _publish_new(
    app,
    slug: str,
    *,
    title: str | None = None,
    topic: str | None = None,
    canonical_url: str | None = None,
    links_from: tuple[str, ...] = (),
) -> uuid.UUID:
    with app.app_context():
        article = Article(
            id=uuid.uuid4(),
            slug=slug,
            title=title or f"About {slug}",
            summary="Short.",
            status="draft",
            canonical_url=canonical_url,
        )
        article.authorships = [ArticleAuthor(person=db.session.scalars(select(Person)).first())]
        if topic:
            found = db.session.scalars(select(Topic).where(Topic.slug == topic)).one()
            article.topic_links = [ArticleTopic(topic=found, position=0)]
        db.session.add(article)
        db.session.flush()
        for source in links_from:
            source_id = db.session.scalar(select(Article.id).where(Article.slug == source))
            db.session.add(RelatedLink(source_id=source_id, target_id=article.id, weight=0.7))
        db.session.flush()
        publish_article(article.id)
        db.session.commit()
        return article.id


def _republish(app, article_id: uuid.UUID) -> None:
    with app.app_context():
        publish_article(article_id)
        db.session.commit()


def _page(app, slug: str) -> str:
    with app.test_request_context():
        return page_url("article", slug)


def _published(client) -> dict[str, dict]:
    """The published articles as the public article list shows them, by slug."""
    listed = client.get("/v1/articles?limit=100").get_json()
    assert listed["page"]["next_cursor"] is None, "one page holds them all"
    return {item["slug"]: item for item in listed["items"]}


def _get(client, query: str):
    response = client.get(f"/v1/graph?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def _node_link_readings(document: dict) -> dict[str, nx.DiGraph]:
    """The JSON export read by node_link_graph in each keyword convention this networkx
    has: `edges=` (3.4 on, the default from 3.6) and the older `link=`."""
    parameters = inspect.signature(nx.node_link_graph).parameters
    readings = {}
    if "edges" in parameters:
        readings["edges="] = nx.node_link_graph(document, edges="edges")
        if parameters["edges"].default == "edges":
            readings["defaults"] = nx.node_link_graph(document)
    if "link" in parameters:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            readings["link="] = nx.node_link_graph(document, link="edges")
    assert readings
    return readings


def _readings(client, query: str = "") -> dict[str, nx.DiGraph]:
    prefix = f"{query}&" if query else ""
    readings = {
        f"json {name}": graph
        for name, graph in _node_link_readings(_get(client, f"{prefix}format=json").json).items()
    }
    graphml = _get(client, f"{prefix}format=graphml").get_data()
    readings["graphml"] = nx.read_graphml(io.BytesIO(graphml))
    readings["gexf"] = nx.read_gexf(io.BytesIO(_get(client, f"{prefix}format=gexf").get_data()))
    return readings


def _csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))


@pytest.fixture(params=["seeded", "with-isolated-articles"])
def site(request, app) -> str:
    if request.param == "with-isolated-articles":
        _publish_new(app, ISOLATED, topic="temporomandibular-disorders")
        _publish_new(app, UNREACHABLE)
    return request.param


def test_every_export_reads_back_as_exactly_the_published_articles(app, client, site):
    published = _published(client)
    document = _get(client, "format=json").json
    expected_edges = {(edge["source"], edge["target"]) for edge in document["edges"]}
    by_slug = {node["id"]: node for node in document["nodes"]}

    assert set(by_slug) == set(published)
    if site != "seeded":
        assert {ISOLATED, UNREACHABLE} <= set(published)
        assert by_slug[ISOLATED]["inlinks"] == by_slug[ISOLATED]["outlinks"] == 0
    for name, graph in _readings(client).items():
        assert graph.is_directed(), name
        assert graph.number_of_nodes() == len(published), name
        assert set(graph.nodes) == set(published), f"{name}: no phantom or lost node"
        assert set(graph.edges) == expected_edges, name
        for slug, data in graph.nodes(data=True):
            node = by_slug[slug]
            assert "id" not in data, name
            assert data["uuid"] == published[slug]["id"], name
            assert data["label" if name == "gexf" else "title"] == published[slug]["title"]
            assert data["url"] == node["url"], name
            assert data["inlinks"] == node["inlinks"], name
            assert data["outlinks"] == node["outlinks"], name
            assert data["link_score"] == node["link_score"], name
            assert data["orphan"] is node["orphan"], name
            topics = data.get("topics", [] if name.startswith("json") else "")
            assert (topics if name.startswith("json") else topics.split()) == [
                topic["slug"] for topic in published[slug]["topics"]
            ], name
            assert data.get("click_depth") == node["click_depth"], name


def test_graphml_names_no_node_attribute_id_and_igraph_keeps_the_slugs(client, site, tmp_path):
    body = _get(client, "format=graphml").get_data()
    published = _published(client)

    keys = ET.fromstring(body).findall(f"{GRAPHML}key")
    node_keys = {key.get("attr.name") for key in keys if key.get("for") in ("node", "all")}
    assert "id" not in node_keys, "igraph keeps the node's XML id in its `id` attribute"
    assert {"uuid", "title", "url", "topics", "link_score"} <= node_keys
    gexf = ET.fromstring(_get(client, "format=gexf").get_data())
    node_attributes = gexf.findall(f"{GEXF}graph/{GEXF}attributes[@class='node']/{GEXF}attribute")
    assert "id" not in {item.get("title") for item in node_attributes}
    assert "id" not in {item.get("id") for item in node_attributes}

    path = tmp_path / "related-articles.graphml"
    path.write_bytes(body)
    graph = igraph.Graph.Read_GraphML(str(path))
    assert graph.is_directed()
    assert sorted(graph.vs["id"]) == sorted(published)
    assert {v["id"]: v["uuid"] for v in graph.vs} == {
        slug: item["id"] for slug, item in published.items()
    }
    assert {v["id"]: v["title"] for v in graph.vs} == {
        slug: item["title"] for slug, item in published.items()
    }
    document = _get(client, "format=json").json
    edges = {(graph.vs[e.source]["id"], graph.vs[e.target]["id"]) for e in graph.es}
    assert edges == {(edge["source"], edge["target"]) for edge in document["edges"]}


def test_the_csv_node_table_lists_every_article_for_gephi(app, client, site):
    published = _published(client)
    nodes = {node["id"]: node for node in _get(client, "format=json").json["nodes"]}
    response = _get(client, "format=csv-nodes")

    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="related-articles-nodes.csv"'
    )
    assert response.get_data(as_text=True).startswith("Id,Label,")
    rows = _csv_rows(response)
    assert list(rows[0]) == NODE_COLUMNS
    assert [row["Id"] for row in rows] == sorted(published)
    for row in rows:
        node = nodes[row["Id"]]
        assert row["Label"] == published[row["Id"]]["title"]
        assert row["uuid"] == published[row["Id"]]["id"]
        assert row["url"] == node["url"]
        assert row["topics"].split() == node["topics"]
        assert int(row["inlinks"]) == node["inlinks"]
        assert int(row["outlinks"]) == node["outlinks"]
        assert float(row["link_score"]) == node["link_score"]
        assert row["orphan"] == ("true" if node["orphan"] else "false")
        assert row["click_depth"] == ("" if node["click_depth"] is None else "1")
    # The two tables together are the whole graph, isolated articles included.
    edges = _get(client, "format=csv")
    graph = nx.DiGraph()
    graph.add_nodes_from(row["Id"] for row in rows)
    graph.add_edges_from((row["Source"], row["Target"]) for row in _csv_rows(edges))
    assert graph.number_of_nodes() == len(published), "edges name only known nodes"
    if site != "seeded":
        assert {ISOLATED, UNREACHABLE} <= set(graph.nodes)
        assert graph.degree(ISOLATED) == graph.degree(UNREACHABLE) == 0
        assert nodes[UNREACHABLE]["click_depth"] is None


def test_the_edge_table_is_unchanged_and_each_table_has_its_own_tag(client):
    edges = _get(client, "format=csv")
    nodes = _get(client, "format=csv-nodes")

    assert edges.get_data(as_text=True).startswith("Source,Target,Type,Weight,Anchor,Relation\r\n")
    assert edges.headers["Content-Disposition"] == 'attachment; filename="related-articles.csv"'
    assert nodes.headers["ETag"] != edges.headers["ETag"]
    # A tag names one table: revalidating one never answers for the other.
    assert (
        client.get(
            "/v1/graph?format=csv-nodes", headers={"If-None-Match": nodes.headers["ETag"]}
        ).status_code
        == 304
    )
    again = client.get(
        "/v1/graph?format=csv-nodes", headers={"If-None-Match": edges.headers["ETag"]}
    )
    assert again.status_code == 200
    assert again.get_data() == nodes.get_data()
    assert _get(client, "format=csv").get_data() == edges.get_data(), "cached by its own tag"


@pytest.mark.parametrize("query", ["format=nodes", "format=csv&table=nodes", "format=CSV"])
def test_an_unknown_format_or_parameter_is_refused(client, query):
    response = client.get(f"/v1/graph?{query}")

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert set(response.get_json()["errors"]["query"]) & {"format", "table"}


def test_a_topic_node_table_keeps_its_articles_without_links(app, client):
    _publish_new(app, ISOLATED, topic="temporomandibular-disorders")
    on_topic = {
        item["slug"]
        for item in client.get(
            "/v1/articles?topic=temporomandibular-disorders&limit=100"
        ).get_json()["items"]
    }

    response = _get(client, "topic=temporomandibular-disorders&format=csv-nodes")

    assert response.headers["Content-Disposition"] == (
        'attachment; filename="related-articles-topic-temporomandibular-disorders-nodes.csv"'
    )
    assert {row["Id"] for row in _csv_rows(response)} == on_topic
    assert ISOLATED in on_topic
    edges = _csv_rows(_get(client, "topic=temporomandibular-disorders&format=csv"))
    assert all(row["Source"] in on_topic and row["Target"] in on_topic for row in edges)
    assert ISOLATED not in {row["Source"] for row in edges} | {row["Target"] for row in edges}


def test_a_title_a_spreadsheet_would_run_is_defused_in_the_node_table(app, client):
    title = '=HYPERLINK("http://evil.example","Click")'
    _publish_new(app, "formula-title", title=title)
    _publish_new(app, "spaced-formula-title", title=" +SUM(A1)")
    _publish_new(app, "quoted-title", title='Jaw pain, "clicking" and locking')

    rows = {row["Id"]: row for row in _csv_rows(_get(client, "format=csv-nodes"))}

    assert rows["formula-title"]["Label"] == "'" + title
    assert rows["spaced-formula-title"]["Label"] == "' +SUM(A1)"
    json_nodes = {node["id"]: node for node in _get(client, "format=json").json["nodes"]}
    assert json_nodes["formula-title"]["title"] == title, "only CSV needs the guard"
    assert rows["quoted-title"]["Label"] == 'Jaw pain, "clicking" and locking'
    assert rows["tmj-headache"]["Label"] == json_nodes["tmj-headache"]["title"]


def test_a_canonical_url_is_the_node_url_in_every_format(app, client, make_token):
    article_id = _publish_new(app, "jaw-pain-guide", canonical_url=CANONICAL)

    for name, graph in _readings(client).items():
        assert graph.nodes["jaw-pain-guide"]["url"] == CANONICAL, name
        assert graph.nodes["tmj-headache"]["url"] == _page(app, "tmj-headache"), name
    rows = {row["Id"]: row for row in _csv_rows(_get(client, "format=csv-nodes"))}
    assert rows["jaw-pain-guide"]["url"] == CANONICAL
    assert rows["tmj-headache"]["url"] == _page(app, "tmj-headache")

    # An edit readers cannot see yet leaves the graph alone; publishing it moves it.
    editor = make_token("editor")
    url = f"/v1/admin/articles/{article_id}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    graph_etag = _get(client, "format=json").headers["ETag"]
    moved = "https://partner.example.org/guides/jaw-pain-2"
    edited = client.patch(
        url, json={"canonical_url": moved}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert edited.status_code == 200, edited.get_json()
    graph_cache.forget()
    draft_time = _get(client, "format=json")
    assert draft_time.headers["ETag"] == graph_etag
    assert {node["id"]: node["url"] for node in draft_time.json["nodes"]}[
        "jaw-pain-guide"
    ] == CANONICAL

    _republish(app, article_id)
    published = _get(client, "format=json")
    assert published.headers["ETag"] != graph_etag
    assert {node["id"]: node["url"] for node in published.json["nodes"]}["jaw-pain-guide"] == moved
