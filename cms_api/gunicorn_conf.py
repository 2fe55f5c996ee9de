"""gunicorn settings for production: `gunicorn -c python:cms_api.gunicorn_conf wsgi:app`."""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from typing import Any

bind = os.environ.get("CMS_BIND", "0.0.0.0:8000")
# Requests are short and wait on PostgreSQL: a few sync workers per core keep the cores busy.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
# gunicorn's sync worker, answering what gunicorn refuses itself as problems (ProblemWorker).
worker_class = "cms_api.gunicorn_conf.ProblemWorker"
# A request slower than this is stuck (a database query is bounded far below it): the
# worker is killed and replaced instead of holding a slot forever.
timeout = int(os.environ.get("CMS_WORKER_TIMEOUT", "30"))
# On SIGTERM or SIGHUP (a deploy), workers finish what they are serving for up to this long.
graceful_timeout = 30
# Behind a load balancer that keeps connections open to the app servers.
keepalive = 5
# The app is imported once, in the master, and each worker is a fork of it: a worker that
# is recycled is back in milliseconds instead of importing the app again (2+ s of CPU
# while the other workers carry its share). Nothing opens a connection, a thread or a
# LISTEN before the fork (create_app connects to nothing; the document cache starts its
# listener on first use in each process); post_fork makes sure of the pools.
preload_app = os.environ.get("CMS_PRELOAD", "1") != "0"
# No recycling unless asked for (CMS_MAX_REQUESTS): gunicorn recycles each worker on its
# own count, so under even load they all go at once, and until the master forks new ones
# (measured: 2.4-3 s on this machine, under load) nobody answers. When asked for, the
# counts are spread widely; each new worker starts with an empty document cache.
max_requests = int(os.environ.get("CMS_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 2
# The app writes one JSON access log line per request itself (cms_api.access).
accesslog = None
errorlog = "-"
# Above the app's documented limits (cms_api.http.requests: a 16384-byte URL, 100 header
# fields of at most 8192 bytes), so clients meet those, answered as problems by the app.
# gunicorn's longest request line is 8190 bytes, or unbounded (0: 1 MiB in its parser).
limit_request_line = 0
limit_request_fields = 200
limit_request_field_size = 16384

# Every worker writes its metrics here, and /metrics adds them up.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="cms-api-metrics-"))


def _problem_worker() -> type:
    """gunicorn's sync worker whose own error answers are RFC 9457 problems, not HTML."""
    import re
    import uuid

    from gunicorn.workers.sync import SyncWorker

    status_line = re.compile(rb"^HTTP/1\.[01] (\d{3}) ([^\r\n]*)")

    class ProblemSocket:
        """The client socket, rewriting the HTML error page gunicorn writes to a problem."""

        def __init__(self, sock: Any) -> None:
            self._sock = sock

        def __getattr__(self, name: str) -> Any:
            return getattr(self._sock, name)

        def sendall(self, data: bytes) -> None:
            from cms_api.http.requests import problem_bytes, problem_headers

            match = status_line.match(data)
            if match is None:
                self._sock.sendall(data)
                return
            status, reason = int(match[1]), match[2].decode("latin-1")
            request_id = uuid.uuid4().hex
            detail = "The server could not read the request." if status < 500 else reason
            if status == 414:
                detail = "The request line is too long."
            elif status == 431:
                detail = "The request's header fields are too many or too large."
            body = problem_bytes(status, reason, detail, request_id)
            head = [f"HTTP/1.1 {status} {reason}", "Connection: close"]
            head += [f"{name}: {value}" for name, value in problem_headers(body, request_id)]
            self._sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    class ProblemWorker(SyncWorker):
        def handle_error(self, req: Any, client: Any, addr: Any, exc: Exception) -> None:
            super().handle_error(req, ProblemSocket(client), addr, exc)

    return ProblemWorker


ProblemWorker = _problem_worker()


def on_starting(server: Any) -> None:
    """Refuse several workers that would each count rate limits alone (cms_api.ratelimit)."""
    from cms_api.config import Settings
    from cms_api.ratelimit import check_workers

    check_workers(server.cfg.workers, Settings.from_environ())


def post_fork(server: Any, worker: Any) -> None:
    """A forked worker never shares the master's pooled connections (there should be none)."""
    if not server.cfg.preload_app:
        return
    from cms_api.database import db

    app = worker.app.wsgi()  # the app the master loaded (wsgi.py's, or `cms-api serve`'s)
    if hasattr(app, "app_context"):
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)


def child_exit(server: Any, worker: Any) -> None:
    """Forget a dead worker's gauges (its counters still count)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


SETTINGS = {
    "workers": workers,
    "worker_class": worker_class,
    "timeout": timeout,
    "graceful_timeout": graceful_timeout,
    "keepalive": keepalive,
    "max_requests": max_requests,
    "max_requests_jitter": max_requests_jitter,
    "accesslog": accesslog,
    "errorlog": errorlog,
    "limit_request_line": limit_request_line,
    "limit_request_fields": limit_request_fields,
    "limit_request_field_size": limit_request_field_size,
    "preload_app": preload_app,
    "on_starting": on_starting,
    "post_fork": post_fork,
    "child_exit": child_exit,
}
