"""Migration 0010 puts today's FAQs and anchors into revisions: public pages do not change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from cms_api.database import db
from cms_api.services.integrations.seeds import SEEDS_DIRECTORY, load_seeds
from cms_api.services.publishing.cascade import rerender_everything
from tests.conftest import build_app

# Red flags (0016) do not survive the downgrade this test makes.
DOCUMENTS = text(
    "SELECT kind, entity_id, body FROM published_documents WHERE kind <> 'red_flag' ORDER BY 1, 2"
)
# What a FAQ document says; its dates come from columns the migration backfills.
FAQ_TEXT = ("id", "question", "answer_html", "position", "article", "topic")
# What later revisions add (images in 0012, topic synonyms in 0013): a downgrade below
# them drops it, as it drops any later column, so the comparison leaves it out.
LATER = {"lead_image", "image", "primaryImageOfPage", "logo", "synonyms"}


def _without_later(value):
    if isinstance(value, dict):
        return {key: _without_later(item) for key, item in value.items() if key not in LATER}
    if isinstance(value, list):
        return [
            _without_later(item)
            for item in value
            if not (isinstance(item, dict) and item.get("@type") == "ImageObject")
        ]
    return value


def _public(rows) -> dict:
    public = {}
    for kind, entity_id, body in rows:
        document = json.loads(body)
        if kind == "faq":
            document = {name: document[name] for name in FAQ_TEXT}
        public[(kind, entity_id)] = _without_later(document)
    return public


def _seeds_in_one_language(directory: Path) -> Path:
    """The seeds without their translations, which the downgrade drops (0019)."""
    copy = directory / "seeds"
    shutil.copytree(SEEDS_DIRECTORY, copy, ignore=shutil.ignore_patterns("translations"))
    return copy


def test_the_backfill_keeps_every_public_faq_and_anchor(make_database, tmp_path):
    app = build_app(make_database("faqs_reviewed"))
    try:
        with app.app_context():
            upgrade()
            load_seeds(_seeds_in_one_language(tmp_path))
            db.session.commit()
            before = _public(db.session.execute(DOCUMENTS).all())
            db.session.remove()
            # As the data stood before 0010: no FAQs or anchors in any revision.
            downgrade(revision="0009")
            kept = db.session.execute(
                text("SELECT count(*) FROM revisions WHERE snapshot ? 'faqs' OR snapshot ? 'links'")
            ).scalar_one()
            db.session.remove()
            upgrade()
            rerender_everything()
            db.session.commit()
            after = _public(db.session.execute(DOCUMENTS).all())
    finally:
        with app.app_context():
            db.engine.dispose()

    assert kept == 0
    assert any(kind == "faq" for kind, _ in before), "seeded FAQs are public"
    assert any(document.get("related") for document in before.values())
    assert after == before
