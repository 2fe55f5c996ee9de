"""What services need from the running app, injected by it: settings and read connections."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from cms_api.config import Settings

# The application factory builds one `Runtime` per app and makes it current for as long as an
# app context is pushed, so services read settings and open delivery connections without
# importing the web framework. Tests inject a different read connection the same way.


@dataclass
class Runtime:
    """The application's dependencies as services see them."""

    settings: Callable[[], Settings]
    # A connection for delivery reads: autocommit, so a read is one round trip.
    read_connection: Callable[[], AbstractContextManager[Connection]]
    # A connection whose reads all see one moment (a read-only REPEATABLE READ
    # transaction), for work of several statements: graph loads, exports.
    snapshot_connection: Callable[[], AbstractContextManager[Connection]]
    # The fast path's lookup of a stored document: (sql, kind, key) → (body bytes, ETag).
    document_lookup: Callable[[str, str, Any], tuple[bytes, str] | None]


_current: ContextVar[Runtime] = ContextVar("cms_api_runtime")
# Where an application keeps its Runtime (in `app.extensions`).
EXTENSION_KEY = "cms_api.runtime"


def runtime_of(app: Any) -> Runtime:
    """An application's Runtime, to read from or to inject into (the fast path, tests)."""
    return app.extensions[EXTENSION_KEY]


def activate(runtime: Runtime) -> Token[Runtime]:
    return _current.set(runtime)


def deactivate(token: Token[Runtime]) -> None:
    _current.reset(token)


def current() -> Runtime:
    try:
        return _current.get()
    except LookupError:
        raise RuntimeError("No cms-api application is active (push an app context).") from None


def settings() -> Settings:
    return current().settings()


@contextmanager
def reading() -> Iterator[Connection]:
    """A connection for delivery reads, from the pool the application injected."""
    with current().read_connection() as connection:
        yield connection


@contextmanager
def snapshot() -> Iterator[Connection]:
    """A connection whose reads all see one moment, from the source the application injected."""
    with current().snapshot_connection() as connection:
        yield connection
