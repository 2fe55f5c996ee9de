"""PostgreSQL stops while the API serves load, then starts again (bench/fault.py, shortened)."""

from __future__ import annotations

import json
import uuid

import pytest

from cms_api.database import db
from cms_api.models import Article
from tests.support import fault, live
from tests.support.api import PROBLEM

pytestmark = pytest.mark.fault


def test_an_outage_answers_quick_503s_then_recovers_and_keeps_every_acknowledged_write():
    # A private PostgreSQL on a free port, the app under gunicorn (2 workers), 3 readers and
    # 2 editors; PostgreSQL is stopped (fast shutdown) for 5 s in the middle.
    report = fault.run(fault.Options(before=4, outage=5, after=4))
    summary = report.summary()
    shown = "\n".join(report.violations[:40]) + "\n" + json.dumps(summary, indent=1)

    assert report.violations == [], shown
    down = summary["phases"]["down"]
    assert down["statuses"] == {"503": down["requests"]}, shown
    assert down["max_latency_s"] < 5, shown
    assert summary["ready_after_start_s"] < 15, shown
    after = summary["phases"]["after"]
    assert set(after["statuses"]) <= {"200", "201"}, shown
    assert summary["acknowledged_writes"]["publish"] >= 2, shown


# The checks above are only as good as their judge: held here to runs that went wrong.


def _answer(
    status: int | None, started: float, latency: float = 0.01, **headers: str
) -> live.Answer:
    body = b'{"type": "/problems/database-unavailable"}' if status == 503 else b"{}"
    return live.Answer(
        "reader-0",
        "GET",
        "/v1/articles",
        started,
        started + latency,
        status,
        {"content-type": PROBLEM, **headers},
        body,
    )


def test_the_judge_flags_errors_hangs_and_answers_that_ignore_the_outage():
    timeline = fault.Timeline(stop_began=10, stopped=10.5, start_began=15, started=15.5, ready=16)
    answers = [
        *(_answer(200, 1 + n / 10) for n in range(30)),
        *(_answer(503, 11 + n / 10, **{"retry-after": "5"}) for n in range(30)),
        *(_answer(200, 20 + n / 10) for n in range(30)),
        _answer(500, 2),  # a server error while all is well
        _answer(200, 12),  # an answer from nowhere while the database is down
        _answer(503, 13),  # a 503 without Retry-After
        _answer(503, 21, **{"retry-after": "5"}),  # a 503 once the database is back
        _answer(None, 3),  # no answer at all
        _answer(200, 4, latency=7),  # a hang
    ]
    report = fault.Report(timeline, answers, [], [], grace=2, unfinished_clients=["editor-1"])

    fault.check_answers(report, max_latency=5)

    found = "\n".join(report.violations)
    for expected in (
        "a server error",
        "not a 503 while the database was down",
        "a 503 that is not the outage problem",
        "a 503 while the database was up",
        "no answer",
        "slower than 5",
        "clients still waiting",
        "no article was published before",
    ):
        assert expected in found, found


def test_the_judge_flags_lost_and_half_applied_writes(app):
    with app.app_context():
        # An article whose revision and audit event never made it: a half-applied create.
        db.session.add(
            Article(
                id=uuid.uuid4(),
                slug="fault-half",
                title="Half",
                summary="",
                status="draft",
                call_to_actions=[],
                review_interval_months=12,
                revision_number=1,
            )
        )
        db.session.flush()
        acknowledged = [
            fault.Write("fault-lost", step, _answer(201 if step == "create" else 200, 1))
            for step in ("create", "publish")
        ]
        report = fault.Report(fault.Timeline(), [], acknowledged, [], 2, [])
        connection = db.session.connection().connection.driver_connection

        fault.check_database(report, connection, read=lambda path: _answer(404, 30))

    found = "\n".join(report.violations)
    for expected in (
        "acknowledged article fault-lost is not in the database",
        "fault-half: no revision 1",
        "fault-half: no article.create audit event",
        "published fault-lost is not served",
    ):
        assert expected in found, found
