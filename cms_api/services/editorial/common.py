"""The contract every editable content type keeps (lookups, lists, audit, trash), in one place."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic

from psycopg import errors as pg_errors
from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.exc import IntegrityError

from cms_api.database import db
from cms_api.domain.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from cms_api.domain.locales import language
from cms_api.domain.paging import Keyset, Page
from cms_api.models import Person, Topic
from cms_api.services.accounts import audit
from cms_api.services.accounts.audit import Actor
from cms_api.services.paging import paginate
from cms_api.services.trash import Trashable


@dataclass(frozen=True)
class ContentType(Generic[Trashable]):
    """One kind of editable content with a version and a trash, as the admin API drives it.

    `get(id, *, for_update=False, include_trashed=False)` refuses trashed rows unless asked,
    so an edit needs a restore first. `list(filters, *, limit, cursor)` and `create` are
    None where the content is listed or created under another object (an article's links).
    """

    kind: str  # names its ETags and audit actions
    get: Callable[..., Trashable]
    update: Callable[[Trashable, dict[str, Any], Actor], Trashable]
    trash: Callable[[Trashable, Actor], None]
    restore: Callable[[Trashable, Actor], Trashable]
    present: Callable[[Trashable], dict[str, Any]]
    filters: type | None = None
    list: Callable[..., Page[Trashable]] | None = None
    create: Callable[[dict[str, Any], Actor], Trashable] | None = None


def fetch(
    model: type[Trashable],
    entity_id: uuid.UUID,
    *,
    label: str,
    for_update: bool = False,
    include_trashed: bool = False,
) -> Trashable:
    """One row by id; trashed rows only when asked for, so edits need a restore first."""
    query = select(model).where(model.id == entity_id)
    if for_update:
        # Writers queue on the row, so the If-Match check sees the latest version.
        query = query.with_for_update()
    entity = db.session.scalar(query)
    if entity is None:
        raise NotFound(f"No {label} has this id.")
    if entity.deleted_at is not None and not include_trashed:
        raise NotFound(f"The {label} is in the trash; restore it first.")
    return entity


def slug_taken(model: type[Person] | type[Topic], slug: str, entity_id: uuid.UUID | None) -> bool:
    """Whether another row of `model` has the slug; trashed rows keep theirs, so restoring
    one never finds it taken."""
    query = select(model.id).where(model.slug == slug)
    if entity_id is not None:
        query = query.where(model.id != entity_id)
    return bool(db.session.scalar(select(exists(query))))


def reviews_in(review_locales: list[str], locale: str) -> bool:
    """Whether a reviewer reviews content in `locale`: anyone listing no locales does; else
    a listed tag equal to it, or a bare language covering its regions ("es": "es-MX")."""
    if not review_locales:
        return True
    return any(
        entry == locale or ("-" not in entry and entry == language(locale))
        for entry in review_locales
    )


def check_reviews_in(person: Person, locale: str) -> None:
    """A 403 unless the reviewer's `review_locales` cover the content's locale."""
    if not reviews_in(person.review_locales, locale):
        raise Forbidden(
            f"{person.name} reviews content in {', '.join(person.review_locales)}, "
            f"not in {locale}.",
            review_locales=list(person.review_locales),
            locale=locale,
        )


def invalid(field: str, message: str) -> DomainError:
    """A 422 naming one body field, shaped like marshmallow's own validation errors."""
    return ValidationFailed(message, errors={"json": {field: [message]}})


def slug_conflict(slug: str) -> Conflict:
    return Conflict(
        f"The slug {slug!r} is already in use.", errors={"json": {"slug": ["Already in use."]}}
    )


@contextmanager
def unique_or_conflict(field: str) -> Iterator[None]:
    """Turn a unique violation that raced past the pre-check into a 409, not a 500."""
    try:
        yield
    except IntegrityError as error:
        if isinstance(error.orig, pg_errors.UniqueViolation):
            raise Conflict(
                f"The {field} is already in use.", errors={"json": {field: ["Already in use."]}}
            ) from None
        raise


def like_pattern(text: str) -> str:
    """`text` anywhere, with LIKE's wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    return f"%{escaped}%"


def jsonable(value: Any) -> Any:
    """A value as the audit log's JSONB can hold it."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    return value


def record_update(
    kind: str, entity_id: uuid.UUID, before: dict[str, Any], after: dict[str, Any], actor: Actor
) -> bool:
    """Audit the fields an edit changed; False (and nothing recorded) when none did."""
    changed_before, changed_after = audit.changed_fields(jsonable(before), jsonable(after))
    if not changed_after:
        return False
    audit.record(
        actor_id=actor.user_id,
        action=f"{kind}.update",
        target_type=kind,
        target_id=entity_id,
        before=changed_before,
        after=changed_after,
        request_id=actor.request_id,
    )
    return True


def record_create(kind: str, entity_id: uuid.UUID, after: dict[str, Any], actor: Actor) -> None:
    audit.record(
        actor_id=actor.user_id,
        action=f"{kind}.create",
        target_type=kind,
        target_id=entity_id,
        after=jsonable(after),
        request_id=actor.request_id,
    )


def recently_changed(
    model: type[Trashable],
    conditions: list[ColumnElement[bool]],
    *,
    trashed: bool,
    keyset: Keyset,
    cursor: str | None,
    limit: int,
) -> Page[Trashable]:
    """Most recently changed first (on `updated_at`, `id`), in the trash or out of it."""
    in_trash = model.deleted_at.is_not(None) if trashed else model.deleted_at.is_(None)
    return paginate(
        select(model),
        [in_trash, *conditions],
        order=(model.updated_at, model.id),
        descending=True,
        keyset=keyset,
        cursor=cursor,
        limit=limit,
    )
