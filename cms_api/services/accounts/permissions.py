"""Who may do what on the admin API: the whole permission matrix, in one place."""

from __future__ import annotations

ADMIN, EDITOR, REVIEWER, VIEWER = "admin", "editor", "reviewer", "viewer"
EVERYONE = frozenset({ADMIN, EDITOR, REVIEWER, VIEWER})
WRITERS = frozenset({ADMIN, EDITOR})

# action → roles allowed. Views name an action; nothing else grants access.
PERMISSIONS: dict[str, frozenset[str]] = {
    "content:read": EVERYONE,  # drafts included: a preview frontend runs as a viewer
    "content:write": WRITERS,  # create, edit, trash, restore, revisions
    "content:assign": WRITERS,  # authors and links: state-bearing fields, own endpoints
    "workflow:submit": WRITERS,
    "workflow:review": frozenset({REVIEWER}),  # approve / request changes: reviewers only
    # Each kind of approval, checked on top of workflow:review: a clinical review resets
    # the page's review date and cycle, a correction approves a minor edit and does not.
    "workflow:review:clinical": frozenset({REVIEWER}),
    "workflow:review:correction": frozenset({REVIEWER}),
    "workflow:publish": WRITERS,  # publish, unpublish, archive
    "audit:read": frozenset({ADMIN, EDITOR}),
    "accounts:manage": frozenset({ADMIN}),
    "questions:manage": WRITERS,
    # A topic FAQ's own review (an article's FAQs are reviewed with the article).
    "faqs:submit": WRITERS,
    "faqs:review": frozenset({REVIEWER}),  # approve / request changes: reviewers only
    "previews:create": WRITERS,  # mint a short-lived token that shows a draft on delivery
    "webhooks:manage": frozenset({ADMIN}),
    "content:transfer": frozenset({ADMIN}),  # export and import everything
    # The media library: everyone reads it (a reviewer checks an article's pictures and
    # their alt text); only those who write content upload, edit and trash images.
    "media:read": EVERYONE,
    "media:write": WRITERS,
    # Review comments: those who write or review content discuss it; a viewer reads along.
    # Whose comment it is (only its author edits or deletes it) is the comment service's
    # check, on top of this one.
    "comments:write": frozenset({ADMIN, EDITOR, REVIEWER}),
    # Resolve or reopen any thread, not only one's own.
    "comments:resolve": frozenset({ADMIN, EDITOR, REVIEWER}),
}


def allowed(role: str, action: str) -> bool:
    return role in PERMISSIONS[action]
