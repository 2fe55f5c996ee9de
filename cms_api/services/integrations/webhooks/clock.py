"""The clock webhook deliveries are dated by: the database's, which every worker shares."""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime, func


def db_now() -> Any:
    """The database's clock, read when the statement runs.

    Not the transaction's start: workers on several machines agree on what is due, and a
    long transaction does not freeze time.
    """
    return func.clock_timestamp(type_=DateTime(timezone=True))
