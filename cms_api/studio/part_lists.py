"""An article's ordered lists kept in its content: citations and calls to action."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import Response, request

from cms_api.domain.errors import DomainError
from cms_api.models import Article
from cms_api.schemas.admin.articles import CallToActionIn, CitationIn
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial import articles as editorial
from cms_api.studio import article_parts as parts
from cms_api.studio import security
from cms_api.studio.blueprint import bp

Items = list[dict[str, Any]]
# Every kind the schema allows (CTA_KINDS; a test holds them equal), as editors read it.
KIND_LABELS = {
    "symptom_checker": "Symptom checker",
    "ask_question": "Ask a question",
    "newsletter": "Newsletter",
    "booking": "Booking",
}


@dataclass(frozen=True)
class ContentList:
    """A list field of the article's content, edited one item at a time: each write
    replaces the whole list through `update_article`, as a PATCH would."""

    key: str  # the sub-page: /studio/articles/<id>/<key>
    field: str  # the admin API's name for the list
    label: str
    noun: str  # one item, for messages
    endpoint: str  # studio.add_<endpoint>, studio.edit_<endpoint>, ...
    schema: type[ma.Schema]
    names: tuple[str, ...]
    numbers: tuple[str, ...] = ()  # sent as text, a number in JSON
    flags: tuple[str, ...] = ()  # checkboxes: true or false in JSON
    derived_key: bool = False  # a blank `key` is made from the title

    def read(self, article: Article) -> Items:
        """The list as saved (citations are rows, calls to action JSON), as plain dicts."""
        fields = (*self.names, *self.flags)
        return [
            {
                name: item.get(name) if isinstance(item, dict) else getattr(item, name)
                for name in fields
            }
            for item in getattr(article, self.field)
        ]

    def from_form(self) -> dict[str, Any]:
        sent: dict[str, Any] = parts.filled(self.names)
        for name in self.numbers:
            if sent[name] is not None and sent[name].isdigit():
                sent[name] = int(sent[name])  # text that is not a number the schema refuses
        for name in self.flags:
            sent[name] = bool(request.form.get(name))
        if self.derived_key and sent.get("key") is None and sent.get("title"):
            sent["key"] = _key_from(sent["title"])
        return parts.load(self.schema(), sent)


def _key_from(title: str) -> str:
    """A title as a key: lower-case words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", title.casefold())[:80].strip("-") or "action"


CITATIONS = ContentList(
    key="citations",
    field="citations",
    label="Citations",
    noun="Citation",
    endpoint="citation",
    schema=CitationIn,
    names=("title", "authors", "publisher", "periodical", "year", "doi", "pmid", "url"),
    numbers=("year",),
)
CALLS_TO_ACTION = ContentList(
    key="actions",
    field="call_to_actions",
    label="Calls to action",
    noun="Call to action",
    endpoint="call_to_action",
    schema=CallToActionIn,
    names=("key", "kind", "title", "body", "button_label", "url", "advertising_label"),
    flags=("advertising",),
    derived_key=True,
)


def _writer(kind: ContentList, article_id: uuid.UUID, change: Callable[[Items], Items]):
    def call(actor: Actor) -> Any:
        article = parts.locked_article(article_id)
        parts.fresh(article)
        return editorial.update_article(article, {kind.field: change(kind.read(article))}, actor)

    return call


def _at(current: Items, index: int) -> None:
    if index >= len(current):
        raise DomainError(parts.STALE, status=412)


def _routes(kind: ContentList) -> None:
    """The list's four writes: add, edit, move and remove an item."""
    base = f"/articles/<uuid:article_id>/{kind.key}"

    @security.requires("content:write")
    def add(article_id: uuid.UUID) -> Response:
        call = _writer(kind, article_id, lambda current: [*current, kind.from_form()])
        return parts.done(article_id, kind.key, call, success=f"{kind.noun} added.", active="add")

    @security.requires("content:write")
    def edit(article_id: uuid.UUID, index: int) -> Response:
        def change(current: Items) -> Items:
            _at(current, index)
            current[index] = kind.from_form()
            return current

        call = _writer(kind, article_id, change)
        success = f"{kind.noun} saved."
        return parts.done(article_id, kind.key, call, success=success, active=f"c{index}")

    @security.requires("content:write")
    def move(article_id: uuid.UUID, index: int) -> Response:
        direction = request.form.get("direction", "")
        call = _writer(kind, article_id, lambda items: parts.moved(items, index, direction))
        return parts.done(article_id, kind.key, call, success=f"{kind.noun} moved.", active="list")

    @security.requires("content:write")
    def remove(article_id: uuid.UUID, index: int) -> Response:
        def change(current: Items) -> Items:
            _at(current, index)
            return current[:index] + current[index + 1 :]

        call = _writer(kind, article_id, change)
        success = f"{kind.noun} removed."
        return parts.done(article_id, kind.key, call, success=success, active="list")

    bp.add_url_rule(base, f"add_{kind.endpoint}", add, methods=["POST"])
    bp.add_url_rule(f"{base}/<int:index>", f"edit_{kind.endpoint}", edit, methods=["POST"])
    bp.add_url_rule(f"{base}/<int:index>/move", f"move_{kind.endpoint}", move, methods=["POST"])
    bp.add_url_rule(
        f"{base}/<int:index>/remove", f"remove_{kind.endpoint}", remove, methods=["POST"]
    )


for _kind, _extra in ((CITATIONS, {}), (CALLS_TO_ACTION, {"kind_labels": KIND_LABELS})):
    _routes(_kind)
    parts.register(
        _kind.key,
        _kind.label,
        lambda article, kind=_kind, extra=_extra: {"items": kind.read(article), **extra},
    )
