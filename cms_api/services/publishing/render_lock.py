"""The render lock: writers that re-render published documents take turns, until commit."""

from __future__ import annotations

from sqlalchemy import text

from cms_api.database import db

# Any constant will do: it names the lock every writer that re-renders documents takes.
RENDER_LOCK = 0x636D7372


def hold_render_lock() -> None:
    """Take the render lock for the rest of this transaction (again: a no-op).

    Documents embed other rows (an author's credentials, a related article's title), so
    two overlapping writes could each render from what they read before the other
    committed, and the later commit would leave a stale copy for good. Writers that
    render therefore take turns: the lock is held until commit, and everything read
    after it reflects every earlier writer's commit. Admin writes take it before doing
    anything else, so no row lock is ever held while waiting for it; when it is first
    taken here, mid-transaction, what the session read before is reloaded.
    """
    session = db.session()
    transaction = session.get_transaction()
    if transaction is not None and session.info.get("render_lock") is transaction:
        return
    session.flush()
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RENDER_LOCK})
    session.info["render_lock"] = session.get_transaction()
    session.expire_all()
