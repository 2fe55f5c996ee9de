"""gunicorn settings for production: `gunicorn -c python:cms_api.gunicorn_conf wsgi:app`."""

from __future__ import annotations

import fcntl
import gc
import multiprocessing
import os
import tempfile
import time
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
# No recycling unless asked for (CMS_MAX_REQUESTS). gunicorn alone recycles each worker on
# its own count, so under even load they tend to go together, and while they are gone
# nobody answers. Here the workers take turns (ProblemWorker): the first ones' budgets are
# spread evenly over one budget, and a worker whose budget is spent waits while another
# has just left. Each new worker starts warm from the master's snapshot (when_ready).
max_requests = int(os.environ.get("CMS_MAX_REQUESTS", "0"))
max_requests_jitter = 0
# Published documents read by the master before forking, shared by every worker (with the
# app preloaded; CMS_DOCUMENT_SNAPSHOT=0 leaves each worker to read them as asked).
document_snapshot = os.environ.get("CMS_DOCUMENT_SNAPSHOT", "1") != "0"
# A worker may leave only this long after the previous one did (seconds): its replacement,
# forked from the preloaded master, is serving well within it.
RECYCLE_SPACING = 0.25
# No control socket: gunicorn's default path is one per user, shared by every instance on
# the machine, and its thread runs in the master while recycled workers are forked.
control_socket_disable = True
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
# Workers take turns to be recycled through a lock on this file.
_recycle_lock = os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "recycle.lock")


def recycle_budget(max_requests: int, age: int, workers: int) -> int:
    """Requests before a worker leaves: the first `workers` workers (ages 1..workers) spread
    over one budget, so under even load they leave one at a time, a budget apart divided
    by the workers; each replacement then gets a whole budget and keeps its turn."""
    if age <= workers:
        return max(1, max_requests * age // workers)
    return max_requests


def take_turn(path: str, spacing: float = RECYCLE_SPACING) -> int | None:
    """A turn to leave, if no other worker is leaving (the lock on `path` is free) and none
    left in the last `spacing` seconds: the locked descriptor, to keep open until this
    process has gone (the kernel releases the lock then). None: not now."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        last = os.read(descriptor, 32)
        now = time.time()
        if last and now - float(last) < spacing:
            raise BlockingIOError
    except (OSError, ValueError):  # ValueError: a garbled time, rewritten by the next turn
        os.close(descriptor)  # and with it the lock
        return None
    os.lseek(descriptor, 0, os.SEEK_SET)
    os.ftruncate(descriptor, 0)
    os.write(descriptor, repr(now).encode())
    return descriptor


def _problem_worker() -> type:
    """gunicorn's sync worker whose own error answers are RFC 9457 problems, not HTML, and
    which takes its turn to be recycled."""
    import re
    import sys
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
        def __init__(self, age: int, ppid: int, sockets: Any, app: Any, *args: Any) -> None:
            super().__init__(age, ppid, sockets, app, *args)
            cfg = self.cfg
            self.budget = (
                recycle_budget(cfg.max_requests, age, cfg.workers) if cfg.max_requests > 0 else 0
            )
            self.max_requests = sys.maxsize  # gunicorn's own count never ends a worker here

        def handle_error(self, req: Any, client: Any, addr: Any, exc: Exception) -> None:
            super().handle_error(req, ProblemSocket(client), addr, exc)

        def handle_request(self, *args: Any) -> None:
            super().handle_request(*args)
            if self.budget and self.nr >= self.budget and self.alive:
                # Kept open: the lock goes when this process does.
                self.turn = take_turn(_recycle_lock)
                if self.turn is not None:
                    self.log.info("Recycling worker after %s requests.", self.nr)
                    self.alive = False

    return ProblemWorker


ProblemWorker = _problem_worker()


def on_starting(server: Any) -> None:
    """Refuse several workers that would each count rate limits alone (cms_api.ratelimit)."""
    from cms_api.config import Settings
    from cms_api.ratelimit import check_workers

    check_workers(server.cfg.workers, Settings.from_environ())


def when_ready(server: Any) -> None:
    """Read the published documents every worker will serve, once, before the first fork."""
    if not server.cfg.preload_app:
        return
    try:
        if document_snapshot:
            _read_snapshot(server)
    finally:
        # What the master holds now is never garbage: the workers' collections need not
        # walk it (nor write to its pages, which the fork shares).
        gc.collect()
        gc.freeze()


def _read_snapshot(server: Any) -> None:
    from cms_api import fastpath

    app = server.app.wsgi()
    if not hasattr(app, "app_context"):
        return
    try:
        snapshot = fastpath.warm(app)
    except Exception as error:  # the workers read documents as asked instead
        server.log.warning("no document snapshot: %s: %s", error.__class__.__name__, error)
        return
    if snapshot is not None:
        server.log.info(
            "document snapshot: %d documents, %.0f MB, read in %.1f s",
            len(snapshot),
            snapshot.bytes / 2**20,
            snapshot.seconds,
        )


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


def worker_exit(server: Any, worker: Any) -> None:
    """A leaving worker ends at once, with gunicorn's exit status: the interpreter's own
    teardown of the preloaded app took 0.5 to 3 s of CPU, during which its replacement
    was not yet forked. Its connections are closed first, so PostgreSQL sees them go."""
    import logging
    import sys

    error = sys.exc_info()[1]  # gunicorn calls this while its SystemExit propagates
    if not isinstance(error, SystemExit) or not isinstance(error.code, int | None):
        return  # anything unexpected: let the interpreter end as it would have
    app = worker.app.wsgi() if server.cfg.preload_app else None
    if hasattr(app, "app_context"):
        from cms_api.database import db

        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(error.code or 0)


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
    "control_socket_disable": control_socket_disable,
    "on_starting": on_starting,
    "when_ready": when_ready,
    "post_fork": post_fork,
    "worker_exit": worker_exit,
    "child_exit": child_exit,
}
