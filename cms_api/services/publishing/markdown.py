"""Markdown (CommonMark) to sanitized HTML, and reading-time estimates."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from cms_api.services import runtime

# Raw HTML in Markdown is shown as text, and the output still passes an allow-list
# sanitizer: a <script>, an event attribute or a javascript: URL can never be served.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
    ["table", "strikethrough"]
)

ALLOWED_TAGS = {
    "a",
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sup",
    "sub",
    "img",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}
WORDS_PER_MINUTE = 200
_WORD = re.compile(r"\w+")
# What a browser drops from a URL before reading it (WHATWG URL): tabs and line breaks
# anywhere, C0 controls and spaces at either end.
_URL_IGNORED = re.compile(r"[\t\n\r]")
_URL_TRIMMED = "".join(chr(code) for code in range(0x21))


def image_hosts() -> frozenset[str]:
    """Hosts images may come from: CMS_IMAGE_HOSTS, or else the public site's own host."""
    settings = runtime.settings()
    hosts = settings.image_hosts or [urlsplit(settings.public_base_url).hostname or ""]
    return frozenset(host.lower() for host in hosts if host)


def image_allowed(src: str, hosts: frozenset[str]) -> bool:
    """Whether an image at `src` is the publisher's own: a relative URL on this site, or an
    http(s) URL on one of `hosts`. Anything else could be a tracking pixel: an image a
    reader's browser fetches from a third party, telling it who reads which medical page."""
    # Read the URL as a browser would: "\" is "/" in http(s) URLs, so "/\\evil.example"
    # and "//evil.example" both name another host.
    url = _URL_IGNORED.sub("", src).strip(_URL_TRIMMED).replace("\\", "/")
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return not url.startswith("//")
    return (
        parts.scheme in ("http", "https")
        and "@" not in parts.netloc
        and (parts.hostname or "") in hosts
    )


def to_html(source: str | None) -> str:
    if not source:
        return ""
    return _render(source, image_hosts())


def _own_images(tokens: Iterable[Token], hosts: frozenset[str]) -> list[Token]:
    """The inline tokens with every image from elsewhere replaced by its alt text."""
    kept: list[Token] = []
    for token in tokens:
        if token.type == "image" and not image_allowed(str(token.attrGet("src") or ""), hosts):
            kept.extend(_own_images(token.children or [], hosts))
            continue
        kept.append(token)
    return kept


# A FAQ's answer appears in its article's document and in its own: render it once.
@functools.lru_cache(maxsize=4096)
def _render(source: str, hosts: frozenset[str]) -> str:
    env: dict = {}
    tokens = _markdown.parse(source, env)
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _own_images(token.children, hosts)
    html = _markdown.renderer.render(tokens, _markdown.options, env)

    def own_images_only(element: str, attribute: str, value: str) -> str | None:
        # A second guard, should an image ever reach the HTML some other way.
        if element == "img" and attribute == "src" and not image_allowed(value, hosts):
            return None
        return value

    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        attribute_filter=own_images_only,
    ).strip()


def word_count(*texts: str | None) -> int:
    return sum(len(_WORD.findall(text)) for text in texts if text)


def reading_time_minutes(words: int) -> int:
    return max(1, math.ceil(words / WORDS_PER_MINUTE))
