"""Migration 0009: journal names entered as a citation's publisher become its periodical."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text

from cms_api.database import db
from tests.conftest import build_app

ARTICLE = uuid.uuid4()
# (publisher, doi, pmid) as editors entered them before 0009, and what each should become.
CITATIONS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {"publisher": "Cephalalgia", "doi": "10.1177/0333102417738202", "pmid": "29368949"},
        {"publisher": None, "periodical": "Cephalalgia"},
    ),
    (  # a DOI alone is enough
        {"publisher": "Headache", "doi": "10.1111/j.1526-4610.2010.01678.x", "pmid": None},
        {"publisher": None, "periodical": "Headache"},
    ),
    (  # so is a PubMed id alone
        {"publisher": "Pediatrics", "doi": None, "pmid": "23439909"},
        {"publisher": None, "periodical": "Pediatrics"},
    ),
    (  # a report's press has a DOI too, and is its publisher
        {"publisher": "The National Academies Press", "doi": "10.17226/25652", "pmid": None},
        {"publisher": "The National Academies Press", "periodical": None},
    ),
    (  # a web page's owner
        {"publisher": "U.S. National Library of Medicine", "doi": None, "pmid": None},
        {"publisher": "U.S. National Library of Medicine", "periodical": None},
    ),
    (
        {"publisher": None, "doi": "10.1000/xyz123", "pmid": None},
        {"publisher": None, "periodical": None},
    ),
]


@pytest.fixture
def migrated_from_0008(make_database) -> Iterator[Flask]:
    """A database at 0008 holding an article with citations and a revision, then at 0009."""
    application = build_app(make_database("periodical"))
    with application.app_context():
        upgrade(revision="0008")
        connection = db.session.connection()
        connection.execute(
            text(
                "INSERT INTO articles (id, slug, title, summary, status, call_to_actions,"
                " review_interval_months, version, revision_number)"
                " VALUES (:id, 'cited', 'Cited', '', 'draft', '[]', 12, 1, 1)"
            ),
            {"id": ARTICLE},
        )
        snapshot_citations = []
        for position, (before, _) in enumerate(CITATIONS):
            row = {"title": f"Source {position}", "authors": None, "year": 2020, **before}
            connection.execute(
                text(
                    "INSERT INTO citations (id, article_id, position, title, authors,"
                    " publisher, year, doi, pmid, url) VALUES (:id, :article, :position,"
                    " :title, :authors, :publisher, :year, :doi, :pmid, NULL)"
                ),
                {"id": uuid.uuid4(), "article": ARTICLE, "position": position, **row},
            )
            snapshot_citations.append({**row, "url": None})
        snapshot = {
            "title": "Cited",
            "summary": "",
            "sections": [],
            "citations": snapshot_citations,
            "authors": [],
            "topics": [],
        }
        connection.execute(
            text(
                "INSERT INTO revisions (id, article_id, number, snapshot, reason)"
                " VALUES (:id, :article, 1, CAST(:snapshot AS jsonb), 'create')"
            ),
            {"id": uuid.uuid4(), "article": ARTICLE, "snapshot": json.dumps(snapshot)},
        )
        db.session.commit()
        upgrade(revision="0009")
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


def test_journal_names_move_to_periodical_in_rows_and_revision_snapshots(migrated_from_0008):
    with migrated_from_0008.app_context():
        rows = db.session.execute(
            text(
                "SELECT publisher, periodical FROM citations WHERE article_id = :id"
                " ORDER BY position"
            ),
            {"id": ARTICLE},
        ).all()
        snapshot = db.session.scalar(
            text("SELECT snapshot FROM revisions WHERE article_id = :id"), {"id": ARTICLE}
        )

    expected = [(after["publisher"], after["periodical"]) for _, after in CITATIONS]
    assert [tuple(row) for row in rows] == expected
    # The snapshot says the same as the rows, and keeps every other field and the order.
    assert [(c["publisher"], c["periodical"]) for c in snapshot["citations"]] == expected
    assert [c["title"] for c in snapshot["citations"]] == [
        f"Source {n}" for n in range(len(CITATIONS))
    ]
    assert snapshot["citations"][0]["doi"] == "10.1177/0333102417738202"
    assert snapshot["title"] == "Cited"
