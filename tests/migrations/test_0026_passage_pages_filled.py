"""Migration 0026 lets answer passages fill their pages, as they are inserted whole."""

from __future__ import annotations

from sqlalchemy import text

from cms_api.database import db


def _options(table: str) -> list[str]:
    return db.session.scalar(
        text("SELECT coalesce(reloptions, '{}') FROM pg_class WHERE oid = CAST(:t AS regclass)"),
        {"t": table},
    )


def test_answer_passages_keep_no_room_for_an_update(app) -> None:
    with app.app_context():
        assert not any(option.startswith("fillfactor") for option in _options("answer_passages"))
