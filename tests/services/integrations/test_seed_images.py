"""Seeded pictures: drawn for the project, small, described, on every article and person."""

from __future__ import annotations

from pathlib import Path

import yaml
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cms_api.database import db
from cms_api.models import Image
from cms_api.services.integrations.seeds import SEEDS_DIRECTORY, load_seeds

IMAGES = SEEDS_DIRECTORY / "images"


def _manifest() -> list[dict]:
    return yaml.safe_load((SEEDS_DIRECTORY / "images.yaml").read_text(encoding="utf-8"))


def test_seed_pictures_are_small_drawn_files_each_described():
    entries = _manifest()
    files = sorted(path.name for path in IMAGES.iterdir() if path.suffix in (".jpg", ".png"))

    assert sorted(entry["file"] for entry in entries) == files
    assert (IMAGES / "draw.py").exists()
    for entry in entries:
        assert (IMAGES / entry["file"]).stat().st_size < 100_000, entry["file"]
        assert len(entry["alt_text"].split()) >= 2, entry["file"]


def test_every_seeded_article_and_person_shows_a_picture(client: FlaskClient):
    articles = client.get("/v1/articles", query_string={"limit": 50}).get_json()["items"]
    seeded = {path.stem for path in (SEEDS_DIRECTORY / "articles").glob("*.yaml")}
    assert {item["slug"] for item in articles} >= seeded
    for slug in seeded:
        image = client.get(f"/v1/articles/{slug}").get_json()["lead_image"]
        assert image and image["alt"], slug
    people = client.get("/v1/people").get_json()["items"]
    assert people and all(person["image"]["alt"] for person in people)


def test_seeding_again_adds_no_picture(app):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Image))
        report = load_seeds()
        after = db.session.scalar(select(func.count()).select_from(Image))

    assert "images" not in report.created
    assert after == before == len(_manifest())


def test_the_seeded_logo_is_the_publishers(client: FlaskClient):
    logo = client.get("/v1/articles/tmj-headache").get_json()["publisher"]["logo"]

    assert logo["url"].endswith(".png")
    assert (logo["width"], logo["height"]) == (256, 256)


def test_draw_script_names_every_seeded_article_and_person():
    script = (IMAGES / "draw.py").read_text(encoding="utf-8")
    people = yaml.safe_load((SEEDS_DIRECTORY / "people.yaml").read_text(encoding="utf-8"))
    for path in Path(SEEDS_DIRECTORY / "articles").glob("*.yaml"):
        assert f'"{path.stem}"' in script
    for person in people:
        assert f'"{person["slug"]}"' in script
