"""Delivery on a streaming replica behind PgBouncer (transaction mode), while the document
caches listen on the primary directly: publishing under read load, no stale read once a
publish is replayed, no lost write (marked `replica`). First, the rules in one process.

The replica applies each commit `APPLY_DELAY_MS` late, so every notification reaches the
workers well before the replica has the change: a worker that kept what it read from the
replica in that window would serve the old document from memory until the next change.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
import threading
import time
import uuid
import zlib
from dataclasses import dataclass

import brotli
import pytest
from sqlalchemy import make_url, text

from cms_api.database import db
from cms_api.document_cache import Document, DocumentCache, drop_local
from cms_api.services.runtime import runtime_of
from tests.conftest import build_app
from tests.support import live, replicas
from tests.support.api import bearer

APPLY_DELAY_MS = 300
ROUNDS = 8
READERS = 3
# A worker hears of a commit from the primary a few milliseconds after it; a read that
# starts this long after the replica replayed a publish must see it.
NOTICE = 0.25
PRIMARY_POSITION = "SELECT (pg_current_wal_lsn() - '0/0')::bigint"
REPLAYED_POSITION = "SELECT (pg_last_wal_replay_lsn() - '0/0')::bigint"
# What browsers send: each document is then kept once, with both its compressed forms, and
# only a change drops it (a client asking for another form would read it again).
CODINGS = ("gzip, deflate, br", "gzip, deflate, br, zstd")


PUBLIC_READS = (
    "/v1/articles?limit=5",
    "/v1/faqs?limit=20",
    "/v1/topics/headache",
    "/v1/people/tobias-lindqvist",
    "/v1/search?q=headache",
    "/v1/changes",
    "/v1/graph",
    "/v1/graph/report",
    "/sitemap.xml",
)
ARTICLE = ("article", "headache-after-botox")
ARTICLE_ID = uuid.UUID(int=1)


def _kept(cache: DocumentCache, ticket: tuple[int, bool]) -> bool:
    generation, keep = ticket
    if keep:
        cache.put(ARTICLE, Document(b"{}", '"1"', entity_id=ARTICLE_ID), generation)
    kept = cache._entries.pop(ARTICLE, None) is not None
    cache._etags.clear()
    cache._addresses.clear()
    return kept


def _ticket(cache: DocumentCache, replayed: int) -> tuple[int, bool]:
    """What StoredDocuments does before a read, the replica having replayed `replayed`."""
    generation, required = cache.ticket()
    if required is None:
        return generation, False
    if not cache.caught_up(required):
        cache.replayed(replayed)
    return generation, cache.caught_up(required)


def test_a_read_from_the_replica_is_kept_only_once_it_has_replayed_every_announced_change():
    cache = DocumentCache("", max_bytes=1 << 20, replica=True)
    cache._listening = True  # as if its listener were connected
    assert _kept(cache, _ticket(cache, 0))

    cache.drop([("article", ARTICLE_ID)], position=100)  # heard from the primary
    assert not _kept(cache, _ticket(cache, 99))  # the replica is behind: served, not kept
    assert _kept(cache, _ticket(cache, 100))
    assert _kept(cache, _ticket(cache, 0))  # replay only moves forward: seen once is enough

    # A read from before an announcement is not kept after it, whatever the replica has.
    ticket = _ticket(cache, 0)
    cache.drop([("article", ARTICLE_ID)], position=150)
    cache.replayed(1000)
    assert not _kept(cache, ticket)

    # A commit in this process: its position is unknown until read from the primary,
    # after it; a position read before another such commit does not place that one.
    drop_local([("article", ARTICLE_ID)])
    generation, required = cache.ticket()
    assert required is None and not _kept(cache, _ticket(cache, 10_000))
    drop_local([("article", ARTICLE_ID)])
    cache.settle(2000, generation)
    assert cache.ticket()[1] is None
    cache.settle(2000, cache.ticket()[0])
    assert cache.ticket()[1] == 2000
    assert not _kept(cache, _ticket(cache, 1999))
    assert _kept(cache, _ticket(cache, 2000))


def test_without_a_replica_positions_change_nothing():
    cache = DocumentCache("", max_bytes=1 << 20)
    cache.drop([("article", ARTICLE_ID)], position=100)
    drop_local([("article", ARTICLE_ID)])
    assert cache.ticket()[1] == 0


def test_public_reads_go_to_the_replica_and_admin_previews_writes_and_the_cli_to_the_primary(
    make_database,
):
    url = make_database("replica")
    # The primary's own database standing in for its replica, named apart.
    # (The embedded server's URL already has a query: its socket folder as `host`.)
    replica = (
        make_url(url)
        .update_query_dict({"application_name": "replica", "prepare_threshold": "none"})
        .render_as_string(hide_password=False)
    )
    app = build_app(url)
    app = build_app(
        url,
        CMS_SETTINGS=dataclasses.replace(app.config["CMS_SETTINGS"], database_replica_url=replica),
    )
    with app.app_context():
        delivery = db.engines["delivery"]
        assert delivery.url.query["application_name"] == "replica"
        assert "prepare_threshold" not in delivery.url.query  # given to psycopg instead
        assert delivery.pool.size() == app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"]
    reads = runtime_of(app)

    def name(path: str, method: str = "GET", **headers: str) -> str:
        with app.test_request_context(path, method=method, headers=headers):
            with reads.read_connection() as connection:
                named = connection.exec_driver_sql("SHOW application_name").scalar()
            with reads.snapshot_connection() as connection:
                assert connection.exec_driver_sql("SHOW application_name").scalar() == named
        return named

    assert name("/v1/articles") == "replica"
    assert name("/v1/search?q=headache") == "replica"
    assert name("/v1/admin/graph/report") != "replica"
    assert name("/v1/articles/a?preview_token=x") != "replica"
    assert name("/v1/articles/a", **{"X-Preview-Token": "x"}) != "replica"
    assert name("/v1/questions", method="POST") != "replica"
    with app.app_context(), reads.read_connection() as connection:  # the CLI, jobs
        assert connection.exec_driver_sql("SHOW application_name").scalar() != "replica"
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


def test_with_a_replica_memory_still_keeps_documents_and_drops_them_on_change(make_database):
    from flask_migrate import upgrade

    from cms_api.services.integrations.seeds import load_seeds

    url = make_database("replica_memory")
    app = build_app(url)
    settings = dataclasses.replace(app.config["CMS_SETTINGS"], database_replica_url=url)
    app = build_app(url, CMS_SETTINGS=settings)
    with app.app_context():
        upgrade()
        load_seeds()
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    path = "/v1/articles/headache-after-botox"
    try:
        assert client.get(path).status_code == 200
        cache = runtime_of(app).document_lookup.cache
        assert cache is not None and cache.replica
        deadline = time.monotonic() + 10
        while not cache._listening:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        client.get(path)
        assert len(cache) == 1
        # A commit announced by the primary: dropped, then kept again once the "replica"
        # (the primary itself, always caught up) is seen past the announced position.
        with app.app_context():
            db.session.execute(text("NOTIFY cms_documents"))
            db.session.commit()
        while cache.ticket()[1] in (None, 0) or len(cache):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        client.get(path)
        assert len(cache) == 1
        # A commit in this process (publishing's own drop): settled on the primary.
        drop_local()
        assert cache.ticket()[1] is None
        client.get(path)
        assert cache.ticket()[1] is not None and len(cache) == 1
    finally:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()


@dataclass
class Read:
    slug: str
    started: float
    version: int  # 0: the seeded summary; -1: not understood
    status: int | None
    detail: str = ""


@dataclass
class Publish:
    slug: str
    version: int
    acknowledged: float
    replayed: float


def _version(summary: str) -> int:
    prefix, _, number = summary.rpartition(" v")
    return int(number) if prefix.startswith("Replica check") and number.isdigit() else 0


def _body(answer: live.Answer) -> dict:
    data = answer.body
    coding = answer.headers.get("content-encoding")
    if coding == "br":
        data = brotli.decompress(data)
    elif coding == "gzip":
        data = zlib.decompress(data, 31)
    return json.loads(data)


def _log(message: str) -> None:
    print(f"[replicas {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _reader(port: int, slugs: list[str], reads: list[Read], stopping: threading.Event):
    def run(name: str, rng: random.Random) -> None:
        known: dict[tuple[str, str], int] = {}  # (slug, ETag) → version, for 304s
        while not stopping.is_set():
            slug = rng.choice(slugs)
            headers = {"Accept-Encoding": rng.choice(CODINGS)}
            if rng.random() < 0.2:
                # A list goes through Flask and no document memory.
                answer = live.call(port, "GET", "/v1/articles?limit=50", actor=name, timeout=10)
                items = (answer.json() or {}).get("items", []) if answer.status == 200 else []
                found = {item["slug"]: _version(item.get("summary", "")) for item in items}
                for listed in slugs:
                    version = found.get(listed, -1)
                    reads.append(
                        Read(listed, answer.started, version, answer.status, answer.describe())
                    )
                continue
            path = f"/v1/articles/{slug}"
            ours = [etag for (known_slug, etag) in known if known_slug == slug]
            if ours and rng.random() < 0.3:
                headers["If-None-Match"] = rng.choice(ours)
            answer = live.call(port, "GET", path, headers=headers, actor=name, timeout=10)
            etag = answer.headers.get("etag", "")
            if answer.status == 200:
                version = _version(_body(answer).get("summary", ""))
                known[slug, etag] = version
            elif answer.status == 304:
                version = known.get((slug, etag), -1)
            else:
                version = -1
            detail = answer.error or f"-> {answer.status} ETag {etag}"
            reads.append(
                Read(slug, answer.started, version, answer.status, f"{name} {path} {detail}")
            )

    return run


def _admin(port: int, method: str, path: str, token: str, body=None, **headers: str):
    answer = live.call(port, method, path, body, bearer(token, **headers))
    assert answer.status is not None and 200 <= answer.status < 300, answer.describe()
    return answer


def _republish(port: int, tokens: dict[str, str], article_id: str, summary: str) -> None:
    """Edit a published article's summary, approve and publish it; the admin answers are
    read on the primary, so each shows the write just made."""
    editor, reviewer = tokens["editor"], tokens["reviewer"]
    url = f"/v1/admin/articles/{article_id}"
    current = _admin(port, "GET", url, editor)
    edited = _admin(
        port, "PATCH", url, editor, {"summary": summary}, **{"If-Match": current.headers["etag"]}
    )
    assert edited.json()["summary"] == summary, edited.describe()
    if edited.json()["status"] == "draft":
        _admin(port, "POST", f"{url}/submit", editor)
    _admin(port, "POST", f"{url}/approve", reviewer, {"kind": "clinical"})
    published = _admin(port, "POST", f"{url}/publish", editor, {})
    assert published.json()["status"] == "published", published.describe()
    assert published.json()["summary"] == summary, published.describe()


def _wait_for_replay(cluster: replicas.Cluster, timeout: float = 20.0) -> float:
    """Wait until the replica has replayed what the primary has now; when it did."""
    target = cluster.primary.position(PRIMARY_POSITION)
    deadline = time.monotonic() + timeout
    while cluster.replica.position(REPLAYED_POSITION) < target:
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.005)
    return time.monotonic()


@pytest.mark.replica
def test_publishing_under_read_load_on_a_replica_behind_pgbouncer_serves_no_stale_copy():
    _log("starting")
    with replicas.cluster(apply_delay_ms=APPLY_DELAY_MS) as cluster:
        _log("primary and replica started")
        tokens = live.prepare(cluster.primary.url(), {"editor": None, "reviewer": None})
        _wait_for_replay(cluster)
        _log("database prepared")
        replica_url = cluster.pgbouncer.url(live.DATABASE) + "?prepare_threshold=none"
        with live.Gunicorn(
            cluster.primary.url(),
            cluster.folder,
            workers=2,
            DATABASE_REPLICA_URL=replica_url,
            DATABASE_LISTEN_URL=cluster.primary.url(),
        ) as app:
            _log("gunicorn started")
            listed = live.call(app.port, "GET", "/v1/articles?limit=3").json()["items"]
            articles = {item["slug"]: item["id"] for item in listed}
            slugs = list(articles)
            assert len(slugs) == 3
            reads: list[Read] = []
            stopping = threading.Event()
            threads = live.start_clients(
                (f"reader-{n}", _reader(app.port, slugs, reads, stopping), random.Random(n))
                for n in range(READERS)
            )
            publishes: list[Publish] = []
            try:
                time.sleep(1.0)  # memory warms up with the seeded documents
                for version in range(1, ROUNDS + 1):
                    slug = slugs[version % len(slugs)]
                    summary = f"Replica check {slug} v{version}"
                    _republish(app.port, tokens, articles[slug], summary)
                    acknowledged = time.monotonic()
                    publishes.append(
                        Publish(slug, version, acknowledged, _wait_for_replay(cluster))
                    )
                    time.sleep(0.3)
            finally:
                unfinished = live.stop_clients(stopping, threads, timeout=10)
            _log("load stopped")
            assert unfinished == [], app.log_tail()

            # No stale read once a publish was replayed (and heard of).
            stale = [
                f"{read.detail} saw v{read.version} {read.started - p.replayed:.3f}s "
                f"after v{p.version} was replayed"
                for p in publishes
                for read in reads
                if read.slug == p.slug
                and read.started > p.replayed + NOTICE
                and read.version < p.version
            ]
            failed = [read.detail for read in reads if read.status not in (200, 304)]
            assert failed == [], "\n".join(failed[:20]) + "\n" + app.log_tail()
            assert stale == [], "\n".join(stale[:20])
            # The reads did go to the lagging replica: some saw a publish before it arrived.
            lagging = sum(
                1
                for p in publishes
                for read in reads
                if read.slug == p.slug
                and p.acknowledged < read.started < p.replayed - 0.05
                and read.version < p.version
            )
            assert lagging > 0, f"{len(reads)} reads, none behind a publish"

            # No lost write: each article's last acknowledged summary, on both servers and
            # through the app, from memory and not.
            _wait_for_replay(cluster)
            last = {p.slug: p.version for p in publishes}
            for slug, version in last.items():
                expected = f"Replica check {slug} v{version}"
                for server in (cluster.primary, cluster.replica):
                    with server.connect() as connection:
                        stored = connection.execute(
                            "SELECT body::jsonb ->> 'summary' FROM published_documents"
                            " WHERE kind = 'article' AND slug = %s",
                            (slug,),
                        ).fetchone()
                    assert stored == (expected,), (server.port, slug, stored)
                for _ in range(4):  # both workers, most likely
                    answer = live.call(app.port, "GET", f"/v1/articles/{slug}")
                    assert answer.json()["summary"] == expected, answer.describe()
                listed = live.call(app.port, "GET", "/v1/articles?limit=50").json()["items"]
                assert {item["slug"]: item["summary"] for item in listed}[slug] == expected
            # Every other delivery read works on the replica through PgBouncer.
            for path in PUBLIC_READS:
                answer = live.call(app.port, "GET", path)
                assert answer.status == 200, answer.describe() + "\n" + app.log_tail()
            _log(
                f"{len(reads)} reads, {len(publishes)} publishes, {lagging} reads behind "
                "a publish before the replica had it"
            )
