"""A bulk publish collects garbage once per batch, and always gives the collector back."""

from __future__ import annotations

import gc
import uuid
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article
from cms_api.services.publishing import articles as article_documents
from cms_api.services.publishing import collecting
from tests.support.seeds import live_article_ids


@pytest.fixture
def collections() -> Iterator[list[tuple[int, bool]]]:
    """Each collection that starts while the test runs: its generation, and whether a
    `by_batch` block held the automatic collector off then."""
    started: list[tuple[int, bool]] = []

    def seen(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started.append((info["generation"], collecting._turned_off.is_set()))

    gc.callbacks.append(seen)
    try:
        yield started
    finally:
        gc.callbacks.remove(seen)
        gc.enable()  # whatever a failed test left


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def _garbage_cycle() -> weakref.ref:
    """A reference cycle nothing else holds: only the cyclic collector frees it."""
    return weakref.ref(_Cycle())


def test_the_collector_is_off_inside_and_back_on_after() -> None:
    assert gc.isenabled()
    with collecting.by_batch():
        assert not gc.isenabled()
        with collecting.by_batch():  # a publish inside a publish
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block did not turn it back on
    assert gc.isenabled()


def test_the_collector_comes_back_when_the_block_fails() -> None:
    with pytest.raises(RuntimeError), collecting.by_batch():
        raise RuntimeError("a batch failed")
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off() -> None:
    gc.disable()
    try:
        with collecting.by_batch():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_batch_done_frees_its_reference_cycles() -> None:
    with collecting.by_batch():
        cycle = _garbage_cycle()
        # Far past the automatic collector's threshold, which counts containers made
        # and not yet freed.
        kept = [[] for _ in range(10_000)]
        assert cycle() is not None  # no collection ran on its own
        collecting.batch_done()
        assert cycle() is None
        del kept


def test_what_dies_after_its_batch_goes_at_the_next_full_collection(
    collections: list[tuple[int, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collecting, "FULL_EVERY", 3)
    with collecting.by_batch():
        held = _Cycle()
        cycle = weakref.ref(held)
        collecting.batch_done()  # alive: it moves to the oldest generation
        del held
        collecting.batch_done()  # the young generations only: still there
        assert cycle() is not None
        collecting.batch_done()  # the third: a full collection
        assert cycle() is None
        collecting.batch_done()
    assert [generation for generation, off in collections if off] == [1, 1, 2, 1]


def test_a_batch_done_outside_a_block_collects_nothing(
    collections: list[tuple[int, bool]],
) -> None:
    gc.collect()  # no automatic collection is due for hundreds of containers now
    before = len(collections)
    collecting.batch_done()
    assert collections[before:] == []


def test_the_end_of_the_block_frees_what_the_last_batch_left() -> None:
    with collecting.by_batch():
        cycle = _garbage_cycle()
    assert cycle() is None


def test_only_a_long_block_ends_with_a_full_collection(
    collections: list[tuple[int, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collecting, "FULL_EVERY", 3)
    ends = []
    for batches in (2, 4):
        with collecting.by_batch():
            for _ in range(batches):
                collecting.batch_done()
            before = len(collections)
        ends.append([generation for generation, off in collections[before:] if not off])
    assert ends == [[1], [2]]


def _collected_while_off(
    app, collections: list[tuple[int, bool]], monkeypatch: pytest.MonkeyPatch, call: Any
) -> tuple[list[int], int]:
    """`call` the seeded public articles' ids in batches of 2: the generations collected
    while a block held the automatic collector off, and how many batches there were."""
    monkeypatch.setattr(article_documents, "RENDER_BATCH", 2)
    with app.app_context():
        ids = live_article_ids()
        assert len(ids) >= 6
        collections.clear()
        call(ids)
    assert gc.isenabled()
    return [generation for generation, off in collections if off], -(-len(ids) // 2)


def test_a_bulk_publish_collects_per_batch_not_per_allocation(
    app, collections: list[tuple[int, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    while_off, batches = _collected_while_off(
        app, collections, monkeypatch, article_documents.publish_articles
    )
    # The automatic collector starts with the youngest generation alone: while the
    # publish's batches ran, none did; each collection then was a finished batch's
    # (going live, summaries, rendering).
    assert len(while_off) >= 3 * batches
    assert 0 not in while_off


def test_a_bulk_refresh_collects_per_batch_from_its_summaries_on(
    app, collections: list[tuple[int, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Imports and cascades call `refresh_articles` directly."""
    while_off, batches = _collected_while_off(
        app, collections, monkeypatch, article_documents.refresh_articles
    )
    assert len(while_off) >= 2 * batches  # summaries and rendering
    assert 0 not in while_off


def test_a_failed_bulk_publish_gives_the_collector_back(app) -> None:
    with app.app_context():
        ids = [*db.session.scalars(select(Article.id).limit(2)), uuid.uuid4()]
        with pytest.raises(LookupError):
            article_documents.publish_articles(ids)
    assert gc.isenabled()
