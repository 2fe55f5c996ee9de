"""Rendering studio pages: the messages waiting for the browser, and form state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Response, make_response, render_template

from cms_api.database import db
from cms_api.domain.errors import DomainError
from cms_api.services.accounts import sessions
from cms_api.studio import security

# Form fields whose value a page never echoes back.
SECRET_FIELDS = frozenset({"password", "password_confirmation", "token", security.CSRF_FIELD})


@dataclass
class Form:
    """What a form shows again after a refusal: the values sent (secrets left out), a
    message for the whole form, and messages per field."""

    values: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_request(cls, form: Any) -> Form:
        return cls(values={k: v for k, v in form.items() if k not in SECRET_FIELDS})

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    def refuse(self, message: str, **errors: list[str]) -> Form:
        self.message = message
        self.errors.update(errors)
        return self

    def refuse_with(self, error: DomainError) -> Form:
        """A service's refusal: its detail for the form, its field messages per field."""
        fields = (error.extra.get("errors") or {}).get("json") or {}
        messages = {
            name: [str(m) for m in found] if isinstance(found, list) else [str(found)]
            for name, found in fields.items()
        }
        return self.refuse(error.detail, **messages)

    @property
    def invalid(self) -> bool:
        return self.message is not None or bool(self.errors)


def notice(text: str, *, category: str = "info") -> None:
    """Show `text` on the next page this signed-in browser gets (after a redirect)."""
    session = security.current_session()
    if session is not None:
        sessions.add_notice(session, text, category=category)


def render_page(template: str, *, status: int = 200, **context: Any) -> Response:
    """A studio page, with the messages waiting for this browser (shown once)."""
    session = security.current_session()
    notices = context.pop("notices", [])
    if session is not None and session.notices:
        notices = [*sessions.take_notices(session), *notices]
        db.session.commit()
    user = security.current_user()
    return make_response(render_template(template, user=user, notices=notices, **context), status)
