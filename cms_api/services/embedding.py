"""Sentence embeddings for instant answers, from a model whose weights ship in its wheel."""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# WordLlama's "l2_supercat" static token embeddings: 256 dimensions, numpy only, 16 MB of
# weights inside the `wordllama` wheel, well under a millisecond a question and about
# 2,000 passages a second on one core; bench/README.md compares it with the other
# candidates (all-MiniLM-L6-v2 finds more, at 100 times the cost).
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


_model: _Model | None = None
_loading = threading.Lock()


def _loaded() -> _Model:
    global _model
    if _model is None:
        with _loading:
            if _model is None:
                from safetensors import safe_open
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(_package_file(*_TOKENIZER)))
                tokenizer.no_padding()
                tokenizer.enable_truncation(MAX_TOKENS)
                with safe_open(_package_file(*_WEIGHTS), framework="np", device="cpu") as f:
                    weights = f.get_tensor("embedding.weight").astype(np.float32)
                _model = _Model(tokenizer, weights)
    return _model


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length float32 vectors, one row per text: their dot product is the cosine.

    WordLlama's own `embed` pads each batch to its longest text; averaging each text's
    token rows on its own does the same sum without the padding (several times faster on sections).
    """
    model = _loaded()
    vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    for row, encoded in enumerate(
        # `_fast`: the same ids, without the character offsets (a fifth of the time).
        model.tokenizer.encode_batch_fast(
            [text[:MAX_CHARACTERS] for text in texts], add_special_tokens=False
        )
    ):
        if encoded.ids:
            vectors[row] = model.weights[encoded.ids].mean(axis=0)
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
