"""The bench corpus loaded into a test's database inside a savepoint, and taken out again."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cms_api.database import db

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from corpus import load_corpus  # bench/ is not a package


@contextmanager
def corpus_published(publish: Callable[[list[uuid.UUID]], Any], **options: Any) -> Iterator[None]:
    """Inside the block, the bench corpus (`load_corpus` with `options`) is in the database
    as drafts published by `publish`; after it, the database is as it was."""
    connection = db.session.get_bind()
    db.session.close()
    undo = connection.begin_nested()
    try:
        load_corpus(db.session, publish, analyze=False, progress=lambda message: None, **options)
        yield
    finally:
        db.session.close()
        undo.rollback()
