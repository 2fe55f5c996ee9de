"""An article's FAQs in the studio: add, edit, reorder and remove them."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, request

from cms_api.domain.errors import NotFound
from cms_api.models import Article
from cms_api.schemas.admin.faqs import AdminFaqCreate, AdminFaqPatch
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial import faqs
from cms_api.studio import article_parts as parts
from cms_api.studio import security
from cms_api.studio.blueprint import bp


def _article_faqs(article: Article) -> list[Any]:
    found = faqs.list_faqs(faqs.FaqFilters(article_id=article.id), limit=parts.LISTED, cursor=None)
    return sorted(found.items, key=lambda faq: (faq.position, faq.created_at))


parts.register("faqs", "FAQs", lambda article: {"faqs": _article_faqs(article)})


def _faq_of(article: Article, faq_id: uuid.UUID) -> Any:
    faq = faqs.get_faq(faq_id, for_update=True)
    if faq.article_id != article.id:
        raise NotFound("This FAQ is not one of this article's.")
    return faq


@bp.post("/articles/<uuid:article_id>/faqs")
@security.requires("content:write")
def add_faq(article_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        article = parts.locked_article(article_id)
        sent = parts.filled(("question", "answer"))
        data = parts.load(AdminFaqCreate(), {k: v for k, v in sent.items() if v is not None})
        last = max((faq.position for faq in _article_faqs(article)), default=-1)
        # Published: in the article's next revision, as the article's other FAQs are.
        status = "draft" if request.form.get("draft") else "published"
        return faqs.create_faq(
            {**data, "article_id": article.id, "position": last + 1, "status": status}, actor
        )

    return parts.done(article_id, "faqs", call, success="FAQ added.", active="add")


@bp.post("/articles/<uuid:article_id>/faqs/<uuid:faq_id>")
@security.requires("content:write")
def edit_faq(article_id: uuid.UUID, faq_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        article = parts.locked_article(article_id)
        faq = _faq_of(article, faq_id)
        parts.fresh(faq)
        sent = parts.filled(("question", "answer"))
        data = parts.load(AdminFaqPatch(), {k: v for k, v in sent.items() if v is not None})
        data["status"] = "draft" if request.form.get("draft") else "published"
        return faqs.update_faq(faq, data, actor)

    return parts.done(article_id, "faqs", call, success="FAQ saved.", active=f"f{faq_id}")


@bp.post("/articles/<uuid:article_id>/faqs/<uuid:faq_id>/move")
@security.requires("content:write")
def move_faq(article_id: uuid.UUID, faq_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        article = parts.locked_article(article_id)
        faq = _faq_of(article, faq_id)
        parts.fresh(faq)
        current = _article_faqs(article)
        ordered = parts.moved(current, current.index(faq), request.form.get("direction", ""))
        parts.renumber(ordered, lambda item, data: faqs.update_faq(item, data, actor))

    return parts.done(article_id, "faqs", call, success="FAQ moved.", active="list")


@bp.post("/articles/<uuid:article_id>/faqs/<uuid:faq_id>/remove")
@security.requires("content:write")
def remove_faq(article_id: uuid.UUID, faq_id: uuid.UUID) -> Response:
    def call(actor: Actor) -> Any:
        faq = _faq_of(parts.locked_article(article_id), faq_id)
        parts.fresh(faq)
        faqs.trash_faq(faq, actor)

    return parts.done(article_id, "faqs", call, success="FAQ moved to the trash.", active="list")
