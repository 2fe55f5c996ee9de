"""The side-by-side preview: an article's working copy as readers will see it, and the live one."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Response

from cms_api.services.delivery import documents
from cms_api.services.editorial import articles as editorial
from cms_api.services.integrations import previews
from cms_api.studio import pages, security
from cms_api.studio.blueprint import bp


def live_document(article_id: uuid.UUID, locale: str) -> dict[str, Any] | None:
    """The document readers get now, or None when nothing of the article is live."""
    stored = documents.get_document("article", entity_id=article_id, locale=locale)
    return json.loads(stored.body) if stored is not None else None


@bp.get("/articles/<uuid:article_id>/preview")
@security.requires("content:read")
def article_preview(article_id: uuid.UUID) -> Response:
    article = editorial.get_article(article_id)
    # Rendered here, by the same renderer publishing uses: no token leaves the server and
    # no other origin is framed (the studio's policy allows neither).
    working = previews.render(article)
    return pages.render_page(
        "studio/reviews/preview.html",
        article=article,
        working=working,
        live=live_document(article.id, article.locale),
    )
