"""HTTP resources: thin views that parse, call a service and respond."""

from __future__ import annotations

from flask_smorest import Api


def register_blueprints(api: Api) -> None:
    from cms_api.resources import health
    from cms_api.resources.public import articles, faqs, people, topics

    for module in (articles, faqs, people, topics, health):
        api.register_blueprint(module.blp)
