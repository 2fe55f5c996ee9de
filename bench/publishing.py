"""Time bulk publishing through the real service, and show where the time goes.

The corpus (bench/corpus.py) is inserted as drafts into a throwaway database, then
published with `publish_articles` chunk by chunk, as bench/run.py loads it. The script
prints articles per second, the CPU time of this process and of its PostgreSQL backend
(read from /proc, with a local server: steadier than the clock on a busy machine) and,
with --profile, the top of a cProfile of the publishing (by own time and by cumulative
time; the main thread only) and with --sql the statements that took longest (those of the
search index's thread, which runs beside the rendering in bulk, are not counted).

    .venv/bin/python bench/publishing.py --articles 1000
    .venv/bin/python bench/publishing.py --articles 10000 --chunk 500
    .venv/bin/python bench/publishing.py --articles 1000 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import sys
import time
from collections import Counter
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import load_corpus

from cms_api import create_app
from cms_api.config import Settings
from cms_api.database import db, drop_database, ensure_database
from cms_api.services.publishing import search_index
from cms_api.services.publishing.articles import publish_articles

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_NAME = "cms_publishing_bench"


def _statement_timer(engine: Any) -> Counter[str]:
    """Total seconds per SQL statement (its first line), counted on the engine."""
    totals: Counter[str] = Counter()
    calls: Counter[str] = Counter()

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("started", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        key = " ".join(statement.split())[:110]
        totals[key] += time.perf_counter() - conn.info["started"].pop()
        calls[key] += 1

    totals.calls = calls  # type: ignore[attr-defined]
    return totals


def _backend_cpu(pid: int) -> float | None:
    """CPU seconds a local PostgreSQL backend has used (user + system), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None  # a server on another machine
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=LOCAL_SERVER, help="the PostgreSQL server")
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=500, help="articles per publish call")
    parser.add_argument("--profile", action="store_true", help="cProfile the publishing")
    parser.add_argument("--sql", action="store_true", help="time each SQL statement")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="index for search after rendering, not beside it (so --sql times every statement)",
    )
    args = parser.parse_args(argv)
    if args.sequential:
        search_index.alongside = nullcontext  # type: ignore[assignment]

    drop_database(args.database_url, DATABASE_NAME)
    url = ensure_database(args.database_url, DATABASE_NAME)
    app = create_app({"CMS_SETTINGS": Settings(database_url=url), "SQLALCHEMY_DATABASE_URI": url})
    profiler = cProfile.Profile() if args.profile else None
    cpu: list[float] = []  # this process's CPU seconds per chunk: less noisy than the clock
    server_cpu: list[float] = []  # the PostgreSQL backend's, likewise
    try:
        with app.app_context():
            upgrade()
            statements = _statement_timer(db.engine) if args.sql else None

            def publish(ids: list[Any]) -> None:
                backend = db.session.scalar(text("SELECT pg_backend_pid()"))
                server_started = _backend_cpu(backend)
                started = time.process_time()
                before = Counter(statements) if statements is not None else None
                if profiler is not None:
                    profiler.enable()
                try:
                    publish_articles(ids)
                finally:
                    if profiler is not None:
                        profiler.disable()
                    cpu.append(time.process_time() - started)
                    server_now = _backend_cpu(backend)
                    if server_started is not None and server_now is not None:
                        server_cpu.append(server_now - server_started)
                    print(
                        f"chunk: Python CPU {cpu[-1]:.1f}s, PostgreSQL CPU "
                        f"{server_cpu[-1] if server_cpu else float('nan'):.1f}s, peak memory "
                        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB, "
                        f"{len(db.session.identity_map)} objects in the session",
                        file=sys.stderr,
                    )
                    if statements is not None and before is not None:
                        # Which statements grew: the slowest of this chunk alone.
                        chunk = statements.copy()
                        chunk.subtract(before)
                        for statement, total in chunk.most_common(6):
                            print(f"  {total:7.2f}  {statement[:90]}", file=sys.stderr)

            report = load_corpus(
                db.session,
                publish,
                articles=args.articles,
                publish_chunk=args.chunk,
                progress=lambda message: print(message, file=sys.stderr),
            )
            db.session.remove()
            db.engine.dispose()
    finally:
        if not args.keep:
            drop_database(args.database_url, DATABASE_NAME)

    seconds = report.publish_seconds
    print(
        f"published {args.articles} articles in {seconds:.1f}s "
        f"(chunks of {args.chunk}, each committed and analyzed): "
        f"{args.articles / seconds:.0f} articles/s, {1000 * seconds / args.articles:.1f} ms each"
    )
    print("chunk seconds:", " ".join(f"{value:.2f}" for value in report.chunk_seconds))
    print(
        f"of which Python CPU {sum(cpu):.1f}s ({1000 * sum(cpu) / args.articles:.1f} ms an "
        "article); the rest is waiting for PostgreSQL (or for a core, on a busy machine)"
    )
    if server_cpu:
        print(
            f"and PostgreSQL CPU {sum(server_cpu):.1f}s "
            f"({1000 * sum(server_cpu) / args.articles:.1f} ms an article, this connection's "
            "backend; the two overlap, in bulk, on two cores)"
        )
    if profiler is not None:
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
            print(out.getvalue())
    if statements is not None:
        print("SQL by total time (seconds, calls):")
        for statement, total in statements.most_common(args.top):
            print(f"{total:8.2f} {statements.calls[statement]:7d}  {statement}")  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
