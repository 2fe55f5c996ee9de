"""Calling a service as the signed-in user: its write committed, or its refusal for a form."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import g

from cms_api.database import db
from cms_api.domain.errors import DomainError
from cms_api.services.accounts.audit import Actor
from cms_api.services.publishing.render_lock import hold_render_lock
from cms_api.studio import security

T = TypeVar("T")

# Refusals a person fixes in the form they sent (bad value, conflict, stale version); any
# other (not found, forbidden, busy) is an error page.
FORM_STATUSES = frozenset({400, 409, 412, 422, 428})


def actor() -> Actor:
    """The signed-in user, as services record who did what (revisions, the audit log)."""
    user = security.current_user()
    if user is None:
        raise RuntimeError("actor() needs a signed-in user: decorate the view.")
    return Actor(user_id=user.id, request_id=g.get("request_id"))


@dataclass(frozen=True)
class Done(Generic[T]):
    """What a service call came to: its value, or the refusal to show in the form."""

    value: T | None = None
    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def perform(call: Callable[[Actor], T], *, writes: bool = True) -> Done[T]:
    """Run `call(actor)` and commit, as the admin API does: a write first takes its turn
    at the render lock (a busy lock is a 503 page), so documents it re-renders never miss
    another writer's change. A refusal in FORM_STATUSES is rolled back and returned for
    the form; any other error propagates to the studio's error pages."""
    if writes:
        hold_render_lock(bounded=True)
    try:
        value = call(actor())
    except DomainError as error:
        if error.status not in FORM_STATUSES:
            raise
        db.session.rollback()
        return Done(error=error)
    db.session.commit()
    return Done(value=value)
