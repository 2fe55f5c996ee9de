"""Bodies read only where an operation takes one, after authentication for admin operations,
chunked or not; the render lock taken after the body, for a bounded time; head limits."""

from __future__ import annotations

import io
import socket
import threading
import time
from typing import Any

import pytest
from sqlalchemy import text

from cms_api.database import db
from cms_api.services.publishing import render_lock
from tests.support.api import PROBLEM, SEEDED_ARTICLE, bearer

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_BUT_SMALL = b"[" * 10_000 + b"]" * 10_000  # within every operation's size limit
FLAT_MIB = b"[" + b"[]," * 349_000 + b"[]]"


class CountingStream(io.BytesIO):
    """A request body that remembers whether anything read it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:
        self.reads += 1
        return super().read(size)

    def readline(self, size: int | None = -1) -> bytes:
        self.reads += 1
        return super().readline(size)

    def readinto(self, buffer: Any) -> int:
        self.reads += 1
        return super().readinto(buffer)


def _send(client, method: str, path: str, body: bytes, *, chunked: bool = False, **headers):
    stream = CountingStream(body)
    headers.setdefault("Content-Type", "application/json")
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
    else:
        headers["Content-Length"] = str(len(body))
    response = client.open(
        path,
        method=method,
        input_stream=stream,
        headers=headers,
        environ_overrides={"wsgi.input_terminated": True} if chunked else {},
    )
    return response, stream


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nonexistent"),
        ("POST", "/nonexistent"),
        ("GET", f"/v1/articles/{SEEDED_ARTICLE}"),
        ("DELETE", "/v1/topics"),
        ("GET", "/v1/admin/articles"),
        ("POST", "/v1/admin/articles"),
    ],
)
def test_a_body_the_operation_does_not_take_or_a_stranger_sends_is_never_read(client, method, path):
    response, stream = _send(client, method, path, FLAT_MIB)
    assert stream.reads == 0, response.status_code
    assert response.status_code in (401, 404, 405, 200)
    assert response.headers["X-Request-ID"]


def test_an_admin_body_is_checked_once_the_caller_is_known(client, editor):
    response, stream = _send(client, "POST", "/v1/admin/articles", DEEP, **bearer(editor))
    assert stream.reads > 0
    assert response.status_code == 400, response.get_json()
    assert response.content_type == PROBLEM


@pytest.mark.parametrize(
    ("path", "token"),
    [("/v1/questions", False), ("/v1/admin/articles", True), ("/v1/admin/faqs", True)],
)
def test_chunked_bodies_get_the_same_checks(client, editor, path, token):
    auth = bearer(editor) if token else {}
    cases = [
        (DEEP_BUT_SMALL, "application/json", 400),
        (b'{"a":' * 40 + b"1" + b"}" * 40, "application/json", 400),
        (b'"' + b"x" * (1024 * 1024 + 1) + b'"', "application/json", 413),
        (b"hello", "text/plain", 415),
    ]
    for body, content_type, status in cases:
        response, _ = _send(
            client, "POST", path, body, chunked=True, **{"Content-Type": content_type}, **auth
        )
        assert response.status_code == status, (path, status, response.get_json())
        assert response.content_type == PROBLEM


def test_a_chunked_editor_patch_too_deep_is_a_400(client, editor):
    listing = client.get("/v1/admin/articles", headers=bearer(editor)).get_json()
    url = f"/v1/admin/articles/{listing['items'][0]['id']}"
    headers: dict[str, Any] = {**bearer(editor), "If-Match": "*"}
    headers["Content-Type"] = "application/merge-patch+json"
    response, _ = _send(client, "PATCH", url, DEEP, chunked=True, **headers)
    assert response.status_code == 400, response.get_json()


@pytest.fixture
def render_lock_held(app):
    """Another writer holding the render lock, released when `release` is set."""
    release = threading.Event()
    holding = threading.Event()

    def hold() -> None:
        with app.app_context(), db.engine.connect() as connection, connection.begin():
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": render_lock.RENDER_LOCK}
            )
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    yield release
    release.set()
    holder.join()


def _timed(call) -> tuple[Any, float]:
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def test_a_bad_body_is_refused_without_waiting_for_the_render_lock(
    client, editor, render_lock_held, monkeypatch
):
    monkeypatch.setattr(render_lock, "WAIT_SECONDS", 1.0, raising=False)
    threading.Timer(3, render_lock_held.set).start()
    response, elapsed = _timed(
        lambda: _send(client, "POST", "/v1/admin/faqs", DEEP, **bearer(editor))[0]
    )
    assert response.status_code == 400
    assert elapsed < 1.0


def test_a_write_waits_for_the_render_lock_a_bounded_time(
    client, editor, render_lock_held, monkeypatch
):
    monkeypatch.setattr(render_lock, "WAIT_SECONDS", 0.5, raising=False)
    threading.Timer(5, render_lock_held.set).start()
    response, elapsed = _timed(
        lambda: client.post(
            "/v1/admin/people", json={"name": "Dr. Waiting"}, headers=bearer(editor)
        )
    )
    assert response.status_code == 503, response.get_json()
    assert response.content_type == PROBLEM
    assert response.get_json()["type"] == "/problems/busy"
    assert response.headers["Retry-After"] == str(render_lock.RETRY_AFTER_SECONDS)
    assert elapsed < 3
    render_lock_held.set()
    again = client.post("/v1/admin/people", json={"name": "Dr. Waiting"}, headers=bearer(editor))
    assert again.status_code not in (500, 503), again.get_json()


def test_a_presence_heartbeat_does_not_wait_for_the_render_lock(
    client, editor, render_lock_held, monkeypatch
):
    # Presence is no content: a long publish holding the lock must not stall the banner.
    monkeypatch.setattr(render_lock, "WAIT_SECONDS", 2.0, raising=False)
    listed = client.get("/v1/admin/articles?limit=1", headers=bearer(editor)).get_json()
    url = f"/v1/admin/articles/{listed['items'][0]['id']}/presence"
    beat, elapsed = _timed(lambda: client.put(url, json={"editing": True}, headers=bearer(editor)))
    assert beat.status_code == 200, beat.get_json()
    left, _ = _timed(lambda: client.delete(url, headers=bearer(editor)))
    assert left.status_code == 204
    assert elapsed < 1.0
    # While a content write still waits its turn, and is told to retry.
    refused = client.post("/v1/admin/people", json={"name": "Dr. Later"}, headers=bearer(editor))
    assert refused.status_code == 503


@pytest.mark.parametrize(
    ("url", "headers", "status"),
    [
        ("/v1/articles?q=" + "x" * 17_000, {}, 414),
        ("/healthz", {f"X-Extra-{n}": "1" for n in range(101)}, 431),
        ("/healthz", {"X-Big": "x" * 9000}, 431),
    ],
)
def test_urls_and_headers_over_the_limits_are_problems(client, url, headers, status):
    response = client.get(url, headers={"X-Request-ID": "limits-1", **headers})
    assert response.status_code == status
    assert response.content_type == PROBLEM
    assert response.get_json()["status"] == status
    assert response.headers["X-Request-ID"] == "limits-1"


def _raw(port: int, request: bytes) -> tuple[bytes, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return lines[0].encode(), headers, body


@pytest.mark.multiprocess
def test_gunicorn_answers_problems_too(make_database, tmp_path):
    from tests.support import live

    url = make_database("limits")
    live.prepare(url, {})
    with live.Gunicorn(url, tmp_path, workers=1) as server:
        cases = [
            (b"GET /v1/articles?q=" + b"x" * 17_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"414"),
            (b"GET /v1/articles?q=" + b"x" * 2_000_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"414"),
            (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"x" * 20000 + b"\r\n\r\n", b"431"),
            (b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", b"400"),
        ]
        for request, status in cases:
            line, headers, body = _raw(server.port, request)
            assert status in line, (line, body)
            assert headers["Content-Type"] == PROBLEM, (line, headers)
            assert headers["X-Request-ID"]
            assert str(int(status)).encode() in body
