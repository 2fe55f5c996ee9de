"""Benchmark the delivery API under gunicorn against a constant-JSON Flask baseline."""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# loadgen and corpus sit beside this script, which Python puts first on sys.path.
import loadgen
import psycopg
from corpus import load_corpus
from flask_migrate import upgrade
from loadgen import Request, Result, Scenario

from cms_api import create_app
from cms_api.config import Settings
from cms_api.database import (
    db,
    drop_database,
    embedded_server_url,
    ensure_database,
    libpq_url,
    sqlalchemy_url,
)
from cms_api.services.publishing.articles import publish_articles

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_NAME = "cms_bench"
LIST_LIMIT = 20
WALK_LIMIT = 100
# Articles per publish_articles call (one transaction each): profiles and topic pages are
# rendered once per call, so bigger calls render them less often (bench/publishing.py).
PUBLISH_CHUNK = 2_000


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=1, help="repeat; report the median")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers per server")
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: see README)")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--slugs", type=int, default=2_000, help="articles to rotate over")
    parser.add_argument("--deep", type=int, default=9_000, help="items before the deep page")
    parser.add_argument("--seed", type=int, default=20_260_601)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse a kept bench database if it is loaded"
    )
    return parser.parse_args(argv)


# -- database ------------------------------------------------------------------------------


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def server_url(configured: str | None) -> str:
    """--database-url, else DATABASE_URL, else the local server, else the embedded one."""
    if configured or os.environ.get("DATABASE_URL"):
        return configured or os.environ["DATABASE_URL"]
    if _answers(LOCAL_SERVER):
        return LOCAL_SERVER
    return embedded_server_url(ROOT / "instance")


def article_count(url: str) -> int:
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=2) as conn:
            row = conn.execute(
                "SELECT count(*) FROM published_documents WHERE kind = 'article'"
            ).fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error:
        return 0


def prepare_database(server: str, args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """A migrated bench database holding the published corpus, and the load timings."""
    url = sqlalchemy_url(server).set(database=DATABASE_NAME).render_as_string(False)
    if args.reuse and article_count(url) == args.articles:
        log(f"reusing {DATABASE_NAME}: {args.articles} published articles")
        return url, {"reused": True}
    drop_database(server, DATABASE_NAME)
    url = ensure_database(server, DATABASE_NAME)
    app = create_app({"CMS_SETTINGS": Settings(database_url=url), "SQLALCHEMY_DATABASE_URI": url})
    timings: dict[str, Any] = {"reused": False}
    with app.app_context():
        started = time.perf_counter()
        upgrade()
        timings["migrate_seconds"] = round(time.perf_counter() - started, 2)
        report = load_corpus(
            db.session,
            publish_articles,
            articles=args.articles,
            seed=args.seed,
            publish_chunk=PUBLISH_CHUNK,
            progress=log,
        )
        db.session.remove()
        db.engine.dispose()
    started = time.perf_counter()
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    timings.update(
        counts=report.counts,
        generate_seconds=round(report.generate_seconds, 1),
        insert_seconds=round(report.insert_seconds, 1),
        publish_seconds=round(report.publish_seconds, 1),
        publish_chunk_seconds=[round(value, 2) for value in report.chunk_seconds],
        vacuum_analyze_seconds=round(time.perf_counter() - started, 1),
    )
    log(
        f"generated in {timings['generate_seconds']}s, inserted in {timings['insert_seconds']}s "
        f"(with ANALYZE), published in {timings['publish_seconds']}s, "
        f"vacuum analyze {timings['vacuum_analyze_seconds']}s"
    )
    return url, timings


@dataclass(frozen=True)
class Sample:
    slug: str
    etag: str
    size: int


def sample_articles(url: str, count: int, seed: int) -> list[Sample]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT slug, etag, octet_length(body) FROM published_documents "
            "WHERE kind = 'article' ORDER BY slug"
        ).fetchall()
    chosen = random.Random(seed).sample(rows, min(count, len(rows)))
    return [Sample(slug=slug, etag=etag, size=size) for slug, etag, size in chosen]


# -- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@contextlib.contextmanager
def gunicorn(
    name: str, target: str, *, cwd: Path, env: dict[str, str], workers: int
) -> Iterator[int]:
    """Serve `target` on a free loopback port until the block ends; yield the port."""
    port = free_port()
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    log_path = results / f"{name}-gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        target,
    ]
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **env}, stdout=log_file, stderr=log_file
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited early; see {log_path}")
                with contextlib.suppress(OSError):
                    if get(port, "/healthz")[0] == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not ready after 60s; see {log_path}")
                time.sleep(0.2)
            log(f"{name} ready on port {port} (pid {process.pid})")
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log(f"{name} stopped")


# -- scenarios -----------------------------------------------------------------------------


def deep_cursor(port: int, depth: int) -> tuple[str, int]:
    """Walk the list `WALK_LIMIT` at a time; the cursor after about `depth` items."""
    cursor, seen = None, 0
    while seen < depth:
        query = {"limit": str(WALK_LIMIT), **({"cursor": cursor} if cursor else {})}
        status, body = get(port, "/v1/articles?" + urllib.parse.urlencode(query))
        if status != 200:
            raise RuntimeError(f"walking the list answered {status}: {body[:200]!r}")
        page = json.loads(body)
        seen += len(page["items"])
        cursor = page["page"]["next_cursor"]
        if cursor is None:
            raise RuntimeError(f"the list ended after {seen} items, before {depth}")
    return cursor, seen


def check(scenario: Scenario) -> int:
    """The first 200 requests answer as expected (else raise); return their median body size."""
    sizes = []
    for request in scenario.requests[:200]:
        status, body = get(scenario.port, request.path, request.headers)
        if status not in scenario.expected:
            raise RuntimeError(f"{scenario.name}: {request.path} answered {status}")
        sizes.append(len(body))
    return int(statistics.median(sizes))


def median_run(results: list[Result]) -> Result:
    """The round with the median throughput (the lower middle one of an even count)."""
    return sorted(results, key=lambda result: result.rps)[(len(results) - 1) // 2]


def table(results: list[Result], baseline: Result) -> str:
    header = (
        f"{'scenario':<26} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'of base':>7}"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        lines.append(
            f"{result.scenario:<26} {result.rps:>8.0f} {result.p50_ms:>8.2f} "
            f"{result.p99_ms:>8.2f} {result.errors:>6d} {result.rps / baseline.rps:>7.2f}"
        )
    return "\n".join(lines)


def targets(results: list[Result]) -> dict[str, Any]:
    """The issue's targets: detail at half the baseline or better; deep page as fast as first.

    "As fast as" allows 10% for run-to-run noise.
    """
    baseline, detail, first, deep = results[0], results[1], results[2], results[3]
    detail_fraction = detail.rps / baseline.rps
    deep_ratio = deep.rps / first.rps
    return {
        "detail_fraction_of_baseline": round(detail_fraction, 3),
        "detail_target_met": detail_fraction >= 0.5,
        "deep_over_first_page": round(deep_ratio, 3),
        "deep_page_target_met": deep_ratio >= 0.9,
    }


def describe(verdict: dict[str, Any]) -> str:
    def met(flag: bool) -> str:
        return "met" if flag else "NOT met"

    return (
        f"target: article detail >= 0.50 of baseline: "
        f"{verdict['detail_fraction_of_baseline']:.2f}, {met(verdict['detail_target_met'])}\n"
        f"target: deep page as fast as the first (>= 0.90): "
        f"{verdict['deep_over_first_page']:.2f}, {met(verdict['deep_page_target_met'])}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if loadgen.wrk_available() else "python"
    server = server_url(args.database_url)
    url, load = prepare_database(server, args)
    try:
        idle_load = os.getloadavg()[0]
        if idle_load > 0.5:
            log(
                f"warning: the load average is {idle_load:.2f} before starting: figures will be low"
            )
        samples = sample_articles(url, args.slugs, args.seed)
        body_bytes = int(statistics.median(sample.size for sample in samples))
        log(f"{len(samples)} articles in rotation; median detail body {body_bytes} bytes")
        runs: dict[str, list[Result]] = {}
        sizes: dict[str, int] = {}
        with contextlib.ExitStack() as stack:
            app_port = stack.enter_context(
                gunicorn(
                    "cms-api",
                    "wsgi:app",
                    cwd=ROOT,
                    env={"DATABASE_URL": url},
                    workers=args.workers,
                )
            )
            base_port = stack.enter_context(
                gunicorn(
                    "baseline",
                    "baseline_app:create_app()",
                    cwd=BENCH,
                    env={"BENCH_BODY_BYTES": str(body_bytes)},
                    workers=args.workers,
                )
            )
            cursor, depth = deep_cursor(app_port, args.deep)
            log(f"deep cursor after {depth} items")
            scenarios = [
                Scenario("baseline (constant JSON)", base_port, [Request("/constant")]),
                Scenario(
                    "article detail",
                    app_port,
                    [Request(f"/v1/articles/{sample.slug}") for sample in samples],
                ),
                Scenario(
                    "list, first page", app_port, [Request(f"/v1/articles?limit={LIST_LIMIT}")]
                ),
                Scenario(
                    f"list, deep page (~{depth})",
                    app_port,
                    [
                        Request(
                            "/v1/articles?"
                            + urllib.parse.urlencode({"limit": LIST_LIMIT, "cursor": cursor})
                        )
                    ],
                ),
                Scenario(
                    "304 revalidation",
                    app_port,
                    [
                        Request(f"/v1/articles/{sample.slug}", {"If-None-Match": sample.etag})
                        for sample in samples
                    ],
                    frozenset({304}),
                ),
            ]
            for scenario in scenarios:
                sizes[scenario.name] = check(scenario)
            for round_number in range(1, args.rounds + 1):
                for scenario in scenarios:
                    result = loadgen.run(
                        scenario,
                        generator=generator,
                        duration=args.duration,
                        concurrency=args.concurrency,
                        warmup=args.warmup,
                    )
                    log(
                        f"round {round_number}/{args.rounds}: {scenario.name}: "
                        f"{result.rps:.0f} req/s"
                    )
                    runs.setdefault(scenario.name, []).append(result)
        results = [median_run(runs[scenario.name]) for scenario in scenarios]
        baseline = results[0]
        verdict = targets(results)
        print(table(results, baseline))
        print(describe(verdict))
        write_results(args, generator, load, sizes, results, baseline, runs, verdict, idle_load)
    finally:
        if not args.keep:
            drop_database(server, DATABASE_NAME)
            log(f"dropped {DATABASE_NAME}")
    return 0


def write_results(
    args: argparse.Namespace,
    generator: str,
    load: dict[str, Any],
    sizes: dict[str, int],
    results: list[Result],
    baseline: Result,
    runs: dict[str, list[Result]],
    verdict: dict[str, Any],
    idle_load: float,
) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit or None,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": round(idle_load, 2),
        },
        "settings": {
            "articles": args.articles,
            "duration": args.duration,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "workers": args.workers,
            "generator": generator,
            "slugs": args.slugs,
            "rounds": args.rounds,
        },
        "load": load,
        "body_bytes": sizes,
        "results": [
            {**result.as_dict(), "fraction_of_baseline": round(result.rps / baseline.rps, 3)}
            for result in results
        ],
        "targets": verdict,
        "rounds": {name: [result.as_dict() for result in items] for name, items in runs.items()},
    }
    path = BENCH / "results" / "latest.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
