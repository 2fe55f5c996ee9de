"""`cms-api render`: every published document rendered again, e.g. for a new site address."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select

from cms_api.database import db
from cms_api.models import ChangeEvent


def _events(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ChangeEvent)) or 0


def test_render_with_nothing_changed_changes_no_document(app, runner, client):
    before = client.get("/v1/articles/headache-after-botox").headers["ETag"]
    events = _events(app)

    result = runner.invoke(args=["render"])

    assert result.exit_code == 0, result.output
    assert "Rendered 8 published articles" in result.output
    assert client.get("/v1/articles/headache-after-botox").headers["ETag"] == before
    assert _events(app) == events, "identical documents are not updates"


def test_render_after_a_new_public_base_url_uses_it(app, runner, client):
    settings = app.config["CMS_SETTINGS"]
    app.config["CMS_SETTINGS"] = dataclasses.replace(
        settings, public_base_url="https://health.example.net"
    )
    try:
        result = runner.invoke(args=["render"])
    finally:
        app.config["CMS_SETTINGS"] = settings

    assert result.exit_code == 0, result.output
    graph = client.get("/v1/articles/headache-after-botox/jsonld").get_json()["@graph"]
    publisher = next(node for node in graph if node["@type"] == "Organization")
    assert publisher["url"] == "https://health.example.net/"
    people = [node for node in graph if node["@type"] == "Person"]
    assert people and all(p["@id"].startswith("https://health.example.net/people/") for p in people)
    assert _events(app) > 0
