"""What tests know in advance: names in the seeded content, and how a problem is served."""

from __future__ import annotations

from typing import Any

PROBLEM = "application/problem+json"
REVIEWER_PERSON = "tobias-lindqvist"  # make_token("reviewer") signs off as this person
AUTHOR_PERSON = "miriam-castellanos-reed"
SEEDED_ARTICLE = "headache-after-botox"
NO_ID = "00000000-0000-0000-0000-000000000000"
# An approval body: the kind is required (a correction also needs a public `note`).
CLINICAL = {"kind": "clinical"}
# What an article needs besides an author before it may be published.
PUBLISHABLE = {
    "disclaimer": "General information only, not a diagnosis.",
    "sections": [{"key": "overview", "heading": "Overview", "body": "What to know."}],
}


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def expect_created(response: Any, what: str) -> dict[str, Any]:
    assert response.status_code == 201, (what, response.get_json())
    return response.get_json()
