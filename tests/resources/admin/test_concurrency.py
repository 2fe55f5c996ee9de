"""Two editors saving the same version at once over real HTTP: one wins, one gets 412."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from cms_api.database import db
from cms_api.services.accounts import users
from tests.conftest import build_app

ROUNDS = 8


@pytest.fixture(scope="module")
def live_server(make_database) -> Iterator[tuple[str, int, str]]:
    """A threaded HTTP server over its own committed database, and an editor's token."""
    app = build_app(make_database("live"))
    with app.app_context():
        upgrade()
        user = users.create_user(email="live@example.org", name="Live", role="editor")
        secret = users.issue_token(user, name="live").secret
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_port, secret
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


def _request(
    server, method: str, path: str, body: dict | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], dict]:
    host, port, secret = server
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request(
            method,
            path,
            body=json.dumps(body) if body is not None else None,
            headers={
                "Authorization": f"Bearer {secret}",
                "Content-Type": "application/json",
                **(headers or {}),
            },
        )
        response = connection.getresponse()
        payload = response.read()
        return response.status, dict(response.getheaders()), json.loads(payload or b"{}")
    finally:
        connection.close()


def test_concurrent_edits_from_one_version_never_overwrite_silently(live_server):
    status, headers, article = _request(
        live_server, "POST", "/v1/admin/articles", {"slug": "race-condition", "title": "Start"}
    )
    assert status == 201, article
    path = headers["Location"]

    for round_number in range(ROUNDS):
        _, headers, _ = _request(live_server, "GET", path)
        etag = headers["ETag"]
        barrier = threading.Barrier(2)
        results: dict[str, int] = {}

        def edit(
            title: str,
            etag: str = etag,
            barrier: threading.Barrier = barrier,
            results: dict[str, int] = results,
        ) -> None:
            barrier.wait()
            status, _, _ = _request(
                live_server, "PATCH", path, {"title": title}, {"If-Match": etag}
            )
            results[title] = status

        titles = [f"Editor A round {round_number}", f"Editor B round {round_number}"]
        threads = [threading.Thread(target=edit, args=(title,)) for title in titles]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert sorted(results.values()) == [200, 412], results
        winner = next(title for title, status in results.items() if status == 200)
        _, _, current = _request(live_server, "GET", path)
        assert current["title"] == winner
