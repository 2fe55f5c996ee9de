"""Many clients publishing, editing and reading at once; then every document must match.

Run from the repository root:

    .venv/bin/python -m bench.soak                          # a minute: 4 editors, 6 readers
    .venv/bin/python -m bench.soak --duration 300 --editors 8 --readers 12 --workers 4
    .venv/bin/python -m bench.soak --database-url postgresql://postgres@127.0.0.1:5432/postgres

It creates a throwaway database (`cms_soak_<random>`) on the PostgreSQL server named by
`--database-url`, else `DATABASE_URL`, else the embedded server under `instance/`; migrates
and seeds it; serves the app with gunicorn (`-c python:cms_api.gunicorn_conf`); creates a
topic and a pool of published articles, each with an FAQ and a related link; then runs,
for `--duration` seconds:

- editors, each in a loop: edit a pool article (a JSON merge patch with `If-Match`,
  re-reading and retrying on 412), submit it, approve it as a medical reviewer and publish
  it (409 when another editor moved it first is part of the game); now and then unpublish
  one, edit an FAQ, add or delete a related link, or edit the pool's author or topic (both
  re-render every document that embeds them);
- readers, each in a loop: article lists (every sort, the topic filter), articles, their
  FAQs, related articles and JSON-LD (with `If-None-Match` now and then), FAQs, the author,
  the topic, search and the change feed.

`tests/system/test_soak.py` runs it for 15 s in the test suite (`pytest -m soak`); the load
and its checks live in `tests/support/soak.py`.

What must hold (each failure is printed, and the exit status is 1):

- every request is answered within `--max-latency` seconds (default 10) and no client is
  left waiting: no deadlock, no lock queue that never drains;
- no 5xx at all (the database is up: a 503 here would be a deadlock or a serialization
  failure reported as an outage), and only the statuses each operation expects;
- PostgreSQL counted no deadlock in the database (`pg_stat_database.deadlocks`);
- afterwards, every article has a delivery document exactly when it is live, an FAQ only
  when it is published on a live article, and every stored document (articles, FAQs,
  people, topics) equals what rendering it again now gives; each article's document shows
  its live revision's title, summary and sections, and its JSON-LD the same title.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from tests.support.live import ROOT
from tests.support.soak import Options, log, run


@contextlib.contextmanager
def throwaway_database(server: str | None, keep: bool) -> Iterator[str]:
    from cms_api.database import drop_database, embedded_server_url, ensure_database, sqlalchemy_url

    server = server or os.environ.get("DATABASE_URL")
    if server:
        server = sqlalchemy_url(server).set(database="postgres").render_as_string(False)
    else:
        server = embedded_server_url(ROOT / "instance")
    name = f"cms_soak_{uuid.uuid4().hex[:8]}"
    url = ensure_database(server, name)
    try:
        yield url
    finally:
        if keep:
            log(f"kept database {name}")
        else:
            drop_database(server, name)


def parse_args(argv: list[str] | None = None) -> tuple[Options, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    defaults = Options()
    for name, value in vars(defaults).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    parser.add_argument(
        "--database-url", help="PostgreSQL server (default: DATABASE_URL, else the embedded one)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the soak database")
    args = parser.parse_args(argv)
    options = Options(**{name: getattr(args, name) for name in vars(defaults)})
    return options, args


def main(argv: list[str] | None = None) -> int:
    import tempfile

    options, args = parse_args(argv)
    with (
        throwaway_database(args.database_url, args.keep) as url,
        tempfile.TemporaryDirectory(prefix="cms-soak-") as folder,
    ):
        report = run(url, options, Path(folder))
    print(json.dumps(report.summary(), indent=2))
    for violation in report.violations:
        print(f"VIOLATION {violation}")
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
