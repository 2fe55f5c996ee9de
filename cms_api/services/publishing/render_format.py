"""The format stored documents are rendered in, and bringing older documents up to it once."""

from __future__ import annotations

from sqlalchemy import func, select

from cms_api.database import db
from cms_api.models import RenderFormat
from cms_api.services.publishing.cascade import rerender_everything

# Bump when rendering changes what a stored document says for the same content (a new
# field, a new JSON-LD node, new HTML), so deploys render every document again once.
#   1: section heading anchors, images, related URLs, summaries' canonical URL, WebSite
#      node, topic synonyms.
#   2: locales: every document's `locale`; articles' translations, `translation_of` and
#      `outdated`, JSON-LD `inLanguage` and work translations; per-locale topic and
#      person documents; API URLs with `?locale=` outside the default locale.
RENDER_FORMAT = 2


def stored_format() -> int:
    return db.session.scalar(select(RenderFormat.version)) or 0


def bring_up_to_date() -> int | None:
    """Render every published document again if they follow an older format.

    Returns how many articles were rendered, or None when the documents were current (or
    newer: during a rolling deploy the older code leaves them alone). The row is locked
    until commit, so two deploy steps never both render everything.
    """
    row = db.session.scalars(select(RenderFormat).with_for_update()).one()
    if row.version >= RENDER_FORMAT:
        return None
    count = rerender_everything()
    mark_current(row)
    return count


def mark_current(row: RenderFormat | None = None) -> None:
    """Record that every stored document follows this code's format (after rendering all)."""
    row = row or db.session.scalars(select(RenderFormat).with_for_update()).one()
    if row.version < RENDER_FORMAT:
        row.version = RENDER_FORMAT
        row.updated_at = func.now()
