"""Public JSON: orjson writes what the standard library would, and refuses what it refused."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from cms_api.database import db
from cms_api.domain import formats
from cms_api.models import PublishedDocument, Revision


def _standard(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_every_seeded_document_is_written_byte_for_byte_as_the_standard_library_would(
    app,
) -> None:
    with app.app_context():
        bodies = db.session.scalars(select(PublishedDocument.body)).all()
    assert len(bodies) > 20
    for body in bodies:
        parsed = json.loads(body)
        assert formats.dumps(parsed) == _standard(parsed) == body  # so its ETag stands


@pytest.mark.parametrize(
    "value",
    [
        {"text": 'Céphalée — « migraine » 頭痛 \u2028 \x00 \x1f \x7f " \\ / \t\n'},
        {"numbers": [0, -1, 2**63 - 1, -(2**63), 2**64 - 1, 1.5, 0.25, 1e21, 0.1 + 0.2, 5e-324]},
        {"nested": [{"a": None, "b": True, "c": False}, [], {}]},
    ],
)
def test_edge_values_are_written_as_the_standard_library_would(value: object) -> None:
    assert formats.dumps(value) == _standard(value)


def test_a_small_number_differs_only_in_how_its_exponent_is_written() -> None:
    # Python writes 1e-07, orjson 1e-7: the same number, both JSON.
    assert formats.dumps({"tiny": 1e-7}) == '{"tiny":1e-7}'
    assert json.loads(formats.dumps({"tiny": 1e-7})) == json.loads(_standard({"tiny": 1e-7}))


def test_what_orjson_refuses_is_written_the_standard_way() -> None:
    value = {1: "a key that is not a string", "big": 2**70 + 1, "negative": -(2**70) - 1}
    assert formats.dumps(value) == _standard(value)


def test_a_value_json_refuses_is_still_refused() -> None:
    for value in (date(2026, 12, 4), datetime(2026, 12, 4, tzinfo=UTC)):
        with pytest.raises(TypeError):
            formats.dumps({"when": value})


def test_the_database_writes_json_columns_with_it(app) -> None:
    with app.app_context():
        assert db.engine.dialect._json_serializer is formats.dumps
        snapshot = db.session.scalars(select(Revision.snapshot)).first()
        assert isinstance(snapshot, dict) and snapshot
        same = db.session.scalar(
            text("SELECT CAST(:ours AS jsonb) = CAST(:standard AS jsonb)"),
            {"ours": formats.dumps(snapshot), "standard": json.dumps(snapshot)},
        )
        assert same is True
