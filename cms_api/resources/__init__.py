"""HTTP resources: thin views that parse, call a service and respond."""

from __future__ import annotations

from flask_smorest import Api

from cms_api.resources import health, metrics
from cms_api.resources.admin import accounts as admin_accounts
from cms_api.resources.admin import articles as admin_articles
from cms_api.resources.admin import audit as admin_audit
from cms_api.resources.admin import comments as admin_comments
from cms_api.resources.admin import faqs as admin_faqs
from cms_api.resources.admin import graph as admin_graph
from cms_api.resources.admin import images as admin_images
from cms_api.resources.admin import link_suggestions as admin_link_suggestions
from cms_api.resources.admin import links as admin_links
from cms_api.resources.admin import people as admin_people
from cms_api.resources.admin import presence as admin_presence
from cms_api.resources.admin import previews as admin_previews
from cms_api.resources.admin import questions as admin_questions
from cms_api.resources.admin import red_flags as admin_red_flags
from cms_api.resources.admin import reviews as admin_reviews
from cms_api.resources.admin import topics as admin_topics
from cms_api.resources.admin import transfer as admin_transfer
from cms_api.resources.admin import unanswered as admin_unanswered
from cms_api.resources.admin import webhooks as admin_webhooks
from cms_api.resources.public import (
    answers,
    articles,
    changes,
    faqs,
    graph,
    infobutton,
    lookup,
    media,
    people,
    questions,
    red_flags,
    search,
    sitemap,
    topics,
)

BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "A token from `cms-api tokens create` or `POST /v1/admin/tokens`.",
}


def register_blueprints(api: Api) -> None:

    api.spec.components.security_scheme("bearerAuth", BEARER_SCHEME)
    public = (
        articles,
        faqs,
        people,
        topics,
        search,
        answers,
        lookup,
        infobutton,
        graph,
        changes,
        sitemap,
        questions,
        red_flags,
        media,
        health,
        metrics,
    )
    admin = (
        admin_articles,
        admin_comments,
        admin_presence,
        admin_reviews,
        admin_audit,
        admin_accounts,
        admin_questions,
        admin_unanswered,
        admin_faqs,
        admin_red_flags,
        admin_people,
        admin_topics,
        admin_images,
        admin_links,
        admin_link_suggestions,
        admin_graph,
        admin_previews,
        admin_webhooks,
        admin_transfer,
    )
    for module in (*public, *admin):
        api.register_blueprint(module.blp)
