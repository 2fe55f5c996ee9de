"""Shapes of the related-article graph and its report, for SEO tools."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from cms_api.models.article import LINK_RELATIONS
from cms_api.schemas.common import (
    SLUG_MAX,
    SLUG_PATTERN,
    Locale,
    StrictSchema,
    nullable_text,
    slug_field,
    text,
)

R = {"required": True}


GRAPH_FORMATS = ("json", "graphml", "gexf", "csv", "csv-nodes")


MAX_DEPTH = 5


EXAMPLE_URL = "https://www.example-health.org/headache-after-botox"


class GraphQueryArgs(StrictSchema):
    """What `GET /v1/graph` reads from the query string."""

    format = ma.fields.String(
        load_default="json",
        validate=validate.OneOf(GRAPH_FORMATS),
        metadata={
            "description": "`json` (node-link), `graphml`, `gexf` (GEXF 1.3), or the two "
            "tables of Gephi's spreadsheet import: `csv`, the edge table "
            "(`Source,Target,Type,Weight,Anchor,Relation`), and `csv-nodes`, the node table "
            "(every article, those without links too: `Id,Label,uuid,url,topics,inlinks,"
            "outlinks,click_depth,link_score,orphan`). Import both into Gephi's Data "
            "Laboratory, nodes first.",
            "example": "graphml",
        },
    )
    topic = slug_field(
        metadata={
            "description": "Only articles on this topic or its subtopics (and the links "
            "among them). A topic without published articles gives an empty graph.",
            "example": "headache",
        }
    )
    locale = Locale(
        metadata={
            "description": "The locale (BCP 47 tag) whose published articles are the nodes: "
            "one of the site's locales (CMS_LOCALES). A translation's edges are its "
            "original's links, each to the same locale's translation of the target (a "
            "target without one is left out). Default: the site's default locale.",
            "example": "es",
        }
    )
    # Documented together as the `neighbourhood` object parameter (see GraphQueryDoc).
    root = slug_field()
    depth = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_DEPTH))

    @ma.pre_load
    def _depth_needs_root(self, data: Any, **kwargs: Any) -> Any:
        # Checked before loading: `depth` has a default, so afterwards it is always there.
        if "depth" in data and "root" not in data:
            raise ma.ValidationError({"depth": ["Only together with `root`."]})
        return data


class GraphQueryDoc(StrictSchema):
    """The parameters of `GraphQueryArgs` documented one by one; `root` and `depth`
    are documented as one object parameter, since `depth` needs `root`."""

    format = GraphQueryArgs._declared_fields["format"]
    topic = GraphQueryArgs._declared_fields["topic"]
    locale = GraphQueryArgs._declared_fields["locale"]


class GraphReportQueryArgs(StrictSchema):
    """What the link reports read from the query string."""

    locale = Locale(
        metadata={
            "description": "The locale (BCP 47 tag) whose published articles are reported "
            "on: one of the site's locales (CMS_LOCALES). Default: the site's default "
            "locale.",
            "example": "es",
        }
    )


NEIGHBOURHOOD_PARAMETER = {
    "in": "query",
    "name": "neighbourhood",
    "style": "form",
    "explode": True,
    "required": False,
    "description": "`root=SLUG&depth=N`: only the published articles within `depth` links "
    "(1 to 5, default 1) of the article `root`, following links in either direction, and "
    "the links among them. An unknown `root` answers 404; `depth` without `root` is a 400.",
    "schema": {
        "type": "object",
        "properties": {
            "root": {"type": "string", "pattern": SLUG_PATTERN, "maxLength": SLUG_MAX},
            "depth": {"type": "integer", "minimum": 1, "maximum": MAX_DEPTH, "default": 1},
        },
        "required": ["root"],
        "additionalProperties": False,
    },
    "example": {"root": "headache-after-botox", "depth": 2},
}


class GraphNodeOut(ma.Schema):
    id = slug_field(
        **R,
        metadata={
            "description": "The node's key, the article's slug: edges name it, and it is the "
            "node id in GraphML and GEXF and `Id` in the CSV node table."
        },
    )
    slug = slug_field(**R, metadata={"description": "The same slug, for readers keyed on it."})
    uuid = ma.fields.UUID(
        **R,
        metadata={
            "description": "The article's id in the content API.",
            "example": "5b0c3a52-8f4e-4f0e-9d8a-2d6c1c1e7a10",
        },
    )
    title = text("Headache After Botox: Causes, Prevention and Treatment", **R)
    url = text(
        EXAMPLE_URL,
        **R,
        metadata={
            "description": "The article's canonical URL when its SEO settings name one, "
            "else its public page."
        },
    )
    topics = ma.fields.List(
        slug_field(), **R, metadata={"description": "Slugs of the article's own topics."}
    )
    inlinks = ma.fields.Integer(**R, metadata={"description": "Links to it in this graph."})
    outlinks = ma.fields.Integer(**R, metadata={"description": "Links from it in this graph."})
    click_depth = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={
            "description": "Clicks from the nearest topic page on the whole site: 1 for the "
            "articles a published topic page lists, one more per related-link hop; null "
            "when no path leads to it.",
            "example": 1,
        },
    )
    link_score = ma.fields.Float(
        **R,
        metadata={
            "description": "PageRank in this graph (damping 0.85, weighted by link weight), "
            "as `networkx.pagerank(G, alpha=0.85, weight='weight')` computes it.",
            "example": 0.1843,
        },
    )
    orphan = ma.fields.Boolean(**R, metadata={"description": "No links to it in this graph."})


class GraphEdgeOut(ma.Schema):
    source = slug_field(**R, metadata={"description": "Slug of the linking article."})
    target = slug_field(
        **R, metadata={"description": "Slug of the linked article.", "example": "tmj-headache"}
    )
    relation = text("differential", **R, validate=validate.OneOf(LINK_RELATIONS))
    anchor_text = nullable_text(
        "TMJ headache",
        metadata={
            "description": "The words the link is shown with, as editors wrote them on the "
            "original; null on a translation's edges, whose page does not show the "
            "original's words."
        },
    )
    weight = ma.fields.Float(**R, metadata={"example": 0.6})


class GraphInfoOut(ma.Schema):
    name = text("related-articles", **R)
    damping = ma.fields.Float(**R, metadata={"example": 0.85})


class GraphOut(ma.Schema):
    """networkx's node-link form, node `id` the slug edges name: `networkx.node_link_graph(doc)`
    reads it (networkx 3.4 and 3.5: add `edges="edges"`; before 3.4: `link="edges"`)."""

    directed = ma.fields.Boolean(**R, metadata={"example": True})
    multigraph = ma.fields.Boolean(**R, metadata={"example": False})
    graph = ma.fields.Nested(GraphInfoOut, **R)
    nodes = ma.fields.List(ma.fields.Nested(GraphNodeOut), **R)
    edges = ma.fields.List(ma.fields.Nested(GraphEdgeOut), **R)


class ReportArticleOut(ma.Schema):
    id = ma.fields.UUID(**R)
    slug = slug_field(**R)
    title = text("Headache After Botox: Causes, Prevention and Treatment", **R)
    url = text(EXAMPLE_URL, **R)


class ReportCountsOut(ma.Schema):
    articles = ma.fields.Integer(**R, metadata={"example": 7})
    links = ma.fields.Integer(**R, metadata={"example": 24})
    orphans = ma.fields.Integer(**R, metadata={"example": 0})
    dead_ends = ma.fields.Integer(**R, metadata={"example": 0})


class GraphReportOut(ma.Schema):
    counts = ma.fields.Nested(ReportCountsOut, **R)
    orphans = ma.fields.List(
        ma.fields.Nested(ReportArticleOut),
        **R,
        metadata={"description": "Published articles no published article links to."},
    )
    dead_ends = ma.fields.List(
        ma.fields.Nested(ReportArticleOut),
        **R,
        metadata={"description": "Published articles that link to no published article."},
    )
