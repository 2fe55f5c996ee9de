"""Which workflow moves an article's status allows: what the workflow checks, and editors see."""

from __future__ import annotations

from cms_api.domain.errors import Conflict
from cms_api.models import Article

# transition → the statuses it may start from.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "submit": ("draft",),
    "approve": ("in_review",),
    "request-changes": ("in_review", "approved"),
    "publish": ("approved",),
    "unpublish": ("draft", "in_review", "approved", "published"),
    "archive": ("draft", "in_review", "approved", "published"),
}


def allowed_transitions(article: Article) -> list[str]:
    """The moves open to the article now; unpublishing needs something published."""
    allowed = [name for name, sources in TRANSITIONS.items() if article.status in sources]
    if article.live_revision is None and "unpublish" in allowed:
        allowed.remove("unpublish")
    return allowed


def illegal_transition(what: str, status: str, transition: str, allowed: list[str]) -> Conflict:
    """The 409 for a move the workflow does not allow from `status`, naming those it does."""
    return Conflict(
        f"Cannot {transition} {what} that is {status}. "
        f"Allowed from here: {', '.join(allowed) or 'none'}.",
        kind="illegal-transition",
        status_now=status,
        allowed_transitions=allowed,
    )
