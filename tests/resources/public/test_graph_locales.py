"""The link graph per locale: a locale's articles, its translations' links mapped from originals."""

from __future__ import annotations

import io
import uuid

import networkx as nx
import pytest
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, ArticleAuthor, RelatedLink
from cms_api.services.discovery.graph import cache as graph_cache
from cms_api.services.publishing.articles import publish_article
from tests.conftest import bearer
from tests.resources.public.test_sitemap_locales import publish_original, publish_translation

SITE = "https://www.example-health.org"
BOTOX = "headache-after-botox"
TMJ = "tmj-headache"
TMJ_ES = "cefalea-por-trastorno-temporomandibular"


@pytest.fixture(autouse=True)
def _cold_cache():
    # Each test's data lives in its own rolled-back transaction; so does its graph.
    graph_cache.forget()
    yield
    graph_cache.forget()


@pytest.fixture
def translated(app) -> uuid.UUID:
    """A Spanish translation of a seeded article that a seeded article links to."""
    return publish_translation(
        app, TMJ, "es", TMJ_ES, title="Cefalea por trastorno temporomandibular"
    )


def _graph(client, query: str = "") -> dict:
    response = client.get(f"/v1/graph{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _edges(document: dict) -> dict[tuple[str, str], dict]:
    return {(edge["source"], edge["target"]): edge for edge in document["edges"]}


def _spanish_slugs(app) -> dict[str, str]:
    """The Spanish slug of each default-locale article translated and published in Spanish."""
    with app.app_context():
        rows = db.session.execute(
            select(Article.slug, Article.source_id).where(
                Article.locale == "es", Article.live_revision.is_not(None)
            )
        ).all()
        originals = dict(
            db.session.execute(
                select(Article.id, Article.slug).where(Article.id.in_([r[1] for r in rows]))
            ).all()
        )
    return {originals[source]: slug for slug, source in rows if source in originals}


def test_a_locale_has_its_articles_and_its_originals_links_between_them(app, client, translated):
    english = _graph(client)
    response = client.get("/v1/graph?locale=es")

    assert response.headers["Content-Language"] == "es"
    spanish = response.get_json()
    in_spanish = _spanish_slugs(app)
    assert in_spanish[TMJ] == TMJ_ES
    nodes = {node["slug"]: node for node in spanish["nodes"]}
    assert set(nodes) == set(in_spanish.values())
    assert nodes[TMJ_ES]["url"] == f"{SITE}/es/articles/{TMJ_ES}"
    assert nodes[TMJ_ES]["title"] == "Cefalea por trastorno temporomandibular"
    # Every link between two originals with Spanish translations, and no other.
    expected = {
        (in_spanish[source], in_spanish[target])
        for source, target in _edges(english)
        if source in in_spanish and target in in_spanish
    }
    assert set(_edges(spanish)) == expected
    edge = _edges(spanish)[(in_spanish[BOTOX], TMJ_ES)]
    original = _edges(english)[(BOTOX, TMJ)]
    assert original["anchor_text"] == "TMJ headache"
    assert edge == {**original, "source": in_spanish[BOTOX], "target": TMJ_ES, "anchor_text": None}
    # The original links to six articles; only the translated one is in the Spanish graph.
    assert nodes[in_spanish[BOTOX]]["outlinks"] == 1
    assert nodes[TMJ_ES]["inlinks"] == 1 and not nodes[TMJ_ES]["orphan"]
    # The Spanish headache page lists both: each is one click from a topic page.
    assert nodes[TMJ_ES]["click_depth"] == 1
    assert sum(node["link_score"] for node in nodes.values()) == pytest.approx(1.0)


def test_the_default_locale_graph_is_what_it_was(app, client):
    before = client.get("/v1/graph")
    publish_translation(app, TMJ, "es", TMJ_ES, title="Cefalea por trastorno temporomandibular")
    graph_cache.forget()

    after = client.get("/v1/graph")
    english = client.get("/v1/graph?locale=en")

    assert after.data == before.data
    assert english.data == after.data and english.headers["ETag"] == after.headers["ETag"]
    assert after.headers["Content-Language"] == "en"
    assert TMJ_ES.encode() not in after.data
    report = client.get("/v1/graph/report").get_json()
    assert report["counts"]["articles"] == len(after.get_json()["nodes"])


def test_every_format_of_a_locale_reads_back_as_its_graph(client, translated):
    spanish = _graph(client, "?locale=es")

    gexf = client.get("/v1/graph?locale=es&format=gexf")
    graphml = client.get("/v1/graph?locale=es&format=graphml")
    nodes_csv = client.get("/v1/graph?locale=es&format=csv-nodes")

    assert gexf.headers["Content-Disposition"] == 'attachment; filename="related-articles-es.gexf"'
    assert gexf.headers["Content-Language"] == "es"
    read = nx.read_graphml(io.BytesIO(graphml.data))
    assert set(read.nodes) == {node["slug"] for node in spanish["nodes"]}
    assert set(read.edges) == set(_edges(spanish))
    assert "anchor_text" not in read.edges[next(iter(_edges(spanish)))], "null is left out"
    assert set(nx.read_gexf(io.BytesIO(gexf.data)).nodes) == set(read.nodes)
    assert nodes_csv.headers["Content-Disposition"] == (
        'attachment; filename="related-articles-es-nodes.csv"'
    )
    assert f"{SITE}/es/articles/{TMJ_ES}".encode() in nodes_csv.data
    assert client.get("/v1/graph?format=gexf").headers["ETag"] != gexf.headers["ETag"]


def test_topic_and_neighbourhood_filters_stay_in_the_locale(app, client, translated):
    in_spanish = _spanish_slugs(app)

    around = _graph(client, f"?locale=es&root={TMJ_ES}")
    on_topic = _graph(client, "?locale=es&topic=headache")
    elsewhere = client.get(f"/v1/graph?locale=es&root={TMJ}")

    assert {node["slug"] for node in around["nodes"]} == {TMJ_ES, in_spanish[BOTOX]}
    assert {node["slug"] for node in on_topic["nodes"]} == {TMJ_ES, in_spanish[BOTOX]}
    assert set(_edges(on_topic)) == set(_edges(around))
    assert (in_spanish[BOTOX], TMJ_ES) in _edges(on_topic)
    assert elsewhere.status_code == 404, "an English slug is no Spanish article"
    # The same filters in English still find the English articles.
    assert TMJ in {node["slug"] for node in _graph(client, f"?root={BOTOX}")["nodes"]}


def test_the_report_of_a_locale(app, client, translated):
    in_spanish = _spanish_slugs(app)

    response = client.get("/v1/graph/report?locale=es")

    assert response.status_code == 200
    assert response.headers["Content-Language"] == "es"
    again = client.get(
        "/v1/graph/report?locale=es", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304 and again.headers["Content-Language"] == "es"
    report = response.get_json()
    graph = _graph(client, "?locale=es")
    assert report["counts"]["articles"] == len(in_spanish) == len(graph["nodes"])
    assert report["counts"]["links"] == len(graph["edges"]) > 0
    assert [item["slug"] for item in report["orphans"]] == [
        node["slug"] for node in graph["nodes"] if node["inlinks"] == 0
    ]
    assert [item["slug"] for item in report["dead_ends"]] == [
        node["slug"] for node in graph["nodes"] if node["outlinks"] == 0
    ]
    _publish_unlinked_original(app)
    graph_cache.forget()
    report = client.get("/v1/graph/report?locale=es").get_json()
    orphan = next(item for item in report["orphans"] if item["slug"] == "sarpullido-hepatico")
    assert orphan["url"] == f"{SITE}/es/articles/sarpullido-hepatico"
    assert "sarpullido-hepatico" in {item["slug"] for item in report["dead_ends"]}


def _publish_unlinked_original(app) -> None:
    """An article first written in Spanish, which nothing links to and which links nowhere."""
    publish_original(app, "es", "sarpullido-hepatico", like="liver-rash")


def test_the_editors_report_of_a_locale_names_its_broken_links(app, client, make_token, translated):
    with app.app_context():
        source = db.session.scalars(
            select(Article).where(Article.slug == TMJ, Article.locale == "en")
        ).one()
        draft = Article(
            id=uuid.uuid4(), slug="jaw-splints", title="Jaw splints", summary="", status="draft"
        )
        draft.authorships = [ArticleAuthor(person_id=source.authorships[0].person_id)]
        db.session.add(draft)
        db.session.flush()
        db.session.add(RelatedLink(source_id=source.id, target_id=draft.id, relation="see_also"))
        # A link to an article published in English only is no broken link in Spanish.
        liver = db.session.scalar(select(Article.id).where(Article.slug == "liver-rash"))
        db.session.add(RelatedLink(source_id=source.id, target_id=liver, relation="see_also"))
        db.session.flush()
        publish_article(source.id)
        db.session.commit()
    editor = make_token("editor")

    english = client.get("/v1/admin/graph/report", headers=bearer(editor)).get_json()
    spanish = client.get("/v1/admin/graph/report?locale=es", headers=bearer(editor)).get_json()

    assert [(item["source"], item["target"]) for item in english["broken_links"]] == [
        (TMJ, "jaw-splints")
    ]
    assert [(item["source"], item["target"]) for item in spanish["broken_links"]] == [
        (TMJ_ES, "jaw-splints")
    ]
    assert spanish["broken_links"][0]["reason"] == "target_not_published"
    assert spanish["counts"]["articles"] == len(_spanish_slugs(app))


@pytest.mark.parametrize("path", ["/v1/graph", "/v1/graph/report", "/v1/admin/graph/report"])
def test_a_locale_the_site_does_not_publish_in_is_refused(client, make_token, path):
    response = client.get(f"{path}?locale=fr", headers=bearer(make_token("editor")))

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
