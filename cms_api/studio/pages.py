"""Rendering studio pages: the messages waiting for the browser, and form state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
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
        return self.refuse(error.detail, **field_messages(fields))

    @property
    def invalid(self) -> bool:
        return self.message is not None or bool(self.errors)


def field_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's (possibly nested) messages by the form's field names: a section's
    heading is `sections-0-heading`."""
    found: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}-{key}" if prefix else str(key)
            if isinstance(value, dict):
                found.update(field_messages(value, name))
            else:
                items = value if isinstance(value, list) else [value]
                found[name] = [str(item) for item in items]
    return found


def validated(
    schema: ma.Schema, data: dict[str, Any], form: Form, message: str
) -> dict[str, Any] | None:
    """`data` as the admin API's own schema loads it, or None with `message` and the
    schema's messages by their fields on `form`."""
    try:
        return schema.load(data)
    except ma.ValidationError as error:
        form.refuse(message, **field_messages(error.normalized_messages()))
        return None


def notice(text: str, *, category: str = "info") -> None:
    """Show `text` on the next page this signed-in browser gets (after a redirect).

    Committed at once: a notice follows a write `actions.perform` has committed already,
    and the redirect that comes next ends the request without a commit of its own."""
    session = security.current_session()
    if session is not None:
        sessions.add_notice(session, text, category=category)
        db.session.commit()


def render_page(template: str, *, status: int = 200, **context: Any) -> Response:
    """A studio page, with the messages waiting for this browser (shown once)."""
    session = security.current_session()
    notices = context.pop("notices", [])
    if session is not None and session.notices:
        notices = [*sessions.take_notices(session), *notices]
        db.session.commit()
    user = security.current_user()
    return make_response(render_template(template, user=user, notices=notices, **context), status)
