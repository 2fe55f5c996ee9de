"""Export and import keep disclosures, advertising labels, topic specialties and periodicals."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select, text

from cms_api.database import db
from cms_api.domain.errors import DomainError
from cms_api.models import Article, Citation, Topic
from cms_api.schemas.admin.transfer import TransferRecords
from cms_api.services.accounts import users as accounts
from cms_api.services.accounts.audit import Actor
from cms_api.services.delivery import documents as delivery
from cms_api.services.editorial import articles as editorial
from cms_api.services.integrations.transfer import export, importer
from cms_api.services.publishing.articles import publish_article
from tests.conftest import build_app

SLUG = "tmj-headache"
DISCLOSURES = {
    "sponsor": {"name": "Brightwell Pharmacy Group", "url": "https://www.example.com/"},
    "conflicts_of_interest": "The reviewer has advised a maker of night guards.",
}


def _dispose(app: Flask) -> None:
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture(scope="module")
def source(make_database, seeded_template: str) -> Iterator[Flask]:
    """The seeds (a funder, specialties, periodicals) plus a published sponsor and an
    advertising call to action."""
    app = build_app(make_database("transparency_source", template=seeded_template))
    with app.app_context():
        editor = accounts.create_user(email="ed@example.org", name="Ed", role="editor")
        article = db.session.scalars(select(Article).where(Article.slug == SLUG)).one()
        advert = {
            "key": "night-guard",
            "kind": "booking",
            "title": "Night guards",
            "advertising": True,
            "advertising_label": "Sponsored",
        }
        editorial.update_article(
            article,
            {"disclosures": DISCLOSURES, "call_to_actions": [*article.call_to_actions, advert]},
            Actor(user_id=editor.id),
        )
        publish_article(article.id)
        db.session.commit()
    yield app
    _dispose(app)


@pytest.fixture(scope="module")
def exported(source: Flask) -> str:
    with source.app_context():
        stream = io.StringIO()
        export.export(stream)
    return stream.getvalue()


@pytest.fixture
def target(make_database) -> Iterator[Flask]:
    app = build_app(make_database("transparency_target"))
    with app.app_context():
        upgrade()
    yield app
    _dispose(app)


def _transparency(app: Flask) -> dict[str, Any]:
    """What this feature stores and publishes, as comparable values."""
    with app.app_context():
        document = delivery.get_document("article", slug=SLUG)
        assert document is not None
        body = json.loads(document.body)
        return {
            "disclosures": dict(
                db.session.execute(select(Article.slug, Article.disclosures)).all()
            ),
            "specialties": dict(db.session.execute(select(Topic.slug, Topic.specialty)).all()),
            "periodicals": sorted(
                (title, periodical or "")
                for title, periodical in db.session.execute(
                    select(Citation.title, Citation.periodical)
                )
            ),
            "document": (
                body["disclosures"],
                body["call_to_actions"],
                body["citations"],
                body["topics"],
                body["structured_data"],
            ),
        }


def test_a_round_trip_keeps_disclosures_labels_specialties_and_periodicals(
    exported, source, target
):
    with target.app_context():
        report = importer.import_(io.BytesIO(exported.encode()), TransferRecords())
        db.session.commit()
    assert report.changed

    before, after = _transparency(source), _transparency(target)

    assert after == before
    assert after["disclosures"][SLUG] == DISCLOSURES
    assert after["disclosures"]["lip-filler-swelling"]["funder"]["name"] == (
        "Calder Vale Skin Health Trust"
    )
    assert after["specialties"]["headache"] == "Neurologic"
    assert "Cephalalgia" in {periodical for _, periodical in after["periodicals"]}
    disclosures, call_to_actions, *_ = after["document"]
    assert disclosures["sponsor"] == DISCLOSURES["sponsor"]
    assert call_to_actions[-1]["label"] == "Sponsored"


def _records(data: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines() if line.strip()]


def _lines(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def test_bad_disclosures_and_specialties_in_a_file_are_named_and_nothing_is_imported(
    exported, target
):
    records = _records(exported)
    article = next(r for r in records if r["type"] == "article" and r["slug"] == SLUG)
    topic = next(r for r in records if r["type"] == "topic" and r["slug"] == "headache")
    citation = next(r for r in records if r["type"] == "citation")
    article["disclosures"] = {"sponsor": {"name": "X", "url": "javascript:alert(1)"}}
    topic["specialty"] = "Headacheology"
    citation["periodical"] = "x" * 301

    with target.app_context():
        with pytest.raises(DomainError) as refused:
            importer.import_(io.BytesIO(_lines(records).encode()), TransferRecords())
        db.session.rollback()
        articles = db.session.scalar(text("SELECT count(*) FROM articles"))

    lines = refused.value.extra["errors"]["lines"]
    assert "disclosures" in lines[str(records.index(article) + 1)]
    assert "specialty" in lines[str(records.index(topic) + 1)]
    assert "periodical" in lines[str(records.index(citation) + 1)]
    assert articles == 0
