"""Garbage collection during a bulk publish: once per batch, not every few hundred objects."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Rendering a batch makes millions of short-lived containers (ORM rows, JSON, HTML
# pieces). Left to itself, CPython's collector runs whenever 700 more containers have been
# made than freed, and, as what a publish holds grows (summaries, the batch's articles),
# scans the whole heap again and again: 2.7 s of full collections in a 2,000-article
# publish, all of it holding the GIL the rendering needs (bench/README.md). Inside
# `by_batch()` the automatic collector is off. Each finished batch collects the young
# generations, which hold what was made since the last batch: the cycles the batch left
# (ORM objects and their states) go there. What is still alive then moves to the oldest
# generation; should it die later (an article a caller kept until the end, say), a full
# collection every FULL_EVERY batches, and one when a block of that many ends, free it.
# A shorter block (an edit re-rendering a few articles) ends with a young pass only, and
# leaves the rest to the collector, as before: a full pass there would be a request's
# tens of milliseconds spent on garbage that is not its own.
FULL_EVERY = 20

_owner_lock = threading.Lock()
_turned_off = threading.Event()  # set while a `by_batch` block holds the collector off
_batches = [0]  # batches finished since the block began


@contextmanager
def by_batch() -> Iterator[None]:
    """Collect garbage only when `batch_done` says so, until the block ends.

    The collector is the process's: the first block to start (in any thread) turns it
    off, for every thread, and the same block turns it back on and collects once more;
    a block inside another, or started while the collector was already off (by the
    application or another block), changes nothing.
    """
    owns = False
    try:
        with _owner_lock:
            if gc.isenabled() and not _turned_off.is_set():
                owns = True
                _batches[0] = 0
                _turned_off.set()
                gc.disable()
        yield
    finally:
        if owns:
            with _owner_lock:
                _turned_off.clear()
                gc.enable()
            gc.collect(2 if _batches[0] >= FULL_EVERY else 1)


def batch_done() -> None:
    """A batch is finished: collect what it left, if `by_batch` turned the collector off."""
    if not _turned_off.is_set():
        return
    _batches[0] += 1
    gc.collect(2 if _batches[0] % FULL_EVERY == 0 else 1)
