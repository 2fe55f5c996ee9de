"""A topic's or a person's text in the site's other locales: save, list, remove, re-render."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.domain.errors import NotFound, ValidationFailed
from cms_api.domain.locales import normalized
from cms_api.models import Person, PersonTranslation, Topic, TopicTranslation
from cms_api.services.accounts import audit
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial.common import jsonable
from cms_api.services.runtime import settings

Owner = TypeVar("Owner", Topic, Person)
Row = TypeVar("Row", TopicTranslation, PersonTranslation)


def _as_given(values: dict[str, Any]) -> dict[str, Any]:
    return values


@dataclass(frozen=True)
class TranslatedText(Generic[Owner, Row]):
    """The translations of one kind of owner (`owner.translations`, one row per locale).

    The owner row holds the default locale's text, so a translation is for another of the
    site's locales. Each write audits the change, bumps the owner's version (its ETag
    covers its translations) and re-renders what shows the owner (`changed`).
    """

    kind: str  # "topic": names audit actions and messages
    model: type[Row]
    fields: tuple[str, ...]
    changed: Callable[[uuid.UUID], None]
    clean: Callable[[dict[str, Any]], dict[str, Any]] = _as_given

    def translatable(self, tag: str) -> str:
        """The locale in its normal form, or a 422: not a tag, not one of the site's
        locales, or the default locale (whose text is the owner's own)."""
        locale = normalized(tag)
        offered = settings().locales
        if locale is None:
            raise _bad_locale(f"{tag!r} is not a BCP 47 language tag such as 'es'.")
        if locale not in offered:
            raise _bad_locale(f"{locale} is not one of this site's locales: {', '.join(offered)}.")
        if locale == settings().default_locale:
            raise _bad_locale(
                f"{locale} is the default locale: its text is the {self.kind}'s own; edit the "
                f"{self.kind} instead."
            )
        return locale

    def find(self, owner: Owner, tag: str) -> Row:
        """The owner's translation into `tag`, or a 404."""
        locale = self.translatable(tag)
        for row in owner.translations:
            if row.locale == locale:
                return row  # type: ignore[return-value]
        raise NotFound(f"The {self.kind} has no {locale} translation.")

    def save(self, owner: Owner, tag: str, data: dict[str, Any], actor: Actor) -> tuple[Row, bool]:
        """Create or replace the translation into `tag` with `data` (fields left out are
        emptied); returns it and whether it is new."""
        locale = self.translatable(tag)
        values = self.clean({name: data.get(name) for name in self.fields})
        row = next((item for item in owner.translations if item.locale == locale), None)
        before = None if row is None else self._state(row)
        if row is None:
            row = self.model(id=uuid.uuid4(), locale=locale, **values)
            owner.translations.append(row)  # type: ignore[arg-type]
        else:
            for name, value in values.items():
                setattr(row, name, value)
        db.session.flush()
        after = self._state(row)
        if before is None:
            self._record(owner, "translation_create", None, {"locale": locale, **after}, actor)
        else:
            changed_before, changed_after = audit.changed_fields(before, after)
            if not changed_after:
                return row, False  # type: ignore[return-value]
            self._record(
                owner,
                "translation_update",
                {"locale": locale, **changed_before},
                {"locale": locale, **changed_after},
                actor,
            )
        self._touch(owner)
        return row, before is None  # type: ignore[return-value]

    def remove(self, owner: Owner, tag: str, actor: Actor) -> None:
        """Delete the translation into `tag` (a 404 when there is none): readers of that
        locale no longer find the owner's text in it."""
        row = self.find(owner, tag)
        before = {"locale": row.locale, **self._state(row)}
        owner.translations.remove(row)  # type: ignore[arg-type]
        db.session.flush()
        self._record(owner, "translation_delete", before, None, actor)
        self._touch(owner)

    def present(self, row: Row) -> dict[str, Any]:
        """The admin representation of one translation."""
        return {
            "locale": row.locale,
            **{name: getattr(row, name) for name in self.fields},
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }

    def _state(self, row: Row) -> dict[str, Any]:
        return jsonable({name: getattr(row, name) for name in self.fields})

    def _touch(self, owner: Owner) -> None:
        # Translations live in their own table; touching the owner's row bumps its version
        # (and so its ETag), then the documents showing it are rendered again.
        owner.updated_at = utcnow()
        db.session.flush()
        self.changed(owner.id)

    def _record(
        self,
        owner: Owner,
        action: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        actor: Actor,
    ) -> None:
        audit.record(
            actor_id=actor.user_id,
            action=f"{self.kind}.{action}",
            target_type=self.kind,
            target_id=owner.id,
            before=before,
            after=after,
            request_id=actor.request_id,
        )


def _bad_locale(message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={"path": {"locale": [message]}})
