"""Workers start from one shared snapshot of the documents and never serve a copy it outdated."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import brotli
import pytest
from flask import Flask
from sqlalchemy import text

from cms_api import fastpath
from cms_api.database import db
from cms_api.services.runtime import runtime_of
from tests.support.cache import cache_of, eventually

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = "/v1/articles/headache-after-botox"
OTHER = "/v1/articles/tmj-headache"


def _behind_publishing(app: Flask, sql: str, **values: object) -> None:
    """A change to stored documents that announces nothing."""
    with app.app_context():
        db.session.execute(text(sql), values)
        db.session.commit()


def _announce(app: Flask, payload: str = "") -> None:
    with app.app_context():
        db.session.execute(
            text("SELECT pg_notify('cms_documents', :payload)"), {"payload": payload}
        )
        db.session.commit()


def _entity_hex(app: Flask, slug: str) -> str:
    with app.app_context():
        return (
            db.session.execute(
                text(
                    "SELECT entity_id FROM published_documents WHERE kind = 'article' AND slug = :s"
                ),
                {"s": slug},
            )
            .scalar_one()
            .hex
        )


def _warm_and_listen(app: Flask) -> None:
    snapshot = fastpath.warm(app)
    assert snapshot is not None and len(snapshot) > 0
    # Listening starts without a read: a read that ran before the snapshot was compared
    # would be kept in memory as a document of its own.
    cache = runtime_of(app).document_lookup.memory()
    assert cache is not None
    cache._ensure_listener()
    eventually(lambda: cache.listening and cache._snapshot_ready)
    client = app.test_client()
    eventually(lambda: client.get(OTHER).status_code == 200 and cache._snapshot_ready)


def test_every_document_is_served_from_the_snapshot_without_a_read_of_its_own(committed_app):
    client = committed_app.test_client()
    with committed_app.app_context():
        stored = db.session.execute(
            text("SELECT body, etag FROM published_documents WHERE slug = 'headache-after-botox'")
        ).one()
    _warm_and_listen(committed_app)

    answer = client.get(ARTICLE)
    assert answer.status_code == 200
    assert answer.get_data(as_text=True) == stored.body
    assert answer.headers["ETag"] == stored.etag
    compressed = client.get(ARTICLE, headers={"Accept-Encoding": "br"})
    assert compressed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(compressed.get_data()) == stored.body.encode()
    # Nothing was read into the worker's own memory: both came from the snapshot.
    assert len(cache_of(committed_app)) == 0

    # A change that announces nothing is not seen: the answer is the snapshot's.
    _behind_publishing(
        committed_app,
        "UPDATE published_documents SET body = '{}', etag = '\"x\"' "
        "WHERE slug = 'headache-after-botox'",
    )
    assert client.get(ARTICLE).headers["ETag"] == stored.etag
    # A revalidation too is answered from the snapshot's ETags alone.
    assert client.get(ARTICLE, headers={"If-None-Match": stored.etag}).status_code == 304


def test_a_worker_started_after_a_change_does_not_serve_the_snapshot_copy(committed_app):
    # The master read the snapshot; then, before this worker listened, a document changed
    # and another went: what a worker forked long after the snapshot meets.
    snapshot = fastpath.warm(committed_app)
    assert snapshot is not None
    _behind_publishing(
        committed_app,
        "UPDATE published_documents SET body = :body, etag = '\"new\"', body_br = NULL "
        "WHERE slug = 'headache-after-botox'",
        body='{"changed":true}',
    )
    _behind_publishing(
        committed_app,
        "DELETE FROM published_documents WHERE kind = 'article' AND slug = :slug",
        slug="tmj-headache",
    )
    assert snapshot.get(("article", "headache-after-botox")) is not None  # still the old copy

    client = committed_app.test_client()
    eventually(lambda: client.get("/v1/topics/headache").status_code == 200)
    eventually(lambda: cache_of(committed_app)._snapshot_ready)
    answer = client.get(ARTICLE)
    assert answer.headers["ETag"] == '"new"'
    assert answer.get_json() == {"changed": True}
    assert client.get(OTHER).status_code == 404


def test_an_announced_change_makes_only_that_document_stale(committed_app):
    client = committed_app.test_client()
    _warm_and_listen(committed_app)
    before = client.get(OTHER).headers["ETag"]

    _behind_publishing(
        committed_app,
        "UPDATE published_documents SET body = '{}', etag = '\"new\"' "
        "WHERE slug = 'headache-after-botox'",
    )
    _announce(committed_app, f"article:{_entity_hex(committed_app, 'headache-after-botox')}")
    eventually(lambda: client.get(ARTICLE).headers["ETag"] == '"new"')
    # The other document still comes from the snapshot; only the changed one was read.
    assert client.get(OTHER).headers["ETag"] == before
    assert len(cache_of(committed_app)) == 1


def test_an_announcement_of_everything_compares_the_snapshot_again(committed_app):
    client = committed_app.test_client()
    _warm_and_listen(committed_app)
    cache = cache_of(committed_app)
    generation = cache.generation()

    _behind_publishing(
        committed_app,
        "UPDATE published_documents SET body = '{}', etag = '\"new\"' "
        "WHERE slug = 'headache-after-botox'",
    )
    _announce(committed_app)  # a bare NOTIFY: everything may have changed
    eventually(lambda: cache.generation() > generation and cache._snapshot_ready)
    assert client.get(ARTICLE).headers["ETag"] == '"new"'
    client.get(OTHER)
    assert ("article", "headache-after-botox") in cache._stale
    assert len(cache) == 1  # the other from the snapshot again, not read


def test_no_snapshot_without_the_document_cache(seeded_copies):
    from tests.conftest import build_app

    application = build_app(seeded_copies(), CMS_FAST_PATH=False)
    try:
        assert fastpath.warm(application) is None
    finally:
        with application.app_context():
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture
def gunicorn_conf(tmp_path, monkeypatch):
    """The gunicorn settings module, imported without leaving its metrics folder set in
    this process's environment (the app's /metrics would read that folder then)."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    from cms_api import gunicorn_conf

    return gunicorn_conf


def test_recycling_budgets_spread_the_first_workers_over_one_budget(gunicorn_conf):
    recycle_budget = gunicorn_conf.recycle_budget
    assert [recycle_budget(1000, age, 4) for age in (1, 2, 3, 4)] == [250, 500, 750, 1000]
    assert recycle_budget(1000, 5, 4) == recycle_budget(1000, 99, 4) == 1000
    assert recycle_budget(2, 1, 4) == 1  # never zero: zero would mean "never recycle"


def test_one_worker_leaves_at_a_time(gunicorn_conf, tmp_path):
    take_turn = gunicorn_conf.take_turn
    lock = str(tmp_path / "recycle.lock")
    leaving = take_turn(lock, spacing=0)
    assert leaving is not None
    assert take_turn(lock, spacing=0) is None  # another is still leaving
    os.close(leaving)  # it has gone
    assert take_turn(lock, spacing=60) is None  # but only just
    again = take_turn(lock, spacing=0)
    assert again is not None
    os.close(again)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _etag(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.headers["ETag"]


@pytest.mark.multiprocess
def test_recycled_workers_start_warm_and_serve_what_was_published_after_the_warm_up(
    committed_app, tmp_path
):
    port = _free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": committed_app.config["SQLALCHEMY_DATABASE_URI"],
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "WEB_CONCURRENCY": "2",
        "CMS_RATE_LIMITS_PER_WORKER": "true",
        "CMS_MAX_REQUESTS": "4",
        "CMS_BIND": f"127.0.0.1:{port}",
    }
    errors = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:cms_api.gunicorn_conf", "wsgi:app"],
        cwd=ROOT,
        env={**environment, "GUNICORN_CMD_ARGS": "--log-level info"},
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        eventually(lambda: _answers(f"{base}/healthz") or server.poll() is not None, 60)
        assert server.poll() is None
        before = _etag(base + ARTICLE)
        # Published after the master read its snapshot: every worker, those forked later
        # from that master included, must serve the new copy once it is announced.
        _behind_publishing(
            committed_app,
            "UPDATE published_documents SET body = '{}', etag = '\"after\"', body_br = NULL "
            "WHERE slug = 'headache-after-botox'",
        )
        _announce(committed_app, f"article:{_entity_hex(committed_app, 'headache-after-botox')}")
        eventually(lambda: _etag(base + ARTICLE) == '"after"')
        seen = []
        for _ in range(40):
            seen.append(_etag(base + ARTICLE))
            time.sleep(0.03)
        assert before != '"after"'
        assert set(seen) == {'"after"'}
        log_text = (tmp_path / "gunicorn.log").read_text()
        assert "document snapshot:" in log_text
        assert log_text.count("Recycling worker") >= 2
        assert len(list(tmp_path.glob("counter_*.db"))) >= 4  # several workers answered
    finally:
        server.terminate()
        server.wait(timeout=40)
        errors.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False
