"""The frame of an article's sub-pages (its parts): their tabs, and the rules each write keeps."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import Response, redirect, request, url_for

from cms_api.domain.errors import DomainError, ValidationFailed
from cms_api.models import Article
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial import articles as editorial
from cms_api.studio import actions, pages, security
from cms_api.studio.blueprint import bp

# The sub-pages' tabs, in this order; each part's module registers its own with `register`.
ORDER = ("citations", "actions", "faqs", "links", "topics", "images", "credits")
LISTED = 200  # more than an article has parts; the page shows them all
STALE = (
    "Someone changed this since you opened the page, so your change was not saved. "
    "The page now shows the current state: check it and make your change again."
)


@dataclass(frozen=True)
class Part:
    """One sub-page: `studio.article_<key>` shows it, with what `context` lists."""

    key: str
    label: str
    context: Callable[[Article], dict[str, Any]]


PARTS: dict[str, Part] = {}


def register(
    key: str,
    label: str,
    context: Callable[[Article], dict[str, Any]],
    *,
    action: str = "content:read",
) -> None:
    """Add a part: its tab, and its page at /studio/articles/<id>/<key> for those whose
    role may `action` (its writes are its module's own routes)."""
    if key not in ORDER:
        raise ValueError(f"Give the part {key!r} its place in ORDER.")
    PARTS[key] = Part(key, label, context)

    @security.requires(action)
    def show(article_id: uuid.UUID) -> Response:
        return page(article_id, key)

    bp.add_url_rule(f"/articles/<uuid:article_id>/{key}", f"article_{key}", show, methods=["GET"])


def tabs() -> list[tuple[str, str]]:
    """(key, label) of every part, in the order the tabs show."""
    return [(key, PARTS[key].label) for key in ORDER if key in PARTS]


# -- reading ------------------------------------------------------------------------------------


def article_of(article_id: uuid.UUID) -> Article:
    return editorial.get_article(article_id, include_trashed=True)


def page(
    article_id: uuid.UUID,
    key: str,
    *,
    status: int = 200,
    form: pages.Form | None = None,
    active: str | None = None,
    conflict: str | None = None,
) -> Response:
    """The part's sub-page; `active` names the form the state in `form` belongs to."""
    article = article_of(article_id)
    part = PARTS[key]
    return pages.render_page(
        f"studio/parts/{key}.html",
        status=status,
        article=article,
        tab=key,
        tab_label=part.label,
        tabs=tabs(),
        form=form or pages.Form(),
        active=active,
        conflict=conflict,
        **part.context(article),
    )


# -- writing ------------------------------------------------------------------------------------


def load(schema: ma.Schema, data: dict[str, Any]) -> dict[str, Any]:
    """The form's values through the admin API's own schema, its messages as a 422."""
    try:
        return schema.load(data)
    except ma.ValidationError as error:
        messages = error.normalized_messages()
        raise ValidationFailed(
            "Some values need fixing; see the messages by the fields.",
            errors={"json": messages},
        ) from error


def filled(names: tuple[str, ...]) -> dict[str, Any]:
    """The named form fields; an empty one is left unset (null), as the API has it."""
    return {name: (request.form.get(name) or "").strip() or None for name in names}


def fresh(entity: Any) -> None:
    """The If-Match rule of the admin API: a write made from an old version is refused."""
    if request.form.get("version", "") != str(entity.version):
        raise DomainError(STALE, status=412, kind="precondition-failed")


def locked_article(article_id: uuid.UUID) -> Article:
    return editorial.get_article(article_id, for_update=True)


def done(
    article_id: uuid.UUID,
    key: str,
    call: Callable[[Actor], Any],
    *,
    success: str,
    active: str,
) -> Response:
    """Run the write; then back to the sub-page, or the page again with the refusal."""
    form = pages.Form.from_request(request.form)
    outcome = actions.perform(call)
    if outcome.ok:
        pages.notice(success, category="success")
        return redirect(url_for(f"studio.article_{key}", article_id=article_id), code=303)
    error = outcome.error
    assert error is not None
    if error.status in (412, 428):
        return page(article_id, key, status=409, conflict=error.detail)
    return page(
        article_id,
        key,
        status=422 if error.status in (400, 422) else error.status,
        form=form.refuse_with(error),
        active=active,
    )


def moved(items: list[Any], index: int, direction: str) -> list[Any]:
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= index < len(items) or not 0 <= other < len(items):
        raise ValidationFailed("This item cannot move that way.")
    items = list(items)
    items[index], items[other] = items[other], items[index]
    return items


def renumber(ordered: list[Any], update: Callable[[Any, dict[str, Any]], Any]) -> None:
    """Positions 0..n-1 in the order given, writing only the items that move."""
    for position, item in enumerate(ordered):
        if item.position != position:
            update(item, {"position": position})


def chosen_in_order(current: list[str], chosen: list[str]) -> list[str]:
    """A checkbox list's choice: the order things were chosen in stays, and newly chosen
    ones come after (a form of checkboxes sends them in page order)."""
    ordered = [slug for slug in current if slug in chosen]
    return ordered + [slug for slug in dict.fromkeys(chosen) if slug not in ordered]
