"""Instant-answer quality on the development set (recall, precision, calibration) and latency.

Seeds a throwaway database (optionally with bench-corpus articles as distractors), asks every
question of bench/answers_devset.yaml through the answer service with threshold 0 to see the
top three passages and their confidence, scores them against the accepted passages at the
configured threshold and a sweep of others, then times GET /v1/answers through the app.

    .venv/bin/python bench/answers.py
    .venv/bin/python bench/answers.py --corpus-articles 5000 --dump /tmp/answers.jsonl
    .venv/bin/python bench/answers.py --json > answers.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import yaml
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import LINK_WINDOW, load_corpus

from cms_api import create_app
from cms_api.config import Settings
from cms_api.database import db, drop_database, ensure_database
from cms_api.services.discovery import answers
from cms_api.services.integrations.seeds import load_seeds
from cms_api.services.publishing.articles import publish_articles

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DEVSET = Path(__file__).resolve().parent / "answers_devset.yaml"
SWEEP = tuple(round(0.1 * step, 1) for step in range(10))
# Corpus articles are published this many at a time, as bench/run.py loads them.
PUBLISH_CHUNK = 2000
# Corpus articles are made quotable like the seeded ones: a passage is a candidate only
# with a review of record (an approval that went live) whose next review is not overdue,
# and a distractor that cannot be quoted distracts nothing. The corpus writes its reviews
# as approvals that never went live, on a 12-month cycle that the oldest have outrun.
CORPUS_REVIEW_MONTHS = 24
_CORPUS_REVIEWED = """
UPDATE medical_reviews AS review SET published_at = article.published_at
FROM articles AS article
WHERE article.id = review.article_id AND review.article_id = ANY(:ids)
"""
_CORPUS_REVIEW_CYCLE = "UPDATE articles SET review_interval_months = :months WHERE id = ANY(:ids)"
_PASSAGES = """
SELECT count(*) AS total,
    count(*) FILTER (
        WHERE reviewed_on IS NOT NULL AND (review_due IS NULL OR review_due >= current_date)
    ) AS quotable
FROM answer_passages
"""


@dataclasses.dataclass
class Result:
    """One question asked with threshold 0: the passages ranked first, as targets."""

    q: str
    on_topic: bool
    targets: list[str]
    top: list[tuple[str, float]]
    urgent: bool = False
    seconds: float = 0.0

    @property
    def confidence(self) -> float:
        return self.top[0][1] if self.top else 0.0

    def accepted(self, target: str) -> bool:
        return target in self.targets

    @property
    def correct_top1(self) -> bool:
        return bool(self.top) and self.accepted(self.top[0][0])

    @property
    def correct_top3(self) -> bool:
        return any(self.accepted(target) for target, _ in self.top[:3])

    def answered(self, threshold: float) -> bool:
        return self.confidence >= threshold

    def quoted(self, threshold: float) -> list[str]:
        return [target for target, sure in self.top[:3] if sure >= threshold]


def target_of(passage: dict[str, Any]) -> str:
    """The development set's name of a quoted passage: `slug#section`, or `slug?heading` for
    an FAQ. The page slug is the last segment of the citation's page URL."""
    citation = passage["citation"]
    slug = unquote(urlsplit(citation["url"]).path.rstrip("/").rsplit("/", 1)[-1])
    if citation.get("section"):
        return f"{slug}#{citation['section']}"
    return f"{slug}?{passage['heading']}"


def load_devset(path: Path) -> tuple[list[tuple[str, list[str]]], list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    on_topic = [(item["q"], list(item["answers"])) for item in data["questions"]]
    return on_topic, list(data["off_topic"])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def at_threshold(results: list[Result], threshold: float) -> dict[str, Any]:
    """The answer rates and precisions a threshold gives, from the threshold-0 rankings."""
    on = [r for r in results if r.on_topic]
    off = [r for r in results if not r.on_topic]
    answered = [r for r in on if r.answered(threshold)]
    first_right = sum(r.correct_top1 for r in answered)
    any_right = sum(any(r.accepted(t) for t in r.quoted(threshold)) for r in answered)
    false_answers = sum(r.answered(threshold) for r in off)
    return {
        "threshold": threshold,
        "answered_rate": _share(len(answered), len(on)),
        "no_answer_rate": _share(len(on) - len(answered), len(on)),
        "precision_first": _share(first_right, len(answered)),
        "precision_any": _share(any_right, len(answered)),
        "right_first_rate": _share(first_right, len(on)),
        "off_topic_answered_rate": _share(false_answers, len(off)),
        "off_topic_answered": false_answers,
    }


def calibration(results: list[Result], buckets: int = 10) -> dict[str, Any]:
    """Top-1 confidence against whether the top passage is accepted, over every question
    (an off-topic question's top passage is never accepted): per decile, ECE and Brier."""
    rows = []
    ece = 0.0
    for bucket in range(buckets):
        low, high = bucket / buckets, (bucket + 1) / buckets
        members = [
            r
            for r in results
            if low <= r.confidence < high or (bucket == buckets - 1 and r.confidence == 1.0)
        ]
        if not members:
            rows.append({"bucket": f"{low:.1f}-{high:.1f}", "n": 0})
            continue
        mean = statistics.fmean(r.confidence for r in members)
        right = statistics.fmean(r.correct_top1 for r in members)
        ece += len(members) / len(results) * abs(right - mean)
        rows.append(
            {
                "bucket": f"{low:.1f}-{high:.1f}",
                "n": len(members),
                "mean_confidence": round(mean, 4),
                "accepted": round(right, 4),
            }
        )
    brier = statistics.fmean((r.confidence - r.correct_top1) ** 2 for r in results)
    return {"buckets": rows, "ece": round(ece, 4), "brier": round(brier, 4)}


def _setup(url: str, threshold: float | None) -> Flask:
    settings = dataclasses.replace(
        Settings.from_environ(),
        database_url=url,
        # One client asks every question: the search limit would refuse most.
        search_rate_limit="1000000 per minute",
    )
    if threshold is not None:
        settings = dataclasses.replace(settings, answer_threshold=threshold)
    return create_app(
        {"CMS_SETTINGS": settings, "SQLALCHEMY_DATABASE_URI": url, "CMS_ACCESS_LOG": False}
    )


def _load(app: Flask, corpus_articles: int) -> dict[str, Any]:
    loaded: dict[str, Any] = {}
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        load_seeds()
        db.session.commit()
        known = {
            f"{slug}#{anchor}" if anchor is not None else f"{slug}?{heading}"
            for slug, anchor, heading in db.session.execute(
                text("SELECT page_slug, anchor, heading FROM answer_passages")
            )
        }
        loaded["seed_seconds"] = round(time.perf_counter() - started, 1)
        if corpus_articles:

            def publish(ids: list[uuid.UUID]) -> None:
                db.session.execute(text(_CORPUS_REVIEWED), {"ids": ids})
                db.session.execute(
                    text(_CORPUS_REVIEW_CYCLE), {"months": CORPUS_REVIEW_MONTHS, "ids": ids}
                )
                publish_articles(ids)

            report = load_corpus(
                db.session,
                publish,
                articles=corpus_articles,
                publish_chunk=max(LINK_WINDOW, min(PUBLISH_CHUNK, corpus_articles)),
                progress=lambda message: print(message, file=sys.stderr),
            )
            loaded["corpus_publish_seconds"] = round(report.publish_seconds, 1)
        db.session.execute(text("ANALYZE answer_passages"))
        db.session.commit()
        counts = db.session.execute(text(_PASSAGES)).one()
        loaded["passages"] = counts.total
        loaded["quotable_passages"] = counts.quotable
        db.session.remove()
    loaded["known_targets"] = known
    return loaded


def _ask_all(app: Flask, questions: list[tuple[str, list[str] | None]]) -> list[Result]:
    results = []
    with app.test_request_context():
        for q, targets in questions:
            started = time.perf_counter()
            body = answers.answer(q, threshold=0.0)
            seconds = time.perf_counter() - started
            top = [(target_of(p), float(p["confidence"])) for p in body["passages"]]
            results.append(
                Result(
                    q=q,
                    on_topic=targets is not None,
                    targets=targets or [],
                    top=top,
                    urgent=bool(body.get("urgent")),
                    seconds=seconds,
                )
            )
        db.session.remove()
    return results


def _time_requests(app: Flask, questions: list[str]) -> tuple[list[float], dict[str, bool]]:
    """GET /v1/answers for every question once after one unmeasured pass, with the real
    threshold: per-request milliseconds, and whether each was answered."""
    client = app.test_client()
    timings: list[float] = []
    answered: dict[str, bool] = {}
    for measured in (False, True):
        for q in questions:
            started = time.perf_counter()
            response = client.get(f"/v1/answers?q={quote(q)}")
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"GET /v1/answers?q={q!r} answered {response.status_code}")
            if measured:
                timings.append(elapsed)
                answered[q] = response.get_json()["answered"]
    return timings, answered


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    on_topic, off_topic = load_devset(args.devset)
    name = f"cms_bench_answers_{uuid.uuid4().hex[:6]}"
    url = ensure_database(args.database_url, name)
    try:
        app = _setup(url, args.threshold)
        threshold = app.config["CMS_SETTINGS"].answer_threshold
        loaded = _load(app, args.corpus_articles)
        known = loaded.pop("known_targets")
        unknown = sorted({t for _, targets in on_topic for t in targets} - known)
        if unknown:
            print(f"warning: targets naming no seeded passage: {unknown}", file=sys.stderr)
        questions: list[tuple[str, list[str] | None]] = [*on_topic]
        questions += [(q, None) for q in off_topic]
        results = _ask_all(app, questions)
        timed = [q for q, _ in questions]
        if args.latency_questions and args.latency_questions < len(timed):
            # Evenly spread over the set, on-topic and off-topic alike.
            step = len(timed) / args.latency_questions
            timed = [timed[int(i * step)] for i in range(args.latency_questions)]
        timings, http_answered = _time_requests(app, timed)
        with app.app_context():
            db.engine.dispose()
    finally:
        drop_database(args.database_url, name)
    return _report(results, threshold, loaded, unknown, timings, http_answered, args.misses)


def _report(
    results: list[Result],
    threshold: float,
    loaded: dict[str, Any],
    unknown: list[str],
    timings: list[float],
    http_answered: dict[str, bool],
    misses: int,
) -> dict[str, Any]:
    on = [r for r in results if r.on_topic]
    ranks = []
    for r in on:
        found = [i for i, (t, _) in enumerate(r.top[:3], start=1) if r.accepted(t)]
        ranks.append(1 / found[0] if found else 0.0)
    by_page: dict[str, list[Result]] = {}
    for r in on:
        by_page.setdefault(r.targets[0].replace("?", "#").split("#", 1)[0], []).append(r)
    # Confident misses first: those are the ones a threshold cannot hide.
    missed = sorted((r for r in on if not r.correct_top3), key=lambda r: -r.confidence)
    # A red flag is answered (with guidance) whatever the threshold. A confidence within
    # rounding (3 decimals, as answers give it) of the threshold may fall either way.
    disagreements = [
        r.q
        for r in results
        if r.q in http_answered
        and http_answered[r.q] != (r.urgent or r.answered(threshold))
        and abs(r.confidence - threshold) > 0.0005
    ]
    service_ms = [r.seconds * 1000 for r in results]
    thresholds = sorted({*SWEEP, threshold})
    return {
        "questions": {"on_topic": len(on), "off_topic": len(results) - len(on)},
        **loaded,
        "unknown_targets": unknown,
        "urgent": [r.q for r in results if r.urgent],
        "threshold": threshold,
        "recall_at_1": _share(sum(r.correct_top1 for r in on), len(on)),
        "recall_at_3": _share(sum(r.correct_top3 for r in on), len(on)),
        "mrr_at_3": round(statistics.fmean(ranks), 4) if ranks else None,
        "at_threshold": at_threshold(results, threshold),
        "sweep": [at_threshold(results, t) for t in thresholds],
        "calibration": calibration(results),
        "recall_at_3_by_page": {
            page: {"n": len(rs), "recall_at_3": _share(sum(r.correct_top3 for r in rs), len(rs))}
            for page, rs in sorted(by_page.items())
        },
        "latency_ms": {
            "requests": len(timings),
            "p50": round(percentile(timings, 0.50), 2),
            "p95": round(percentile(timings, 0.95), 2),
            "p99": round(percentile(timings, 0.99), 2),
            "max": round(max(timings), 2),
            "service_p50_threshold_0": round(percentile(service_ms, 0.50), 2),
        },
        "http_disagrees_with_threshold": disagreements,
        "worst_misses": [
            {"q": r.q, "confidence": r.confidence, "wanted": r.targets, "got": r.top}
            for r in missed[:misses]
        ],
        "_results": results,
    }


def _print_table(report: dict[str, Any]) -> None:
    def pct(value: float | None) -> str:
        return "   -  " if value is None else f"{100 * value:5.1f}%"

    counts = report["questions"]
    print(
        f"development set: {counts['on_topic']} on-topic and {counts['off_topic']} off-topic "
        f"questions; {report['passages']:,} passages ({report['quotable_passages']:,} quotable "
        f"today); threshold {report['threshold']:.2f}"
    )
    if report.get("corpus_publish_seconds") is not None:
        print(f"corpus published in {report['corpus_publish_seconds']} s")
    if report["unknown_targets"]:
        print(f"TARGETS NAMING NO PASSAGE: {report['unknown_targets']}")
    if report["urgent"]:
        print(f"answered as red flags (counted as misses): {report['urgent']}")
    print(
        f"recall@1 {pct(report['recall_at_1'])}   recall@3 {pct(report['recall_at_3'])}   "
        f"MRR@3 {report['mrr_at_3']:.3f}"
    )
    print()
    print(
        "threshold  answered  no-answer  first right  any right  right overall  off-topic answered"
    )
    print("           (on-topic)           (when answered)          (of on-topic)")
    for row in report["sweep"]:
        mark = " <" if row["threshold"] == report["threshold"] else ""
        print(
            f"{row['threshold']:9.2f}  {pct(row['answered_rate'])}    {pct(row['no_answer_rate'])}"
            f"     {pct(row['precision_first'])}     {pct(row['precision_any'])}      "
            f"{pct(row['right_first_rate'])}       {pct(row['off_topic_answered_rate'])}"
            f" ({row['off_topic_answered']}){mark}"
        )
    cal = report["calibration"]
    print()
    print("calibration of the top-1 confidence (every question; off-topic ones are never right)")
    print("bucket     n   mean conf  top passage accepted")
    for row in cal["buckets"]:
        if row["n"]:
            print(
                f"{row['bucket']}  {row['n']:4d}   {row['mean_confidence']:.3f}      "
                f"{pct(row['accepted'])}"
            )
        else:
            print(f"{row['bucket']}     0")
    print(f"ECE {cal['ece']:.3f}   Brier {cal['brier']:.3f}")
    print()
    print("recall@3 by page asked about")
    for page, row in report["recall_at_3_by_page"].items():
        print(f"  {page:28s} {row['n']:3d}  {pct(row['recall_at_3'])}")
    lat = report["latency_ms"]
    print()
    print(
        f"GET /v1/answers, {lat['requests']} requests after a warm-up pass: p50 {lat['p50']} ms, "
        f"p95 {lat['p95']} ms, p99 {lat['p99']} ms, max {lat['max']} ms "
        f"(service with threshold 0: p50 {lat['service_p50_threshold_0']} ms)"
    )
    if report["http_disagrees_with_threshold"]:
        print(
            f"answered over HTTP otherwise than computed: {report['http_disagrees_with_threshold']}"
        )
    print()
    print("worst misses (no accepted passage in the top 3), most confident first:")
    for miss in report["worst_misses"]:
        print(f"  {miss['q']!r} (top confidence {miss['confidence']:.3f})")
        print(f"      wanted {', '.join(miss['wanted'])}")
        for target, sure in miss["got"]:
            print(f"      got    {sure:.3f} {target}")


def _dump(results: list[Result], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for r in results:
            line = {
                "q": r.q,
                "on_topic": r.on_topic,
                "targets": r.targets,
                "urgent": r.urgent,
                "top": [
                    {"target": target, "confidence": sure, "accepted": r.accepted(target)}
                    for target, sure in r.top
                ],
                "correct_top1": r.correct_top1,
                "correct_top3": r.correct_top3,
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", "--server", default=LOCAL_SERVER, help="PostgreSQL server URL"
    )
    parser.add_argument(
        "--corpus-articles", type=int, default=0, help="bench-corpus articles to add"
    )
    parser.add_argument(
        "--threshold", type=float, help="instead of CMS_ANSWER_THRESHOLD (default 0.5)"
    )
    parser.add_argument("--devset", type=Path, default=DEVSET)
    parser.add_argument("--dump", type=Path, help="write one JSON line per question here")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--misses", type=int, default=10, help="worst misses to list")
    parser.add_argument(
        "--latency-questions", type=int, help="time this many questions, not all (spread out)"
    )
    args = parser.parse_args(argv)

    report = evaluate(args)
    results = report.pop("_results")
    if args.dump:
        _dump(results, args.dump)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        _print_table(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
