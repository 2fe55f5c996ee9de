"""Sentence embeddings for instant answers, from a model whose weights ship in its wheel."""

from __future__ import annotations

import importlib.util
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# WordLlama's "l2_supercat" static token embeddings: 256 dimensions, numpy only, 16 MB of
# weights inside the `wordllama` wheel, well under a millisecond a question and about
# 8,000 passages a second on one core (`_token_ids`); bench/README.md compares it with the
# other candidates (all-MiniLM-L6-v2 finds more, at some 400 times the cost).
#
# The model was trained on English text. Passages in other locales are embedded all the
# same (each passage, in any language, has a vector, and a question is only compared with
# passages of its own locale), but outside English a vector says less about meaning: the
# tokenizer cuts Spanish words into English subwords, so two Spanish texts come out close
# when they share spellings (drug names, cognates like "migraña"/"migraine", repeated
# words) rather than when they mean the same. Instant answers in those locales therefore
# rest mainly on their lexical signals, which are built per language (the locale's
# stemmer, term weights counted among its passages, trigram closeness to its headings),
# and the confidence, calibrated on English questions, is a weaker estimate there. A
# multilingual model would need its own weights and a recalibration (bench/README.md).
MODEL_NAME = "wordllama-l2-supercat-256"
DIMENSIONS = 256
_WEIGHTS = ("weights", "l2_supercat_256.safetensors")
# `WordLlama.load()` looks for its tokenizer under `tokenizer/` but the wheel ships it
# under `tokenizers/`, and then goes to the Hugging Face hub for it. The packaged files are
# read by path instead, with the tokenizers and safetensors libraries WordLlama itself
# uses: nothing touches the network, and nothing imports `wordllama`, whose import
# configures the root logger (logging.basicConfig) behind the app's back.
_TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")


def _package_file(*parts: str) -> Path:
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The wordllama package, which holds the embedding model, is missing.")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


# Read the text only this far: the mean of a long section's token embeddings says little
# more than that of its opening, and tokenizing costs in proportion to the length (the
# characters are cut first, which spares the tokenizer most of a long text).
MAX_TOKENS = 256
MAX_CHARACTERS = 1_200


@dataclass(frozen=True)
class _Model:
    tokenizer: Any  # a `tokenizers.Tokenizer`
    weights: np.ndarray  # (vocabulary, DIMENSIONS) float32
    # Whether a text's ids are its pieces' ids one after the other (`_splits_at_pieces`).
    by_pieces: bool
    # The texts that match the tokenizer's special tokens wherever they appear.
    specials: tuple[str, ...]
    # The ids of the short pieces met so far (`_token_ids`).
    pieces: dict[str, list[int]] = field(default_factory=dict)


_model: _Model | None = None
_loading = threading.Lock()


def _loaded() -> _Model:
    global _model
    if _model is None:
        with _loading:
            if _model is None:
                from safetensors import safe_open
                from tokenizers import Tokenizer

                path = _package_file(*_TOKENIZER)
                tokenizer = Tokenizer.from_file(str(path))
                tokenizer.no_padding()
                tokenizer.enable_truncation(MAX_TOKENS)
                with safe_open(_package_file(*_WEIGHTS), framework="np", device="cpu") as f:
                    weights = f.get_tensor("embedding.weight").astype(np.float32)
                config = json.loads(path.read_text(encoding="utf-8"))
                _model = _Model(
                    tokenizer,
                    weights,
                    by_pieces=_splits_at_pieces(config),
                    specials=tuple(token["content"] for token in config.get("added_tokens", [])),
                )
    return _model


# SentencePiece-style BPE, as this model's tokenizer is: a space becomes "▁", the text gets
# one in front, and the whole text is one sequence for the merges (no pre-tokenizer), so
# tokenizing costs in proportion to its length and nothing is reused between texts. But
# when every merge whose right part starts with "▁" has a left part ending with "▁" (runs
# of spaces), no merge ever joins the end of a word to the "▁" run after it: the text's ids
# are those of its pieces ("▁word", "▁▁word", ...) one after the other, and a piece's ids,
# once known, can be looked up. That is a fifth of the CPU when publishing (bench/README.md);
# tests compare the two ways on seeded, generated and fuzzed text.
_PIECE = re.compile("▁+[^▁]*")
# Only short pieces are remembered (words with their punctuation: they recur), and at most
# this many: about 20 MB in a process for English prose, under 50 MB whatever the text (a
# piece of emoji is ids for each byte). A long piece (a URL, a line in a script written
# without spaces) is tokenized each time it comes.
_PIECE_KEPT_LENGTH = 16
_PIECES_KEPT = 50_000


def _splits_at_pieces(config: dict[str, Any]) -> bool:
    """Whether this tokenizer configuration is one `_token_ids` reproduces exactly."""
    model = config.get("model") or {}
    if config.get("pre_tokenizer") is not None or config.get("normalizer") != {
        "type": "Sequence",
        "normalizers": [
            {"type": "Prepend", "prepend": "▁"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
        ],
    }:
        return False
    if (
        model.get("type") != "BPE"
        or model.get("dropout")
        or model.get("ignore_merges")
        # Marks added to the start or end of each sequence would land on every piece.
        or model.get("continuing_subword_prefix")
        or model.get("end_of_word_suffix")
        # Without "▁" of its own, an unknown "▁" could be fused with what comes before.
        or "▁" not in (model.get("vocab") or {})
    ):
        return False
    # Special tokens are looked for in the text as it is given (`specials`): only those
    # matched there, as written, are.
    matching = ("normalized", "lstrip", "rstrip", "single_word")
    if any(token.get(key) for token in config.get("added_tokens", []) for key in matching):
        return False
    for merge in model.get("merges", []):
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        if right.startswith("▁") and not left.endswith("▁"):
            return False
    return True


def _token_ids(model: _Model, text: str) -> list[int]:
    """The ids the tokenizer gives `text` (special tokens not added), cut at MAX_TOKENS."""
    if not model.by_pieces or any(special in text for special in model.specials):
        return model.tokenizer.encode(text, add_special_tokens=False).ids
    if not text:
        return []
    bpe, pieces = model.tokenizer.model, model.pieces
    ids: list[int] = []
    for piece in _PIECE.findall("▁" + text.replace(" ", "▁")):
        known = pieces.get(piece)
        if known is None:
            known = [token.id for token in bpe.tokenize(piece)]
            if len(piece) <= _PIECE_KEPT_LENGTH:
                if len(pieces) >= _PIECES_KEPT:
                    pieces.clear()
                pieces[piece] = known
        ids += known
        if len(ids) >= MAX_TOKENS:
            break
    return ids[:MAX_TOKENS]


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length float32 vectors, one row per text: their dot product is the cosine.

    WordLlama's own `embed` pads each batch to its longest text; averaging each text's
    token rows on its own does the same sum without the padding (several times faster on sections).
    """
    model = _loaded()
    vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    for row, text in enumerate(texts):
        ids = _token_ids(model, text[:MAX_CHARACTERS])
        if ids:
            vectors[row] = model.weights[ids].mean(axis=0)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    # A text of no known token is near nothing: it stays zeros.
    return np.divide(vectors, norms, out=vectors, where=norms > 0)


def passage_text(title: str, heading: str, text: str) -> str:
    """What a passage is embedded as: its page's title and its heading (or question) say
    what it is about (they found the right passage more often than the text alone)."""
    return "\n".join(part for part in (title, heading, text) if part)


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(stored: bytes) -> np.ndarray:
    return np.frombuffer(stored, dtype="<f4")


def to_pgvector(vector: np.ndarray) -> str:
    """pgvector's text form, `[0.1,0.2,…]`."""
    return "[" + ",".join(f"{value:.7g}" for value in vector.tolist()) + "]"
