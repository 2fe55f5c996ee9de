"""PostgreSQL stopped under load and started again: the load, the outage, and its judge."""

from __future__ import annotations

import contextlib
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from tests.support.api import AUTHOR_PERSON, PUBLISHABLE, SEEDED_ARTICLE, bearer
from tests.support.live import (
    CLIENT_TIMEOUT,
    DATABASE,
    Answer,
    Gunicorn,
    PrivatePostgres,
    call,
    prepare,
    start_clients,
    stop_clients,
)


def log(message: str) -> None:
    print(f"[fault {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


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
                "disclaimer": PUBLISHABLE["disclaimer"],
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
                {"authors": [AUTHOR_PERSON]},
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
            ("approve", "POST", f"{url}/approve", reviewer, {"kind": "clinical"}, {}),
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
