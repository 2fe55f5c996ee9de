"""`cms-api render --if-outdated`: documents stored by older rendering code are rendered once."""

from __future__ import annotations

import json

from sqlalchemy import text

from cms_api.database import db
from cms_api.domain.etags import etag_for
from cms_api.services.publishing.render_format import RENDER_FORMAT

ARTICLE = "headache-after-botox"
STORED_FORMAT = text("SELECT version FROM render_format")


def _age_the_stored_article(app) -> None:
    """As older code stored it: no section heading anchors, and format 0 on record."""
    with app.app_context():
        body = db.session.execute(
            text("SELECT body FROM published_documents WHERE kind = 'article' AND slug = :slug"),
            {"slug": ARTICLE},
        ).scalar_one()
        document = json.loads(body)
        for section in document["sections"]:
            section.pop("heading_html", None)
        body = json.dumps(document)
        db.session.execute(
            text(
                "UPDATE published_documents SET body = :body, etag = :etag "
                "WHERE kind = 'article' AND slug = :slug"
            ),
            {"body": body, "etag": etag_for(body), "slug": ARTICLE},
        )
        db.session.execute(text("UPDATE render_format SET version = 0"))
        db.session.commit()


def test_an_outdated_store_is_rendered_once_and_then_left_alone(app, runner, client):
    _age_the_stored_article(app)
    aged = client.get(f"/v1/articles/{ARTICLE}").get_json()
    assert "heading_html" not in aged["sections"][0]

    first = runner.invoke(args=["render", "--if-outdated"])
    etag = client.get(f"/v1/articles/{ARTICLE}").headers["ETag"]
    second = runner.invoke(args=["render", "--if-outdated"])

    assert first.exit_code == 0, first.output
    assert "Rendered 8 published articles" in first.output
    sections = client.get(f"/v1/articles/{ARTICLE}").get_json()["sections"]
    assert sections[0]["heading_html"].startswith(f'<h2 id="{sections[0]["key"]}">')
    with app.app_context():
        assert db.session.execute(STORED_FORMAT).scalar_one() == RENDER_FORMAT
    assert second.exit_code == 0, second.output
    assert f"already follow format {RENDER_FORMAT}" in second.output
    assert client.get(f"/v1/articles/{ARTICLE}").headers["ETag"] == etag


def test_a_store_of_a_newer_format_is_left_to_the_newer_code(app, runner, client):
    with app.app_context():
        db.session.execute(text("UPDATE render_format SET version = :v"), {"v": RENDER_FORMAT + 1})
        db.session.commit()
    etag = client.get(f"/v1/articles/{ARTICLE}").headers["ETag"]

    result = runner.invoke(args=["render", "--if-outdated"])

    assert result.exit_code == 0, result.output
    assert "already follow format" in result.output
    assert client.get(f"/v1/articles/{ARTICLE}").headers["ETag"] == etag
    with app.app_context():
        assert db.session.execute(STORED_FORMAT).scalar_one() == RENDER_FORMAT + 1


def test_a_full_render_records_the_current_format(app, runner):
    with app.app_context():
        db.session.execute(text("UPDATE render_format SET version = 0"))
        db.session.commit()

    result = runner.invoke(args=["render"])

    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(STORED_FORMAT).scalar_one() == RENDER_FORMAT
