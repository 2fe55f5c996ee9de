"""Word counts (reading time) count runs of word characters, in any script."""

from __future__ import annotations

import random
import re
import string

import pytest

from cms_api.services.publishing.markdown import word_count

_WORD = re.compile(r"\w+")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", 0),
        ("Rest, fluids and sleep.", 4),
        ("don't over-treat: 2.5 mg/day", 8),
        ("snake_case stays one word", 4),
        ("**Bold** - and *stressed*\n\n- a list", 5),
        ("naïve café ﬁx", 3),
        ("Ωmega ١٢ x1", 3),
        ("tab\tand\x00null\x7fdel", 4),
    ],
)
def test_a_text_has_as_many_words_as_runs_of_word_characters(text: str, words: int) -> None:
    assert word_count(text) == words


def test_ascii_and_other_texts_count_as_the_word_pattern_does() -> None:
    # ASCII text is counted without the regular expression: the two must agree.
    rng = random.Random(20_261_204)
    alphabet = string.printable + "\x00\x1f\x7fé\u0661ﬁ"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert word_count(text) == len(_WORD.findall(text)), text


def test_several_texts_add_up_and_missing_ones_count_nothing() -> None:
    assert word_count("one two", None, "three", "") == 3
