"""What tests know in advance: names in the seeded content, and how a problem is served."""

from __future__ import annotations

from typing import Any

PROBLEM = "application/problem+json"
REVIEWER_PERSON = "tobias-lindqvist"  # make_token("reviewer") signs off as this person
AUTHOR_PERSON = "miriam-castellanos-reed"
SEEDED_ARTICLE = "headache-after-botox"
NO_ID = "00000000-0000-0000-0000-000000000000"


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def expect_created(response: Any, what: str) -> dict[str, Any]:
    assert response.status_code == 201, (what, response.get_json())
    return response.get_json()
