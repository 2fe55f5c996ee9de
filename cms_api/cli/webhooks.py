"""`cms-api webhooks ...`: the delivery worker, review-due notices and pruning (cron)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import FrameType

import click
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from cms_api.database import db
from cms_api.services.editorial import workflow
from cms_api.services.integrations.webhooks import endpoints, retention, signing, worker
from cms_api.services.publishing import outbox

log = logging.getLogger(__name__)

webhooks_group = AppGroup(
    "webhooks", help="Deliver webhook events, queue scheduled ones, prune finished ones."
)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM or SIGINT lets the attempt in progress finish, then the loop ends."""

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@webhooks_group.command("deliver")
@click.option("--once", is_flag=True, help="Send what is due now, then exit (tests, cron).")
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="Seconds to wait when nothing is due.",
)
def deliver_command(once: bool, poll_interval: float) -> None:
    """Send due webhook deliveries, retrying failures; run as many as you like at once.

    Running, it also prunes finished deliveries past their retention once an hour
    (`--once` does not: cron runs `webhooks prune` instead).
    """
    stop = threading.Event()
    pruning = retention.PruneSchedule()
    attempts = 0
    with _stop_on_signals(stop):
        while not stop.is_set():
            try:
                made = worker.deliver_due(should_stop=stop.is_set)
            except SQLAlchemyError as error:
                # The database went away: keep the worker alive and try again later.
                db.session.rollback()
                log.warning("webhook worker: database error: %s", error.__class__.__name__)
                made = 0
                if once:
                    raise click.ClickException("The database is unavailable.") from error
            attempts += made
            if once:
                break
            pruning.run_if_due(should_stop=stop.is_set)
            if not made:
                stop.wait(poll_interval)
    click.echo(f"Made {attempts} delivery attempt{'s' if attempts != 1 else ''}.")


@webhooks_group.command("notify-reviews-due")
def notify_reviews_due_command() -> None:
    """Queue `review.due` for each published article whose review is due (cron, daily).

    Each article and due date is announced once, however often this runs.
    """
    added = outbox.notify_reviews_due(workflow.reviews_due(within_days=0))
    db.session.commit()
    click.echo(f"Queued {added} review.due deliver{'ies' if added != 1 else 'y'}.")


@webhooks_group.command("prune")
@click.option(
    "--older-than-days",
    type=click.IntRange(min=1),
    default=None,
    help="Keep deliveries that finished this many days ago or less "
    "(default: CMS_WEBHOOK_RETENTION_DAYS).",
)
def prune_command(older_than_days: int | None) -> None:
    """Delete delivered, failed and cancelled deliveries, with their attempts, once past
    their retention (cron, daily). Pending ones are kept, however old."""
    older_than = timedelta(days=older_than_days) if older_than_days is not None else None
    try:
        removed = retention.prune_deliveries(older_than)
    except SQLAlchemyError as error:
        db.session.rollback()
        raise click.ClickException("The database is unavailable.") from error
    click.echo(f"Removed {removed} finished deliver{'ies' if removed != 1 else 'y'}.")


@webhooks_group.command("generate-key")
def generate_key_command() -> None:
    """Print a new key for CMS_SECRET_KEYS (it encrypts webhook secrets at rest)."""
    click.echo(signing.new_key())


@webhooks_group.command("rotate-secrets")
def rotate_secrets_command() -> None:
    """Encrypt every webhook secret again with the first key of CMS_SECRET_KEYS.

    To rotate: put the new key first (keep the old ones after it), restart, run this, then
    remove the old keys.
    """
    try:
        rotated = endpoints.rotate_secrets()
    except signing.SecretKeyError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    click.echo(f"Re-encrypted {rotated} webhook secret{'s' if rotated != 1 else ''}.")
