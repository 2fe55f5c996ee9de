"""What each process keeps between requests: the last loaded site of each locale, recent exports."""

from __future__ import annotations

import threading
from collections import OrderedDict

from cms_api.services.discovery.graph.loading import load
from cms_api.services.discovery.graph.model import Site

# Bytes of rendered exports each process keeps (the whole graph of 100,000 articles is
# about 95 MB as JSON, 145 MB as GraphML).
RENDERED_BUDGET = 256 * 1024 * 1024


class SiteCache:
    """The last loaded site of each locale in this process: exports of one version and
    locale share one load."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sites: dict[str, Site] = {}

    def get(self, version: str, locale: str) -> Site:
        site = self._sites.get(locale)
        if site is not None and site.version == version:
            return site
        with self._lock:  # one load at a time: concurrent requests wait for it
            site = self._sites.get(locale)
            if site is None or site.version != version:
                # The replaced site goes now, before its successor is loaded beside it.
                self._sites.pop(locale, None)
                site = load(locale)
                self._sites[locale] = site
            return site

    def clear(self) -> None:
        self._sites = {}


SITES = SiteCache()


class Bodies:
    """Exports served lately, by ETag, within a byte budget (least recently used leave
    first): SEO tools download the same export again and again between changes."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._lock = threading.Lock()
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0

    def get(self, etag: str) -> bytes | None:
        with self._lock:
            body = self._items.get(etag)
            if body is not None:
                self._items.move_to_end(etag)
            return body

    def put(self, etag: str, body: bytes) -> None:
        if len(body) > self._budget:
            return
        with self._lock:
            if etag in self._items:
                return
            self._items[etag] = body
            self._size += len(body)
            while self._size > self._budget:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


BODIES = Bodies(RENDERED_BUDGET)


def forget() -> None:
    """Drop what this process has loaded and rendered (tests and benchmarks start cold)."""
    SITES.clear()
    BODIES.clear()
