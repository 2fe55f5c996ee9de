"""SEO metrics of the link graph on arrays: PageRank (the link score) and click depth."""

from __future__ import annotations

import numpy as np

# PageRank as networkx.pagerank(G, alpha=0.85, weight="weight") computes it (its defaults
# for iterations and tolerance), so a tool reading an export finds the same scores.
DAMPING = 0.85
MAX_ITERATIONS = 100
TOLERANCE = 1.0e-6


def pagerank(count: int, source: np.ndarray, target: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """networkx's PageRank (its SciPy power iteration) on arrays.

    Each node passes DAMPING of its score along its out-links in proportion to their
    weight; a node without out-links spreads its score over every node; everyone gets
    (1 - DAMPING) / N. Iterates from the uniform vector until the L1 change is below
    N * TOLERANCE, as networkx does.
    """
    if count == 0:
        return np.zeros(0)
    out_weight = np.bincount(source, weights=weight, minlength=count)
    dangling = out_weight == 0
    share = np.zeros(count)
    share[~dangling] = 1.0 / out_weight[~dangling]
    flow = weight * share[source]  # row-normalised link weights
    uniform = np.full(count, 1.0 / count)
    scores = uniform
    for _ in range(MAX_ITERATIONS):
        last = scores
        passed = np.bincount(target, weights=last[source] * flow, minlength=count)
        scores = DAMPING * (passed + last[dangling].sum() * uniform) + (1 - DAMPING) * uniform
        if np.abs(scores - last).sum() < count * TOLERANCE:
            break
    # With a damping of 0.85 the change shrinks below the tolerance well within the
    # iteration limit whatever the graph, so networkx's failure case cannot arise here.
    return scores


def breadth_first(
    count: int,
    source: np.ndarray,
    target: np.ndarray,
    starts: np.ndarray,
    *,
    deepest: int | None = None,
) -> np.ndarray:
    """Hops along links from `starts` (depth 1), a whole frontier at a time; with
    `deepest`, no further than that depth (-1 beyond it)."""
    depth = np.full(count, -1, dtype=np.int64)
    if count == 0 or len(starts) == 0:
        return depth
    # Links are sorted by source, so each article's out-links are one slice.
    first = np.searchsorted(source, np.arange(count + 1))
    frontier = np.unique(starts)
    level = 1
    depth[frontier] = level
    while len(frontier) and (deepest is None or level < deepest):
        lengths = first[frontier + 1] - first[frontier]
        total = int(lengths.sum())
        if total == 0:
            break
        offsets = np.repeat(first[frontier] - np.cumsum(lengths) + lengths, lengths)
        reached = target[offsets + np.arange(total)]
        frontier = np.unique(reached[depth[reached] < 0])
        level += 1
        depth[frontier] = level
    return depth
