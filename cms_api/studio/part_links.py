"""An article's related links in the studio, and the suggestions it may accept."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, request

from cms_api.domain.errors import NotFound, ValidationFailed
from cms_api.models import Article
from cms_api.models.article import LINK_RELATIONS
from cms_api.schemas.admin.links import AdminLinkCreate, AdminLinkPatch
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import link_suggestions, links
from cms_api.studio import article_parts as parts
from cms_api.studio import security
from cms_api.studio.blueprint import bp


def _article_links(article: Article) -> list[Any]:
    found = links.list_links(article, relation=None, trashed=False, limit=parts.LISTED, cursor=None)
    return list(found.items)


def _link_targets(article: Article, query: str) -> list[Article]:
    """Articles this one may link to: originals in its locale, itself left out."""
    chosen = editorial.ArticleFilters(locale=article.locale, q=query or None)
    found = editorial.list_articles(chosen, limit=parts.LISTED, cursor=None)
    return sorted(
        (item for item in found.items if item.id != article.id and item.source_id is None),
        key=lambda item: item.title.casefold(),
    )


def _context(article: Article) -> dict[str, Any]:
    query = request.args.get("q", "").strip()[:200]
    suggestions: list[Any] = []
    if article.deleted_at is None and article.source_id is None:
        suggestions, _total = link_suggestions.suggest(article, limit=10)
    return {
        "links": _article_links(article),
        "targets": _link_targets(article, query),
        "query": query,
        "suggestions": suggestions,
        "relations": LINK_RELATIONS,
    }


parts.register("links", "Related links", _context)


def _link_of(article: Article, link_id: uuid.UUID) -> Any:
    link = links.get_link(link_id, for_update=True, include_trashed=False)
    if link.source_id != article.id:
        raise NotFound("This link does not start from this article.")
    return link


@bp.post("/articles/<uuid:article_id>/links")
@security.requires("content:assign")
def add_link(article_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        article = parts.locked_article(article_id)
        sent = parts.filled(("target_id", "relation", "weight", "anchor_text"))
        if sent["target_id"] is None:
            raise ValidationFailed(
                "Choose the article to link to.",
                errors={"json": {"target_id": ["Choose an article."]}},
            )
        data = parts.load(AdminLinkCreate(), {k: v for k, v in sent.items() if v is not None})
        return links.create_link(article, data, actor)

    return parts.done(article_id, "links", call, success="Related link added.", active="add")


@bp.post("/articles/<uuid:article_id>/links/<uuid:link_id>")
@security.requires("content:assign")
def edit_link(article_id: uuid.UUID, link_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        link = _link_of(parts.locked_article(article_id), link_id)
        parts.fresh(link)
        sent = parts.filled(("relation", "weight", "anchor_text"))
        data = parts.load(AdminLinkPatch(), {k: v for k, v in sent.items() if v is not None})
        data.setdefault("anchor_text", None)
        return links.update_link(link, data, actor)

    return parts.done(
        article_id, "links", call, success="Related link saved.", active=f"l{link_id}"
    )


@bp.post("/articles/<uuid:article_id>/links/<uuid:link_id>/move")
@security.requires("content:assign")
def move_link(article_id: uuid.UUID, link_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        article = parts.locked_article(article_id)
        link = _link_of(article, link_id)
        parts.fresh(link)
        current = _article_links(article)
        ordered = parts.moved(current, current.index(link), request.form.get("direction", ""))
        parts.renumber(ordered, lambda item, data: links.update_link(item, data, actor))

    return parts.done(article_id, "links", call, success="Related link moved.", active="list")


@bp.post("/articles/<uuid:article_id>/links/<uuid:link_id>/remove")
@security.requires("content:assign")
def remove_link(article_id: uuid.UUID, link_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        link = _link_of(parts.locked_article(article_id), link_id)
        parts.fresh(link)
        links.trash_link(link, actor)

    return parts.done(article_id, "links", call, success="Related link removed.", active="list")


@bp.post("/articles/<uuid:article_id>/links/suggestions/<uuid:target_id>/accept")
@security.requires("content:assign")
def accept_suggestion(article_id: uuid.UUID, target_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        article = parts.locked_article(article_id)
        return link_suggestions.accept(article, target_id, {}, actor)

    return parts.done(
        article_id, "links", call, success="Suggestion accepted: link added.", active="list"
    )
