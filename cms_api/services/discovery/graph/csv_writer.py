"""The CSV export: an edge list for Gephi's spreadsheet import, safe to open in Excel."""

from __future__ import annotations

import re

from cms_api.services.discovery.graph.model import Graph
from cms_api.services.discovery.graph.selection import Filters
from cms_api.services.discovery.graph.writing import encoded, number_texts

_CSV_SPECIAL = re.compile('[",\r\n]')
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv(text: str | None) -> str:
    """A CSV field as the csv module quotes it (only when it must). A text that a
    spreadsheet would run as a formula gets a leading apostrophe, as OWASP advises: SEO
    analysts open this file in Excel as often as in Gephi, and anchor texts are typed by
    editors."""
    if not text:
        return ""
    if text.startswith(_FORMULA_START):
        text = "'" + text
    if _CSV_SPECIAL.search(text) is None:
        return text
    return '"' + text.replace('"', '""') + '"'


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
