"""Benchmark the delivery API under gunicorn against a constant-JSON Flask baseline."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
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
# The scenarios, by the names --scenarios takes, after the baseline.
SCENARIOS = ("detail", "first", "deep", "304", "search", "lookup")
# Words of the corpus's running text; the search scenario takes whichever of them most
# documents hold.
COMMON_WORDS = ("doctor", "symptoms", "treatment", "medicine", "help")
# Targets by corpus size: detail and 304 as fractions of the baseline, and p99 in ms.
TARGETS = {10_000: (0.8, 0.9), 100_000: (0.6, 0.8)}
P99_TARGET_MS = 50.0


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
    parser.add_argument(
        "--slugs", type=int, default=0, help="articles to rotate over (0: every article)"
    )
    parser.add_argument("--deep", type=int, default=9_000, help="items before the deep page")
    parser.add_argument("--seed", type=int, default=20_260_601)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument(
        "--database-name",
        default=DATABASE_NAME,
        help="the bench database (keep one per corpus size side by side)",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=0,
        help="recycle each app worker after about this many requests (CMS_MAX_REQUESTS)",
    )
    parser.add_argument(
        "--no-snapshot",
        action="store_true",
        help="no shared document snapshot read before the fork (CMS_DOCUMENT_SNAPSHOT=0)",
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"which to measure, comma-separated, of {','.join(SCENARIOS)} (baseline always)",
    )
    parser.add_argument(
        "--ready-timeout",
        type=float,
        default=900,
        help="seconds to wait for a server (the app reads its snapshot before it answers)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="reuse a kept bench database if it is loaded"
    )
    args = parser.parse_args(argv)
    unknown = set(args.scenarios.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return args


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
    name = args.database_name
    url = sqlalchemy_url(server).set(database=name).render_as_string(False)
    if args.reuse and article_count(url) == args.articles:
        log(f"reusing {name}: {args.articles} published articles")
        return url, {"reused": True}
    drop_database(server, name)
    url = ensure_database(server, name)
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
    """`count` articles (0: all), in a random order, so a rotation visits them all."""
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT slug, etag, octet_length(body) FROM published_documents "
            "WHERE kind = 'article' ORDER BY slug"
        ).fetchall()
    chosen = random.Random(seed).sample(rows, min(count or len(rows), len(rows)))
    return [Sample(slug=slug, etag=etag, size=size) for slug, etag, size in chosen]


def common_word(url: str) -> tuple[str, float]:
    """The word of COMMON_WORDS that most searchable documents hold, and their share."""
    with psycopg.connect(libpq_url(url)) as conn:
        total = conn.execute("SELECT count(*) FROM search_entries").fetchone()
        counts = {
            word: conn.execute(
                "SELECT count(*) FROM search_entries "
                "WHERE vector @@ websearch_to_tsquery('cms_search', %s)",
                (word,),
            ).fetchone()
            for word in COMMON_WORDS
        }
    word = max(counts, key=lambda candidate: counts[candidate][0])  # type: ignore[index]
    return word, counts[word][0] / max(1, total[0])  # type: ignore[index]


def topic_codes(url: str) -> list[str]:
    """Every medical code a topic carries, as the lookup takes it (`system:code`)."""
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT system || ':' || code FROM medical_codes ORDER BY system, code"
        ).fetchall()
    return [code for (code,) in rows]


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
    name: str,
    target: str,
    *,
    cwd: Path,
    env: dict[str, str],
    workers: int,
    config: str | None = None,
    ready_timeout: float = 60,
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
        *(["-c", config] if config else []),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "info" if config else "warning",
        target,
    ]
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **env}, stdout=log_file, stderr=log_file
        )
        try:
            started = time.monotonic()
            deadline = started + ready_timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited early; see {log_path}")
                with contextlib.suppress(OSError):
                    if get(port, "/healthz")[0] == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not ready after {ready_timeout}s; see {log_path}")
                time.sleep(0.2)
            waited = time.monotonic() - started
            log(f"{name} ready on port {port} (pid {process.pid}) after {waited:.1f}s")
            MASTERS[port] = process.pid
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log(f"{name} stopped")


# The pid of the gunicorn master serving each port.
MASTERS: dict[int, int] = {}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _times(pid: int) -> tuple[float, list[int]]:
    """CPU seconds of a process and of its reaped children, and its live children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0, []  # gone meanwhile: its time is in its parent's reaped children
    # utime, stime, cutime, cstime: fields 14 to 17 of stat(5), 12 to 15 after the name.
    return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS, [int(c) for c in children]


def server_cpu_seconds(port: int) -> float:
    """CPU seconds a server's master and workers have spent, recycled workers included."""
    total, pending = 0.0, [MASTERS[port]]
    while pending:
        seconds, children = _times(pending.pop())
        total += seconds
        pending.extend(children)
    return total


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
        f"{'scenario':<30} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'errors':>6} {'of base':>7} {'CPU us':>7} {'of base':>7} {'load':>5}"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        lines.append(
            f"{result.scenario:<30} {result.rps:>8.0f} {result.p50_ms:>8.2f} "
            f"{result.p99_ms:>8.2f} {result.max_ms:>8.2f} {result.errors:>6d} "
            f"{result.rps / baseline.rps:>7.2f} {result.cpu_us:>7.0f} "
            f"{baseline.cpu_us / result.cpu_us:>7.2f} {result.load:>5.2f}"
        )
    return "\n".join(lines)


def targets(results: dict[str, Result], articles: int) -> dict[str, Any]:
    """Detail and 304 as fractions of the baseline, by corpus size (the 10,000-article
    targets below 100,000 articles), and every app scenario's p99."""
    detail_target, revalidation_target = TARGETS[100_000 if articles >= 100_000 else 10_000]
    baseline = results["baseline"]
    verdict: dict[str, Any] = {}
    for name, target in (("detail", detail_target), ("304", revalidation_target)):
        if name in results:
            fraction = results[name].rps / baseline.rps
            verdict[name] = {
                "fraction_of_baseline": round(fraction, 3),
                "target": target,
                "met": fraction >= target,
            }
    verdict["p99_ms"] = {
        name: {"p99_ms": result.p99_ms, "met": result.p99_ms < P99_TARGET_MS}
        for name, result in results.items()
        if name != "baseline"
    }
    return verdict


def describe(verdict: dict[str, Any]) -> str:
    def met(flag: bool) -> str:
        return "met" if flag else "NOT met"

    lines = []
    for name, label in (("detail", "article detail"), ("304", "304 revalidation")):
        if name in verdict:
            item = verdict[name]
            lines.append(
                f"target: {label} >= {item['target']:.2f} of baseline: "
                f"{item['fraction_of_baseline']:.2f}, {met(item['met'])}"
            )
    for name, item in verdict["p99_ms"].items():
        lines.append(
            f"target: {name} p99 < {P99_TARGET_MS:.0f} ms: {item['p99_ms']:.1f}, {met(item['met'])}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if loadgen.wrk_available() else "python"
    server = server_url(args.database_url)
    url, load = prepare_database(server, args)
    wanted = args.scenarios.split(",")
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
        app_env = {
            "DATABASE_URL": url,
            # Each worker counts limits alone; the load generator is one client address.
            "CMS_RATE_LIMITS_PER_WORKER": "true",
            "CMS_SEARCH_RATE_LIMIT": "100000000 per minute",
            "CMS_MAX_REQUESTS": str(args.max_requests),
            "CMS_DOCUMENT_SNAPSHOT": "0" if args.no_snapshot else "1",
        }
        with contextlib.ExitStack() as stack:
            app_port = stack.enter_context(
                gunicorn(
                    "cms-api",
                    "wsgi:app",
                    cwd=ROOT,
                    env=app_env,
                    workers=args.workers,
                    config="python:cms_api.gunicorn_conf",
                    ready_timeout=args.ready_timeout,
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
            scenarios = {
                "baseline": Scenario("baseline (constant JSON)", base_port, [Request("/constant")])
            }
            scenarios.update(scenario_set(args, wanted, url, app_port, samples))
            for scenario in scenarios.values():
                sizes[scenario.name] = check(scenario)
            for round_number in range(1, args.rounds + 1):
                for key, scenario in scenarios.items():
                    result = measure(scenario, generator, args)
                    log(
                        f"round {round_number}/{args.rounds}: {scenario.name}: "
                        f"{result.rps:.0f} req/s, p50 {result.p50_ms:.2f} ms, "
                        f"p99 {result.p99_ms:.2f} ms, {result.cpu_us:.0f} us CPU a request, "
                        f"load {result.load:.2f}"
                    )
                    runs.setdefault(key, []).append(result)
        results = {key: median_run(items) for key, items in runs.items()}
        baseline = results["baseline"]
        verdict = targets(results, args.articles)
        print(
            f"{args.articles} articles, {len(samples)} in rotation, {args.workers} workers, "
            f"recycling {'every ~' + str(args.max_requests) if args.max_requests else 'off'}, "
            f"{args.duration:.0f} s a scenario, load average before {idle_load:.2f}"
        )
        print(table(list(results.values()), baseline))
        print(describe(verdict))
        write_results(
            args, generator, load, sizes, list(results.values()), baseline, runs, verdict, idle_load
        )
    finally:
        if not args.keep:
            drop_database(server, args.database_name)
            log(f"dropped {args.database_name}")
    return 0


def measure(scenario: Scenario, generator: str, args: argparse.Namespace) -> Result:
    """Warm up, then measure: throughput, latency and the server's CPU time a request."""
    options = {"generator": generator, "concurrency": args.concurrency, "warmup": 0.0}
    if args.warmup > 0:
        loadgen.run(scenario, duration=args.warmup, **options)
    before = server_cpu_seconds(scenario.port)
    result = loadgen.run(scenario, duration=args.duration, **options)
    spent = server_cpu_seconds(scenario.port) - before
    return dataclasses.replace(result, cpu_us=spent / max(1, result.requests) * 1e6)


def scenario_set(
    args: argparse.Namespace, wanted: list[str], url: str, port: int, samples: list[Sample]
) -> dict[str, Scenario]:
    """The app's scenarios asked for, by name, in SCENARIOS order."""
    scenarios: dict[str, Scenario] = {}
    if "detail" in wanted:
        scenarios["detail"] = Scenario(
            "article detail", port, [Request(f"/v1/articles/{sample.slug}") for sample in samples]
        )
    if "first" in wanted:
        scenarios["first"] = Scenario(
            "list, first page", port, [Request(f"/v1/articles?limit={LIST_LIMIT}")]
        )
    if "deep" in wanted:
        cursor, depth = deep_cursor(port, args.deep)
        log(f"deep cursor after {depth} items")
        query = urllib.parse.urlencode({"limit": LIST_LIMIT, "cursor": cursor})
        scenarios["deep"] = Scenario(
            f"list, deep page (~{depth})", port, [Request(f"/v1/articles?{query}")]
        )
    if "304" in wanted:
        scenarios["304"] = Scenario(
            "304 revalidation",
            port,
            [
                Request(f"/v1/articles/{sample.slug}", {"If-None-Match": sample.etag})
                for sample in samples
            ],
            frozenset({304}),
        )
    if "search" in wanted:
        word, share = common_word(url)
        log(f"search word {word!r}: in {share:.0%} of searchable documents")
        scenarios["search"] = Scenario(
            f"search, common word ({share:.0%})", port, [Request(f"/v1/search?q={word}")]
        )
    if "lookup" in wanted:
        codes = topic_codes(url)
        log(f"{len(codes)} topic codes in rotation for the lookup")
        scenarios["lookup"] = Scenario(
            "lookup by code",
            port,
            [Request("/v1/lookup?" + urllib.parse.urlencode({"code": code})) for code in codes],
        )
    return scenarios


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
            "slugs": args.slugs or "all",
            "rounds": args.rounds,
            "database_name": args.database_name,
            "max_requests": args.max_requests,
            "snapshot": not args.no_snapshot,
            "scenarios": args.scenarios,
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
