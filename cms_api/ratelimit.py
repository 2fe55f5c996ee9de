"""Rate limits only where an operation declares one, at no per-request cost elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps
from typing import Any

from flask import Flask, Response, g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# No default limits: only the operations that decorate themselves are limited. Storage and
# headers come from the app config (RATELIMIT_*), see config.py.
limiter = Limiter(key_func=get_remote_address)


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
            return limited(*args, **kwargs)

        return wrapper

    return decorator
