"""The instant-answers development set (bench/answers_devset.yaml) fits the seeded site."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml
from flask import Flask
from sqlalchemy import text

from cms_api.database import db
from cms_api.services.discovery import red_flags
from cms_api.services.discovery.answers import normalized

DEVSET = Path(__file__).resolve().parent.parent / "bench" / "answers_devset.yaml"


@pytest.fixture(scope="module")
def devset() -> dict:
    return yaml.safe_load(DEVSET.read_text(encoding="utf-8"))


def _default_locale(app: Flask) -> str:
    # The development set is in the site's default locale (English); passages of the
    # seeded translations are not what it asks about.
    return app.config["CMS_SETTINGS"].default_locale


def _seeded_targets(locale: str) -> set[str]:
    """Every passage of the seeded site in `locale`, named as the development set names them."""
    rows = db.session.execute(
        text("SELECT page_slug, anchor, heading FROM answer_passages WHERE locale = :locale"),
        {"locale": locale},
    )
    return {
        f"{slug}#{anchor}" if anchor is not None else f"{slug}?{heading}"
        for slug, anchor, heading in rows
    }


def test_every_target_names_a_seeded_passage(app: Flask, devset: dict) -> None:
    with app.app_context():
        passages = _seeded_targets(_default_locale(app))
    unknown = sorted(
        {target for item in devset["questions"] for target in item["answers"]} - passages
    )
    assert unknown == []
    # Every target list is non-empty and without repeats.
    assert all(item["answers"] for item in devset["questions"])
    assert all(len(set(item["answers"])) == len(item["answers"]) for item in devset["questions"])


def test_every_seeded_article_is_asked_about(app: Flask, devset: dict) -> None:
    with app.app_context():
        articles = set(
            db.session.scalars(
                text(
                    "SELECT DISTINCT page_slug FROM answer_passages"
                    " WHERE page_kind = 'article' AND locale = :locale"
                ),
                {"locale": _default_locale(app)},
            )
        )
    asked = {
        target.replace("?", "#").split("#", 1)[0]
        for item in devset["questions"]
        for target in item["answers"]
    }
    assert articles and articles <= asked


def test_enough_questions_and_no_duplicates(devset: dict) -> None:
    on_topic = [item["q"] for item in devset["questions"]]
    off_topic = list(devset["off_topic"])
    assert len(on_topic) >= 150
    assert len(off_topic) >= 40
    repeated = [q for q, n in Counter(map(normalized, on_topic + off_topic)).items() if n > 1]
    assert repeated == []


def test_no_question_is_an_emergency(app: Flask, devset: dict) -> None:
    questions = [item["q"] for item in devset["questions"]] + list(devset["off_topic"])
    with app.app_context():
        # The seeded red flags are published, so a match is possible at all.
        assert red_flags.match("worst headache of my life") is not None
        urgent = [q for q in questions if red_flags.match(q) is not None]
    assert urgent == []
