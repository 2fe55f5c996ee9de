"""Remembered list pages, searches and lookups are answered before Flask, as Flask answers them."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import event, select
from werkzeug.test import Client
from werkzeug.wrappers import Response

from cms_api.database import db
from cms_api.document_cache import DocumentCache, drop_local
from cms_api.models import Article
from cms_api.observability import REQUESTS
from cms_api.remembered_fastpath import Kept, RememberedFastPath
from cms_api.services.publishing.articles import unpublish_article
from cms_api.services.runtime import runtime_of
from tests.conftest import build_app
from tests.support.cache import cache_of, eventually

ADDRESSES = [
    "/v1/articles?limit=2",
    "/v1/articles?limit=3&sort=title",
    "/v1/articles?topic=headache",
    "/v1/faqs?limit=2",
    "/v1/people",
    "/v1/topics?limit=5",
    "/v1/lookup?code=icd10cm:R51.9",
    "/v1/lookup?symptom=tmj",
    "/v1/search?q=headache&limit=2",
    "/v1/search?q=botxo+headake",
]
RATE_LIMIT = {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"}


def _layer(app: Flask) -> RememberedFastPath:
    layer = app.wsgi_app
    while not isinstance(layer, RememberedFastPath):
        layer = layer.downstream  # the measuring layers wrap it
    return layer


@contextmanager
def _counting_views(app: Flask) -> Iterator[list[str]]:
    """The addresses that reach the layers below the fast path (the views), while open."""
    layer = _layer(app)
    downstream = layer.downstream
    reached: list[str] = []

    def counting(environ, start_response):
        reached.append(environ["PATH_INFO"] + "?" + environ.get("QUERY_STRING", ""))
        return downstream(environ, start_response)

    layer.downstream = counting
    try:
        yield reached
    finally:
        layer.downstream = downstream


def _comparable(response: Response) -> tuple:
    headers = dict(response.headers)
    assert len(headers.pop("X-Request-ID")) == 32
    limited = {name: headers.pop(name) for name in RATE_LIMIT & set(headers)}
    return response.status_code, response.get_data(), headers, sorted(limited)


@pytest.mark.parametrize("address", ADDRESSES)
def test_answers_from_memory_are_those_of_the_views(app, client, address):
    flask_only = Client(_layer(app).downstream, Response)
    reference = flask_only.get(address)
    assert reference.status_code == 200, reference.get_json()
    client.get(address)  # answered by the views, and kept

    with _counting_views(app) as reached:
        fast = client.get(address)

    assert reached == []
    assert _comparable(fast) == _comparable(reference)
    if "next_cursor" in fast.get_json().get("page", {}) and fast.get_json()["page"]["next_cursor"]:
        assert fast.headers["Link"].endswith('rel="next"')


def test_the_next_page_by_its_cursor_is_kept_too(app, client):
    first = client.get("/v1/articles?limit=2").get_json()
    address = f"/v1/articles?limit=2&cursor={first['page']['next_cursor']}"
    reference = client.get(address)

    with _counting_views(app) as reached:
        fast = client.get(address)

    assert reached == []
    assert fast.get_data() == reference.get_data()
    assert fast.headers["Link"] == reference.headers["Link"]
    assert fast.get_json()["items"][0] != first["items"][0]


def test_a_supplied_request_id_is_echoed(client):
    client.get("/v1/people")
    assert client.get("/v1/people", headers={"X-Request-ID": "r-42"}).headers["X-Request-ID"] == (
        "r-42"
    )
    assert (
        len(client.get("/v1/people", headers={"X-Request-ID": "no spaces"}).headers["X-Request-ID"])
        == 32
    )


@pytest.mark.parametrize(
    ("address", "headers", "status"),
    [
        ("/v1/articles?limit=0", {}, 400),  # a problem is never kept
        ("/v1/articles?limit=2&colour=red", {}, 400),
        ("/v1/lookup?code=nonsense:1", {}, 400),
        ("/v1/search?q=", {}, 400),
        ("/v1/articles?limit=2", {"If-None-Match": '"x"'}, 200),  # revalidations: the views
    ],
)
def test_everything_else_reaches_the_views_every_time(app, client, address, headers, status):
    with _counting_views(app) as reached:
        answers = [client.get(address, headers=headers) for _ in range(2)]

    assert [answer.status_code for answer in answers] == [status, status]
    assert len(reached) == 2


def test_a_revalidation_of_a_kept_page_is_the_views_304(client):
    etag = client.get("/v1/articles?limit=2").headers["ETag"]
    client.get("/v1/articles?limit=2")

    assert client.get("/v1/articles?limit=2", headers={"If-None-Match": etag}).status_code == 304


def test_a_head_request_reaches_the_views(app, client):
    client.get("/v1/people")
    with _counting_views(app) as reached:
        answer = client.head("/v1/people")
    assert answer.status_code == 200
    assert reached == ["/v1/people?"]


def test_a_withdrawn_article_leaves_every_kept_answer(app, client):
    before = client.get("/v1/articles?limit=100").get_json()
    search = client.get("/v1/search?q=botox&limit=50").get_json()
    assert any(item["slug"] == "headache-after-botox" for item in before["items"])
    assert any(item["slug"] == "headache-after-botox" for item in search["items"])

    with app.app_context():
        article_id = db.session.scalar(
            select(Article.id).where(Article.slug == "headache-after-botox")
        )
        unpublish_article(article_id)
        db.session.commit()

    after = client.get("/v1/articles?limit=100").get_json()
    searched = client.get("/v1/search?q=botox&limit=50").get_json()
    assert after["page"]["total"] == before["page"]["total"] - 1
    assert all(item["slug"] != "headache-after-botox" for item in after["items"])
    assert all(item["slug"] != "headache-after-botox" for item in searched["items"])


def test_a_search_from_memory_counts_against_the_rate_limit(app):
    settings = dataclasses.replace(app.config["CMS_SETTINGS"], search_rate_limit="3 per minute")
    limited = build_app(app.config["SQLALCHEMY_DATABASE_URI"], CMS_SETTINGS=settings)
    # Reading in the test's transaction, as the test app does.
    for source in ("read_connection", "snapshot_connection", "document_lookup"):
        setattr(runtime_of(limited), source, getattr(runtime_of(app), source))
    client = limited.test_client()
    address = "/v1/search?q=headache"

    with _counting_views(limited) as reached:
        answers = [client.get(address, environ_base={"REMOTE_ADDR": "192.0.2.7"}) for _ in range(4)]
        other = client.get(address, environ_base={"REMOTE_ADDR": "192.0.2.8"})

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"3"}
    # The first search and the refused one reached the views; the two between did not,
    # nor did another address's first search, answered from memory.
    assert len(reached) == 2
    assert other.status_code == 200
    assert other.headers["X-RateLimit-Remaining"] == "2"


def _statements(app: Flask) -> list[str]:
    executed: list[str] = []
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        event.listen(engine, "before_cursor_execute", lambda *a, **_: executed.append(a[2]))
    return executed


def test_told_of_changes_memory_answers_without_reading(committed_app):
    client = committed_app.test_client()
    eventually(
        lambda: (
            client.get("/v1/articles/headache-after-botox").status_code == 200
            and cache_of(committed_app).listening
        )
    )
    first = client.get("/v1/articles?limit=100")
    executed = _statements(committed_app)

    again = client.get("/v1/articles?limit=100")

    assert again.get_data() == first.get_data()
    assert executed == []


def test_told_of_changes_a_commit_here_is_seen_at_once(committed_app):
    client = committed_app.test_client()
    eventually(
        lambda: (
            client.get("/v1/articles/headache-after-botox").status_code == 200
            and cache_of(committed_app).listening
        )
    )
    before = client.get("/v1/articles?limit=100").get_json()
    client.get("/v1/articles?limit=100")

    with committed_app.app_context():
        article_id = db.session.scalar(
            select(Article.id).where(Article.slug == "headache-after-botox")
        )
        unpublish_article(article_id)
        db.session.commit()

    after = client.get("/v1/articles?limit=100").get_json()
    assert after["page"]["total"] == before["page"]["total"] - 1


def test_told_of_changes_a_commit_elsewhere_is_seen_when_announced(committed_app):
    client = committed_app.test_client()
    eventually(
        lambda: (
            client.get("/v1/articles/headache-after-botox").status_code == 200
            and cache_of(committed_app).listening
        )
    )
    before = client.get("/v1/articles?limit=100").get_json()
    # Another server process over the same database: its commit reaches this one only
    # through PostgreSQL's announcement.
    other = build_app(committed_app.config["SQLALCHEMY_DATABASE_URI"])
    with other.app_context():
        article_id = db.session.scalar(
            select(Article.id).where(Article.slug == "headache-after-botox")
        )
        unpublish_article(article_id)
        db.session.commit()
        db.engine.dispose()

    eventually(
        lambda: (
            client.get("/v1/articles?limit=100").get_json()["page"]["total"]
            == before["page"]["total"] - 1
        )
    )


def test_without_its_announcements_memory_checks_the_change_feed(committed_app):
    client = committed_app.test_client()
    eventually(
        lambda: (
            client.get("/v1/articles/headache-after-botox").status_code == 200
            and cache_of(committed_app).listening
        )
    )
    client.get("/v1/topics")
    cache = cache_of(committed_app)
    cache._listening = False  # as while its LISTEN connection is down
    executed = _statements(committed_app)

    again = client.get("/v1/topics")

    assert again.status_code == 200
    assert any("change_events" in statement for statement in executed)


def test_with_a_replica_an_answer_is_kept_once_it_has_every_change_announced(app, monkeypatch):
    layer = RememberedFastPath(app, lambda environ, start_response: [])
    cache = DocumentCache("postgresql://unused", max_bytes=1 << 20, replica=True)
    cache._listening, cache._pid = True, os.getpid()  # as if it heard PostgreSQL
    positions = {"primary": 100, "replica": 100}
    monkeypatch.setattr(
        layer, "_position", lambda *, primary: positions["primary" if primary else "replica"]
    )
    assert layer._ticket(cache) == cache.generation()  # nothing announced yet

    cache.drop({("article", uuid.uuid4())}, position=200)  # announced at WAL position 200
    assert layer._ticket(cache) is None  # the replica is at 100: served, never kept
    positions["replica"] = 200
    assert layer._ticket(cache) == cache.generation()

    drop_local({("article", uuid.uuid4())})  # a commit in this process: its position is read
    positions["primary"] = 300
    assert layer._ticket(cache) is None
    positions["replica"] = 300
    assert layer._ticket(cache) == cache.generation()


def test_told_of_changes_an_answer_checked_only_by_a_version_is_not_served(app):
    layer = RememberedFastPath(app, lambda environ, start_response: [])
    cache = DocumentCache("postgresql://unused", max_bytes=1 << 20, replica=True)
    cache._listening, cache._pid = True, os.getpid()
    by_version = Kept(b"{}", (), "/v1/articles", generation=None, version=(1, 0))

    assert not layer._current(by_version, cache)
    assert layer._current(dataclasses.replace(by_version, generation=cache.generation()), cache)
    cache.clear(position=10)
    assert not layer._current(dataclasses.replace(by_version, generation=0), cache)


def test_an_answer_from_memory_is_counted_under_its_route(app, client):
    client.get("/v1/people")
    counted = REQUESTS.labels("GET", "/v1/people", "200")
    before = counted._value.get()

    with _counting_views(app) as reached:
        client.get("/v1/people")

    assert reached == []
    assert counted._value.get() == before + 1
