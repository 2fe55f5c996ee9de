"""JSON access logs, Prometheus metrics summed over gunicorn workers, and the gunicorn config."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cms_api import observability
from tests.conftest import ROOT, bearer

ARTICLE = "/v1/articles/headache-after-botox"


@pytest.fixture
def access_lines():
    """The access log lines written during the test, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(observability._JsonLines())
    observability.access_log.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        observability.access_log.removeHandler(handler)


def _counter(text: str, route: str, status: str, method: str = "GET") -> float:
    pattern = (
        rf'^cms_http_requests_total\{{method="{method}",route="{re.escape(route)}",'
        rf'status="{status}"\}} (\S+)$'
    )
    match = re.search(pattern, text, re.MULTILINE)
    return float(match[1]) if match else 0.0


def test_every_request_is_one_json_access_log_line(client, make_token, access_lines):
    token = make_token("viewer")
    client.get(ARTICLE, headers={"X-Request-ID": "log-check-1"})  # the fast path
    client.get("/v1/articles?limit=1")  # a Flask view
    client.get("/v1/nowhere")
    client.get("/v1/admin/articles?limit=1", headers=bearer(token))

    fast, listing, missing, admin = access_lines()

    assert fast["request_id"] == "log-check-1"
    assert (fast["method"], fast["path"], fast["route"], fast["status"]) == (
        "GET",
        ARTICLE,
        "/v1/articles/<slug>",
        200,
    )
    assert fast["duration_ms"] > 0 and fast["bytes"] > 1000
    assert fast["level"] == "info" and fast["time"].endswith("+00:00")
    assert listing["route"] == "/v1/articles" and listing["status"] == 200
    assert missing["route"] == "<unmatched>" and missing["status"] == 404
    assert admin["route"] == "/v1/admin/articles"
    assert re.fullmatch(r"[0-9a-f-]{36}", admin["user"]), "the admin's user id"
    assert fast["user"] is None
    assert len(listing["request_id"]) == 32


def test_metrics_count_requests_by_route_and_status(client):
    before = client.get("/metrics").get_data(as_text=True)

    client.get(ARTICLE)  # answered by the fast path
    client.get("/v1/articles/no-such-article")  # answered by the view: a 404
    client.get(f"{ARTICLE}?sections=causes")  # a view: the query string

    response = client.get("/metrics")
    after = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    assert response.headers["Cache-Control"] == "no-store"
    route = "/v1/articles/<slug>"
    assert _counter(after, route, "200") - _counter(before, route, "200") == 2
    assert _counter(after, route, "404") - _counter(before, route, "404") == 1
    assert 'cms_http_request_duration_seconds_bucket{le="0.001",method="GET"' in after
    assert re.search(r'^cms_db_pool_capacity\{pool="delivery"\} [1-9]', after, re.MULTILINE)
    assert re.search(r'^cms_db_pool_connections_in_use\{pool="default"\}', after, re.MULTILINE)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> bytes:
    # Generous: a request may wait in the listen queue while a retired worker is replaced.
    return urllib.request.urlopen(url, timeout=30).read()


@pytest.mark.multiprocess
def test_gunicorn_workers_metrics_add_up_and_the_config_loads(app, tmp_path: Path):
    port = _free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "WEB_CONCURRENCY": "2",
        # No Redis here: these workers may count rate limits alone (this test counts metrics).
        "CMS_RATE_LIMITS_PER_WORKER": "true",
        # Each worker retires after about 5 requests: the requests are answered by several
        # processes, some of them gone by the time /metrics is read.
        "CMS_MAX_REQUESTS": "5",
        "CMS_BIND": f"127.0.0.1:{port}",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:cms_api.gunicorn_conf", "wsgi:app"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        # Workers leave in turn, at least RECYCLE_SPACING apart: ask until a replacement
        # has answered too (a third process has counted), whatever the pace.
        asked = 0
        while asked < 30 or len(list(tmp_path.glob("counter_*.db"))) < 3:
            assert asked < 400, "no recycled worker's replacement answered"
            _get(f"{base}{ARTICLE}")
            asked += 1
            if asked >= 30:
                time.sleep(0.05)
        # Whichever worker answers the scrape, it reports every worker's requests.
        scrapes = [_get(f"{base}/metrics").decode() for _ in range(4)]
        assert {_counter(text, "/v1/articles/<slug>", "200") for text in scrapes} == {asked}
    finally:
        server.terminate()
        server.wait(timeout=40)


def test_the_access_line_written_directly_is_the_one_logging_writes(client, monkeypatch):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(observability._JsonLines())
    monkeypatch.setattr(observability.access_log, "handlers", [handler])
    level = observability.access_log.level
    observability.access_log.setLevel(logging.INFO)
    try:
        monkeypatch.setattr(observability, "_direct", None)  # through a LogRecord
        client.get(ARTICLE, headers={"X-Request-ID": "same-line"})
        monkeypatch.setattr(observability, "_direct", handler)  # straight to the stream
        client.get(ARTICLE, headers={"X-Request-ID": "same-line"})
    finally:
        observability.access_log.setLevel(level)

    logged, direct = (json.loads(line) for line in stream.getvalue().splitlines())
    assert list(direct) == list(logged), "the same fields in the same order"
    for moving in ("time", "duration_ms"):
        assert type(direct.pop(moving)) is type(logged.pop(moving))
    assert direct == logged
    assert direct["request_id"] == "same-line" and direct["status"] == 200


def test_an_access_log_that_cannot_be_written_loses_its_line_not_the_request(client, monkeypatch):
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError("the log collector is gone")

    handler = logging.StreamHandler(ClosedPipe())
    monkeypatch.setattr(observability.access_log, "handlers", [handler])
    monkeypatch.setattr(observability, "_direct", handler)
    level = observability.access_log.level
    observability.access_log.setLevel(logging.INFO)
    try:
        response = client.get(ARTICLE)
    finally:
        observability.access_log.setLevel(level)

    assert response.status_code == 200 and response.get_json()["slug"] in ARTICLE
