"""Garbage collection during a bulk publish: once per batch, not every few hundred objects."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Rendering a batch allocates millions of short-lived containers (ORM rows, JSON, HTML
# pieces). Left to itself, CPython's collector runs every 700 allocations and, as what a
# publish holds grows (summaries, the batch's articles), scans the whole heap again and
# again: about 2.6 s of a 2,000-article publish, all of it holding the GIL the rendering
# needs (bench/README.md). Inside `by_batch()` the automatic collector is off and each
# finished batch's garbage is collected at once: one pass over the objects made since the
# last (the two young generations), after which the survivors are old and not scanned
# again until the collector is back on. Reference cycles a batch leaves (ORM objects and
# their states) go at the end of their batch, so memory stays bounded by a batch, as before.
_owner_lock = threading.Lock()
_turned_off = threading.Event()  # set while a `by_batch` block holds the collector off


@contextmanager
def by_batch() -> Iterator[None]:
    """Collect garbage only when `batch_done` says so, until the block ends.

    The collector is the process's: the first block to start (in any thread) turns it
    off and the same block turns it back on, collecting the young generations once more;
    a block inside another, or started while the collector was already off (by the
    application or another block), changes nothing.
    """
    with _owner_lock:
        owns = gc.isenabled() and not _turned_off.is_set()
        if owns:
            gc.disable()
            _turned_off.set()
    try:
        yield
    finally:
        if owns:
            with _owner_lock:
                _turned_off.clear()
                gc.enable()
            gc.collect(1)


def batch_done() -> None:
    """A batch is finished: collect what it left, if `by_batch` turned the collector off."""
    if _turned_off.is_set():
        gc.collect(1)
