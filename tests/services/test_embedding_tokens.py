"""Embeddings tokenize a text piece by piece, with exactly the ids its tokenizer gives."""

from __future__ import annotations

import copy
import json
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cms_api.services import embedding
from tests.support.seeds import seed_texts

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from corpus import _Text  # bench/ is not a package

# Spaces in runs, at either end and of other kinds; the tokenizer's own space mark; line
# breaks; letters, marks and symbols beyond Latin; a part of a special token's text.
_PARTS = (
    "pain",
    "the",
    "Botox",
    "é",
    "ñ",
    "中文",
    "😀",
    "ﬁ",
    "\u0301",
    "-",
    ".",
    ",",
    "'",
    "1",
    "10",
    " ",
    " ",
    " ",
    "  ",
    "   ",
    "\u00a0",
    "\t",
    "\n",
    "\n\n",
    "▁",
    "▁▁",
    "<s",
    "/s>",
)


def _fuzzed(rng: random.Random) -> str:
    return "".join(rng.choice(_PARTS) for _ in range(rng.randint(0, 30)))


def _reference_ids(model: Any, text: str) -> list[int]:
    return model.tokenizer.encode(text, add_special_tokens=False).ids


def test_the_shipped_tokenizer_is_tokenized_piece_by_piece() -> None:
    assert embedding._loaded().by_pieces


def test_every_seeded_corpus_and_fuzzed_text_gets_the_tokenizers_own_ids() -> None:
    model = embedding._loaded()
    bench = _Text(random.Random(11))
    seeds = seed_texts()
    rng = random.Random(20_261_204)
    texts = (
        seeds
        + [bench.body(300) for _ in range(200)]
        # Long enough to be cut at MAX_TOKENS, cut anywhere.
        + [" ".join(seeds)[start : start + 1_500] for start in range(0, 60_000, 1_501)]
        + [_fuzzed(rng) for _ in range(10_000)]
    )
    assert any(len(_reference_ids(model, text)) == embedding.MAX_TOKENS for text in texts)
    assert not any(special in text for text in texts for special in model.specials)
    different = [
        text for text in texts if embedding._token_ids(model, text) != _reference_ids(model, text)
    ]
    assert different == []


@pytest.mark.parametrize(
    "text", ["<s>", "a </s> b", "<unk>", "x<s>y  z", "  <s> ", "pain</s>\n<unk>😀"]
)
def test_a_text_with_a_special_tokens_text_gets_the_tokenizers_own_ids(text: str) -> None:
    model = embedding._loaded()
    assert embedding._token_ids(model, text) == _reference_ids(model, text)


def test_the_pieces_remembered_are_short_and_few(monkeypatch: pytest.MonkeyPatch) -> None:
    model = embedding._loaded()
    monkeypatch.setattr(embedding, "_PIECES_KEPT", 50)
    model.pieces.clear()
    texts = [_Text(random.Random(seed)).body(120) for seed in range(20)]
    long_piece = "https://www.example-health.org/articles/headache-after-botox"
    for text in [*texts, long_piece]:
        assert embedding._token_ids(model, text) == _reference_ids(model, text)
        assert 0 < len(model.pieces) <= 50
    assert all(len(piece) <= embedding._PIECE_KEPT_LENGTH for piece in model.pieces)
    assert "▁" + long_piece not in model.pieces
    model.pieces.clear()


def test_embeddings_are_the_mean_of_the_tokenizers_ids_embeddings() -> None:
    model = embedding._loaded()
    texts = ["Headache after Botox", "", "  two  spaces  ", "<s> marks", "中文 text\nand more"]
    expected = np.zeros((len(texts), embedding.DIMENSIONS), dtype=np.float32)
    for row, text in enumerate(texts):
        ids = _reference_ids(model, text[: embedding.MAX_CHARACTERS])
        if ids:
            expected[row] = model.weights[ids].mean(axis=0)
    norms = np.linalg.norm(expected, axis=1, keepdims=True)
    expected = np.divide(expected, norms, out=expected, where=norms > 0)
    assert np.array_equal(embedding.embed(texts), expected)


def _config() -> dict[str, Any]:
    return json.loads(embedding._package_file(*embedding._TOKENIZER).read_text(encoding="utf-8"))


def _merge_into_a_space(config: dict[str, Any]) -> None:
    config["model"]["merges"].append("e ▁t")


def _pre_tokenizer(config: dict[str, Any]) -> None:
    config["pre_tokenizer"] = {"type": "Whitespace"}


def _other_normalizer(config: dict[str, Any]) -> None:
    config["normalizer"] = {"type": "Lowercase"}


def _merges_ignored(config: dict[str, Any]) -> None:
    config["model"]["ignore_merges"] = True


def _dropout(config: dict[str, Any]) -> None:
    config["model"]["dropout"] = 0.1


def _subword_prefix(config: dict[str, Any]) -> None:
    config["model"]["continuing_subword_prefix"] = "##"


def _word_suffix(config: dict[str, Any]) -> None:
    config["model"]["end_of_word_suffix"] = "</w>"


def _no_space_mark(config: dict[str, Any]) -> None:
    del config["model"]["vocab"]["▁"]


def _special_matched_normalized(config: dict[str, Any]) -> None:
    config["added_tokens"][1]["normalized"] = True


def _special_stripping(config: dict[str, Any]) -> None:
    config["added_tokens"][2]["lstrip"] = True


@pytest.mark.parametrize(
    "change",
    [
        _merge_into_a_space,
        _pre_tokenizer,
        _other_normalizer,
        _merges_ignored,
        _dropout,
        _subword_prefix,
        _word_suffix,
        _no_space_mark,
        _special_matched_normalized,
        _special_stripping,
    ],
)
def test_a_tokenizer_the_pieces_would_not_reproduce_is_used_as_it_is(change: Any) -> None:
    config = copy.deepcopy(_config())
    assert embedding._splits_at_pieces(config)
    change(config)
    assert not embedding._splits_at_pieces(config)
