"""Editors and readers at once on a live server; afterwards every document must match."""

from __future__ import annotations

import json
import random
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from tests.support.api import AUTHOR_PERSON, PUBLISHABLE, bearer
from tests.support.live import Answer, Gunicorn, call, prepare, start_clients, stop_clients

POOL_TOPIC = "soak-pool"
CLIENT_TIMEOUT = 30.0


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Options:
    duration: float = 60.0
    editors: int = 4
    readers: int = 6
    reviewers: int = 2
    pool: int = 8
    workers: int = 3
    max_latency: float = 10.0
    seed: int = 20_261_129


@dataclass
class PoolArticle:
    id: str
    slug: str
    faq_id: str


@dataclass
class Pool:
    articles: list[PoolArticle]
    author_id: str
    topic_id: str


class Load:
    """Editor and reader threads against one server, recording every answer by action."""

    def __init__(self, port: int, tokens: dict[str, str], pool: Pool, options: Options) -> None:
        self.port = port
        self.tokens = tokens
        self.pool = pool
        self.options = options
        self.answers: list[tuple[str, Answer]] = []
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.editions = Counter[str]()
        self.lock = threading.Lock()

    # -- plumbing

    def request(
        self, action: str, actor: str, method: str, path: str, body: Any = None, **headers: str
    ) -> Answer:
        answer = call(self.port, method, path, body, headers, actor=actor, timeout=CLIENT_TIMEOUT)
        self.answers.append((action, answer))
        return answer

    def start(self) -> None:
        rng = random.Random(self.options.seed)
        names = [
            *((f"editor-{n}", self._edit) for n in range(self.options.editors)),
            *((f"reader-{n}", self._read) for n in range(self.options.readers)),
        ]
        self.threads = start_clients(
            (name, target, random.Random(rng.random())) for name, target in names
        )

    def stop(self) -> list[str]:
        return stop_clients(self.stopping, self.threads, CLIENT_TIMEOUT)

    # -- editors

    def _edit(self, actor: str, rng: random.Random) -> None:
        editor = self.tokens[actor]
        reviewers = [token for name, token in self.tokens.items() if name.startswith("reviewer")]
        actions: list[tuple[float, Callable[..., None]]] = [
            (0.55, self._edit_and_publish),
            (0.05, self._unpublish),
            (0.15, self._edit_faq),
            (0.13, self._toggle_link),
            (0.06, self._edit_author),
            (0.06, self._edit_topic),
        ]
        weights = [weight for weight, _ in actions]
        # Every kind of action once, in a random order, then as the weights say: a short
        # run exercises them all.
        first = [action for _, action in actions]
        rng.shuffle(first)
        while not self.stopping.is_set():
            chosen = first.pop() if first else rng.choices([a for _, a in actions], weights)[0]
            chosen(actor, rng, editor, rng.choice(reviewers))

    def _patch(
        self, action: str, actor: str, path: str, change: Callable[[], dict[str, Any]], token: str
    ) -> Answer:
        """Read, then write with If-Match; on 412 read again and retry, up to three times."""
        for _ in range(3):
            current = self.request(f"{action}:read", actor, "GET", path, **bearer(token))
            if current.status != 200:
                return current
            etag = current.headers["etag"]
            answer = self.request(
                action, actor, "PATCH", path, change(), **bearer(token, **{"If-Match": etag})
            )
            if answer.status != 412:
                return answer
        return answer

    def _edit_and_publish(self, actor: str, rng: random.Random, editor: str, reviewer: str) -> None:
        article = rng.choice(self.pool.articles)
        path = f"/v1/admin/articles/{article.id}"

        def change() -> dict[str, Any]:
            with self.lock:
                self.editions[article.slug] += 1
                edition = self.editions[article.slug]
            return {
                "title": f"Soak {article.slug} edition {edition} by {actor}",
                "summary": f"Edition {edition} of {article.slug}.",
                "sections": [
                    {
                        "key": "overview",
                        "heading": f"Overview {edition}",
                        "body": f"Edition **{edition}** by {actor}.",
                    },
                    {"key": "details", "heading": "Details", "body": "Unchanged text."},
                ],
            }

        edited = self._patch("edit", actor, path, change, editor)
        if edited.status != 200:
            return
        if (edited.json() or {}).get("status") == "draft":
            self.request("submit", actor, "POST", f"{path}/submit", **bearer(editor))
        clinical = {"kind": "clinical"}
        self.request("approve", actor, "POST", f"{path}/approve", clinical, **bearer(reviewer))
        self.request("publish", actor, "POST", f"{path}/publish", {}, **bearer(editor))

    def _unpublish(self, actor: str, rng: random.Random, editor: str, reviewer: str) -> None:
        article = rng.choice(self.pool.articles)
        path = f"/v1/admin/articles/{article.id}/unpublish"
        self.request("unpublish", actor, "POST", path, **bearer(editor))

    def _edit_faq(self, actor: str, rng: random.Random, editor: str, reviewer: str) -> None:
        article = rng.choice(self.pool.articles)
        path = f"/v1/admin/faqs/{article.faq_id}"
        number = rng.randrange(1_000_000)
        self._patch("faq", actor, path, lambda: {"answer": f"Answer {number} by {actor}."}, editor)

    def _toggle_link(self, actor: str, rng: random.Random, editor: str, reviewer: str) -> None:
        source, target = rng.sample(self.pool.articles, 2)
        links = self.request(
            "links:read", actor, "GET", f"/v1/admin/articles/{source.id}/links", **bearer(editor)
        )
        items = (links.json() or {}).get("items") or []
        if items and rng.random() < 0.5:
            link = f"/v1/admin/links/{rng.choice(items)['id']}"
            current = self.request("link:read", actor, "GET", link, **bearer(editor))
            if current.status == 200:
                etag = current.headers["etag"]
                self.request(
                    "unlink", actor, "DELETE", link, **bearer(editor, **{"If-Match": etag})
                )
        else:
            self.request(
                "link",
                actor,
                "POST",
                f"/v1/admin/articles/{source.id}/links",
                {"target_id": target.id, "relation": "see_also", "anchor_text": f"By {actor}"},
                **bearer(editor),
            )

    def _edit_author(self, actor: str, rng: random.Random, editor: str, reviewer: str) -> None:
        path = f"/v1/admin/people/{self.pool.author_id}"
        number = rng.randrange(1_000_000)
        self._patch("person", actor, path, lambda: {"job_title": f"Neurologist {number}"}, editor)

    def _edit_topic(self, actor: str, rng: random.Random, editor: str, reviewer: str) -> None:
        path = f"/v1/admin/topics/{self.pool.topic_id}"
        number = rng.randrange(1_000_000)
        self._patch("topic", actor, path, lambda: {"description": f"Soak pool {number}."}, editor)

    # -- readers

    def _read(self, actor: str, rng: random.Random) -> None:
        etags: dict[str, str] = {}
        sorts = ["-published_at", "published_at", "-updated_at", "title", "-last_reviewed_at"]
        while not self.stopping.is_set():
            slug = rng.choice(self.pool.articles).slug
            path = rng.choice(
                [
                    f"/v1/articles?limit=20&sort={rng.choice(sorts)}",
                    f"/v1/articles?topic={POOL_TOPIC}&limit=50",
                    f"/v1/articles/{slug}",
                    f"/v1/articles/{slug}",
                    f"/v1/articles/{slug}/faqs",
                    f"/v1/articles/{slug}/related",
                    f"/v1/articles/{slug}/jsonld",
                    f"/v1/faqs?article={slug}",
                    f"/v1/people/{AUTHOR_PERSON}",
                    f"/v1/topics/{POOL_TOPIC}",
                    "/v1/search?q=soak+edition",
                    "/v1/changes?limit=100",
                ]
            )
            headers = {}
            if path in etags and rng.random() < 0.3:
                headers["If-None-Match"] = etags[path]
            answer = self.request("read", actor, "GET", path, **headers)
            if answer.status == 200 and "etag" in answer.headers:
                etags[path] = answer.headers["etag"]


# What each action may answer: anything else is a failure.
EXPECTED = {
    "read": {200, 304, 404},
    "edit": {200, 412},
    "edit:read": {200},
    "submit": {200, 409},
    "approve": {200, 409},
    "publish": {200, 409},
    "unpublish": {200, 409},
    "faq": {200, 412},
    "faq:read": {200},
    "links:read": {200},
    "link:read": {200, 404},
    "link": {201, 409},
    "unlink": {204, 404, 412},
    "person": {200, 412},
    "person:read": {200},
    "topic": {200, 412},
    "topic:read": {200},
}


# -- setting up the pool ----------------------------------------------------------------------


def _ok(answer: Answer, *statuses: int) -> dict[str, Any]:
    if answer.status not in statuses:
        raise RuntimeError(f"setting up: {answer.describe()}")
    return answer.json()


def build_pool(port: int, editor: str, reviewer: str, size: int) -> Pool:
    """A topic, and `size` published articles on it, each with an FAQ and a related link."""

    def post(path: str, body: Any, token: str = editor, **headers: str) -> Answer:
        return call(port, "POST", path, body, bearer(token, **headers))

    author = _ok(
        call(port, "GET", f"/v1/admin/people?q={AUTHOR_PERSON}", None, bearer(editor)), 200
    )
    topic = _ok(
        post("/v1/admin/topics", {"slug": POOL_TOPIC, "name": "Soak pool", "parent": "headache"}),
        201,
    )
    articles = []
    for number in range(size):
        slug = f"soak-{number}"
        created = post(
            "/v1/admin/articles",
            {
                "slug": slug,
                "title": f"Soak {slug}",
                "summary": "A pool article.",
                "disclaimer": PUBLISHABLE["disclaimer"],
                "topics": [POOL_TOPIC],
                "sections": [{"key": "overview", "heading": "Overview", "body": "Text."}],
            },
        )
        article = _ok(created, 201)
        url = created.headers["location"]
        _ok(
            call(
                port,
                "PUT",
                f"{url}/authors",
                {"authors": [AUTHOR_PERSON]},
                bearer(editor, **{"If-Match": created.headers["etag"]}),
            ),
            200,
        )
        faq = _ok(
            post(
                "/v1/admin/faqs",
                {
                    "question": f"Is {slug} a soak?",
                    "answer": "Yes.",
                    "article_id": article["id"],
                    "status": "published",
                },
            ),
            201,
        )
        articles.append(PoolArticle(article["id"], slug, faq["id"]))
    for number, article in enumerate(articles):
        target = articles[(number + 1) % len(articles)]
        _ok(post(f"/v1/admin/articles/{article.id}/links", {"target_id": target.id}), 201)
    for article in articles:
        url = f"/v1/admin/articles/{article.id}"
        _ok(post(f"{url}/submit", None), 200)
        _ok(post(f"{url}/approve", {"kind": "clinical"}, reviewer), 200)
        _ok(post(f"{url}/publish", {}), 200)
    return Pool(articles, author["items"][0]["id"], topic["id"])


# -- the checks --------------------------------------------------------------------------------


@dataclass
class Report:
    answers: list[tuple[str, Answer]]
    unfinished_clients: list[str]
    deadlocks: int
    violations: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        by_action: dict[str, Counter[str]] = {}
        for action, answer in self.answers:
            by_action.setdefault(action, Counter())[str(answer.status)] += 1
        latencies = sorted(answer.latency for _, answer in self.answers)
        return {
            "requests": len(self.answers),
            "statuses_by_action": {name: dict(counts) for name, counts in by_action.items()},
            "latency_s": {
                "p50": round(latencies[len(latencies) // 2], 3) if latencies else None,
                "p99": round(latencies[int(len(latencies) * 0.99)], 3) if latencies else None,
                "max": round(latencies[-1], 3) if latencies else None,
            },
            "deadlocks": self.deadlocks,
            "violations": len(self.violations),
        }


def check_answers(report: Report, max_latency: float) -> None:
    if report.unfinished_clients:
        report.violations.append(f"clients still waiting at the end: {report.unfinished_clients}")
    if report.deadlocks:
        report.violations.append(f"PostgreSQL detected {report.deadlocks} deadlock(s)")
    for action, answer in report.answers:
        if answer.status is None:
            report.violations.append(f"no answer: {answer.describe()}")
        elif answer.status >= 500:
            report.violations.append(f"a server error: {answer.describe()}")
        elif answer.status not in EXPECTED[action]:
            report.violations.append(f"unexpected for {action}: {answer.describe()}")
        if answer.latency > max_latency:
            report.violations.append(f"slower than {max_latency}s: {answer.describe()}")
    done = Counter(action for action, answer in report.answers if answer.status in (200, 201, 204))
    for action in ("edit", "publish", "read", "faq", "person", "topic"):
        if not done[action]:
            report.violations.append(f"no successful {action} at all: too little load to judge")


def _differences(stored: Any, fresh: Any, where: str = "$") -> Iterator[str]:
    """Where two JSON values differ, deepest first, for a readable report."""
    if isinstance(stored, dict) and isinstance(fresh, dict):
        for key in sorted(stored.keys() | fresh.keys()):
            yield from _differences(stored.get(key), fresh.get(key), f"{where}.{key}")
    elif isinstance(stored, list) and isinstance(fresh, list) and len(stored) == len(fresh):
        for index, (old, new) in enumerate(zip(stored, fresh, strict=True)):
            yield from _differences(old, new, f"{where}[{index}]")
    elif stored != fresh:
        yield f"{where}: stored {json.dumps(stored)[:120]} but renders {json.dumps(fresh)[:120]}"


def check_documents(database_url: str) -> tuple[list[str], dict[str, str]]:
    """Every stored document against its articles, and against a fresh render of it.

    Returns the problems, and the title each live article's document shows."""
    from sqlalchemy import text

    from cms_api import create_app
    from cms_api.config import Settings
    from cms_api.database import db, sqlalchemy_url
    from cms_api.services.publishing.cascade import rerender_everything
    from cms_api.services.publishing.markdown import to_html

    url = sqlalchemy_url(database_url).render_as_string(hide_password=False)
    app = create_app({"CMS_SETTINGS": Settings(database_url=url), "SQLALCHEMY_DATABASE_URI": url})
    problems: list[str] = []
    stored_query = text(
        "SELECT kind, entity_id, slug, body, summary, etag, tags, title, sort_title, topic_slugs,"
        " published_at, updated_at, reviewed_on FROM published_documents"
    )

    def stored() -> dict[tuple[str, uuid.UUID], dict[str, Any]]:
        return {
            (row.kind, row.entity_id): dict(row._mapping)
            for row in db.session.execute(stored_query)
        }

    with app.app_context():
        for slug, public, document_slug in db.session.execute(
            text(
                "SELECT a.slug, a.live_revision IS NOT NULL AND a.deleted_at IS NULL, d.slug"
                " FROM articles a LEFT JOIN published_documents d"
                " ON d.kind = 'article' AND d.entity_id = a.id"
            )
        ):
            if public and document_slug != slug:
                problems.append(f"live article {slug} is served as {document_slug!r}")
            if not public and document_slug is not None:
                problems.append(f"article {slug} is not live yet has a document")
        for faq_id, should in db.session.execute(
            text(
                "SELECT d.entity_id, f.status = 'published' AND f.deleted_at IS NULL AND"
                " (f.article_id IS NULL OR (a.live_revision IS NOT NULL AND a.deleted_at IS NULL))"
                " FROM published_documents d JOIN faqs f ON f.id = d.entity_id"
                " LEFT JOIN articles a ON a.id = f.article_id WHERE d.kind = 'faq'"
            )
        ):
            if not should:
                problems.append(f"FAQ {faq_id} has a document but is not published")
        for faq_id, slug in db.session.execute(
            text(
                "SELECT f.id, a.slug FROM faqs f JOIN articles a ON a.id = f.article_id"
                " WHERE f.status = 'published' AND f.deleted_at IS NULL"
                " AND a.live_revision IS NOT NULL AND a.deleted_at IS NULL AND NOT EXISTS"
                " (SELECT 1 FROM published_documents d WHERE d.kind = 'faq' AND d.entity_id = f.id)"
            )
        ):
            problems.append(f"published FAQ {faq_id} of live {slug} has no document")

        # Each article document shows its live revision.
        for slug, body, snapshot in db.session.execute(
            text(
                "SELECT a.slug, d.body, r.snapshot FROM articles a"
                " JOIN published_documents d ON d.kind = 'article' AND d.entity_id = a.id"
                " JOIN revisions r ON r.article_id = a.id AND r.number = a.live_revision"
            )
        ):
            document = json.loads(body)
            shown = (
                document["title"],
                document["summary"],
                [(s["key"], s["heading"], s["body_html"]) for s in document["sections"]],
            )
            live = (
                snapshot["title"],
                snapshot["summary"],
                [(s["key"], s["heading"], to_html(s["body"])) for s in snapshot["sections"]],
            )
            if shown != live:
                problems.append(f"{slug}: the document is not its live revision: {shown} != {live}")

        # A fresh render of everything must change nothing; the render is rolled back.
        before = stored()
        rerender_everything()
        db.session.flush()
        after = stored()
        db.session.rollback()
        for key in sorted(before.keys() | after.keys(), key=str):
            old, new = before.get(key), after.get(key)
            if old is None or new is None:
                problems.append(f"{key}: stored {old is not None}, rendered {new is not None}")
                continue
            for column in old:
                if old[column] == new[column]:
                    continue
                if column in ("body", "summary"):
                    found = list(_differences(json.loads(old[column]), json.loads(new[column])))
                    change = "; ".join(found[:4]) + (
                        f" (and {len(found) - 4} more)" if len(found) > 4 else ""
                    )
                else:
                    change = f"{old[column]!r} != {new[column]!r}"
                problems.append(f"{key[0]} {old['slug'] or key[1]}: stale {column}: {change}")
        # By (slug, locale): slugs are unique per locale only.
        titles = {
            (row.slug, row.locale): json.loads(row.body)["title"]
            for row in db.session.execute(
                text("SELECT slug, locale, body FROM published_documents WHERE kind = 'article'")
            )
        }
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    return problems, titles


def check_served(titles: dict[tuple[str, str], str], read: Callable[[str], Answer]) -> list[str]:
    """What readers get over HTTP is the stored document, and its JSON-LD says the same."""
    problems = []
    for (slug, locale), title in titles.items():
        query = f"?locale={locale}"
        answer = read(f"/v1/articles/{slug}{query}")
        if answer.status != 200 or (answer.json() or {}).get("title") != title:
            problems.append(f"GET /v1/articles/{slug}{query}: {answer.describe()}")
        graph = read(f"/v1/articles/{slug}/jsonld{query}").json() or {}
        headlines = [n.get("headline") for n in graph.get("@graph", []) if n["@type"] == "Article"]
        if headlines != [title]:
            problems.append(f"{slug}: JSON-LD headline {headlines} for title {title!r}")
    return problems


def deadlocks(database_url: str) -> int:
    from cms_api.database import libpq_url

    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        connection.execute("SELECT pg_stat_clear_snapshot()")
        row = connection.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        return int(row[0]) if row else 0


# -- the run -----------------------------------------------------------------------------------


def run(database_url: str, options: Options, folder: Path) -> Report:
    roles = {
        **{f"editor-{n}": "editor" for n in range(max(1, options.editors))},
        **{f"reviewer-{n}": "reviewer" for n in range(max(1, options.reviewers))},
    }
    tokens = prepare(database_url, roles)
    with Gunicorn(database_url, folder, workers=options.workers) as app:
        log(f"cms-api on port {app.port}")
        pool = build_pool(app.port, tokens["editor-0"], tokens["reviewer-0"], options.pool)
        log(f"{len(pool.articles)} pool articles published; load for {options.duration:.0f}s")
        deadlocks_before = deadlocks(database_url)
        load = Load(app.port, tokens, pool, options)
        load.start()
        try:
            time.sleep(options.duration)
        finally:
            unfinished = load.stop()
        time.sleep(1.0)  # PostgreSQL publishes statistics up to a second late
        report = Report(load.answers, unfinished, deadlocks(database_url) - deadlocks_before)
        check_answers(report, options.max_latency)
        problems, titles = check_documents(database_url)
        report.violations += problems
        report.violations += check_served(titles, lambda path: call(app.port, "GET", path))
        if report.violations:
            log("gunicorn's log ends:\n" + app.log_tail())
    return report
