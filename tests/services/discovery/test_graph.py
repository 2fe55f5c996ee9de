"""Graph metrics agree with networkx, and the XML exports stay valid whatever the text."""

from __future__ import annotations

import csv
import gc
import io
import json
import weakref

import networkx as nx
import numpy as np
import pytest

from cms_api.services.discovery.graph import (
    cache,
    csv_writer,
    export,
    loading,
    metrics,
    model,
    report,
    writing,
    xml_writers,
)
from cms_api.services.discovery.graph.selection import Filters
from cms_api.services.publishing.site import page_url


def _random_graph(seed: int, count: int, links: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct weighted links without self-links, sorted by (source, target), as loaded."""
    rng = np.random.default_rng(seed)
    pairs = {
        (int(a), int(b)) for a, b in rng.integers(0, count, size=(links, 2)) if int(a) != int(b)
    }
    ordered = sorted(pairs)
    source = np.array([a for a, _ in ordered], dtype=np.int64)
    target = np.array([b for _, b in ordered], dtype=np.int64)
    weight = np.round(rng.uniform(0.05, 1.0, size=len(ordered)), 2)
    return source, target, weight


@pytest.mark.parametrize(("seed", "count", "links"), [(1, 2, 1), (2, 10, 12), (3, 300, 900)])
def test_pagerank_is_what_networkx_computes(seed, count, links):
    source, target, weight = _random_graph(seed, count, links)
    reference = nx.DiGraph()
    reference.add_nodes_from(range(count))  # isolated and dangling articles included
    reference.add_weighted_edges_from(
        zip(source.tolist(), target.tolist(), weight.tolist(), strict=True)
    )

    scores = metrics.pagerank(count, source, target, weight)

    expected = nx.pagerank(reference, alpha=0.85, weight="weight")
    assert scores.tolist() == pytest.approx([expected[n] for n in range(count)], rel=1e-12)


def test_pagerank_of_nothing_and_of_isolated_articles():
    empty = np.zeros(0, dtype=np.int64)

    assert metrics.pagerank(0, empty, empty, np.zeros(0)).tolist() == []
    assert metrics.pagerank(4, empty, empty, np.zeros(0)).tolist() == [0.25] * 4


def test_click_depth_is_hops_from_the_hubs_along_links():
    # 0 → 1 → 2 → 3, 1 → 4, 4 → 1 (a cycle), 5 → 0, and 6 alone; the hub lists 0.
    links = sorted([(0, 1), (1, 2), (2, 3), (1, 4), (4, 1), (5, 0)])
    source = np.array([a for a, _ in links])
    target = np.array([b for _, b in links])

    depth = metrics.breadth_first(7, source, target, np.array([0]))

    assert depth.tolist() == [1, 2, 3, 4, 3, -1, -1]
    assert metrics.breadth_first(
        3, source[:0], target[:0], np.array([], dtype=np.int64)
    ).tolist() == [
        -1,
        -1,
        -1,
    ]


def _site(titles: list[str], anchors: list[str | None]) -> model.Site:
    return model.Site(
        version="test",
        locale="en",
        ids=[f"00000000-0000-0000-0000-00000000000{n}" for n in range(len(titles))],
        slugs=[f"article-{n}" for n in range(len(titles))],
        titles=titles,
        topics=["headache migraine"] + ["" for _ in titles[1:]],
        canonical_urls=[None for _ in titles],
        source=np.array([0, 1], dtype=np.int64),
        target=np.array([1, 0], dtype=np.int64),
        weight=np.array([0.25, 1.0]),
        relation=np.array(["see_also", "differential"], dtype=object),
        anchor=anchors,
        anchor_of=np.arange(len(anchors)),
        hubs=np.array([0], dtype=np.int64),
    )


def test_xml_exports_escape_markup_and_drop_what_xml_cannot_carry(app):
    hostile = 'Pain & "swelling" <script>\x01\x1f\ufffe'
    site = _site([hostile, "Plain"], ["<b>bold</b> & more\x0b", None])

    with app.test_request_context():
        url = page_url("article", "article-0")
        whole = site.whole()
        exports = {
            "graphml": nx.read_graphml(io.BytesIO(xml_writers.write_graphml(whole, Filters()))),
            "gexf": nx.read_gexf(io.BytesIO(xml_writers.write_gexf(whole, Filters()))),
        }

    for name, read in exports.items():
        node = read.nodes["article-0"]
        title = node["label"] if name == "gexf" else node["title"]
        assert title == 'Pain & "swelling" <script>', name
        assert node["topics"] == "headache migraine"
        assert node["url"] == url
        assert read.edges["article-0", "article-1"]["anchor_text"] == "<b>bold</b> & more"
        assert "anchor_text" not in read.edges["article-1", "article-0"], name
        assert read.edges["article-1", "article-0"]["relation"] == "differential"
        assert read.edges["article-0", "article-1"]["weight"] == 0.25
        assert node["click_depth"] == 1
        assert read.nodes["article-1"]["click_depth"] == 2


def test_article_ids_are_found_by_their_16_bytes_even_when_the_first_8_collide():
    first = bytes(range(16))
    twin = bytes(range(8)) + bytes(range(100, 108))  # same first eight bytes
    other = bytes(range(50, 66))
    for keys in ([first, other], [first, twin, other]):
        number = loading.Numbering(b"".join(keys))

        looked_up = number(b"".join([other, first, bytes(16), *keys[1:2]]))

        assert looked_up.tolist() == [len(keys) - 1, 0, -1, 1]


@pytest.mark.parametrize("count", [0, 1, 7])
def test_exports_come_out_the_same_whatever_the_batch_of_rows(app, monkeypatch, count):
    site = _chain_site(count)
    with app.test_request_context():
        whole = site.whole()
        written = {name: write(whole, Filters()) for name, write in export.WRITERS.items()}
        monkeypatch.setattr(writing, "BATCH_ROWS", 2)
        rebatched = {name: write(whole, Filters()) for name, write in export.WRITERS.items()}

    assert rebatched == written
    document = json.loads(written["json"])
    assert [node["slug"] for node in document["nodes"]] == site.slugs
    assert len(document["edges"]) == max(count - 1, 0)
    assert written["csv"].count(b"\r\n") == 1 + max(count - 1, 0)
    assert nx.read_graphml(io.BytesIO(written["graphml"])).number_of_nodes() == count


def _chain_site(count: int) -> model.Site:
    """`count` articles, each linking to the next, with titles outside ASCII."""
    return model.Site(
        version="chain",
        locale="en",
        ids=[f"00000000-0000-0000-0000-{n:012d}" for n in range(count)],
        slugs=[f"article-{n}" for n in range(count)],
        titles=[f"Céphalée n° {n}" for n in range(count)],
        topics=["headache"] * count,
        canonical_urls=[None] * count,
        source=np.arange(max(count - 1, 0), dtype=np.int64),
        target=np.arange(1, max(count, 1), dtype=np.int64),
        weight=np.full(max(count - 1, 0), 0.5),
        relation=np.array(["see_also"] * max(count - 1, 0), dtype=object),
        anchor=[f"next: {n + 1}" for n in range(max(count - 1, 0))],
        anchor_of=np.arange(max(count - 1, 0)),
        hubs=np.array([0] if count else [], dtype=np.int64),
    )


def test_a_replaced_site_is_freed_at_once_not_left_to_the_garbage_collector(app):
    with app.test_request_context():
        cache.forget()
        prepared = export.prepare_export("graphml", Filters())
        prepared.render()
        report.report("en")
        loaded = weakref.ref(cache.SITES.get(prepared.version, "en"))
        assert loaded() is not None

        gc.disable()
        try:
            cache.forget()
            assert loaded() is None
        finally:
            gc.enable()


def test_csv_anchors_that_a_spreadsheet_would_run_are_defused(app):
    anchors = [
        '=HYPERLINK("http://evil.example","Click")',
        "+1 more",
        "-2",
        "@SUM(A1)",
        "\tTabbed",
        "\rReturned",
        "Plain, with a comma",
        "Caf\u00e9 = cafe",
    ]
    site = _chain_site(len(anchors) + 1)
    site.anchor[:] = anchors
    with app.test_request_context():
        body = csv_writer.write_csv(site.whole(), Filters()).decode()

    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert [row["Anchor"] for row in rows] == ["'" + anchor for anchor in anchors[:6]] + anchors[6:]
    assert all(row["Type"] == "Directed" for row in rows)
