"""The fan-out: everyone who follows published documents hears of each change, on commit."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from sqlalchemy import event, insert, text
from sqlalchemy.orm import Session

from cms_api import document_cache
from cms_api.database import db
from cms_api.models import ChangeEvent
from cms_api.services.publishing import outbox, search_index

# (kind, entity id, slug, action, locale): one published document that was published,
# updated, unpublished or deleted, and the locale it is (or was) in.
Change = tuple[str, uuid.UUID, str | None, str, str]

# Actions that leave a document in place; a withdrawn one leaves the search index by
# itself (the foreign key cascades).
_STORED = ("published", "updated")


def announce(
    changes: Iterable[Change],
    search_texts: Mapping[tuple[str, uuid.UUID], search_index.SearchTexts | None] | None = None,
) -> None:
    """Tell the change feed, the search index, every worker's document cache and the
    webhook outbox what happened to these documents.

    Everything is written in the caller's transaction, so it all becomes visible when the
    change does, and not at all if it rolls back. The documents are already stored (or
    gone): the index and the webhooks' surrogate keys are read from them. `search_texts`,
    by (kind, entity id), are those of the documents just rendered
    (`search_index.search_texts`).
    """
    events = [
        {"kind": kind, "entity_id": entity_id, "slug": slug, "action": action, "locale": locale}
        for kind, entity_id, slug, action, locale in changes
    ]
    if not events:
        return
    # The table, not the ORM entity: one batched statement, no bookkeeping per row.
    db.session.execute(insert(ChangeEvent.__table__), events)
    search_index.index_documents(
        ((item["kind"], item["entity_id"]) for item in events if item["action"] in _STORED),
        search_texts,
    )
    _notify_document_caches({(item["kind"], item["entity_id"]) for item in events})
    outbox.content_changed(events)


def _notify_document_caches(changed: set[tuple[str, uuid.UUID]]) -> None:
    """Tell every worker's document cache, on commit, which published documents changed.

    The notifications name them (a bulk publish too large to name says "everything"), so
    a worker drops those and keeps the rest.
    """
    db.session.execute(
        text("SELECT pg_notify(:channel, payload) FROM unnest(CAST(:payloads AS text[])) payload"),
        {"channel": document_cache.CHANNEL, "payloads": document_cache.payloads(changed)},
    )
    # This process's caches hear it too, through their listener thread, milliseconds
    # later; dropping the documents at commit makes the writer's own next read fresh.
    pending = db.session.info.setdefault("documents_changed", set())
    pending.update(changed)


@event.listens_for(Session, "after_commit")
def _documents_committed(session: Session) -> None:
    changed = session.info.pop("documents_changed", None)
    if changed:
        document_cache.drop_local(changed)


@event.listens_for(Session, "after_rollback")
def _documents_rolled_back(session: Session) -> None:
    session.info.pop("documents_changed", None)
