"""Markdown (CommonMark) to sanitized HTML, and reading-time estimates."""

from __future__ import annotations

import functools
import math
import re

import nh3
from markdown_it import MarkdownIt

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


def to_html(source: str | None) -> str:
    if not source:
        return ""
    return _render(source)


# A FAQ's answer appears in its article's document and in its own: render it once.
@functools.lru_cache(maxsize=4096)
def _render(source: str) -> str:
    html = _markdown.render(source)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
    ).strip()


def word_count(*texts: str | None) -> int:
    return sum(len(_WORD.findall(text)) for text in texts if text)


def reading_time_minutes(words: int) -> int:
    return max(1, math.ceil(words / WORDS_PER_MINUTE))
