"""The related-article graph for SEO tools (JSON, GraphML, GEXF, CSV) and its link report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from cms_api.http.arguments import query_args
from cms_api.http.conditional import delivery_response, not_modified
from cms_api.resources.delivery import DELIVERY_PARAMETERS, LOCALIZED_HEADERS, documented
from cms_api.schemas.public.graph import (
    NEIGHBOURHOOD_PARAMETER,
    GraphOut,
    GraphQueryArgs,
    GraphQueryDoc,
    GraphReportOut,
    GraphReportQueryArgs,
)
from cms_api.services.discovery.graph.export import prepare_export
from cms_api.services.discovery.graph.report import report
from cms_api.services.discovery.graph.selection import Filters

blp = Blueprint(
    "graph",
    __name__,
    url_prefix="/v1/graph",
    description="The related-article graph of the published site, for SEO and graph tools.",
)

EXPORT_HEADERS = {
    **LOCALIZED_HEADERS,
    "Content-Disposition": {
        "description": "`attachment` with a file name for GraphML, GEXF and CSV; `inline` "
        "with a file name for JSON.",
        "required": True,
        "schema": {"type": "string", "example": 'attachment; filename="related-articles.gexf"'},
    },
}
_GRAPHML_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
<key id="n_uuid" for="node" attr.name="uuid" attr.type="string"/>
<key id="n_title" for="node" attr.name="title" attr.type="string"/>
<key id="e_weight" for="edge" attr.name="weight" attr.type="double"/>
<graph id="related-articles" edgedefault="directed">
<node id="headache-after-botox"><data key="n_uuid">5b0c3a52-8f4e-4f0e-9d8a-2d6c1c1e7a10</data>\
<data key="n_title">Headache After Botox</data></node>
<node id="tmj-headache"><data key="n_uuid">0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a</data>\
<data key="n_title">TMJ Headache</data></node>
<edge id="e0" source="headache-after-botox" target="tmj-headache">\
<data key="e_weight">0.6</data></edge>
</graph>
</graphml>
"""
_GEXF_EXAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<gexf xmlns="http://gexf.net/1.3" version="1.3">
<graph defaultedgetype="directed" mode="static">
<nodes>
<node id="headache-after-botox" label="Headache After Botox"/>
<node id="tmj-headache" label="TMJ Headache"/>
</nodes>
<edges><edge id="0" source="headache-after-botox" target="tmj-headache" weight="0.6"/></edges>
</graph>
</gexf>
"""
_CSV_EXAMPLE = (
    "Source,Target,Type,Weight,Anchor,Relation\r\n"
    "headache-after-botox,tmj-headache,Directed,0.6,TMJ headache,differential\r\n"
)
_CSV_NODES_EXAMPLE = (
    "Id,Label,uuid,url,topics,inlinks,outlinks,click_depth,link_score,orphan\r\n"
    "headache-after-botox,Headache After Botox,5b0c3a52-8f4e-4f0e-9d8a-2d6c1c1e7a10,"
    "https://www.example-health.org/articles/headache-after-botox,"
    "headache cosmetic-injectables,0,1,1,0.35,true\r\n"
    "tmj-headache,TMJ Headache,0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a,"
    "https://www.example-health.org/articles/tmj-headache,"
    "temporomandibular-disorders,1,0,2,0.65,false\r\n"
)
_JSON_EXAMPLE = {
    "directed": True,
    "multigraph": False,
    "graph": {"name": "related-articles", "damping": 0.85},
    "nodes": [
        {
            "id": "headache-after-botox",
            "slug": "headache-after-botox",
            "uuid": "5b0c3a52-8f4e-4f0e-9d8a-2d6c1c1e7a10",
            "title": "Headache After Botox: Causes, Prevention and Treatment",
            "url": "https://www.example-health.org/headache-after-botox",
            "topics": ["headache", "cosmetic-injectables"],
            "inlinks": 0,
            "outlinks": 1,
            "click_depth": 1,
            "link_score": 0.35,
            "orphan": True,
        },
        {
            "id": "tmj-headache",
            "slug": "tmj-headache",
            "uuid": "0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
            "title": "TMJ Headache: Jaw Pain, Causes and Relief",
            "url": "https://www.example-health.org/tmj-headache",
            "topics": ["temporomandibular-disorders"],
            "inlinks": 1,
            "outlinks": 0,
            "click_depth": 2,
            "link_score": 0.65,
            "orphan": False,
        },
    ],
    "edges": [
        {
            "source": "headache-after-botox",
            "target": "tmj-headache",
            "relation": "differential",
            "anchor_text": "TMJ headache",
            "weight": 0.6,
        }
    ],
}
OTHER_FORMATS = {
    "responses": {
        200: {
            "content": {
                "application/graphml+xml": {
                    "schema": {"type": "string", "description": "GraphML (`format=graphml`)."},
                    "example": _GRAPHML_EXAMPLE,
                },
                "application/gexf+xml": {
                    "schema": {"type": "string", "description": "GEXF 1.3 (`format=gexf`)."},
                    "example": _GEXF_EXAMPLE,
                },
                "text/csv": {
                    "schema": {
                        "type": "string",
                        "description": "Edge table (`format=csv`) or node table "
                        "(`format=csv-nodes`).",
                    },
                    "examples": {
                        "edges": {"summary": "`format=csv`", "value": _CSV_EXAMPLE},
                        "nodes": {
                            "summary": "`format=csv-nodes`",
                            "value": _CSV_NODES_EXAMPLE,
                        },
                    },
                },
            }
        }
    }
}


def _query_documented_as(schema: type) -> Callable[..., Any]:
    """Document the query string with `schema` while the view still parses the whole of
    it: `root` and `depth` are documented as the `neighbourhood` object parameter, the
    one way OpenAPI can say that `depth` needs `root`."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        view._apidoc["arguments"]["parameters"][-1]["schema"] = schema  # type: ignore[attr-defined]
        return view

    return decorator


@blp.route("", parameters=[*DELIVERY_PARAMETERS, NEIGHBOURHOOD_PARAMETER])
class GraphExport(MethodView):
    @documented(blp, localized=True)
    @_query_documented_as(GraphQueryDoc)
    @query_args(blp, GraphQueryArgs)
    @blp.response(200, GraphOut, headers=EXPORT_HEADERS, example=_JSON_EXAMPLE)
    @blp.doc(**OTHER_FORMATS)
    def get(self, args: dict[str, Any]) -> Response:
        """Export the related-article graph

        Every published article is a node, keyed by its slug in every format (the JSON
        node `id`, the GraphML and GEXF node id, the CSV `Id`, what edges name), and every
        live link between two published articles an edge, weighted as editors set it.
        Each node carries the article's `uuid`, its `title`, its `url` (the canonical URL
        its SEO settings name, else its public page), its own `topics`, `inlinks` and
        `outlinks`,
        `click_depth` (clicks from the nearest topic page: 1 for the articles a published
        topic page lists, then one more per related-link hop; null when unreachable),
        `link_score` (PageRank, damping 0.85, weighted, dangling articles spreading
        their score evenly: what `networkx.pagerank(G, alpha=0.85, weight="weight")`
        finds in the same file) and `orphan` (nothing links to it).

        `format`: `json` (default; networkx's node-link form, read it with
        `networkx.node_link_graph(doc)`; networkx 3.4 and 3.5 want `edges="edges"` and
        older versions `link="edges"`), `graphml` (`networkx.read_graphml`,
        `igraph.Graph.Read_GraphML`: the slug is igraph's `id` vertex attribute), `gexf`
        (GEXF 1.3; the title is the node label) or `csv`, the two tables Gephi's
        spreadsheet import reads: the edge table (`format=csv`:
        `Source,Target,Type,Weight,Anchor,Relation`) and the node table (`format=csv-nodes`:
        `Id,Label,uuid,url,topics,inlinks,outlinks,click_depth,link_score,orphan`, every
        node, those without links too). In CSV, an anchor, title or URL that starts with
        `=`, `+`, `-`, `@` (or their full-width forms), a tab or a carriage return, even
        after leading spaces or invisible characters, is written with a leading `'`, so
        that a spreadsheet shows it rather than running it as a formula.
        In GraphML, GEXF and the CSV node table, `topics` is a space-separated list; a
        null `click_depth` or `anchor_text`, or no topics, is left out (an empty CSV cell).

        `topic` keeps the articles on a topic or its subtopics; `root` (with `depth`,
        1 to 5) keeps the articles within `depth` links of one article, following links
        in either direction. Both filters keep the links among the articles they keep,
        and inlinks, outlinks, link score and orphan describe that graph, so any tool
        reading the file computes the same; click depth always measures the whole site.

        `locale` (default the site's) chooses whose published articles are the nodes,
        each with its page in that locale (`CMS_LOCALE_PATHS`). Editors link originals;
        a translation's edges are its original's links, each to the same locale's
        published translation of the target (a target without one is left out), with no
        `anchor_text` (the anchors are the original's words, which the translation's
        page does not show). Click depth counts from the locale's topic pages. A
        non-default locale is part of the file name (`related-articles-es.gexf`);
        `Content-Language` is the locale.
        """
        locale = args["locale"]
        filters = Filters(
            topic=args.get("topic"), root=args.get("root"), depth=args["depth"], locale=locale
        )
        prepared = prepare_export(args["format"], filters)
        if not_modified(prepared.etag):
            return delivery_response("", etag=prepared.etag, locale=locale)
        export = prepared.render()
        disposition = f'{export.disposition}; filename="{export.filename}"'
        return delivery_response(
            export.body,
            etag=export.etag,
            content_type=export.content_type,
            headers={"Content-Disposition": disposition},
            locale=locale,
        )


@blp.route("/report", parameters=DELIVERY_PARAMETERS)
class GraphReport(MethodView):
    @documented(blp, not_found=False, localized=True)
    @query_args(blp, GraphReportQueryArgs)
    @blp.response(200, GraphReportOut, headers=LOCALIZED_HEADERS)
    def get(self, args: dict[str, Any]) -> Response:
        """Report orphans and dead ends

        Over the whole site published in a locale (`locale`, default the site's), the
        graph `GET /v1/graph` exports: `orphans` are published articles that no published
        article links to, and `dead_ends` link to none. Each list is complete, in slug
        order, each article with its page in that locale. The report speaks only of
        published articles: links to articles readers cannot see are in the editors'
        report (`GET /v1/admin/graph/report`).
        """
        locale = args["locale"]
        return delivery_response(report(locale), locale=locale)
