"""Editors and readers at once on a live server (bench/soak.py, shortened); no stale document."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import flask
import psycopg
import pytest

from cms_api.database import libpq_url
from cms_api.services.publishing import render as rendering
from tests.support import live, soak
from tests.support.api import AUTHOR_PERSON, PUBLISHABLE, bearer

pytestmark = pytest.mark.soak


def test_concurrent_editing_publishing_and_reading_leave_every_document_consistent(
    make_database, tmp_path: Path
):
    # gunicorn (2 workers) over a throwaway database; 3 editors and 4 readers for 15 s.
    options = soak.Options(duration=15, editors=3, readers=4, reviewers=1, pool=6, workers=2)
    report = soak.run(make_database("soak"), options, tmp_path)
    summary = report.summary()
    shown = "\n".join(report.violations[:40]) + "\n" + json.dumps(summary, indent=1)

    assert report.violations == [], shown
    assert report.deadlocks == 0
    assert not report.unfinished_clients
    statuses = summary["statuses_by_action"]
    assert statuses["publish"].get("200", 0) >= 3, shown
    assert statuses["edit"].get("200", 0) >= 3, shown
    assert summary["latency_s"]["max"] < options.max_latency, shown


# The checks are only as good as their judge: held here to runs that went wrong.


def _answer(status: int | None, latency: float = 0.01) -> live.Answer:
    return live.Answer("editor-0", "POST", "/v1/admin/articles/x/publish", 0, latency, status)


def test_the_judge_flags_errors_hangs_deadlocks_and_surprises():
    answers = [
        *(
            (action, _answer(200))
            for action in ("edit", "publish", "read", "faq", "person", "topic")
        ),
        ("publish", _answer(503)),  # a deadlock, reported as an outage
        ("edit", _answer(422)),  # not what an edit may answer
        ("read", _answer(None)),  # no answer
        ("read", _answer(200, latency=12)),  # a hang
    ]
    report = soak.Report(answers, unfinished_clients=["editor-2"], deadlocks=1)

    soak.check_answers(report, max_latency=10)

    found = "\n".join(report.violations)
    for expected in (
        "a server error",
        "unexpected for edit",
        "no answer",
        "slower than 10",
        "clients still waiting",
        "1 deadlock",
    ):
        assert expected in found, found


def test_the_judge_finds_a_stale_document_and_nothing_else_when_all_is_quiet(make_database):
    url = make_database("judge")
    live.prepare(url, {"editor": "editor"})
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        # A document that kept an old title: what a lost update between renders leaves.
        connection.execute(
            "UPDATE published_documents SET body = replace(body, 'Headache After Botox',"
            " 'An Old Title'), etag = '\"stale\"'"
            " WHERE kind = 'article' AND slug = 'headache-after-botox'"
        )

    problems, titles = soak.check_documents(url)

    assert problems, "the stale document is found"
    assert all("headache-after-botox" in problem for problem in problems), problems
    assert any("stale body" in p and "An Old Title" in p for p in problems), problems
    assert any("is not its live revision" in problem for problem in problems), problems
    assert titles[("headache-after-botox", "en")].startswith("An Old Title")
    assert len(titles) == 8, "every seeded article is live, in each of its locales"


# -- what the soak found, made deterministic -------------------------------------------------


def test_a_slow_publish_does_not_undo_a_concurrent_edit_of_its_author(live_server, monkeypatch):
    port, tokens = live_server
    editor, reviewer = tokens["editor"], tokens["reviewer"]
    created = live.call(
        port,
        "POST",
        "/v1/admin/articles",
        {"slug": "race", "title": "Race", **PUBLISHABLE},
        bearer(editor),
    )
    url = created.headers["location"]
    etag = {"If-Match": created.headers["etag"]}
    authors = {"authors": [AUTHOR_PERSON]}
    assert live.call(port, "PUT", f"{url}/authors", authors, bearer(editor, **etag)).status == 200
    assert live.call(port, "POST", f"{url}/submit", None, bearer(editor)).status == 200
    clinical = {"kind": "clinical"}
    assert live.call(port, "POST", f"{url}/approve", clinical, bearer(reviewer)).status == 200

    # The publication renders the article slowly (a long article, a busy machine): while it
    # does, an editor changes the author's job title, which re-renders the article too.
    rendering_started, go_on = threading.Event(), threading.Event()
    render = rendering.article_document

    def slow_render(*args: Any, **kwargs: Any) -> dict[str, Any]:
        if flask.request.path.endswith("/publish"):
            rendering_started.set()
            go_on.wait(timeout=10)
        return render(*args, **kwargs)

    monkeypatch.setattr(rendering, "article_document", slow_render)
    published: list[int | None] = []
    publisher = threading.Thread(
        target=lambda: published.append(
            live.call(port, "POST", f"{url}/publish", {}, bearer(editor)).status
        )
    )
    publisher.start()
    assert rendering_started.wait(timeout=10)
    person = live.call(port, "GET", f"/v1/admin/people?q={AUTHOR_PERSON}", None, bearer(editor))
    person_url = f"/v1/admin/people/{person.json()['items'][0]['id']}"
    current = live.call(port, "GET", person_url, None, bearer(editor)).headers["etag"]
    edited: list[int | None] = []
    edit = threading.Thread(
        target=lambda: edited.append(
            live.call(
                port,
                "PATCH",
                person_url,
                {"job_title": "Chief of Neurology"},
                bearer(editor, **{"If-Match": current}),
            ).status
        )
    )
    edit.start()
    edit.join(timeout=2)  # it may wait for the publication: then let that finish first
    go_on.set()
    publisher.join(timeout=30)
    edit.join(timeout=30)

    assert (published, edited) == ([200], [200])
    article = live.call(port, "GET", "/v1/articles/race").json()
    profile = live.call(port, "GET", f"/v1/people/{AUTHOR_PERSON}").json()
    assert profile["job_title"] == "Chief of Neurology"
    assert article["authors"][0]["job_title"] == "Chief of Neurology", (
        "the article's document kept the job title the publication read before the edit"
    )
