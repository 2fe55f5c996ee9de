"""An article read's latency, alone and while clients send 1 MiB JSON bodies to every route."""

from __future__ import annotations

import argparse
import contextlib
import http.client
import multiprocessing
import os
import re
import resource
import select
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

USAGE = """
Run from the repository root:

    .venv/bin/python -m bench.amplification                    # 10 s per phase, 8 attackers
    .venv/bin/python -m bench.amplification --duration 20 --attackers 8 --workers 5
    .venv/bin/python -m bench.amplification --no-control       # skip the bodiless control

It starts a private PostgreSQL (tests/support/live.py), migrates and seeds it, and serves
the app with gunicorn (`-c python:cms_api.gunicorn_conf`). One client reads
`GET /v1/articles/headache-after-botox` in a loop, a new connection each time, for
`--duration` seconds in each phase (after `--warmup` seconds of unmeasured reads):

- unloaded: the reader alone;
- bodies: `--attackers` processes also send, `--rate` times a second each (10 by default:
  8 clients then send 80 MiB/s, about what a 700 Mbit/s link carries; `--rate 0` is a
  closed loop, as fast as answered), a 1 MiB body of `[],[],...`
  with `Content-Type: application/json`: `--question-attackers` of them (a quarter by
  default) `POST /v1/questions` (the one public operation that takes a body), the others
  every method (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS) in turn on public routes
  and on routes that answer 404;
- control (unless `--no-control`): the same attackers and requests without a body, which
  shows what the request rate alone costs the reader on this machine.

It prints p50/p95/p99 of each phase, the ratio of the loaded p99 to the unloaded one, the
CPU seconds of the server, of the attackers and of the whole machine in each phase, and,
for comparison, what the depth scan that used to run on every body costs on this one.
The exit status is 1 when the loaded p99 exceeds `--max-ratio` (3) times the unloaded p99.
"""

ARTICLE = "/v1/articles/headache-after-botox"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PUBLIC_PATHS = (
    ARTICLE,
    "/v1/articles",
    "/v1/articles/headache-after-botox/faqs",
    "/v1/topics",
    "/v1/search?q=botox",
    "/v1/questions",
    "/healthz",
)
MISSING_PATHS = ("/v1/nothing-here", "/no/such/path", "/v1/articles/no-such-article")
QUESTIONS = ("POST", "/v1/questions")
BODY_BYTES = 1024 * 1024
_STATUS = re.compile(rb"^HTTP/1\.[01] (\d{3})")


def log(message: str) -> None:
    print(f"[amplification {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__ + "\n" + USAGE, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured reads first")
    parser.add_argument("--attackers", type=int, default=8, help="attacking client processes")
    parser.add_argument(
        "--workers", type=int, default=5, help="gunicorn workers (production default on 2 cores)"
    )
    parser.add_argument(
        "--question-attackers",
        type=int,
        help="attackers sending only POST /v1/questions (default: a quarter of them)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=10.0,
        help="requests a second per attacker (default 10; 0: a closed loop, as fast as answered)",
    )
    parser.add_argument("--max-ratio", type=float, default=3.0, help="loaded p99 / unloaded p99")
    parser.add_argument("--no-control", action="store_true", help="skip the bodiless phase")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL folder")
    return parser.parse_args(argv)


def attack_body() -> bytes:
    """`[],[],...` (not one JSON document) of exactly 1 MiB."""
    return (b"[]," * (BODY_BYTES // 3 + 1))[:BODY_BYTES]


# -- the old depth scan, for comparison only ---------------------------------------------------
# A copy of the pure-Python scan that ran on every request body before the fix (the former
# cms_api.domain.json_depth.json_depth, applied to the decoded body). Not used by the app.

_OLD_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_OLD_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def old_json_depth(text: str) -> int:
    brackets = _OLD_NOT_BRACKET.sub("", _OLD_JSON_STRING.sub("", text))
    depth = deepest = 0
    for bracket in brackets:
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def scan_costs(body: bytes) -> dict[str, float]:
    """Milliseconds of CPU (best of 3) for the old scan and the current one on `body`."""
    from cms_api.domain.json_depth import MAX_JSON_DEPTH
    from cms_api.http.requests import nests_deeper_than

    def best(action) -> float:
        times = []
        for _ in range(3):
            started = time.process_time()
            action()
            times.append(time.process_time() - started)
        return min(times) * 1000

    return {
        "old_ms": best(lambda: old_json_depth(body.decode("utf-8", errors="replace"))),
        "current_ms": best(lambda: nests_deeper_than(body, MAX_JSON_DEPTH)),
    }


# -- attackers ---------------------------------------------------------------------------------


def _attack_once(port: int, method: str, path: str, body: bytes) -> str:
    """Send one request with `body` (stopping when the answer starts); its status or error."""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode("latin-1")
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError as error:
        return f"connect {type(error).__name__}"
    answer = b""
    sent = 0
    try:
        sock.sendall(head)
        view = memoryview(body)
        sock.setblocking(False)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            writers = [sock] if sent < len(view) else []
            readable, writable, _ = select.select([sock], writers, [], 1.0)
            if readable:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
                continue
            if writable:
                with contextlib.suppress(BlockingIOError):
                    sent += sock.send(view[sent : sent + 262144])
        else:
            return "timeout"
    except OSError as error:
        if not answer:
            return f"{type(error).__name__} after {sent} bytes"
    finally:
        sock.close()
    match = _STATUS.match(answer)
    return match[1].decode() if match else "no answer"


def attacker(
    port: int,
    index: int,
    questions: bool,
    with_body: bool,
    rate: float,
    duration: float,
    go: Any,
    results: Any,
) -> None:
    """One client for `duration` seconds once `go` is set, in a closed loop or at `rate`
    requests a second; puts its outcome counts and CPU seconds on `results`."""
    body = attack_body() if with_body else b""
    results.put("ready")
    go.wait()
    stop_at = time.time() + duration
    if questions:
        targets = [QUESTIONS]
    else:
        paths = PUBLIC_PATHS + MISSING_PATHS
        targets = [(method, path) for path in paths for method in METHODS]
    outcomes: Counter[str] = Counter()
    turn = index * 7
    interval = 1 / rate if rate > 0 else 0.0
    next_at = time.time()
    while time.time() < stop_at:
        if interval:
            next_at += interval
            time.sleep(max(0.0, next_at - time.time()))
        method, path = targets[turn % len(targets)]
        turn += 1
        outcomes[f"{method} {path.split('?')[0]} -> {_attack_once(port, method, path, body)}"] += 1
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results.put((dict(outcomes), usage.ru_utime + usage.ru_stime))


# -- the reader and the server's CPU -----------------------------------------------------------


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    server_cpu_s: float = 0.0
    attackers_cpu_s: float = 0.0
    machine_busy_s: float = 0.0
    attacks: Counter[str] = field(default_factory=Counter)

    def percentile(self, fraction: float) -> float:
        values = sorted(self.latencies)
        if not values:
            return float("nan")
        index = min(len(values) - 1, max(0, round(fraction * len(values)) - 1))
        return values[index] * 1000


def read_for(port: int, seconds: float, phase: Phase | None) -> None:
    """Read the article in a loop for `seconds`; record each latency in `phase`."""
    stop_at = time.perf_counter() + seconds
    while time.perf_counter() < stop_at:
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", ARTICLE)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
        finally:
            connection.close()
        if phase is not None:
            phase.latencies.append(time.perf_counter() - started)
            if status != 200:
                phase.errors += 1


def _cpu_ticks(pid: int, children_reaped: bool) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children_reaped:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime of reaped workers
    return ticks


def server_cpu_seconds(master: int) -> float:
    """CPU of gunicorn's master and workers so far, the recycled workers included."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        children = []
    ticks = _cpu_ticks(master, True) + sum(_cpu_ticks(int(pid), False) for pid in children)
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (every core, every process) since boot."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(value) for value in fields[:8]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def run_phase(
    name: str, port: int, master: int, args: argparse.Namespace, attackers: int, with_body: bool
) -> Phase:
    duration = args.duration
    phase = Phase(name, load_before=os.getloadavg())
    context = multiprocessing.get_context("spawn")
    results, go = context.Queue(), context.Event()
    questions = attackers // 4 if args.question_attackers is None else args.question_attackers
    # The attackers run half a second longer than the reads at each end.
    processes = [
        context.Process(
            target=attacker,
            args=(
                port,
                index,
                index < questions,
                with_body,
                args.rate,
                duration + 1,
                go,
                results,
            ),
        )
        for index in range(attackers)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        results.get(timeout=60)
    go.set()
    if processes:
        time.sleep(0.5)
    cpu_before, busy_before = server_cpu_seconds(master), machine_busy_seconds()
    read_for(port, duration, phase)
    phase.server_cpu_s = server_cpu_seconds(master) - cpu_before
    phase.machine_busy_s = machine_busy_seconds() - busy_before
    for _ in processes:
        outcomes, cpu = results.get(timeout=60)
        phase.attacks.update(outcomes)
        phase.attackers_cpu_s += cpu  # over the attackers' whole run, a second longer
    for process in processes:
        process.join(30)
    return phase


# -- report ------------------------------------------------------------------------------------


def report(phases: list[Phase], scans: dict[str, float], args: argparse.Namespace) -> bool:
    print(
        f"{'phase':<10} {'reads':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6} "
        f"{'attacks':>8} {'server':>7} {'attack':>7} {'machine':>8}   load avg before"
    )
    for phase in phases:
        load = ", ".join(f"{value:.2f}" for value in phase.load_before)
        print(
            f"{phase.name:<10} {len(phase.latencies):>6} {phase.percentile(0.50):>8.2f} "
            f"{phase.percentile(0.95):>8.2f} {phase.percentile(0.99):>8.2f} {phase.errors:>6} "
            f"{sum(phase.attacks.values()):>8} {phase.server_cpu_s:>7.2f} "
            f"{phase.attackers_cpu_s:>7.2f} {phase.machine_busy_s:>8.2f}   {load}"
        )
    print(
        "(server, attack, machine: CPU seconds of gunicorn, of the attacking clients and of the"
        f" whole machine over a phase; the machine has {os.cpu_count()} cores)"
    )
    unloaded, loaded = phases[0], phases[1]
    ratio = loaded.percentile(0.99) / unloaded.percentile(0.99)
    for phase in phases[2:]:
        share = phase.percentile(0.99) / unloaded.percentile(0.99)
        print(f"p99 ratio {phase.name} / unloaded: {share:.2f}")
    for phase in phases[1:]:
        print(f"\nattack outcomes, {phase.name} (request -> status or error: count):")
        by_outcome: Counter[str] = Counter()
        for request, count in phase.attacks.items():
            by_outcome[request.rsplit(" -> ", 1)[1]] += count
        counts = by_outcome.most_common()
        print("  " + ", ".join(f"{outcome}: {count}" for outcome, count in counts))
        questions = sum(c for r, c in phase.attacks.items() if r.startswith("POST /v1/questions"))
        print(f"  POST /v1/questions: {questions}")
    print(
        f"\ndepth scan of one 1 MiB `[],[],...` body, CPU ms: old pure-Python scan "
        f"{scans['old_ms']:.1f}, current bytes scan {scans['current_ms']:.2f}"
    )
    met = ratio <= args.max_ratio and loaded.errors == 0
    print(
        f"target: loaded p99 <= {args.max_ratio:g}x unloaded p99: {ratio:.2f}x, "
        f"{'met' if met else 'NOT met'}"
    )
    return met


def main(argv: list[str] | None = None) -> int:
    from tests.support.fault import private_postgres
    from tests.support.live import Gunicorn, prepare

    args = parse_args(argv)
    scans = scan_costs(attack_body())
    with private_postgres(args.keep) as server:
        log(f"PostgreSQL on port {server.port} in {server.folder}")
        prepare(server.url(), {})
        with Gunicorn(server.url(), server.folder, workers=args.workers) as app:
            assert app.process is not None
            log(f"gunicorn on port {app.port} (pid {app.process.pid}), {args.workers} workers")
            read_for(app.port, args.warmup, None)
            phases = [run_phase("unloaded", app.port, app.process.pid, args, 0, False)]
            log(f"unloaded: p99 {phases[0].percentile(0.99):.2f} ms")
            phases.append(
                run_phase("bodies", app.port, app.process.pid, args, args.attackers, True)
            )
            log(f"bodies: p99 {phases[1].percentile(0.99):.2f} ms")
            if not args.no_control:
                phases.append(
                    run_phase("control", app.port, app.process.pid, args, args.attackers, False)
                )
                log(f"control: p99 {phases[2].percentile(0.99):.2f} ms")
    return 0 if report(phases, scans, args) else 1


if __name__ == "__main__":
    sys.exit(main())
