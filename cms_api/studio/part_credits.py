"""Who signs an article and what it discloses: its authors, sponsor, funder and conflicts."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, request

from cms_api.models import Article, Person
from cms_api.schemas.admin.articles import DisclosuresIn
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import people
from cms_api.studio import article_parts as parts
from cms_api.studio import security
from cms_api.studio.blueprint import bp

ORGANISATIONS = ("sponsor", "funder")


def _all_people() -> list[Person]:
    found: list[Person] = []
    cursor = None
    while True:
        page = people.list_people(people.PersonFilters(), limit=parts.LISTED, cursor=cursor)
        found.extend(page.items)
        cursor = page.next_cursor
        if not cursor:
            return sorted(found, key=lambda person: person.name.casefold())


def _context(article: Article) -> dict[str, Any]:
    stated = article.disclosures or {}
    return {
        "people": _all_people(),
        "authors": [link.person.slug for link in article.authorships],
        "byline": [link.person for link in article.authorships],
        "disclosures": {
            "conflicts_of_interest": stated.get("conflicts_of_interest"),
            **{
                f"{role}-{name}": (stated.get(role) or {}).get(name)
                for role in ORGANISATIONS
                for name in ("name", "url")
            },
        },
    }


parts.register("credits", "Authors and disclosures", _context)


@bp.post("/articles/<uuid:article_id>/authors")
@security.requires("content:assign")
def set_authors(article_id: uuid.UUID) -> Response:
    """Who the authors are: those already authors keep their places, newly ticked ones
    come after them (the byline's order is changed with `move_author`)."""

    def call(actor: Actor) -> Any:
        article = parts.locked_article(article_id)
        parts.fresh(article)
        current = [link.person.slug for link in article.authorships]
        chosen = parts.chosen_in_order(current, request.form.getlist("authors"))
        return editorial.set_authors(article, chosen, actor)

    return parts.done(article_id, "credits", call, success="Authors saved.", active="authors")


@bp.post("/articles/<uuid:article_id>/authors/<int:index>/move")
@security.requires("content:assign")
def move_author(article_id: uuid.UUID, index: int) -> Response:
    """One place up or down in the byline (the first author leads)."""

    def call(actor: Actor) -> Any:
        article = parts.locked_article(article_id)
        parts.fresh(article)
        current = [link.person.slug for link in article.authorships]
        moved = parts.moved(current, index, request.form.get("direction", ""))
        return editorial.set_authors(article, moved, actor)

    return parts.done(article_id, "credits", call, success="Authors reordered.", active="list")


@bp.post("/articles/<uuid:article_id>/disclosures")
@security.requires("content:write")
def set_disclosures(article_id: uuid.UUID) -> Response:
    """All three statements at once, replaced whole as the admin API does."""

    def call(actor: Actor) -> Any:
        article = parts.locked_article(article_id)
        parts.fresh(article)
        sent = parts.filled(
            ("conflicts_of_interest", *(f"{r}-{n}" for r in ORGANISATIONS for n in ("name", "url")))
        )
        data: dict[str, Any] = {"conflicts_of_interest": sent["conflicts_of_interest"]}
        for role in ORGANISATIONS:
            name, url = sent[f"{role}-name"], sent[f"{role}-url"]
            # An organisation is its name: a web address alone is refused by the schema, its
            # message shown by `<role>-name` (the form's names follow the nested messages).
            data[role] = None if name is None and url is None else {"name": name, "url": url}
        loaded = parts.load(DisclosuresIn(), data)
        return editorial.update_article(article, {"disclosures": loaded}, actor)

    return parts.done(
        article_id, "credits", call, success="Disclosures saved.", active="disclosures"
    )
