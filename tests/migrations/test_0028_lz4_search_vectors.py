"""Migration 0028: large text search vectors are compressed with lz4 where the server has it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cms_api.database import db

_COLUMNS = [
    ("search_entries", "vector"),
    ("search_entries", "passage_vectors"),
    ("answer_passages", "vector"),
]


@pytest.fixture
def with_lz4(app):
    """The app's context, on a server built with lz4 (others keep pglz: nothing to test)."""
    with app.app_context():
        offered = db.session.scalar(
            text(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'"
            )
        )
        if not offered:
            pytest.skip("this server was built without lz4")
        yield


@pytest.mark.parametrize(("table", "column"), _COLUMNS)
def test_the_column_compresses_with_lz4(with_lz4, table: str, column: str) -> None:
    method = db.session.scalar(
        text(
            "SELECT attcompression FROM pg_attribute "
            "WHERE attrelid = CAST(:table AS regclass) AND attname = :column"
        ),
        {"table": table, "column": column},
    )
    assert method == "l"


def test_the_seeded_vectors_stored_compressed_are_lz4(with_lz4) -> None:
    methods = db.session.execute(
        text(
            "SELECT pg_column_compression(passage_vectors) AS method, count(*) "
            "FROM search_entries GROUP BY 1"
        )
    ).all()
    # Some of the seeded articles' passage vectors are large enough to be compressed.
    assert dict(methods).get("lz4", 0) > 0, methods
    assert {method for method, _ in methods} <= {"lz4", None}
