"""The editor studio: server-rendered pages at /studio over the same services as the API."""

# How a screen is built, so that every one keeps the same guarantees: a module here adds
# its routes to `bp` (imported below so they register), guards each with
# `security.login_required` or `security.requires(action)` (the permission matrix the API
# uses), renders with `pages.render_page` (layout, nav, messages; `pages.Form` for a form
# shown again) and writes through `actions.perform` (the service called as the signed-in
# user: committed, or its refusal returned for the form); `nav.add_section` lists it.
# CSRF, the session, security headers and HTML error pages apply to every route here.

from __future__ import annotations

from flask import Flask

from cms_api.services.accounts import permissions
from cms_api.studio import admin_transfer as admin_transfer  # registers its routes
from cms_api.studio import admin_users as admin_users  # registers its routes
from cms_api.studio import admin_webhooks as admin_webhooks  # registers its routes
from cms_api.studio import article_parts, auth, errors, home, nav, security
from cms_api.studio import articles as articles  # registers its routes
from cms_api.studio import part_credits as part_credits  # registers its routes
from cms_api.studio import part_faqs as part_faqs  # registers its routes
from cms_api.studio import part_links as part_links  # registers its routes
from cms_api.studio import part_lists as part_lists  # registers its routes
from cms_api.studio import part_media as part_media  # registers its routes
from cms_api.studio import previews as previews  # registers its routes
from cms_api.studio import questions as questions  # registers its routes
from cms_api.studio import reviews as reviews  # registers its routes
from cms_api.studio.blueprint import bp

__all__ = ["auth", "errors", "home", "register"]

bp.before_request(security.load_session)
bp.before_request(security.check_csrf)
bp.after_request(security.finish_response)


@bp.context_processor
def _template_helpers() -> dict[str, object]:
    return {
        "csrf_token": security.csrf_token,
        "csrf_field": security.CSRF_FIELD,
        "csrf_header": security.CSRF_HEADER,
        "may": security.may,
        "article_part_tabs": article_parts.tabs,
        "nav_sections": lambda role: nav.sections_for(role),
        "role_label": lambda role: nav.ROLE_LABELS.get(role, role),
        "permissions": permissions,
    }


def register(app: Flask) -> None:
    """Serve the studio at /studio (outside the OpenAPI document)."""
    app.register_blueprint(bp)
