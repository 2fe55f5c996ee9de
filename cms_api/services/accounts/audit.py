"""The audit log: every admin write records who did what to which object, and how it changed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cms_api.database import db
from cms_api.domain.paging import Keyset, Page, whole_number
from cms_api.models import AuditEvent
from cms_api.services.accounts import permissions
from cms_api.services.paging import paginate

# Long text is cut in before/after summaries: the revision history keeps the full text.
SUMMARY_TEXT_LIMIT = 200


@dataclass(frozen=True)
class Actor:
    """Who is writing, for revisions and the audit log."""

    user_id: uuid.UUID | None
    request_id: str | None = None


def summarize(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    summary: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, str) and len(value) > SUMMARY_TEXT_LIMIT:
            value = value[:SUMMARY_TEXT_LIMIT] + "…"
        elif isinstance(value, list):
            value = f"{len(value)} item{'s' if len(value) != 1 else ''}"
        summary[key] = value
    return summary


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after.get(key) for key in keys}


def record(
    *,
    actor_id: uuid.UUID | None,
    action: str,
    target_type: str,
    target_id: Any,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        before=summarize(before),
        after=summarize(after),
        request_id=request_id,
    )
    db.session.add(event)
    return event


@dataclass(frozen=True)
class AuditFilters:
    actor_id: uuid.UUID | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[Any]:
        conditions = []
        if self.actor_id is not None:
            conditions.append(AuditEvent.actor_id == self.actor_id)
        if self.target_type is not None:
            conditions.append(AuditEvent.target_type == self.target_type)
        if self.target_id is not None:
            conditions.append(AuditEvent.target_id == self.target_id)
        if self.since is not None:
            conditions.append(AuditEvent.at >= self.since)
        if self.until is not None:
            conditions.append(AuditEvent.at < self.until)
        return conditions


# An entry shows the values of the object it is about (a user's e-mail and role, a token's
# prefix, a webhook's URL), so it is shown only to roles allowed to read that object where
# it lives. Other entries are about content, which every audit reader may read.
READ_PERMISSION_BY_TARGET = {
    "user": "accounts:manage",
    "token": "accounts:manage",
    "webhook": "webhooks:manage",
    "question": "questions:manage",  # a reader's e-mail address
}


def hidden_target_types(role: str) -> list[str]:
    """The target types whose audit entries `role` may not see."""
    return sorted(
        target_type
        for target_type, action in READ_PERMISSION_BY_TARGET.items()
        if not permissions.allowed(role, action)
    )


# Newest first: the event id, which only grows.
AUDIT_KEYSET = Keyset("audit", (whole_number,))


def search(
    filters: AuditFilters, *, reader_role: str, cursor: str | None, limit: int
) -> Page[AuditEvent]:
    """The entries `reader_role` may see, newest first, keyset-paginated on the event id;
    with the total matching."""
    conditions = filters.conditions()
    hidden = hidden_target_types(reader_role)
    if hidden:
        conditions.append(AuditEvent.target_type.not_in(hidden))
    return paginate(
        select(AuditEvent),
        conditions,
        order=(AuditEvent.id,),
        descending=True,
        keyset=AUDIT_KEYSET,
        cursor=cursor,
        limit=limit,
    )
