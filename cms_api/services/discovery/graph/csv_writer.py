"""The CSV exports: edge and node tables for Gephi's spreadsheet import, safe in Excel."""

from __future__ import annotations

import re
import unicodedata

from cms_api.services.discovery.graph.model import Graph
from cms_api.services.discovery.graph.selection import Filters
from cms_api.services.discovery.graph.writing import encoded, number_texts

_CSV_SPECIAL = re.compile('[",\r\n]')
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Spreadsheets skip leading blanks and invisible characters (spaces, NBSP, zero-width
# space, BOM, ...) before looking for a formula, and some read a full-width equals sign
# (U+FF1D) as `=`.
_IGNORED_BEFORE_FORMULA = re.compile(r"^[\s\u200b-\u200f\u2060-\u2064\ufeff\u180e]+")


def _csv(text: str | None) -> str:
    """A CSV field as the csv module quotes it (only when it must). A text that a
    spreadsheet would run as a formula gets a leading apostrophe, as OWASP advises: SEO
    analysts open this file in Excel as often as in Gephi, and anchor texts are typed by
    editors, as are titles and canonical URLs."""
    if not text:
        return ""
    if _runs_as_formula(text):
        text = "'" + text
    if _CSV_SPECIAL.search(text) is None:
        return text
    return '"' + text.replace('"', '""') + '"'


def _runs_as_formula(text: str) -> bool:
    if text.startswith(_FORMULA_START):
        return True
    if text[0].isalnum():  # most anchors: nothing to skip, nothing to fold
        return False
    # NFKC folds the full-width forms of = + - @ (and other compatibility forms) to ASCII.
    visible = unicodedata.normalize("NFKC", _IGNORED_BEFORE_FORMULA.sub("", text))
    return visible.startswith(_FORMULA_START)


def write_csv(graph: Graph, filters: Filters) -> bytes:
    """An edge list as Gephi's spreadsheet import reads it, RFC 4180 style. Written by
    hand (a third of the csv module's time): only the anchor text can need quoting."""
    data = graph.columns
    lines = (
        f"{source},{target},Directed,{weight},{_csv(anchor)},{relation}\r\n"
        for source, target, weight, anchor, relation in zip(
            data.sources,
            data.targets,
            number_texts(data.weights),
            data.anchors,
            data.relations,
            strict=True,
        )
    )
    return encoded("Source,Target,Type,Weight,Anchor,Relation\r\n", lines)


# Gephi's spreadsheet import takes `Id` as the node key (the slug edges name) and `Label`
# as its label; the other columns carry the names the other formats give them.
NODE_HEADER = "Id,Label,uuid,url,topics,inlinks,outlinks,click_depth,link_score,orphan\r\n"


def write_csv_nodes(graph: Graph, filters: Filters) -> bytes:
    """The node table beside the edge list: every node of the graph, those without links
    too, which an edge list cannot show. Slugs, UUIDs, topic slugs and numbers need no
    quoting; titles and URLs go through the same formula guard as anchors."""
    data = graph.columns
    lines = (
        f"{slug},{_csv(title)},{uuid},{_csv(url)},{topics},{inlinks},{outlinks},"
        f"{'' if depth is None else depth},{score},{'true' if orphan else 'false'}\r\n"
        for slug, title, uuid, url, topics, inlinks, outlinks, depth, score, orphan in zip(
            data.slugs,
            data.titles,
            data.uuids,
            data.urls,
            data.topics,
            data.inlinks,
            data.outlinks,
            data.click_depth,
            number_texts(data.link_score),
            data.orphan,
            strict=True,
        )
    )
    return encoded(NODE_HEADER, lines)
