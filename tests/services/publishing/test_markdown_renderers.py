"""The fast Markdown renderer gives the sanitized HTML markdown-it-py gives, wherever it is used."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest

from cms_api.services.publishing import markdown
from cms_api.services.publishing.markdown import is_plain, reference_html, sanitized, to_html
from tests.support.seeds import seed_texts

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

from corpus import _Text  # bench/ is not a package

HOSTS = frozenset({"www.example-health.org"})


def _corpus_texts() -> list[str]:
    text = _Text(random.Random(7))
    return [text.body(250) for _ in range(300)] + [text.sentence() for _ in range(100)]


def _reference(source: str) -> str:
    return sanitized(reference_html(source, HOSTS), HOSTS)


def _fast(source: str) -> str:
    return markdown._html(source, HOSTS, None)


_WORDS = ("pain", "the", "é", "naïve", "Ωmega", "x1", "10", "2.5", "ß", "İ", "ﬁ", "١٢")
_MARKS = (*".,;:!?()'\"/%+*-", "**", " *", "* ", "** ", " **")
_PREFIXES = ("", "", "", "- ", "* ", "+ ", "1. ", "2) ", "10. ", "  - ", "   ", "    ", "  ")
_ODD_LINES = ("---", "-:", "***", "- - -", "--", ":-", " ", "  ")


def _fuzzed(rng: random.Random) -> str:
    """Text with the structure plain prose may have: lists, indents, emphasis, rules."""

    def line() -> str:
        parts = []
        for _ in range(rng.randint(1, 12)):
            roll = rng.random()
            word = rng.choice(_WORDS)
            if roll < 0.5:
                parts.append(word)
            elif roll < 0.8:
                parts.append(rng.choice(_MARKS))
            elif roll < 0.9:
                parts.append(f"*{word}*")
            else:
                parts.append(f"**{word}**")
            parts.append(rng.choice(("", " ", " ", "  ")))
        return rng.choice(_PREFIXES) + "".join(parts)

    lines = []
    for _ in range(rng.randint(1, 10)):
        roll = rng.random()
        lines.append("" if roll < 0.2 else rng.choice(_ODD_LINES) if roll < 0.23 else line())
    return "\n".join(lines) + rng.choice(("", "\n", "\n\n", " ", "  \n"))


def _checked_as_sanitized(text: str) -> bool:
    """Whether the fast renderer's HTML of this plain text skips the sanitizer, giving
    what the sanitizer would."""
    html = markdown._fast_markdown.render(text)
    checked = markdown._plain_html_as_sanitized(html)
    return checked is not None and checked == sanitized(html, HOSTS)


def test_plain_seed_and_corpus_texts_render_as_the_reference_does() -> None:
    seeds, corpus = seed_texts(), _corpus_texts()
    plain_seeds = [text for text in seeds if is_plain(text)]
    # The fast path carries most of the prose; the rest still renders as before.
    assert len(plain_seeds) > len(seeds) / 2
    assert all(is_plain(text) for text in corpus)
    for text in seeds + corpus:
        assert _fast(text) == _reference(text), text
    # And all of it is checked, not sanitized.
    assert [text for text in plain_seeds + corpus if not _checked_as_sanitized(text)] == []


def test_fuzzed_plain_text_renders_as_the_reference_does() -> None:
    rng = random.Random(20_261_203)
    plain = [text for text in (_fuzzed(rng) for _ in range(9_000)) if is_plain(text)]
    assert len(plain) > 1_000
    different = [text for text in plain if _fast(text) != _reference(text)]
    assert different == []
    assert [text for text in plain if not _checked_as_sanitized(text)] == []


@pytest.mark.parametrize(
    "source",
    [
        "Pain\n-:\n",  # a table without a pipe, for the Rust port only
        "Pain\n:--\nmore",
        "***Very*** important",  # three emphasis marks nest differently
        "snake_case and _emphasis_",
        "See [the guide](https://www.example-health.org/guide).",
        "![jaw](https://www.example-health.org/jaw.png)",
        "Use `code` here",
        "# A heading",
        "a | b\n--|--\n1 | 2",
        "Fish &amp; chips",
        "<b>raw</b>",
        "Tab\tseparated",
        "Escaped \\*star\\*",
        "~~struck~~",
        "Arabic-Indic digits ١٢",
        "a**a*.*.** *a*é",  # asterisks inside words: the two emphasis rules part
        "a*a**?** a*.*a**",
    ],
)
def test_markdown_syntax_beyond_prose_goes_to_the_reference(source: str) -> None:
    assert not is_plain(source)
    assert _fast(source) == _reference(source)


def test_plain_text_is_rendered_without_the_reference(app, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("markdown-it-py was asked")

    monkeypatch.setattr(markdown, "reference_html", refuse)
    with app.app_context():
        html = to_html("**Rest** and fluids help.\n\n- sleep\n- water\n\nSee a doctor: 2 days.")
    assert html == (
        "<p><strong>Rest</strong> and fluids help.</p>\n<ul>\n<li>sleep</li>\n<li>water</li>\n"
        "</ul>\n<p>See a doctor: 2 days.</p>"
    )


def test_plain_text_is_rendered_without_the_sanitizer(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("the sanitizer was asked")

    source = '    indented\n\nRest, "fluids" and sleep.  \nMore.\n\n3) first\n4) second'
    expected = _reference(source)
    monkeypatch.setattr(markdown, "sanitized", refuse)
    assert (
        markdown._html(source, HOSTS, None)
        == expected
        == (
            '<pre><code>indented\n</code></pre>\n<p>Rest, "fluids" and sleep.<br>\nMore.</p>\n'
            '<ol start="3">\n<li>first</li>\n<li>second</li>\n</ol>'
        )
    )


@pytest.mark.parametrize(
    "html",
    [
        '<p><a href="javascript:alert(1)">x</a></p>',
        '<p><img src="https://tracker.example/pixel.png"></p>',
        '<p onclick="alert(1)">x</p>',
        "<script>alert(1)</script>",
        "<p>Fish &amp; chips</p>",
        "<p>&#60;script&#62;</p>",
        "<hr />",
        "<P>x</P>",
        "<p >x</p>",
        "<br>",
        '<ol start="2" onclick="x">',
        "<ol start=\"2\">x</ol><ol start='1'>",
        "<p>x</p><",
        # Text the sanitizer would write otherwise: escaped, dropped or normalised.
        "<p>a > b</p>",
        "<p>a\x00b</p>",
        "<p>a\r\nb</p>",
        "<p>a\x0bb</p>",
        "<p>a\xa0b</p>",
        # A code block's tags only as the renderer writes them (the parser drops a line
        # break straight after <pre>).
        "<pre>\nx</pre>",
        "<p><code>x</code></p>",
        "<ol start=&quot;2&quot;>",
        "<p>&quot</p>",
    ],
)
def test_html_beyond_the_plain_tags_goes_to_the_sanitizer(html: str) -> None:
    assert markdown._plain_html_as_sanitized(html) is None


@pytest.mark.parametrize(
    "html",
    [
        "<p>a &quot;b&quot;<br />\nc</p>\n",
        '<ol start="12">\n<li><em>x</em> <strong>y</strong></li>\n</ol>\n',
        "<ul>\n<li>\n<p>a</p>\n</li>\n</ul>\n<pre><code>  b\n</code></pre>\n",
        "<p>Tabs\tand naïve ünïcode, 2.5% (or 3/4) here.</p>",
    ],
)
def test_plain_tags_come_out_as_the_sanitizer_writes_them(html: str) -> None:
    assert markdown._plain_html_as_sanitized(html) == sanitized(html, HOSTS)


def test_asterisks_inside_words_are_found_wherever_the_pattern_finds_them() -> None:
    # `is_plain` tries the pattern only at asterisks: it must find what a search finds.
    rng = random.Random(20_261_204)
    alphabet = ("a", "é", "_", "1", "\u0661", "*", "**", " ", "\n", ".", "-")
    for _ in range(30_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        expected = markdown._INNER_ASTERISK.search(text) is not None
        assert markdown._asterisk_inside_word(text) == expected, text
