"""The studio's sections: each screen registers one, and the nav and start page list it."""

from __future__ import annotations

from dataclasses import dataclass

from cms_api.services.accounts import permissions


@dataclass(frozen=True)
class Section:
    """A screen of the studio: where it is, what it is called, who may open it."""

    endpoint: str  # for url_for, such as "studio.articles"
    label: str
    description: str
    action: str | None = None  # the permission it needs; None: every signed-in user


SECTIONS: list[Section] = []


def add_section(section: Section) -> Section:
    """Register a section (once, when its module is imported), in the order added."""
    if all(existing.endpoint != section.endpoint for existing in SECTIONS):
        SECTIONS.append(section)
    return section


def sections_for(role: str) -> list[Section]:
    return [
        section
        for section in SECTIONS
        if section.action is None or permissions.allowed(role, section.action)
    ]


# What each role is for, in the words the start page uses.
ROLE_LABELS = {
    permissions.ADMIN: "Administrator",
    permissions.EDITOR: "Editor",
    permissions.REVIEWER: "Medical reviewer",
    permissions.VIEWER: "Viewer",
}

# The permission matrix in plain words, for "what you can do" on the start page.
CAPABILITIES: dict[str, str] = {
    "content:read": "Read every article, FAQ, topic and person, drafts included",
    "content:write": "Write and edit articles, FAQs, topics and people",
    "workflow:submit": "Submit articles for medical review",
    "workflow:review": "Approve articles or request changes as a medical reviewer",
    "workflow:publish": "Publish, unpublish and archive articles",
    "questions:manage": "Answer readers' questions",
    "audit:read": "Read the audit log",
    "media:write": "Upload and edit images",
    "accounts:manage": "Manage users and their access",
    "webhooks:manage": "Manage webhooks",
    "content:transfer": "Export and import all content",
}


def capabilities_of(role: str) -> list[str]:
    return [text for action, text in CAPABILITIES.items() if permissions.allowed(role, action)]
