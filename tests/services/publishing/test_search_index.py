"""The search index and answer passages: rebuilt whole, or beside bulk publishing's rendering."""

from __future__ import annotations

import logging
import threading
import uuid
from collections import namedtuple
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from cms_api.database import db
from cms_api.domain import locales
from cms_api.services.publishing import passages, search_index

# A publish of more articles than any table here has rows: every table is analyzed.
EVERY_TABLE = 10**9


def _article_keys() -> list[tuple[str, uuid.UUID]]:
    rows = db.session.execute(
        # Default-locale articles in a fixed order: callers translate them, so a row order
        # that picked a translation would make the test depend on how the table was written.
        text(
            "SELECT kind, entity_id FROM published_documents WHERE kind = 'article' "
            "AND locale = 'en' ORDER BY slug LIMIT 3"
        )
    ).all()
    assert rows  # the seeded site
    return [(kind, entity_id) for kind, entity_id in rows]


def _indexed(keys: list[tuple[str, uuid.UUID]]) -> tuple[int, int]:
    ids = [entity_id for _, entity_id in keys]
    entries = db.session.scalar(
        text("SELECT count(*) FROM search_entries WHERE entity_id = ANY(:ids)"), {"ids": ids}
    )
    passages = db.session.scalar(
        text(
            "SELECT count(*) FROM answer_passages WHERE entity_id = ANY(:ids)"
            " AND embedding IS NOT NULL"
        ),
        {"ids": ids},
    )
    return entries, passages


def _threads_calling(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[str]:
    """The names of the threads that call `module.name` from now on (it still runs)."""
    threads: list[str] = []
    original = getattr(module, name)

    def recorded(*args: Any) -> None:
        threads.append(threading.current_thread().name)
        original(*args)

    monkeypatch.setattr(module, name, recorded)
    return threads


def _statements_run(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], threading.Event]:
    """The statements the threads run through `search_index._statement` from now on, and
    an event set after each."""
    ran: list[str] = []
    run = threading.Event()
    original = search_index._statement

    def recorded(connection: Any, statement: str) -> None:
        original(connection, statement)
        ran.append(statement)
        run.set()

    monkeypatch.setattr(search_index, "_statement", recorded)
    return ran, run


def _room_taken() -> threading.BoundedSemaphore:
    """Room on a thread, taken: what `_Worker._run` gives back when its work is done."""
    room = threading.BoundedSemaphore(1)
    room.acquire()
    return room


def _forget(table: str, keys: list[tuple[str, uuid.UUID]]) -> None:
    """Delete these documents' rows of a search table (`search_entries`, `answer_passages`)."""
    db.session.execute(
        text(f"DELETE FROM {table} WHERE entity_id = ANY(:ids)"),
        {"ids": [entity_id for _, entity_id in keys]},
    )


def test_documents_indexed_alongside_are_indexed_by_another_thread_before_the_block_ends(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = _threads_calling(monkeypatch, search_index, "_index")
    with app.app_context():
        keys = _article_keys()
        before = _indexed(keys)
        _forget("search_entries", keys)
        _forget("answer_passages", keys)
        assert _indexed(keys) == (0, 0)

        with search_index.alongside():
            search_index.index_documents(keys[:1])
            search_index.index_documents(keys[1:])

        assert _indexed(keys) == before
        db.session.rollback()
    assert len(threads) == 2
    assert all(name.startswith("search-index") for name in threads)


def test_work_waits_in_its_queue_until_the_publisher_lets_the_thread_start(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[tuple[str, uuid.UUID]]] = []
    first_started = threading.Event()
    index = search_index._index

    def recorded(connection: Any, pairs: list[tuple[str, uuid.UUID]], *args: Any) -> None:
        started.append(pairs)
        first_started.set()
        index(connection, pairs, *args)

    monkeypatch.setattr(search_index, "_index", recorded)
    with app.app_context():
        keys = _article_keys()
        with search_index.alongside():
            search_index.index_documents(keys[:1])
            # The publisher's own reads have the connection to themselves meanwhile.
            db.session.execute(text("SELECT pg_sleep(0.2)"))
            assert started == []
            search_index.start_queued()
            search_index.index_documents(keys[1:])
            assert first_started.wait(10)
            assert started == [keys[:1]]  # the second waits in the queue
        # What was still queued when the block ended was indexed before it ended, in order.
        assert started == [keys[:1], keys[1:]]
        db.session.rollback()


def test_a_publisher_far_ahead_of_the_index_waits_for_room_in_its_queue(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_index, "PENDING_PIECES", 1)
    started, finished = threading.Event(), []
    release = threading.Event()
    index = search_index._index

    def slow_first(connection: Any, pairs: list[tuple[str, uuid.UUID]], *args: Any) -> None:
        if not started.is_set():
            started.set()
            assert release.wait(10)
        index(connection, pairs, *args)
        finished.append(pairs)

    monkeypatch.setattr(search_index, "_index", slow_first)
    with app.app_context():
        keys = _article_keys()
        with search_index.alongside():
            search_index.index_documents(keys[:1])
            search_index.start_queued()
            assert started.wait(10)
            search_index.index_documents(keys[1:])
            threading.Timer(0.3, release.set).start()
            search_index.start_queued()  # no room: the first piece is still being indexed
            assert finished == [keys[:1]]
        assert finished == [keys[:1], keys[1:]]
        db.session.rollback()


def test_the_index_thread_far_ahead_of_the_embeddings_waits_for_room_in_their_queue(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_index, "PENDING_PIECES", 1)
    held, release = threading.Event(), threading.Event()
    events: list[str] = []
    store, index = passages.store_embeddings, search_index._index

    def slow_first(*args: Any, **kwargs: Any) -> None:
        if not held.is_set():
            held.set()
            threading.Timer(2, release.set).start()
            assert release.wait(10)
            events.append("first embeddings stored")
        store(*args, **kwargs)

    def recorded(connection: Any, pairs: list[tuple[str, uuid.UUID]], *args: Any) -> None:
        index(connection, pairs, *args)
        events.append("indexed")

    monkeypatch.setattr(passages, "store_embeddings", slow_first)
    monkeypatch.setattr(search_index, "_index", recorded)
    with app.app_context():
        keys = _article_keys()
        before = _indexed(keys)
        _forget("search_entries", keys)
        _forget("answer_passages", keys)
        with search_index.alongside():
            for key in keys:
                search_index.index_documents([key])
        # The second piece's passages waited for room on the embedding thread, and the
        # index thread with them: it went on once the first piece's were stored.
        assert events[:2] == ["indexed", "first embeddings stored"]
        assert events.count("indexed") == len(keys) == 3
        assert _indexed(keys) == before
        db.session.rollback()


def test_an_interrupt_while_the_block_ends_leaves_no_thread_working(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Interrupted(BaseException):  # as KeyboardInterrupt is
        pass

    def interrupted(*args: Any, **kwargs: Any) -> bool:
        raise Interrupted

    ran, _ = _statements_run(monkeypatch)
    workers = []

    def publish() -> None:
        with search_index.alongside():
            workers.append(db.session.info[search_index._WORKER])
            search_index.analyze_written(EVERY_TABLE)  # queued: the block's end would start it
            # Interrupted while the end of the block waits for room on the thread.
            monkeypatch.setattr(workers[0].index_room, "acquire", interrupted)

    with app.app_context():
        with pytest.raises(Interrupted):
            publish()
        assert workers[0].pool._shutdown and workers[0].embedder._shutdown
        assert ran == []
        db.session.rollback()


def test_after_hold_the_threads_start_no_statement_until_started_again(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran, run_again = _statements_run(monkeypatch)
    with app.app_context():
        with search_index.alongside():
            search_index.start_queued()
            search_index.hold_queued()  # the publisher is about to write
            search_index.analyze_written(EVERY_TABLE)  # queued: waits for start_queued
            worker = db.session.info[search_index._WORKER]
            worker.pool.submit(
                worker._run, _room_taken(), search_index._statement, "SELECT 1"
            )  # not queued
            # The publisher's writes have the connection; the thread's statement waits.
            db.session.execute(text("SELECT pg_sleep(0.2)"))
            assert ran == []
            search_index.start_queued()
            assert run_again.wait(10)
        assert ran == ["SELECT 1", "ANALYZE " + ", ".join(search_index._WRITTEN)]
        db.session.rollback()


def test_statements_held_back_when_the_block_fails_are_never_run(
    app, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ran, _ = _statements_run(monkeypatch)
    with app.app_context():

        def publish_then_fail() -> None:
            with search_index.alongside():
                search_index.start_queued()
                search_index.hold_queued()  # the publisher writes, and its write fails
                worker = db.session.info[search_index._WORKER]
                worker.pool.submit(worker._run, _room_taken(), search_index._statement, "SELECT 1")
                raise LookupError("no such article")

        with (
            caplog.at_level(logging.ERROR, logger=search_index.__name__),
            pytest.raises(LookupError),
        ):
            publish_then_fail()
        db.session.rollback()
    assert ran == []  # not run on a transaction being rolled back
    assert not [record for record in caplog.records if record.name == search_index.__name__]


def test_a_publish_in_bulk_indexes_in_pieces(app, monkeypatch: pytest.MonkeyPatch) -> None:
    pieces: list[int] = []
    index = search_index._index

    def recorded(connection: Any, pairs: list[Any], *args: Any) -> None:
        pieces.append(len(pairs))
        index(connection, pairs, *args)

    monkeypatch.setattr(search_index, "_index", recorded)
    monkeypatch.setattr(search_index, "INDEX_PIECE", 2)
    with app.app_context():
        keys = _article_keys()
        before = _indexed(keys)
        _forget("search_entries", keys)
        with search_index.alongside():
            search_index.index_documents(keys)
        assert _indexed(keys) == before
        db.session.rollback()
    assert pieces == [2, 1]


def test_work_still_queued_when_the_block_fails_is_dropped(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[tuple[str, uuid.UUID]]] = []
    monkeypatch.setattr(search_index, "_index", lambda _, pairs, *args: started.append(pairs))
    with app.app_context():
        keys = _article_keys()

        def publish_then_fail() -> None:
            with search_index.alongside():
                search_index.index_documents(keys)
                raise LookupError("no such article")  # the transaction rolls back

        with pytest.raises(LookupError):
            publish_then_fail()
        assert started == []
        db.session.rollback()


def test_passages_are_embedded_on_a_thread_of_their_own(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = _threads_calling(monkeypatch, passages, "store_embeddings")
    with app.app_context():
        keys = _article_keys()
        before = _indexed(keys)
        _forget("answer_passages", keys)

        with search_index.alongside():
            search_index.index_documents(keys)

        assert _indexed(keys) == before  # every passage cut again, and embedded
        db.session.rollback()
    assert threads and all(name.startswith("search-embed") for name in threads)


def test_an_error_of_the_embedding_thread_is_raised_when_the_block_ends(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("the embedding failed")

    monkeypatch.setattr(passages, "store_embeddings", broken)
    with app.app_context():
        keys = _article_keys()
        _forget("answer_passages", keys)
        with pytest.raises(RuntimeError, match="the embedding failed"), search_index.alongside():
            search_index.index_documents(keys)
        db.session.rollback()


def test_an_error_of_the_index_thread_is_raised_when_the_block_ends(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the index failed")

    monkeypatch.setattr(search_index, "_index", broken)
    with app.app_context():
        keys = _article_keys()
        with pytest.raises(RuntimeError, match="the index failed"), search_index.alongside():
            search_index.index_documents(keys)
        # The block left no worker behind: indexing is synchronous again, and fails here.
        with pytest.raises(RuntimeError, match="the index failed"):
            search_index.index_documents(keys)


def test_a_database_error_of_the_index_thread_is_raised_as_the_sessions_would_be(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lost(*args: Any, **kwargs: Any) -> None:
        raise psycopg.OperationalError("the server closed the connection")

    monkeypatch.setattr(search_index, "_index", lost)
    with app.app_context():
        keys = _article_keys()
        # As SQLAlchemy raises it for the session's own statements: the app's handlers
        # answer it (a lost connection is a 503), not the catch-all 500.
        with pytest.raises(OperationalError) as raised, search_index.alongside():
            search_index.index_documents(keys)
        assert isinstance(raised.value.orig, psycopg.OperationalError)
        db.session.rollback()


def test_when_the_index_thread_failed_first_its_error_is_logged(
    app, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    failed = threading.Event()

    def broken(*args: Any, **kwargs: Any) -> None:
        failed.set()
        raise RuntimeError("the cause")

    monkeypatch.setattr(search_index, "_index", broken)
    with app.app_context():
        keys = _article_keys()

        def publish_then_fail() -> None:
            with search_index.alongside():
                search_index.index_documents(keys)
                search_index.start_queued()
                failed.wait(5)
                raise LookupError("the echo")  # as an aborted transaction's next statement

        with (
            caplog.at_level(logging.ERROR, logger=search_index.__name__),
            pytest.raises(LookupError),
        ):
            publish_then_fail()
    logged = [record for record in caplog.records if record.name == search_index.__name__]
    assert logged and "the cause" in str(logged[0].exc_info[1])


def test_an_error_inside_the_block_waits_for_the_index_thread(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished = threading.Event()

    def slow(*args: Any, **kwargs: Any) -> None:
        finished.wait(0.2)
        finished.set()

    monkeypatch.setattr(search_index, "_index", slow)
    with app.app_context():
        keys = _article_keys()

        def publish_then_fail() -> None:
            with search_index.alongside():
                search_index.index_documents(keys)
                search_index.start_queued()
                raise LookupError("no such article")

        with pytest.raises(LookupError):
            publish_then_fail()
        assert finished.is_set()


def test_reindexing_everything_restores_entries_and_passages(app) -> None:
    with app.app_context():
        keys = _article_keys()
        before = _indexed(keys)
        passages = db.session.execute(
            text("SELECT * FROM answer_passages ORDER BY kind, entity_id, position")
        ).all()
        db.session.execute(text("DELETE FROM search_entries"))
        db.session.execute(text("DELETE FROM answer_passages"))

        search_index.reindex_all()

        assert _indexed(keys) == before
        assert before[1] > 0
        again = db.session.execute(
            text("SELECT * FROM answer_passages ORDER BY kind, entity_id, position")
        ).all()
        assert again == passages
        db.session.rollback()


@pytest.mark.parametrize(
    "tag", ["en", "en-GB", "es", "es-419", "ES-mx", "pt-BR", "de", "nb", "zh-Hant-TW", "sw"]
)
def test_each_document_is_stemmed_as_its_locale_is_searched(app, tag: str) -> None:
    with app.app_context():
        chosen = db.session.scalar(
            text(f"SELECT ({search_index.configuration_of(':tag')})::text"), {"tag": tag}
        )
    assert chosen == locales.search_configuration(tag)


def _spanish_copy(entity_id: uuid.UUID) -> uuid.UUID:
    """A published copy of an article's document in Spanish, with a Spanish title."""
    copy = uuid.uuid4()
    db.session.execute(
        text(
            "CREATE TEMPORARY TABLE copied ON COMMIT DROP AS"
            " SELECT * FROM published_documents WHERE kind = 'article' AND entity_id = :id"
        ),
        {"id": entity_id},
    )
    db.session.execute(
        text(
            "UPDATE copied SET entity_id = :copy, locale = 'es', slug = 'dolores-de-cabeza',"
            " etag = md5(random()::text),"
            " body = jsonb_set(body::jsonb, '{title}', '\"Dolores de cabeza y migrañas\"')::text"
        ),
        {"copy": copy},
    )
    db.session.execute(text("INSERT INTO published_documents SELECT * FROM copied"))
    return copy


def test_a_batch_of_several_locales_is_indexed_in_one_go_each_in_its_language(app) -> None:
    with app.app_context():
        (kind, english), *_ = _article_keys()
        spanish = _spanish_copy(english)
        db.session.execute(
            text("DELETE FROM search_entries WHERE entity_id = ANY(:ids)"),
            {"ids": [english, spanish]},
        )
        db.session.execute(text("DELETE FROM search_words WHERE word = 'migranas'"))

        with search_index.alongside():
            search_index.index_documents([(kind, english), (kind, spanish)])

        entries = {
            row.entity_id: row
            for row in db.session.execute(
                text(
                    "SELECT entity_id, locale, title_vector::text AS title_vector"
                    " FROM search_entries WHERE entity_id = ANY(:ids)"
                ),
                {"ids": [english, spanish]},
            )
        }
        passages = db.session.scalar(
            text("SELECT array_agg(DISTINCT locale) FROM answer_passages WHERE entity_id = :id"),
            {"id": spanish},
        )
        lexicon = db.session.execute(
            text("SELECT locale, lexeme FROM search_words WHERE word = 'migranas'")
        ).all()
        db.session.rollback()

    assert entries[english].locale == "en" and entries[spanish].locale == "es"
    # Spanish stems, accents folded ("migrañas" → 'migran'); English keeps cms_search.
    assert entries[spanish].title_vector == "'cabez':3A 'dolor':1A 'migran':5A"
    assert "'dolor'" not in entries[english].title_vector
    assert passages == ["es"]
    assert lexicon == [("es", "migran")]


def test_an_embedding_is_stored_only_on_the_passage_it_was_made_for(app) -> None:
    with app.app_context():
        connection = db.session.connection()
        passage = db.session.execute(
            text(
                "SELECT kind, entity_id, position, title, heading, text, etag"
                " FROM answer_passages ORDER BY kind, entity_id, position LIMIT 1"
            )
        ).one()
        db.session.execute(
            text(
                "UPDATE answer_passages SET embedding = NULL"
                " WHERE kind = :kind AND entity_id = :entity_id AND position = :position"
            ),
            passage._asdict(),
        )

        def embedding_of() -> bytes | None:
            return db.session.scalar(
                text(
                    "SELECT embedding FROM answer_passages"
                    " WHERE kind = :kind AND entity_id = :entity_id AND position = :position"
                ),
                passage._asdict(),
            )

        Passage = namedtuple("Passage", passage._fields)
        older = Passage(*passage)._replace(etag="older")
        pgvector = search_index.vectors.has_pgvector_column(connection)
        # Made from an older version of the document: the passage waits for its own.
        passages.store_embeddings(connection, [older], pgvector)
        assert embedding_of() is None
        passages.store_embeddings(connection, [passage], pgvector)
        assert embedding_of() is not None
        db.session.rollback()
