"""The start page: who is signed in, what their role may do, and what awaits them now."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Response

from cms_api.domain.clock import utcnow
from cms_api.models import Article, User
from cms_api.services.accounts import audit, permissions
from cms_api.services.editorial import articles as editorial
from cms_api.studio import nav, pages, security
from cms_api.studio.blueprint import bp

nav.add_section(
    nav.Section(
        endpoint="studio.home",
        label="Start",
        description="Your role, what it lets you do, and where to go next.",
    )
)

# A credential ending this soon is shown before it expires, so it can be renewed in time.
EXPIRING_WITHIN = timedelta(days=60)
DRAFTS_SHOWN = 20


def credentials_to_renew(user: User, today: date) -> list[dict[str, Any]]:
    """The credentials of the person `user` signs off as that expired or expire soon."""
    person = user.person
    if person is None:
        return []
    return [
        {
            "name": credential.name,
            "valid_until": credential.valid_until,
            "expired": credential.valid_until < today,
        }
        for credential in sorted(person.credentials, key=lambda c: c.position)
        if credential.valid_until is not None and credential.valid_until < today + EXPIRING_WITHIN
    ]


def _last_article_event(article: Article) -> Any:
    page = audit.search(
        audit.AuditFilters(target_type="article", target_id=str(article.id)),
        reader_role=permissions.ADMIN,  # article entries carry no personal data
        cursor=None,
        limit=1,
    )
    return page.items[0] if page.items else None


def editor_work(user: User) -> dict[str, list[dict[str, Any]]]:
    """Drafts, most recently changed first: those sent back by a reviewer (with the note),
    and the others this user worked on."""
    drafts = editorial.list_articles(
        editorial.ArticleFilters(status="draft"), limit=DRAFTS_SHOWN, cursor=None
    ).items
    returned, mine = [], []
    for article in drafts:
        event = _last_article_event(article)
        if event is not None and event.action == "article.request_changes":
            returned.append({"article": article, "notes": (event.after or {}).get("notes")})
        elif event is not None and event.actor_id == user.id:
            mine.append({"article": article})
    return {"returned": returned, "drafts": mine}


@bp.get("/")
@security.login_required
def home() -> Response:
    user = security.current_user()
    assert user is not None  # login_required
    today = utcnow().date()
    context: dict[str, Any] = {}
    if permissions.allowed(user.role, "workflow:review") and user.person is not None:
        # Imported here, not at the top: Start is registered first, so it leads the nav.
        from cms_api.studio import reviews

        context["queue"] = reviews.awaiting(user)
        context["overdue"] = reviews.overdue(user)
        context["credentials"] = credentials_to_renew(user, today)
    if permissions.allowed(user.role, "content:write"):
        context["work"] = editor_work(user)
    return pages.render_page(
        "studio/home.html",
        role_name=nav.ROLE_LABELS.get(user.role, user.role),
        capabilities=nav.capabilities_of(user.role),
        sections=[s for s in nav.sections_for(user.role) if s.endpoint != "studio.home"],
        is_admin=user.role == permissions.ADMIN,
        today=today,
        **context,
    )
