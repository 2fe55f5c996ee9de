"""Retention: finished deliveries and their attempts are deleted once past their time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from cms_api.database import db, db_now
from cms_api.domain.clock import utcnow
from cms_api.models import WebhookDelivery
from cms_api.services import runtime

log = logging.getLogger(__name__)

# Rows per DELETE, each in its own transaction: a large backlog never holds one long
# transaction or locks millions of rows at once.
PRUNE_BATCH_SIZE = 5000
# How often a long-running worker prunes; each worker does, and they skip each other's rows.
PRUNE_INTERVAL = timedelta(hours=1)


def retention() -> timedelta:
    return timedelta(days=runtime.settings().webhook_retention_days)


def prune_deliveries(
    older_than: timedelta | None = None,
    *,
    batch_size: int = PRUNE_BATCH_SIZE,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Delete deliveries that finished (delivered, failed, cancelled) longer than
    `older_than` ago (default: the retention setting), with their attempts. Returns how many.

    Pending deliveries are never deleted, however old. Each batch commits on its own, and
    rows another process holds (a redelivery, a concurrent prune) are skipped, not waited for.
    """
    # A value, fixed for the run: the clock function would keep the index from bounding
    # the scan, and rows finishing meanwhile would keep the loop going.
    cutoff = db.session.scalar(
        select(db_now() - (retention() if older_than is None else older_than))
    )
    removed = 0
    while not should_stop():
        expired = (
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status != "pending", WebhookDelivery.finished_at < cutoff)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        # The attempts go with their delivery: the foreign key cascades on delete.
        deleted = db.session.execute(
            delete(WebhookDelivery)
            .where(WebhookDelivery.id.in_(expired))
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        removed += deleted
        if deleted < batch_size:
            break
    return removed


@dataclass
class PruneSchedule:
    """Pruning from the delivery worker: at most once per `interval`, never fatal to it."""

    interval: timedelta = PRUNE_INTERVAL
    last_run: datetime | None = None

    def run_if_due(self, *, should_stop: Callable[[], bool] = lambda: False) -> int | None:
        """Prune if the interval has passed since the last run; how many went, or None
        when it was not due or the database failed (logged; tried again next interval)."""
        now = utcnow()
        if self.last_run is not None and now - self.last_run < self.interval:
            return None
        self.last_run = now
        try:
            removed = prune_deliveries(should_stop=should_stop)
        except SQLAlchemyError as error:
            db.session.rollback()
            log.warning("webhook pruning: database error: %s", error.__class__.__name__)
            return None
        if removed:
            log.info("webhook pruning: removed %d finished deliveries", removed)
        return removed
