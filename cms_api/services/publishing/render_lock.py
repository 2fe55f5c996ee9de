"""The render lock: writers that re-render published documents take turns, until commit."""

from __future__ import annotations

from sqlalchemy import exc, text

from cms_api.database import db
from cms_api.domain.errors import DomainError

# Any constant will do: it names the lock every writer that re-renders documents takes.
RENDER_LOCK = 0x636D7372
# How long an API write waits for its turn: far below the worker timeout, so a writer
# stuck behind a long one is told to retry instead of being killed with its worker.
WAIT_SECONDS = 10.0
RETRY_AFTER_SECONDS = 5
_LOCK_NOT_AVAILABLE = "55P03"
# One round trip: wait at most `lock_timeout` for the lock, then restore the setting.
_BOUNDED = """
DO $$
DECLARE previous text := current_setting('lock_timeout');
BEGIN
    PERFORM set_config('lock_timeout', '{wait_ms}ms', true);
    PERFORM pg_advisory_xact_lock({key});
    PERFORM set_config('lock_timeout', previous, true);
END $$
"""


class RenderLockBusy(DomainError):
    """Other writers held the render lock for longer than a write may wait."""

    status = 503
    kind = "busy"


def hold_render_lock(*, bounded: bool = False) -> None:
    """Take the render lock for the rest of this transaction (again: a no-op).

    Documents embed other rows (an author's credentials, a related article's title), so
    two overlapping writes could each render from what they read before the other
    committed, and the later commit would leave a stale copy for good. Writers that
    render therefore take turns: the lock is held until commit, and everything read
    after it reflects every earlier writer's commit. Admin writes take it before doing
    anything else, so no row lock is ever held while waiting for it; when it is first
    taken here, mid-transaction, what the session read before is reloaded. `bounded`
    waits at most WAIT_SECONDS, then raises RenderLockBusy.
    """
    session = db.session()
    transaction = session.get_transaction()
    if transaction is not None and session.info.get("render_lock") is transaction:
        return
    session.flush()
    if not bounded:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RENDER_LOCK})
    else:
        statement = _BOUNDED.format(wait_ms=max(1, int(WAIT_SECONDS * 1000)), key=RENDER_LOCK)
        try:
            session.execute(text(statement))
        except exc.OperationalError as error:
            if getattr(error.orig, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                raise
            raise RenderLockBusy(
                "Other writes are holding the content; retry shortly.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            ) from error
    session.info["render_lock"] = session.get_transaction()
    session.expire_all()
