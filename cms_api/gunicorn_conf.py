"""gunicorn settings for production: `gunicorn -c python:cms_api.gunicorn_conf wsgi:app`."""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from typing import Any

bind = os.environ.get("CMS_BIND", "0.0.0.0:8000")
# Requests are short and wait on PostgreSQL: a few sync workers per core keep the cores busy.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
# A request slower than this is stuck (a database query is bounded far below it): the
# worker is killed and replaced instead of holding a slot forever.
timeout = int(os.environ.get("CMS_WORKER_TIMEOUT", "30"))
# On SIGTERM or SIGHUP (a deploy), workers finish what they are serving for up to this long.
graceful_timeout = 30
# Behind a load balancer that keeps connections open to the app servers.
keepalive = 5
# Recycle workers now and then, spread out so they do not all restart at once.
max_requests = int(os.environ.get("CMS_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# The app writes one JSON access log line per request itself (cms_api.access).
accesslog = None
errorlog = "-"

# Every worker writes its metrics here, and /metrics adds them up.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="cms-api-metrics-"))


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
    "child_exit": child_exit,
}
