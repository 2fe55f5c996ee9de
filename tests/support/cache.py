"""Reaching a test app's document cache, and waiting for what it hears from PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask

from cms_api.document_cache import DocumentCache
from cms_api.fastpath import StoredDocuments
from cms_api.services.runtime import runtime_of


def cache_of(app: Flask) -> DocumentCache:
    documents = runtime_of(app).document_lookup
    assert isinstance(documents, StoredDocuments)
    assert documents.cache is not None
    return documents.cache


def eventually(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "did not happen in time"
        time.sleep(0.05)


def wait_until_listening(app: Flask, path: str) -> None:
    """Until `path` answers and the app's cache hears PostgreSQL's announcements."""
    client = app.test_client()
    eventually(lambda: client.get(path).status_code == 200 and cache_of(app)._listening)
