"""Graph exports by format: the ETag known up front, bodies rendered once a version."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from cms_api.services import runtime
from cms_api.services.discovery.graph.cache import BODIES, SITES
from cms_api.services.discovery.graph.csv_writer import write_csv, write_csv_nodes
from cms_api.services.discovery.graph.json_writer import write_json
from cms_api.services.discovery.graph.loading import current_version
from cms_api.services.discovery.graph.model import Graph
from cms_api.services.discovery.graph.selection import Filters, select
from cms_api.services.discovery.graph.xml_writers import write_gexf, write_graphml

# Part of every export's ETag: bump it when the serialisation changes, so no cache keeps
# an old rendering under a still-valid tag.
RENDER_VERSION = "2"


@dataclass(frozen=True)
class ExportFormat:
    content_type: str
    extension: str
    disposition: str
    table: str | None = None  # which table of a CSV export, named in its file name


# By format; CSV has two tables, the edge list (plain `csv`, as it was before CSV had a
# node table) and the node table (`csv-nodes`).
FORMATS: dict[str, ExportFormat] = {
    "json": ExportFormat("application/json", "json", "inline"),
    "graphml": ExportFormat("application/graphml+xml", "graphml", "attachment"),
    "gexf": ExportFormat("application/gexf+xml", "gexf", "attachment"),
    "csv": ExportFormat("text/csv; charset=utf-8", "csv", "attachment"),
    "csv-nodes": ExportFormat("text/csv; charset=utf-8", "csv", "attachment", table="nodes"),
}

WRITERS: dict[str, Callable[[Graph, Filters], bytes]] = {
    "json": write_json,
    "graphml": write_graphml,
    "gexf": write_gexf,
    "csv": write_csv,
    "csv-nodes": write_csv_nodes,
}


@dataclass(frozen=True)
class Export:
    body: bytes
    etag: str
    content_type: str
    filename: str
    disposition: str


@dataclass(frozen=True)
class PreparedExport:
    """An export whose ETag is known before anything is loaded or rendered."""

    format: str
    filters: Filters
    version: str
    etag: str

    def render(self) -> Export:
        kind = FORMATS[self.format]
        etag = self.etag
        body = BODIES.get(etag)
        if body is None:
            site = SITES.get(self.version, self.filters.site_locale)
            if site.version != self.version:
                # The graph changed between the version check and the load: what is
                # served is the newer state, under its own tag.
                etag = _export_etag(site.version, self.format, self.filters)
            body = WRITERS[self.format](select(site, self.filters), self.filters)
            BODIES.put(etag, body)
        return Export(
            body=body,
            etag=etag,
            content_type=kind.content_type,
            filename=self.filters.filename(kind.extension, table=kind.table),
            disposition=kind.disposition,
        )


def _export_etag(version: str, export_format: str, filters: Filters) -> str:
    settings = runtime.settings()
    # Node URLs carry the locale's path on the public site.
    locale_path = settings.locale_path(filters.site_locale)
    key = "\n".join(
        [
            RENDER_VERSION,
            version,
            export_format,
            filters.key(),
            settings.public_base_url,
            locale_path,
        ]
    )
    return '"graph-' + hashlib.blake2b(key.encode(), digest_size=16).hexdigest() + '"'


def prepare_export(export_format: str, filters: Filters) -> PreparedExport:
    """The ETag of an export, from the graph's version alone (one small query), so a
    matching If-None-Match costs no load and no rendering. The export's name (format and
    table) is part of the tag, so each table has its own tag and cached body."""
    name = export_format
    version = current_version()
    return PreparedExport(
        format=name,
        filters=filters,
        version=version,
        etag=_export_etag(version, name, filters),
    )
