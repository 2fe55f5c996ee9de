"""Images in Markdown come only from the publisher: no tracking pixels in medical pages."""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from cms_api.config import Settings
from cms_api.services.publishing.markdown import to_html


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources.append(dict(attrs).get("src"))


def _srcs(html: str) -> list[str | None]:
    """The `src` of every image a browser would load (None: an image without one)."""
    parser = _Images()
    parser.feed(html)
    return parser.sources


@pytest.mark.parametrize(
    "source",
    [
        "![pixel](https://tracker.example.net/p.gif?reader=1)",
        "![pixel](http://tracker.example.net/p.gif)",
        "![pixel](//tracker.example.net/p.gif)",
        "![pixel](https://www.example-health.org.tracker.example.net/p.gif)",
        "![pixel](https://user@tracker.example.net/p.gif)",
        "![pixel](https:tracker.example.net/p.gif)",
        "![pixel](/\\tracker.example.net/p.gif)",
        '<img src="https://tracker.example.net/p.gif">',
    ],
)
def test_external_images_are_left_out(app, source):
    with app.app_context():
        html = to_html(source)

    page = "https://www.example-health.org/articles/jaw"
    for src in _srcs(html):
        # Where a browser would fetch it from ("\\" is "/" in http URLs).
        fetched = urlsplit(urljoin(page, (src or "").replace("\\", "/")))
        assert fetched.hostname == "www.example-health.org", html


def test_an_external_image_leaves_its_alt_text(app):
    with app.app_context():
        html = to_html("See ![a tracking pixel](https://tracker.example.net/p.gif) here.")

    assert _srcs(html) == []
    assert "a tracking pixel" in html


@pytest.mark.parametrize(
    "url",
    [
        "/media/jaw.png",
        "media/jaw.png",
        "https://www.example-health.org/media/jaw.png",
        "https://WWW.Example-Health.org/media/jaw.png",
    ],
)
def test_images_the_publisher_hosts_are_kept(app, url):
    with app.app_context():
        html = to_html(f"![jaw]({url})")

    assert len(_srcs(html)) == 1, html


def test_cms_image_hosts_lists_the_hosts_allowed(app):
    settings = app.config["CMS_SETTINGS"]
    app.config["CMS_SETTINGS"] = dataclasses.replace(settings, image_hosts=["cdn.example.com"])
    try:
        with app.app_context():
            cdn = to_html("![jaw](https://cdn.example.com/jaw.png)")
            site = to_html("![jaw](https://www.example-health.org/jaw.png)")
    finally:
        app.config["CMS_SETTINGS"] = settings

    assert _srcs(cdn) == ["https://cdn.example.com/jaw.png"]
    assert _srcs(site) == []


def test_cms_image_hosts_is_read_from_the_environment():
    hosts = {"CMS_IMAGE_HOSTS": "cdn.example.com, Images.Example.org"}
    assert Settings.from_environ(hosts).image_hosts == ["cdn.example.com", "images.example.org"]
    assert Settings.from_environ({}).image_hosts == []
