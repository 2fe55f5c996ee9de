"""Rate limits only where an operation declares one, at no per-request cost elsewhere."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial, wraps
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from cms_api.config import Settings

log = logging.getLogger(__name__)

# No default limits: only the operations that decorate themselves are limited. Storage and
# headers come from the app config (RATELIMIT_*), see config.py.
limiter = Limiter(key_func=get_remote_address)


def worker_problem(workers: int, settings: Settings) -> str | None:
    """Why `workers` server processes may not share these settings' rate limits, if so.

    Without REDIS_URL each process counts in its own memory: with several, a client gets
    every limit once per worker it happens to reach. Nothing else the app can reach shares
    counters (PostgreSQL would need a table of them on every limited request), so several
    workers need Redis, or an operator who accepts counting per worker.
    """
    if workers <= 1 or settings.redis_url or settings.rate_limits_per_worker:
        return None
    return (
        f"{workers} workers without REDIS_URL would each count rate limits alone, "
        f"multiplying every limit by up to {workers}. Set REDIS_URL to a Redis all workers "
        "share, run one worker (WEB_CONCURRENCY=1, or `cms-api serve --workers 1`), or set "
        "CMS_RATE_LIMITS_PER_WORKER=true to accept limits counted per worker."
    )


def check_workers(workers: int, settings: Settings) -> None:
    """Refuse to start `workers` processes that would each count rate limits alone."""
    problem = worker_problem(workers, settings)
    if problem is not None:
        # gunicorn prints a RuntimeError raised while it starts and exits with status 1.
        raise RuntimeError(problem)


def init_app(app: Flask) -> None:
    limiter.init_app(app)
    # flask-limiter hooks every request: before it, to look for default limits (there are
    # none here; a decorated limit checks itself), and after it, to add the RateLimit
    # headers. Together they cost about a third of a delivery request, so the first goes
    # and the second runs only for operations that have a limit.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    hooks = app.after_request_funcs[None]
    for index, hook in enumerate(hooks):
        if isinstance(hook, partial) and hook.args[:1] == (limiter,):
            hooks[index] = _only_where_limited(hook)


def _only_where_limited(add_headers: Callable[[Response], Response]) -> Callable[..., Response]:
    def add_headers_if_limited(response: Response) -> Response:
        return add_headers(response) if g.get("rate_limited") else response

    return add_headers_if_limited


def rate_limited(limit: Any, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`limiter.limit`, marking the request so that its answer, a 429 included, carries
    the RateLimit headers."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        limited = limiter.limit(limit, **options)(view)

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.rate_limited = True
            if request.environ.get("wsgi.multiprocess"):
                _warn_once_about_process_counters()
            return limited(*args, **kwargs)

        return wrapper

    return decorator


_warned = False


def _warn_once_about_process_counters() -> None:
    """Say so when a server started without the check (gunicorn without
    cms_api.gunicorn_conf) runs several processes that each count alone."""
    global _warned
    if _warned:
        return
    _warned = True
    settings = current_app.config["CMS_SETTINGS"]
    if not (settings.redis_url or settings.rate_limits_per_worker):
        log.error(
            "Several worker processes without REDIS_URL each count rate limits alone, "
            "multiplying every limit: set REDIS_URL, run one worker, or set "
            "CMS_RATE_LIMITS_PER_WORKER=true to accept it."
        )
