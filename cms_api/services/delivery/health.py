"""Readiness: does the database answer."""

from __future__ import annotations

from sqlalchemy import text

from cms_api.database import db


def check_database() -> None:
    """Raise the driver's error if the database does not answer (the API maps it to 503)."""
    db.session.execute(text("SELECT 1"))
