"""The review of content reviewed on its own, not with an article: topic FAQs and red flags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import Conflict
from cms_api.models import Faq, Person, RedFlag, User
from cms_api.services.accounts import audit
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial.common import check_reviews_in, jsonable
from cms_api.services.editorial.transitions import illegal_transition
from cms_api.services.publishing.credentials import reviewer_problems

# The content with a status, a reviewer (`reviewed_by_id`) and a review date (`reviewed_on`)
# of its own.
Reviewed = TypeVar("Reviewed", Faq, RedFlag)


@dataclass(frozen=True)
class Review(Generic[Reviewed]):
    """The moves one kind of content makes through its review, each checked and audited.

    `transitions` maps a transition to the statuses it may start from; `what` names the
    content in a refused move's 409 ("a red flag"); `precondition`, when given, refuses a
    move (by raising) before its status is looked at.
    """

    kind: str  # names its audit actions
    what: str
    transitions: dict[str, tuple[str, ...]]
    precondition: Callable[[Reviewed], None] | None = None

    def allowed(self, entity: Reviewed) -> list[str]:
        """The transitions open to the entity's status now."""
        return [name for name, sources in self.transitions.items() if entity.status in sources]

    def check(self, entity: Reviewed, transition: str) -> None:
        """A 409 (`illegal-transition`) unless the transition is open now."""
        if self.precondition is not None:
            self.precondition(entity)
        if entity.status not in self.transitions[transition]:
            raise illegal_transition(self.what, entity.status, transition, self.allowed(entity))

    def move(
        self, entity: Reviewed, transition: str, status: str, actor: Actor, **after: Any
    ) -> Reviewed:
        """Take the transition to `status` and audit it, `after` recorded beside the status."""
        self.check(entity, transition)
        before, entity.status = entity.status, status
        db.session.flush()
        audit.record(
            actor_id=actor.user_id,
            action=f"{self.kind}.{transition.replace('-', '_')}",
            target_type=self.kind,
            target_id=entity.id,
            before={"status": before},
            after=jsonable({"status": entity.status, **after}),
            request_id=actor.request_id,
        )
        return entity

    def sign(self, entity: Reviewed, reviewer: User) -> Person:
        """Name the reviewer and today's date on content awaiting approval, once the reviewer
        is eligible (a person holding a credential valid today); the caller then takes the
        `approve` transition with `move`, in the same flush. Returns the reviewer's person.

        A reviewer whose `review_locales` leave out the content's locale is refused (403)."""
        self.check(entity, "approve")
        today = utcnow().date()
        problems = reviewer_problems(reviewer.person, today)
        if problems:
            raise Conflict(
                f"This reviewer cannot approve: {' '.join(problems)}",
                kind="reviewer-not-eligible",
                reasons=problems,
            )
        assert reviewer.person is not None
        check_reviews_in(reviewer.person, entity.locale)
        entity.reviewed_by_id, entity.reviewed_on = reviewer.person.id, today
        return reviewer.person
