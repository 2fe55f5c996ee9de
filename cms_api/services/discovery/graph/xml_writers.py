"""The XML exports, GraphML and GEXF, written by hand from the graph's columns."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cms_api.services.discovery.graph.model import GRAPH_NAME, Graph
from cms_api.services.discovery.graph.selection import Filters
from cms_api.services.discovery.graph.writing import encoded, number_texts

# XML 1.0 cannot carry most C0 controls even as references; they are dropped.
_XML_SPECIAL = re.compile('[&<>"\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


_NOT_XML_BUT_NUL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_all(texts: list[str]) -> list[str]:
    """`_xml` of many texts in one pass over them all: PostgreSQL text never holds NUL, so
    NUL can join them and split them apart again."""
    joined = "\0".join(texts)
    if _XML_SPECIAL.search(joined.replace("\0", "")) is None:
        return texts
    return _NOT_XML_BUT_NUL.sub("", joined).translate(_XML_ESCAPES).split("\0")


# (name, GraphML type) of the node attributes, in the order they are written. The node's
# own XML id is its slug; no attribute is called `id`, which igraph and Gephi take for
# that XML id (igraph's `id` vertex attribute, Gephi's Id column).
_NODE_ATTRIBUTES = (
    ("uuid", "string"),
    ("title", "string"),
    ("url", "string"),
    ("topics", "string"),
    ("inlinks", "int"),
    ("outlinks", "int"),
    ("click_depth", "int"),
    ("link_score", "double"),
    ("orphan", "boolean"),
)
_EDGE_ATTRIBUTES = (("relation", "string"), ("anchor_text", "string"), ("weight", "double"))


def _optional(values: list[Any], before: str, after: str) -> list[str]:
    """Each value between `before` and `after`, or nothing where it is missing or empty."""
    return ["" if value is None or value == "" else f"{before}{value}{after}" for value in values]


def _xml_anchors(anchors: list[str | None]) -> list[str | None]:
    present = _xml_all([anchor for anchor in anchors if anchor is not None])
    if len(present) == len(anchors):
        return list(present)
    escaped = iter(present)
    return [None if anchor is None else next(escaped) for anchor in anchors]


def write_graphml(graph: Graph, filters: Filters) -> bytes:
    """GraphML, written by hand like the JSON: typed keys for node and edge attributes;
    topics space-separated; a null click depth or anchor, or no topics, is left out."""
    data = graph.columns
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
        'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
    ]
    for name, kind in _NODE_ATTRIBUTES:
        head.append(f'<key id="n_{name}" for="node" attr.name="{name}" attr.type="{kind}"/>\n')
    for name, kind in _EDGE_ATTRIBUTES:
        head.append(f'<key id="e_{name}" for="edge" attr.name="{name}" attr.type="{kind}"/>\n')
    head.append(f'<graph id="{GRAPH_NAME}" edgedefault="directed">\n')
    topics = _optional(data.topics, '<data key="n_topics">', "</data>")
    depths = _optional(data.click_depth, '<data key="n_click_depth">', "</data>")
    nodes = (
        f'<node id="{slug}"><data key="n_uuid">{uuid}</data><data key="n_title">{title}'
        f'</data><data key="n_url">{url}</data>{topic}<data key="n_inlinks">{inlinks}'
        f'</data><data key="n_outlinks">{outlinks}</data>{depth}<data key="n_link_score">'
        f'{score}</data><data key="n_orphan">{"true" if orphan else "false"}</data></node>\n'
        for uuid, slug, title, url, topic, inlinks, outlinks, depth, score, orphan in _node_rows(
            data, topics, depths
        )
    )
    anchors = _optional(_xml_anchors(data.anchors), '<data key="e_anchor_text">', "</data>")
    edges = (
        f'<edge id="e{number}" source="{source}" target="{target}"><data key="e_relation">'
        f'{relation}</data>{anchor}<data key="e_weight">{weight}</data></edge>\n'
        for number, source, target, relation, anchor, weight in _edge_rows(data, anchors)
    )
    return encoded("".join(head), nodes, edges, "</graph>\n</graphml>\n")


def _node_rows(data: Any, topics: list[str], depths: list[str]) -> Iterator[tuple[Any, ...]]:
    """Each node's values as both XML formats write them (text escaped), row by row."""
    return zip(
        data.uuids,
        data.slugs,
        _xml_all(data.titles),
        _xml_all(data.urls),
        topics,
        data.inlinks,
        data.outlinks,
        depths,
        number_texts(data.link_score),
        data.orphan,
        strict=True,
    )


def _edge_rows(data: Any, anchors: list[str]) -> Iterator[tuple[Any, ...]]:
    """Each edge's number and values as both XML formats write them, row by row."""
    return zip(
        range(len(anchors)),
        data.sources,
        data.targets,
        data.relations,
        anchors,
        number_texts(data.weights),
        strict=True,
    )


def write_gexf(graph: Graph, filters: Filters) -> bytes:
    """GEXF 1.3, written by hand like the JSON: the title is the node label, the link
    weight the edge weight, the rest typed attributes (left out where null or empty)."""
    data = graph.columns
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gexf xmlns="http://gexf.net/1.3" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">\n'
        f"<meta><creator>cms-api</creator><description>{GRAPH_NAME}</description></meta>\n"
        '<graph defaultedgetype="directed" mode="static">\n<attributes class="node">\n'
    ]
    for name, kind in _NODE_ATTRIBUTES:
        if name != "title":
            kind = {"int": "integer"}.get(kind, kind)
            head.append(f'<attribute id="{name}" title="{name}" type="{kind}"/>\n')
    head.append('</attributes>\n<attributes class="edge">\n')
    for name in ("relation", "anchor_text"):
        head.append(f'<attribute id="{name}" title="{name}" type="string"/>\n')
    head.append("</attributes>\n<nodes>\n")
    topics = _optional(data.topics, '<attvalue for="topics" value="', '"/>')
    depths = _optional(data.click_depth, '<attvalue for="click_depth" value="', '"/>')
    nodes = (
        f'<node id="{slug}" label="{title}"><attvalues><attvalue for="uuid" value="{uuid}"/>'
        f'<attvalue for="url" value="{url}"/>{topic}<attvalue for="inlinks" '
        f'value="{inlinks}"/><attvalue for="outlinks" value="{outlinks}"/>{depth}'
        f'<attvalue for="link_score" value="{score}"/><attvalue for="orphan" '
        f'value="{"true" if orphan else "false"}"/></attvalues></node>\n'
        for uuid, slug, title, url, topic, inlinks, outlinks, depth, score, orphan in _node_rows(
            data, topics, depths
        )
    )
    anchors = _optional(_xml_anchors(data.anchors), '<attvalue for="anchor_text" value="', '"/>')
    edges = (
        f'<edge id="{number}" source="{source}" target="{target}" weight="{weight}">'
        f'<attvalues><attvalue for="relation" value="{relation}"/>{anchor}</attvalues>'
        "</edge>\n"
        for number, source, target, relation, anchor, weight in _edge_rows(data, anchors)
    )
    return encoded(
        "".join(head),
        nodes,
        "</nodes>\n<edges>\n",
        edges,
        "</edges>\n</graph>\n</gexf>\n",
    )
