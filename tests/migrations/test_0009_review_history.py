"""Migration 0009 moves approvals into the review-of-record model without changing a page."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import yaml
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from cms_api.database import db
from cms_api.services.integrations.seeds import SEEDS_DIRECTORY, load_seeds
from cms_api.services.publishing.cascade import rerender_everything
from tests.conftest import build_app

DOCUMENTS = text(
    "SELECT kind, entity_id, body, tags, updated_at, reviewed_on "
    "FROM published_documents ORDER BY 1, 2"
)
# What an article says about its review and its changes (other parts of 0009 and later
# migrations, which the downgrade drops, have their own tests).
ARTICLE_CLAIMS = ("last_reviewed_at", "next_review_due", "reviewers", "review", "corrections")
PAGE_CLAIMS = ("lastReviewed", "reviewedBy")
NODE_CLAIMS = ("dateModified", "datePublished", "correction")
# What the code before 0009 left behind after an unpublished approval of tmj-headache's
# revision 2: the approval, and review dates moved to it (the bug this model fixes).
LEAKED_APPROVAL = [
    """
    INSERT INTO revisions (id, article_id, number, snapshot, reason, created_at)
    SELECT gen_random_uuid(), article_id, 2, snapshot, 'edit', now()
    FROM revisions WHERE number = 1
      AND article_id = (SELECT id FROM articles WHERE slug = 'tmj-headache')
    """,
    """
    INSERT INTO medical_reviews (id, article_id, reviewer_id, reviewed_at, revision_number,
                                 notes, created_at)
    SELECT gen_random_uuid(), a.id, p.id, DATE '2026-12-02', 2, 'Unpublished.', now()
    FROM articles AS a, people AS p
    WHERE a.slug = 'tmj-headache' AND p.slug = 'tobias-lindqvist'
    """,
    """
    UPDATE articles SET revision_number = 2, status = 'approved',
        last_reviewed_at = DATE '2026-12-02', next_review_due = DATE '2027-12-02'
    WHERE slug = 'tmj-headache'
    """,
]


def _seeds_as_before_0009(directory: Path) -> Path:
    """The seeds without corrections, which nothing before 0009 could record, and without
    pictures, red flags or translations, which the downgrade drops (0012, 0016, 0019)."""
    copy = directory / "seeds"
    shutil.copytree(SEEDS_DIRECTORY, copy)
    (copy / "red_flags.yaml").unlink(missing_ok=True)
    shutil.rmtree(copy / "translations", ignore_errors=True)
    for path in (copy / "articles").glob("*.yaml"):
        entry = yaml.safe_load(path.read_text(encoding="utf-8"))
        entry.pop("lead_image", None)
        entry.pop("corrections", None)
        path.write_text(yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8")
    people = copy / "people.yaml"
    entries = yaml.safe_load(people.read_text(encoding="utf-8"))
    for entry in entries:
        entry.pop("image", None)
    people.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    return copy


def _review_claims(rows: list) -> list:
    claims = []
    for kind, entity_id, body, tags, updated_at, reviewed_on in rows:
        document = json.loads(body)
        if kind == "article":
            graph = document["structured_data"]["@graph"]
            page, node = graph[0], graph[1]
            document = {
                **{key: document.get(key) for key in ARTICLE_CLAIMS},
                **{key: page.get(key) for key in PAGE_CLAIMS},
                **{key: node.get(key) for key in NODE_CLAIMS},
            }
        elif kind == "person":
            document = {key: document[key] for key in ("roles", "credentials")} | {
                "reviewed": [item["slug"] for item in document["articles_reviewed"]["items"]]
            }
        else:
            continue
        claims.append((kind, entity_id, document, sorted(tags), updated_at, reviewed_on))
    return claims


def test_upgrading_keeps_what_every_public_page_says(make_database, tmp_path):
    app = build_app(make_database("review_history"))
    try:
        with app.app_context():
            upgrade()
            load_seeds(_seeds_as_before_0009(tmp_path))
            db.session.commit()
            before = db.session.execute(DOCUMENTS).all()
            db.session.remove()
            downgrade(revision="0008")
            for statement in LEAKED_APPROVAL:
                db.session.execute(text(statement))
            db.session.commit()
            db.session.remove()

            upgrade()
            rerender_everything()
            db.session.commit()
            after = db.session.execute(DOCUMENTS).all()
            tmj = db.session.execute(
                text(
                    "SELECT last_reviewed_at, next_review_due FROM articles "
                    "WHERE slug = 'tmj-headache'"
                )
            ).one()
            reviews = db.session.execute(
                text(
                    "SELECT r.revision_number, r.kind, r.published_at IS NOT NULL, r.withdrawn_at "
                    "FROM medical_reviews AS r JOIN articles AS a ON a.id = r.article_id "
                    "WHERE a.slug = 'tmj-headache' ORDER BY r.revision_number"
                )
            ).all()
    finally:
        with app.app_context():
            db.engine.dispose()

    assert {kind for kind, *_ in before} == {"article", "faq", "person", "topic"}
    assert _review_claims(after) == _review_claims(before)
    # The leaked approval no longer moves the review date or the cycle.
    assert tuple(tmj) == (date(2026, 6, 8), date(2027, 6, 8))
    assert [tuple(row) for row in reviews] == [
        (1, "clinical", True, None),
        (2, "clinical", False, None),
    ]
