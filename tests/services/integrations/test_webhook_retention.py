"""Webhook retention: finished deliveries and their attempts go, pending ones stay."""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import event, func, select, text

from cms_api.config import Settings
from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.models import WebhookAttempt, WebhookDelivery
from cms_api.services.accounts.audit import Actor
from cms_api.services.integrations.webhooks import deliveries, endpoints, retention, worker
from cms_api.services.publishing import outbox
from tests.conftest import build_app

# A literal public address: registering it needs no DNS, and nothing is ever sent to it.
HOOK_URL = "https://93.184.215.14/hook"
FINISHED = ("delivered", "failed", "cancelled")


def _endpoint(app: Flask) -> uuid.UUID:
    with app.app_context():
        endpoint, _ = endpoints.create_endpoint(
            {"url": HOOK_URL, "events": ["review.due"]}, Actor(user_id=None)
        )
        db.session.commit()
        return endpoint.id


def _delivery(
    app: Flask,
    endpoint_id: uuid.UUID,
    status: str,
    *,
    finished_days_ago: float | None = None,
    age_days: float = 0,
    attempts: int = 2,
) -> uuid.UUID:
    """A delivery as the worker leaves it, created `age_days` ago with its attempts."""
    now = datetime.now(UTC)
    created = now - timedelta(days=age_days)
    finished = None if finished_days_ago is None else now - timedelta(days=finished_days_ago)
    delivery_id = uuid.uuid4()
    with app.app_context():
        db.session.add(
            WebhookDelivery(
                id=delivery_id,
                endpoint_id=endpoint_id,
                event_id=uuid.uuid4(),
                event_type="review.due",
                body=json.dumps({"type": "review.due"}),
                status=status,
                attempt_count=attempts,
                next_attempt_at=created,
                created_at=created,
                delivered_at=finished if status == "delivered" else None,
                finished_at=finished,
            )
        )
        db.session.flush()
        for number in range(1, attempts + 1):
            db.session.add(
                WebhookAttempt(
                    delivery_id=delivery_id,
                    number=number,
                    attempted_at=finished or created,
                    duration_ms=5,
                    succeeded=status == "delivered" and number == attempts,
                    status_code=200 if status == "delivered" and number == attempts else 500,
                )
            )
        db.session.commit()
    return delivery_id


def _remaining(app: Flask, delivery_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    with app.app_context():
        return set(
            db.session.scalars(
                select(WebhookDelivery.id).where(WebhookDelivery.id.in_(delivery_ids))
            )
        )


def _attempts_of(app: Flask, delivery_ids: list[uuid.UUID]) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        )


def test_finished_deliveries_past_the_retention_go_with_their_attempts(app):
    endpoint_id = _endpoint(app)
    old = [
        _delivery(app, endpoint_id, status, finished_days_ago=31, age_days=32)
        for status in FINISHED
    ]
    recent = [
        _delivery(app, endpoint_id, status, finished_days_ago=29, age_days=400)
        for status in FINISHED
    ]
    # Pending stays however old: never tried (an inactive endpoint), retried for a year, or
    # put back by hand in SQL after failing long ago, its finished_at left behind.
    pending = [
        _delivery(app, endpoint_id, "pending", age_days=1000, attempts=0),
        _delivery(app, endpoint_id, "pending", age_days=365, attempts=11),
        _delivery(app, endpoint_id, "pending", finished_days_ago=200, age_days=201, attempts=1),
    ]

    with app.app_context():
        removed = retention.prune_deliveries()  # the default retention: 30 days

    assert removed == len(old)
    assert _remaining(app, old + recent + pending) == set(recent + pending)
    assert _attempts_of(app, old) == 0
    assert _attempts_of(app, recent + pending) == 2 * len(recent) + 11 + 1


def test_the_retention_setting_decides_what_is_old(app, monkeypatch):
    settings = dataclasses.replace(app.config["CMS_SETTINGS"], webhook_retention_days=90)
    monkeypatch.setitem(app.config, "CMS_SETTINGS", settings)
    endpoint_id = _endpoint(app)
    kept = _delivery(app, endpoint_id, "delivered", finished_days_ago=89, age_days=89)
    gone = _delivery(app, endpoint_id, "failed", finished_days_ago=91, age_days=91)

    with app.app_context():
        assert retention.prune_deliveries() == 1

    assert _remaining(app, [kept, gone]) == {kept}


def test_the_retention_is_read_from_the_environment_and_must_be_a_day_or_more():
    assert Settings.from_environ({}).webhook_retention_days == 30
    environ = {"CMS_WEBHOOK_RETENTION_DAYS": "365"}
    assert Settings.from_environ(environ).webhook_retention_days == 365
    for days in ("0", "-7"):
        with pytest.raises(ValueError, match=f"CMS_WEBHOOK_RETENTION_DAYS {days} must be 1"):
            Settings.from_environ({"CMS_WEBHOOK_RETENTION_DAYS": days})


def test_a_backlog_larger_than_a_batch_is_deleted_a_batch_at_a_time(app):
    endpoint_id = _endpoint(app)
    old = [
        _delivery(app, endpoint_id, "delivered", finished_days_ago=60, age_days=60, attempts=1)
        for _ in range(7)
    ]
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM WEBHOOK_DELIVERIES"):
            statements.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            removed = retention.prune_deliveries(batch_size=3)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    assert removed == 7
    assert _remaining(app, old) == set()
    assert _attempts_of(app, old) == 0
    assert len(statements) == 3  # 3 + 3 + 1 rows
    assert all("LIMIT" in statement and "SKIP LOCKED" in statement for statement in statements)


def test_finishing_records_when_and_a_redelivery_starts_the_clock_again(app):
    endpoint_id = _endpoint(app)
    actor = Actor(user_id=None)

    def finished_at(delivery_id: uuid.UUID) -> datetime | None:
        return db.session.scalar(
            select(WebhookDelivery.finished_at).where(WebhookDelivery.id == delivery_id)
        )

    with app.app_context():
        outbox.emit("review.due", {"n": 1})
        db.session.commit()
        claim = worker.claim_next()
        assert claim is not None
        assert finished_at(claim.delivery_id) is None
        outcome = worker.Outcome(True, 204)
        worker.record_outcome(claim, outcome, attempted_at=utcnow(), duration_ms=3)
        assert finished_at(claim.delivery_id) is not None

        endpoint = endpoints.get_endpoint(endpoint_id)
        deliveries.redeliver(endpoint, claim.delivery_id, actor)
        db.session.commit()
        assert finished_at(claim.delivery_id) is None

        endpoints.delete_endpoint(endpoints.get_endpoint(endpoint_id), actor)
        db.session.commit()
        status, cancelled_at = db.session.execute(
            select(WebhookDelivery.status, WebhookDelivery.finished_at).where(
                WebhookDelivery.id == claim.delivery_id
            )
        ).one()
    assert status == "cancelled"
    assert cancelled_at is not None


def test_the_prune_command_prints_how_many_it_removed(app, runner):
    endpoint_id = _endpoint(app)
    month_old = _delivery(app, endpoint_id, "failed", finished_days_ago=40, age_days=41)
    week_old = _delivery(app, endpoint_id, "delivered", finished_days_ago=10, age_days=10)

    result = runner.invoke(args=["webhooks", "prune"])
    assert result.exit_code == 0, result.output
    assert result.output == "Removed 1 finished delivery.\n"
    assert _remaining(app, [month_old, week_old]) == {week_old}

    result = runner.invoke(args=["webhooks", "prune", "--older-than-days", "7"])
    assert result.exit_code == 0, result.output
    assert result.output == "Removed 1 finished delivery.\n"
    assert _remaining(app, [week_old]) == set()

    result = runner.invoke(args=["webhooks", "prune", "--older-than-days", "7"])
    assert result.output == "Removed 0 finished deliveries.\n"
    result = runner.invoke(args=["webhooks", "prune", "--older-than-days", "0"])
    assert result.exit_code == 2  # a typo must not empty the whole history


class _Enough(Exception):
    """Ends the worker loop from inside a test."""


def test_the_worker_prunes_when_it_starts_and_then_once_an_hour(app, runner, monkeypatch):
    endpoint_id = _endpoint(app)
    old = _delivery(app, endpoint_id, "delivered", finished_days_ago=31, age_days=31)
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    clock = [start]
    pruned_at: list[datetime] = []
    rounds = iter(range(5))
    deliver_due, prune_deliveries = worker.deliver_due, retention.prune_deliveries

    def one_round_every_twenty_minutes(*args, **kwargs) -> int:
        round_number = next(rounds, None)
        if round_number is None:
            raise _Enough
        clock[0] = start + round_number * timedelta(minutes=20)
        return deliver_due(*args, **kwargs)

    def noting_prune(*args, **kwargs) -> int:
        pruned_at.append(clock[0])
        return prune_deliveries(*args, **kwargs)

    monkeypatch.setattr(retention, "utcnow", lambda: clock[0])
    monkeypatch.setattr(worker, "deliver_due", one_round_every_twenty_minutes)
    monkeypatch.setattr(retention, "prune_deliveries", noting_prune)

    result = runner.invoke(args=["webhooks", "deliver", "--poll-interval", "0.1"])

    assert isinstance(result.exception, _Enough), result.output
    # Rounds at 0, 20, 40, 60 and 80 minutes: pruned at the first, then an hour later.
    assert pruned_at == [start, start + timedelta(hours=1)]
    assert _remaining(app, [old]) == set()


def test_a_database_error_while_pruning_is_logged_and_pruning_goes_on_later(
    app, monkeypatch, caplog
):
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    clock = [start]
    monkeypatch.setattr(retention, "utcnow", lambda: clock[0])
    schedule = retention.PruneSchedule()
    with app.app_context():
        # Another session holds the table, and this one gives up waiting for it at once.
        blocker = db.engine.connect()
        blocker.execute(text("LOCK TABLE webhook_deliveries IN ACCESS EXCLUSIVE MODE"))
        try:
            db.session.execute(text("SET LOCAL lock_timeout = '100ms'"))
            with caplog.at_level(logging.WARNING, logger=retention.__name__):
                assert schedule.run_if_due() is None
        finally:
            blocker.rollback()
            blocker.close()
    assert "webhook pruning: database error: OperationalError" in caplog.text

    endpoint_id = _endpoint(app)
    old = _delivery(app, endpoint_id, "cancelled", finished_days_ago=45, age_days=50)
    with app.app_context():
        clock[0] = start + timedelta(minutes=59)
        assert schedule.run_if_due() is None  # not due: failures wait the hour too
        clock[0] = start + timedelta(hours=1)
        assert schedule.run_if_due() == 1
    assert _remaining(app, [old]) == set()


def test_the_migration_dates_finished_deliveries_from_their_last_trace(make_database):
    app = build_app(make_database("retention"))
    delivered, failed, cancelled, pending = (uuid.uuid4() for _ in range(4))
    endpoint_id = uuid.uuid4()
    rows = text("SELECT id, finished_at FROM webhook_deliveries WHERE endpoint_id = :endpoint_id")
    try:
        with app.app_context():
            upgrade(revision="0006")
            db.session.execute(
                text(
                    "INSERT INTO webhook_endpoints (id, url, events, secret, active, version,"
                    " deleted_at) VALUES (:id, :url, '{review.due}', '', false, 1,"
                    " '2026-11-20 12:00+00')"
                ),
                {"id": endpoint_id, "url": HOOK_URL},
            )
            for delivery_id, status, delivered_at in (
                (delivered, "delivered", "2026-11-02 10:00+00"),
                (failed, "failed", None),
                (cancelled, "cancelled", None),
                (pending, "pending", None),
            ):
                db.session.execute(
                    text(
                        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type,"
                        " body, status, attempt_count, created_at, delivered_at) VALUES"
                        " (:id, :endpoint_id, :event_id, 'review.due', '{}', :status, 1,"
                        " '2026-11-01 10:00+00', :delivered_at)"
                    ),
                    {
                        "id": delivery_id,
                        "endpoint_id": endpoint_id,
                        "event_id": uuid.uuid4(),
                        "status": status,
                        "delivered_at": delivered_at,
                    },
                )
            db.session.execute(
                text(
                    "INSERT INTO webhook_attempts (delivery_id, number, attempted_at,"
                    " duration_ms, succeeded) VALUES (:id, 1, '2026-11-05 10:00+00', 5, false)"
                ),
                {"id": failed},
            )
            db.session.commit()
            upgrade()
            finished = dict(db.session.execute(rows, {"endpoint_id": endpoint_id}).all())
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()

    assert finished == {
        delivered: datetime(2026, 11, 2, 10, 0, tzinfo=UTC),  # when it was delivered
        failed: datetime(2026, 11, 5, 10, 0, tzinfo=UTC),  # its last attempt
        cancelled: datetime(2026, 11, 20, 12, 0, tzinfo=UTC),  # its endpoint's deletion
        pending: None,
    }
