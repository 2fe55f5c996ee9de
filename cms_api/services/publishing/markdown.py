"""Markdown (CommonMark) to sanitized HTML, and reading-time estimates."""

from __future__ import annotations

import functools
import math
import re
import string
from collections.abc import Callable, Iterable
from html import escape
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it_pyrs import MarkdownIt as RustMarkdownIt

from cms_api.services import runtime

# Raw HTML in Markdown is shown as text, and the output still passes an allow-list
# sanitizer (or, for plain prose, a check that it holds nothing the sanitizer would
# change: `_plain_html_as_sanitized`): a <script>, an event attribute or a javascript: URL
# can never be served.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
    ["table", "strikethrough"]
)

# markdown-it-pyrs, markdown-it's Rust port, parses about 20 times faster and gives the same
# HTML for plain prose (paragraphs, lists, headings, emphasis). It differs on odd input (a
# table without a pipe, runs of three emphasis markers, fences), so only text `is_plain`
# accepts goes to it; markdown-it-py, the reference, renders everything else.
# tests/services/publishing/test_markdown_renderers.py compares the two on the seeds, the
# bench corpus and fuzzed text. Its CommonMark preset would allow raw HTML: the rules are
# named instead.
_fast_markdown = RustMarkdownIt("zero").enable_many(
    [
        "blockquote",
        "code",
        "fence",
        "heading",
        "hr",
        "lheading",
        "list",
        "paragraph",
        "reference",
        "autolink",
        "backticks",
        "emphasis",
        "entity",
        "escape",
        "image",
        "link",
        "newline",
        "table",
        "strikethrough",
    ]
)
# Letters of any script, ASCII digits, spaces, line breaks and the punctuation of prose: no
# link, image, code, HTML, entity, escape, table, heading or `_` emphasis syntax. ASCII text
# (most of it) is checked by deleting these bytes and seeing nothing left, the rest by a
# search for any other character.
_PLAIN_PUNCTUATION = " \n.,;:!?()'\"/%+*-"
_PLAIN_ASCII = (string.ascii_letters + string.digits + _PLAIN_PUNCTUATION).encode()
_NOT_PLAIN = re.compile(r"[^\w \n.,;:!?()'\"/%+*-]|_|(?![0-9])\d")
# Lines of nothing but rule or table-delimiter marks (besides "***", three emphasis marks).
_ODD_LINE = re.compile(r"^[-:* ]+$", re.MULTILINE)
# Asterisks inside a word: where the two renderers' emphasis rules part ("a**a*.*.** *a*").
_INNER_ASTERISK = re.compile(r"\w\*+\w")


def is_plain(source: str) -> bool:
    """Whether both Markdown renderers are known to agree on this text."""
    if source.isascii():
        if source.encode().translate(None, _PLAIN_ASCII):
            return False
    elif _NOT_PLAIN.search(source):
        return False
    return (
        "***" not in source
        and _ODD_LINE.search(source) is None
        and not _asterisk_inside_word(source)
    )


def _asterisk_inside_word(source: str) -> bool:
    """Whether `_INNER_ASTERISK` is found: tried only just before each asterisk, since a
    search tries every character of the text (most of `is_plain`'s time)."""
    at = source.find("*", 1)
    while at != -1:
        if _INNER_ASTERISK.match(source, at - 1):
            return True
        at = source.find("*", at + 1)
    return False


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
    # srcset, sizes, width, height, loading and decoding only ever come from a library
    # image (`image:UUID`): Markdown itself has no syntax for them.
    "img": {"src", "alt", "title", "srcset", "sizes", "width", "height", "loading", "decoding"},
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


# A section shows an image of the media library as `![alt](image:UUID)`: a URL scheme of
# its own, so the reference survives any change of where files are stored or served.
LIBRARY_IMAGE = "image:"
# The `<img>` attributes (src, srcset, sizes, width, height, alt) of a library image, or
# None when readers may not see it.
LibraryImages = Callable[[str], dict[str, str | int] | None]


def to_html(source: str | None, library: LibraryImages | None = None) -> str:
    """Sanitized HTML. With `library`, `image:UUID` references become that image's `<img>`;
    without it (or when it has none to show) an image reference is left as its alt text."""
    if not source:
        return ""
    if library is not None and LIBRARY_IMAGE in source:
        # Library images show as they are now (alt text, crops): never from the cache.
        return _html(source, image_hosts(), library)
    return _render(source, image_hosts())


def image_references(source: str) -> list[str]:
    """Every `image:...` URL the Markdown shows as an image (not those in code)."""
    if LIBRARY_IMAGE not in source:
        return []
    found = []
    for token in _markdown.parse(source, {}):
        for child in token.children or []:
            found += _references(child)
    return found


def _references(token: Token) -> list[str]:
    src = str(token.attrGet("src") or "") if token.type == "image" else ""
    found = [src] if src.startswith(LIBRARY_IMAGE) else []
    for child in token.children or []:
        found += _references(child)
    return found


def _own_images(
    tokens: Iterable[Token],
    hosts: frozenset[str],
    library: LibraryImages | None = None,
    shown: dict[str, str] | None = None,
) -> list[Token]:
    """The inline tokens with every image from elsewhere replaced by its alt text, and each
    library image (with `library`) given its attributes; `shown` collects their URLs."""
    kept: list[Token] = []
    for token in tokens:
        src = str(token.attrGet("src") or "") if token.type == "image" else ""
        if library is not None and shown is not None and src.startswith(LIBRARY_IMAGE):
            attributes = library(src)
            if attributes is not None:
                _show_library_image(token, attributes)
                shown[str(attributes["src"])] = "src"
                shown[str(attributes["srcset"])] = "srcset"
                kept.append(token)
                continue
        if token.type == "image" and not image_allowed(src, hosts):
            kept.extend(_own_images(token.children or [], hosts, library, shown))
            continue
        kept.append(token)
    return kept


def _show_library_image(token: Token, attributes: dict[str, str | int]) -> None:
    if not token.content.strip():
        # No words of the editor's own here: the image's stored alt text (or, for a
        # decorative image, alt="").
        text = Token("text", "", 0)
        text.content = str(attributes["alt"])
        token.children = [text]
    token.attrs = {
        "src": attributes["src"],
        "alt": "",  # the renderer writes the alt text from the children
        "srcset": attributes["srcset"],
        "sizes": attributes["sizes"],
        "width": attributes["width"],
        "height": attributes["height"],
        # Below the fold, mostly: fetched as the reader scrolls, decoded off the main thread.
        "loading": "lazy",
        "decoding": "async",
    }


# A FAQ's answer appears in its article's document and in its own: render it once.
@functools.lru_cache(maxsize=4096)
def _render(source: str, hosts: frozenset[str]) -> str:
    return _html(source, hosts, None)


def _html(source: str, hosts: frozenset[str], library: LibraryImages | None) -> str:
    # The URLs of the library images shown, and the attribute each is allowed in.
    shown: dict[str, str] = {}
    if is_plain(source):
        html = _fast_markdown.render(source)  # no image syntax: nothing to filter
        checked = _plain_html_as_sanitized(html)
        if checked is not None:
            return checked
    else:
        html = reference_html(source, hosts, library, shown)
    return sanitized(html, hosts, shown)


# Every tag the fast renderer writes for plain text (paragraphs, lists, emphasis, line
# breaks, indented code blocks), exactly as it writes them: each is allowed, with no
# attribute but a list's start number.
_PLAIN_TAGS = re.compile(
    r'</?(?:p|em|strong|ul|li)>|<pre><code>|</code></pre>|</ol>|<ol(?: start="[0-9]+")?>|<br />'
)
# Around those tags (and `&quot;`), what the sanitizer would write otherwise: markup, any
# other entity, and the characters its parser drops or changes (NUL, CR, other controls)
# or writes as an entity (no-break space). One character class: a search for it is a scan.
_NOT_AS_SANITIZED = re.compile(r"[<>&\x00-\x08\x0b-\x1f\x7f\xa0]")


def _plain_html_as_sanitized(html: str) -> str | None:
    """What the sanitizer makes of the HTML the fast renderer wrote for plain text, when it
    holds nothing but `_PLAIN_TAGS` and text it would leave alone; else None.

    The sanitizer would keep every tag and character, writing `<br />` as `<br>` and
    `&quot;` as `"`, at several times the cost. The check makes sure nothing it would
    remove or escape is there (so nothing unsafe is, whatever the HTML); that it would not
    rebalance the tags rests on the renderer, which writes a tree
    (tests/services/publishing/test_markdown_renderers.py compares the two).
    """
    if _NOT_AS_SANITIZED.search(_PLAIN_TAGS.sub("", html).replace("&quot;", "")):
        return None
    return html.replace("<br />", "<br>").replace("&quot;", '"').strip()


def reference_html(
    source: str,
    hosts: frozenset[str],
    library: LibraryImages | None = None,
    shown: dict[str, str] | None = None,
) -> str:
    """The HTML markdown-it-py makes of the text (before sanitizing): the reference."""
    shown = {} if shown is None else shown
    env: dict = {}
    tokens = _markdown.parse(source, env)
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _own_images(token.children, hosts, library, shown)
    return _markdown.renderer.render(tokens, _markdown.options, env)


def sanitized(html: str, hosts: frozenset[str], shown: dict[str, str] | None = None) -> str:
    """The HTML through the allow-list sanitizer, images only from `hosts` or `shown`."""
    shown = shown or {}

    def own_images_only(element: str, attribute: str, value: str) -> str | None:
        # A second guard, should an image ever reach the HTML some other way: a source
        # is the publisher's own, or exactly what a library image was given.
        if element == "img" and attribute == "src":
            return value if image_allowed(value, hosts) or shown.get(value) == "src" else None
        if element == "img" and attribute == "srcset":
            return value if shown.get(value) == "srcset" else None
        return value

    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        attribute_filter=own_images_only,
    ).strip()


# A section's key, as the id of its heading: the admin API allows no other.
_ANCHOR = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def heading_html(heading: str, *, anchor: str, level: int) -> str:
    """A section's heading as an HTML heading whose `id` is the section's key, the target of
    a table of contents' `#key` links.

    The heading is plain text, escaped here; the id is the only one in a document, since
    the sanitizer allows no `id` in Markdown (an editor's id could clobber DOM globals).
    """
    tag = f"h{min(max(level, 1), 6)}"
    # Keys are validated on the way in; one that somehow is not a slug gets no id.
    anchored = f' id="{anchor}"' if _ANCHOR.fullmatch(anchor) else ""
    return f"<{tag}{anchored}>{escape(heading, quote=True)}</{tag}>"


def word_count(*texts: str | None) -> int:
    return sum(_words_in(text) for text in texts if text)


# Every ASCII byte that is not a word character (in `_WORD`'s sense) made a space.
_ASCII_NON_WORD_TO_SPACE = bytes(
    byte if chr(byte).isascii() and (chr(byte).isalnum() or byte == ord("_")) else ord(" ")
    for byte in range(256)
)


def _words_in(text: str) -> int:
    if text.isascii():
        # The same count as `_WORD`'s, in about a quarter of the time (word counts read every
        # section of every article published).
        return len(text.encode().translate(_ASCII_NON_WORD_TO_SPACE).split())
    return len(_WORD.findall(text))


def reading_time_minutes(words: int) -> int:
    return max(1, math.ceil(words / WORDS_PER_MINUTE))
