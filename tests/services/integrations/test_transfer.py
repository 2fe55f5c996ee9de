"""Export and import: content moves between databases intact, and a bad file changes nothing."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select, text

from cms_api import document_cache
from cms_api.database import db
from cms_api.domain.errors import DomainError
from cms_api.models import Article, RelatedLink
from cms_api.schemas.admin.transfer import SCHEMAS, TransferRecords
from cms_api.services.accounts import users as accounts
from cms_api.services.accounts.audit import Actor
from cms_api.services.editorial import articles as editorial
from cms_api.services.editorial import links
from cms_api.services.integrations.transfer import export, importer
from cms_api.services.integrations.transfer.kinds import KINDS
from cms_api.services.publishing.articles import change_slug
from tests.conftest import build_app

ARTICLE = "headache-after-botox"
RENAMED = ("tmj-headache", "tmj-and-headaches")  # former slug → current slug
RED_FLAG = "thunderclap-headache"  # seeded published, with a reviewer
# What a reader or an editor sees of a database's content, besides the content rows.
DERIVED = ("published_documents", "change_events", "search_entries")
# The ids each record type names.
REFERENCES = {
    "credential": ("person_id",),
    "person_translation": ("person_id",),
    "red_flag": ("reviewed_by_id",),
    "topic": ("parent_id",),
    "medical_code": ("topic_id",),
    "topic_translation": ("topic_id",),
    "article": ("source_id",),
    "former_slug": ("article_id",),
    "section": ("article_id", "parent_id"),
    "citation": ("article_id",),
    "article_author": ("article_id", "person_id"),
    "article_topic": ("article_id", "topic_id"),
    "medical_review": ("article_id", "reviewer_id"),
    "faq": ("article_id", "topic_id"),
    "related_link": ("source_id", "target_id"),
    "revision": ("article_id",),
}


def _dispose(app: Flask) -> None:
    with app.app_context():
        for engine in db.engines.values():  # the delivery pool too: test clients read it
            engine.dispose()


@pytest.fixture(scope="module")
def source(make_database, seeded_template: str) -> Iterator[Flask]:
    """The seeds plus a little of everything an editor leaves behind: an unpublished edit
    (by a user, who is not content), a renamed article, a draft, the trash."""
    app = build_app(make_database("transfer_source", template=seeded_template))
    with app.app_context():
        editor = accounts.create_user(email="ed@example.org", name="Ed", role="editor")
        actor = Actor(user_id=editor.id)
        articles = {a.slug: a for a in db.session.scalars(select(Article))}
        editorial.update_article(
            articles["liver-rash"], {"title": "Liver disease and the skin"}, actor
        )
        change_slug(articles[RENAMED[0]].id, RENAMED[1])
        editorial.create_article(
            {"slug": "sunburn-relief", "title": "Sunburn relief", "summary": "Cool it down."},
            actor,
        )
        editorial.trash_article(articles["lip-filler-swelling"], actor)
        link = db.session.scalars(select(RelatedLink).order_by(RelatedLink.id)).first()
        assert link is not None
        links.trash_link(link, actor)
        db.session.commit()
    yield app
    _dispose(app)


@pytest.fixture(scope="module")
def target_database(make_database) -> Iterator[Flask]:
    app = build_app(make_database("transfer_target"))
    with app.app_context():
        upgrade()
    yield app
    _dispose(app)


@pytest.fixture
def target(target_database: Flask) -> Flask:
    """A new environment: migrated, and empty (emptied again for each test)."""
    with target_database.app_context():
        tables = ", ".join(table.name for table in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # Emptied behind publishing's back: say so, as publishing would, so no worker's
        # document cache keeps serving what was there.
        db.session.execute(text("NOTIFY cms_documents"))
        db.session.commit()
    document_cache.clear_local()
    return target_database


@pytest.fixture(scope="module")
def exported(source: Flask) -> str:
    with source.app_context():
        stream = io.StringIO()
        export.export(stream)
    return stream.getvalue()


def _import(app: Flask, data: str, **options: Any) -> dict[str, Any]:
    with app.app_context():
        report = importer.import_(io.BytesIO(data.encode()), TransferRecords(), **options)
        db.session.commit()
        return report.as_dict()


def _refused(app: Flask, data: str) -> DomainError:
    with app.app_context():
        with pytest.raises(DomainError) as refused:
            importer.import_(io.BytesIO(data.encode()), TransferRecords())
        db.session.rollback()
    return refused.value


def _rows(app: Flask) -> dict[str, list[dict[str, Any]]]:
    """Every content row, by record type, in a stable order."""
    with app.app_context():
        return {
            kind.name: [
                dict(row._mapping)
                for row in db.session.execute(
                    text(f"SELECT * FROM {kind.table.name} ORDER BY {', '.join(kind.key)}")
                )
            ]
            for kind in KINDS
        }


def _documents(app: Flask) -> dict[tuple[str, str], tuple[str | None, str, str]]:
    with app.app_context():
        rows = db.session.execute(
            text("SELECT kind, entity_id, slug, etag, body FROM published_documents")
        )
        return {
            (kind, str(entity_id)): (slug, etag, body) for kind, entity_id, slug, etag, body in rows
        }


def _fingerprint(app: Flask) -> dict[str, tuple[int, str]]:
    """Row count and row versions (xmin) of every content and derived table: any write to
    a row, even one that leaves its values alone, gives it a new xmin."""
    tables = [kind.table.name for kind in KINDS] + list(DERIVED)
    with app.app_context():
        return {
            table: tuple(
                db.session.execute(
                    text(f"SELECT count(*), string_agg(xmin::text, ',' ORDER BY ctid) FROM {table}")
                ).one()
            )
            for table in tables
        }


def _records(data: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines()]


def _lines(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def test_the_export_lists_parents_before_children_between_a_header_and_an_end(exported):
    records = _records(exported)
    header, end, body = records[0], records[-1], records[1:-1]

    assert header["type"] == "header"
    assert (header["format"], header["version"]) == ("cms-api-export", 2)
    assert header["schema"]
    assert end == {
        "type": "end",
        "records": {kind.name: sum(r["type"] == kind.name for r in body) for kind in KINDS},
    }
    seen: set[str] = set()
    for record in body:
        # Whatever a record names (its owner, its parent, a person) is on an earlier line.
        for name in REFERENCES.get(record["type"], ()):
            assert record[name] is None or record[name] in seen, (record["type"], name)
        if "id" in record:
            seen.add(record["id"])
    statuses = {r["slug"]: r["status"] for r in body if r["type"] == "article"}
    assert statuses["sunburn-relief"] == "draft"
    trashed = [r for r in body if r["type"] == "article" and r["deleted_at"] is not None]
    assert [r["slug"] for r in trashed] == ["lip-filler-swelling"]


def test_content_moves_to_a_fresh_database_with_its_ids_slugs_revisions_and_links(
    source, exported, target
):
    report = _import(target, exported)

    assert report["changed"] and not report["dry_run"]
    assert report["types"]["article"] == {
        "records": 9,
        "inserted": 9,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
    }
    # Revisions name their author, a user; users stay behind, so the author is cleared.
    assert any("revisions name an author" in warning for warning in report["warnings"])
    expected, imported = _rows(source), _rows(target)
    assert sorted(r["reason"] for r in expected["revision"] if r["author_id"]) == ["create", "edit"]
    for revision in expected["revision"]:
        revision["author_id"] = None
    assert imported == expected
    # Rendered again by the target, every published document is the source's, byte for
    # byte, with the same ETag.
    assert _documents(target) == _documents(source)

    reader, original = target.test_client(), source.test_client()
    article = reader.get(f"/v1/articles/{ARTICLE}")
    assert article.status_code == 200
    assert article.data == original.get(f"/v1/articles/{ARTICLE}").data
    assert article.headers["ETag"] == original.get(f"/v1/articles/{ARTICLE}").headers["ETag"]
    moved = reader.get(f"/v1/articles/{RENAMED[0]}")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith(f"/v1/articles/{RENAMED[1]}")
    assert reader.get("/v1/articles/sunburn-relief").status_code == 404  # still a draft
    assert reader.get("/v1/articles/lip-filler-swelling").status_code == 404  # still trashed
    edited = reader.get("/v1/articles/liver-rash").get_json()
    assert edited["title"] != "Liver disease and the skin"  # the edit awaits review
    # Red flags' guidance is rendered again too: same words, same reviewer, same ETag.
    guidance = reader.get(f"/v1/red-flags/{RED_FLAG}")
    assert guidance.status_code == 200
    assert guidance.get_json()["reviewed_by"] is not None
    assert guidance.data == original.get(f"/v1/red-flags/{RED_FLAG}").data
    assert guidance.headers["ETag"] == original.get(f"/v1/red-flags/{RED_FLAG}").headers["ETag"]


def test_importing_the_same_file_twice_changes_nothing(exported, target):
    _import(target, exported)
    before = _fingerprint(target)
    etag = target.test_client().get(f"/v1/articles/{ARTICLE}").headers["ETag"]

    again = _import(target, exported)

    assert not again["changed"]
    assert again["rendered_articles"] == 0
    assert all(
        counts["unchanged"] == counts["records"] and counts["deleted"] == 0
        for counts in again["types"].values()
    )
    # No row written (versions, updated_at and all), no document re-rendered, no event.
    assert _fingerprint(target) == before
    assert target.test_client().get(f"/v1/articles/{ARTICLE}").headers["ETag"] == etag


def test_a_file_with_one_bad_line_applies_nothing(exported, target):
    records = _records(exported)
    article_id = next(r["id"] for r in records if r.get("slug") == ARTICLE)
    unknown = str(uuid.uuid4())
    records.insert(
        -1,
        {
            "type": "related_link",
            "id": str(uuid.uuid4()),
            "source_id": article_id,
            "target_id": unknown,
            "relation": "see_also",
            "weight": 0.5,
            "anchor_text": None,
            "position": 9,
            "deleted_at": None,
            "version": 1,
        },
    )
    records[-1]["records"]["related_link"] += 1
    before = _fingerprint(target)

    problem = _refused(target, _lines(records))

    assert problem.status == 422
    bad_line = str(len(records) - 1)
    assert problem.extra["errors"] == {
        "lines": {
            bad_line: {
                "target_id": [
                    f"Unknown article {unknown}: neither in the file nor in this database."
                ]
            }
        }
    }
    assert "1 line is" in problem.detail and "nothing was imported" in problem.detail
    assert _fingerprint(target) == before
    assert target.test_client().get(f"/v1/articles/{ARTICLE}").status_code == 404


def test_each_bad_line_is_named_with_what_is_wrong_with_it(exported, target):
    records = _records(exported)[:-1]  # the end record is lost on the way
    person = next(r for r in records if r["type"] == "person")
    person["slug"] = None
    section = next(r for r in records if r["type"] == "section")
    del section["heading"]
    records.insert(2, {"type": "webhook", "id": str(uuid.uuid4())})
    lines = _lines(records).splitlines()
    lines.insert(3, "{not json")

    def line_of(record: dict[str, Any]) -> str:
        return str(lines.index(json.dumps(record)) + 1)

    problem = _refused(target, "\n".join(lines) + "\n")

    errors = problem.extra["errors"]["lines"]
    assert errors == {
        "3": {"type": [errors["3"]["type"][0]]},
        "4": {"_schema": [errors["4"]["_schema"][0]]},
        line_of(person): {"slug": ["Field may not be null."]},
        line_of(section): {"heading": ["Missing data for required field."]},
        str(len(lines) + 1): {"type": ["The file ends without its end record: it was cut short."]},
    }
    assert errors["3"]["type"][0].startswith("Unknown record type 'webhook'; one of: article,")
    assert errors["4"]["_schema"][0].startswith("Not JSON")
    assert problem.detail == "5 lines are invalid; nothing was imported."


def test_what_no_single_line_shows_is_checked_across_the_file(exported, target):
    records = _records(exported)
    topics = [r for r in records if r["type"] == "topic" and r["parent_id"] is not None]
    child, parent = topics[0], next(r for r in records if r.get("id") == topics[0]["parent_id"])
    parent["parent_id"] = child["id"]  # a loop in the tree
    article = next(r for r in records if r["type"] == "article" and r["slug"] == ARTICLE)
    article["live_revision"] = 99
    former = next(r for r in records if r["type"] == "former_slug")
    former["slug"] = ARTICLE  # already another article's current slug
    person = next(r for r in records if r["type"] == "person")
    records.insert(records.index(person) + 1, dict(person))
    records[-1]["records"]["person"] += 1

    problem = _refused(target, _lines(records))

    def line(record: dict[str, Any]) -> str:
        return str(records.index(record) + 1)

    errors = problem.extra["errors"]["lines"]
    assert errors[str(records.index(person) + 2)]["id"] == [
        f"The same person is on line {line(person)}."
    ]
    assert errors[line(child)]["parent_id"][0].startswith("Its parents lead back to it")
    assert errors[line(parent)]["parent_id"][0].startswith("Its parents lead back to it")
    assert errors[line(article)] == {
        "live_revision": ["The file has no revision 99 of this article."]
    }
    assert errors[line(former)] == {
        "slug": [f"'{ARTICLE}' is also the current slug of the article on line {line(article)}."]
    }


def test_a_slug_another_article_has_in_the_target_is_refused(exported, target):
    with target.app_context():
        editorial.create_article({"slug": ARTICLE, "title": "Local draft"}, Actor(user_id=None))
        db.session.commit()
    line = next(i for i, r in enumerate(_records(exported), 1) if r.get("slug") == ARTICLE)

    problem = _refused(target, exported)

    message = problem.extra["errors"]["lines"][str(line)]["slug"][0]
    assert message.startswith(f"The slug '{ARTICLE}' belongs to another article")


def test_an_import_restores_an_article_edited_in_the_target_to_the_file(exported, target):
    _import(target, exported)
    imported = _rows(target)
    with target.app_context():
        article = db.session.scalar(select(Article).where(Article.slug == ARTICLE))
        assert article is not None
        editorial.update_article(
            article,
            {"sections": [{"key": "only", "heading": "Only", "body": "Replaced."}]},
            Actor(user_id=None),
        )
        db.session.commit()
        edited_version = article.version

    report = _import(target, exported)

    counts = report["types"]
    assert counts["article"]["updated"] == 1
    assert counts["section"]["inserted"] > 0 and counts["section"]["deleted"] == 1
    assert counts["revision"]["deleted"] == 1  # the target's own edit
    restored = _rows(target)
    changed = next(r for r in restored["article"] if r["slug"] == ARTICLE)
    # A version the target never issued, so an ETag taken before the import is stale.
    assert changed["version"] == edited_version + 1
    for rows in (restored, imported):
        for row in rows["article"]:
            row.pop("version")
    assert restored == imported


def test_a_dry_run_reports_what_would_change_and_applies_nothing(exported, target):
    before = _fingerprint(target)

    report = _import(target, exported, dry_run=True)

    assert report["dry_run"] and report["changed"]
    assert report["types"]["revision"]["inserted"] == report["types"]["revision"]["records"]
    assert report["rendered_articles"] == 0
    assert _fingerprint(target) == before


def test_the_cli_moves_content_through_a_file(source, target, tmp_path: Path):
    path = tmp_path / "content.ndjson"

    exported = source.test_cli_runner().invoke(args=["export", str(path)])
    checked = target.test_cli_runner().invoke(args=["import", str(path), "--dry-run"])
    imported = target.test_cli_runner().invoke(args=["import", str(path)])
    again = target.test_cli_runner().invoke(args=["import", str(path)])

    assert exported.exit_code == 0, exported.output
    assert "image_file, 4 person" in exported.output
    assert path.read_text().startswith('{"type":"header"')
    assert checked.exit_code == 0 and "Would change the database." in checked.output
    assert imported.exit_code == 0, imported.output
    assert "Changed the database." in imported.output
    assert again.exit_code == 0 and "Nothing to change." in again.output
    moved = target.test_client().get(f"/v1/articles/{ARTICLE}")
    assert moved.status_code == 200
    # Images travel as records (their files stay in the media storage): same picture, same URLs.
    original = source.test_client().get(f"/v1/articles/{ARTICLE}").get_json()["lead_image"]
    assert original is not None
    assert moved.get_json()["lead_image"] == original


def test_the_cli_names_the_bad_lines_and_fails(target, tmp_path: Path):
    path = tmp_path / "broken.ndjson"
    path.write_text('{"type": "person"}\n')

    result = target.test_cli_runner().invoke(args=["import", str(path)])

    assert result.exit_code == 1
    assert "line 1: type: The first line must be the header record." in result.output
    assert "nothing was imported" in result.output


def test_each_record_schema_names_every_column_of_its_table():
    for kind in KINDS:
        fields = SCHEMAS[kind.name].fields
        assert set(fields) == set(kind.columns), kind.name
        for column in kind.table.columns:
            assert fields[column.name].allow_none == column.nullable, (kind.name, column.name)
