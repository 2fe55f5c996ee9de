"""Migration 0029: the counting triggers defer to a bulk publish's temporary tables."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import exc, text

from cms_api.database import db
from tests.conftest import build_app

_REFILE = """
UPDATE search_entries SET topics = ARRAY['refiled']
WHERE (kind, entity_id) = (SELECT kind, entity_id FROM search_entries ORDER BY 1, 2 LIMIT 1)
"""
_REFILED = "SELECT entries FROM search_topic_counts WHERE topic = 'refiled'"


def _refile_with_the_setting_on() -> None:
    db.session.execute(text("SELECT set_config('cms.deferred_counts', 'on', true)"))
    db.session.execute(text(_REFILE))


def test_only_the_upgraded_triggers_defer_and_the_downgrade_restores_them(
    make_database, seeded_template: str
) -> None:
    app = build_app(make_database("deferred_counts", template=seeded_template))
    try:
        with app.app_context():
            downgrade(revision="0028")
            # Before 0029 the triggers know no such setting: they count as they go.
            _refile_with_the_setting_on()
            assert db.session.scalar(text(_REFILED)) == 1
            db.session.rollback()

            upgrade()
            # After it they defer, and without a publish's tables the statement fails.
            with pytest.raises(exc.ProgrammingError, match="cms_deferred_topic_counts"):
                _refile_with_the_setting_on()
            db.session.rollback()
            db.session.execute(text(_REFILE))  # the setting off: counted as before
            assert db.session.scalar(text(_REFILED)) == 1
            db.session.rollback()
    finally:
        with app.app_context():
            db.engine.dispose()
