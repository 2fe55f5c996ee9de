"""What a browser would run in an HTML fragment, and where a JSON answer carries HTML."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

# Elements that run script, load other documents or restyle the page.
DANGEROUS_TAGS = {
    "script",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "svg",
    "math",
    "style",
    "link",
    "meta",
    "base",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "template",
    "noscript",
    "xmp",
    "plaintext",
    "portal",
}
URL_ATTRIBUTES = {
    "href",
    "src",
    "srcset",
    "action",
    "formaction",
    "xlink:href",
    "background",
    "poster",
    "data",
    "cite",
    "longdesc",
    "lowsrc",
    "dynsrc",
    "ping",
}
SCRIPTABLE_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:")
# Browsers drop ASCII whitespace and control characters inside a URL's scheme.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")


def executable_constructs(html: str) -> list[str]:
    """Every element, attribute or URL in the HTML that a browser would run, or that could."""
    found: list[str] = []

    class Inspector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in DANGEROUS_TAGS:
                found.append(f"<{tag}>")
            for name, value in attrs:
                if name.startswith("on") or name in ("style", "srcdoc"):
                    found.append(f"<{tag} {name}=...>")
                squashed = _URL_NOISE.sub("", value or "").lower()
                if name in URL_ATTRIBUTES and squashed.startswith(SCRIPTABLE_SCHEMES):
                    found.append(f"<{tag} {name}={value!r}>")

        handle_startendtag = handle_starttag

    inspector = Inspector(convert_charrefs=True)
    inspector.feed(html)
    inspector.close()
    return found


def html_fields(value: Any, where: str = "$") -> Iterator[tuple[str, str]]:
    """Every `*_html` string in a JSON value, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("_html") and isinstance(item, str):
                yield f"{where}.{key}", item
            else:
                yield from html_fields(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from html_fields(item, f"{where}[{index}]")
