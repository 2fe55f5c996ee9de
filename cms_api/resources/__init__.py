"""HTTP resources: thin views that parse, call a service and respond."""

from __future__ import annotations

from flask_smorest import Api

BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "A token from `cms-api tokens create` or `POST /v1/admin/tokens`.",
}


def register_blueprints(api: Api) -> None:
    # Imported here: the views import the extensions, which must exist first.
    from cms_api.resources import health
    from cms_api.resources.admin import accounts as admin_accounts
    from cms_api.resources.admin import articles as admin_articles
    from cms_api.resources.admin import audit as admin_audit
    from cms_api.resources.admin import reviews as admin_reviews
    from cms_api.resources.public import articles, faqs, people, topics

    api.spec.components.security_scheme("bearerAuth", BEARER_SCHEME)
    public = (articles, faqs, people, topics, health)
    admin = (admin_articles, admin_reviews, admin_audit, admin_accounts)
    for module in (*public, *admin):
        api.register_blueprint(module.blp)
