"""Two editors saving the same version at once over real HTTP: one wins, one gets 412."""

from __future__ import annotations

import http.client
import json
import threading

ROUNDS = 8


def _request(
    server, method: str, path: str, body: dict | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], dict]:
    port, tokens = server
    secret = tokens["editor"]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
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
