"""Answer passages and their ranking: fusion of ranked lists, confidence, folding, passages."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from cms_api.database import db
from cms_api.services.delivery.remembered import database
from cms_api.services.discovery import answers
from cms_api.services.discovery.answers import (
    LEAD_CAP,
    Features,
    confidence,
    fuse,
    leads,
    normalized,
    ranking_score,
)


def test_fusion_sums_reciprocal_ranks_over_any_number_of_lists():
    fused = dict(fuse([["a", "b", "c"], ["b", "a"], ["b"]], k=60))

    assert fused["b"] == 1 / 62 + 1 / 61 + 1 / 61
    assert fused["a"] == 1 / 61 + 1 / 62
    assert fused["c"] == 1 / 63
    assert [item for item, _ in fuse([["a", "b", "c"], ["b", "a"], ["b"]])] == ["b", "a", "c"]


def test_fusion_of_nothing_is_empty():
    assert fuse([]) == [] and fuse([[], []]) == []


def _features(**changed: float) -> Features:
    typical = {"coverage": 0.5, "cosine": 0.5, "agreement": 2 / 3, "heading_similarity": 0.4}
    return Features(**{**typical, **changed})


def test_the_score_grows_with_what_a_passage_holds():
    for feature in ("coverage", "cosine", "agreement", "heading_similarity"):
        more = ranking_score(_features(**{feature: 0.9}))
        assert more > ranking_score(_features(**{feature: 0.1}))
    # Behind the shortlist's best, or another kind of passage than the question asks for.
    assert ranking_score(_features(cosine_gap=0.3)) < ranking_score(_features(cosine_gap=0.0))
    assert ranking_score(_features(intent_other=1.0)) < ranking_score(_features(intent_other=0.0))


def test_confidence_grows_with_the_score_and_the_lead_and_stays_in_bounds():
    weak = ranking_score(_features(coverage=0.1, cosine=0.2, agreement=1 / 3))
    strong = ranking_score(
        _features(coverage=1.0, cosine=0.8, agreement=1.0, heading_similarity=0.9)
    )
    assert 0 <= confidence(weak, 0.0) < confidence(strong, 0.0) <= 1
    assert confidence(strong, 0.0) < confidence(strong, 2.0)
    # A clear lead makes a strong passage a sure answer; a tie leaves it well short of one.
    assert confidence(strong, LEAD_CAP) > 0.9 > 0.7 > confidence(strong, 0.0)
    # The lead is clipped: beyond LEAD_CAP nothing changes, either way.
    assert confidence(strong, 100.0) == confidence(strong, LEAD_CAP)
    assert confidence(strong, -100.0) == confidence(strong, -LEAD_CAP)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([3.0, 1.0, 0.5], [2.0, -2.0, -2.5]),
        ([1.0, 3.0], [-2.0, 2.0]),
        ([2.0, 2.0, 1.0], [0.0, 0.0, -1.0]),  # a tie at the top: neither leads
        ([1.5], [LEAD_CAP]),  # a lone passage has no rival
        ([], []),
    ],
)
def test_each_score_leads_the_best_of_the_others(scores, expected):
    assert leads(scores) == expected


def test_questions_are_folded_for_counting():
    assert normalized("  Best PIZZA, in town?? ") == normalized("best pizza in town")
    assert normalized("?!") == ""


def test_seeded_articles_are_cut_into_section_and_faq_passages(client):
    doc = client.get("/v1/articles/tmj-headache").get_json()
    body = client.get("/v1/answers", query_string={"q": doc["faqs"][0]["question"]}).get_json()

    assert body["answered"] is True
    first = body["passages"][0]
    assert first["heading"] == doc["faqs"][0]["question"]
    assert first["html"] == doc["faqs"][0]["answer_html"]
    assert first["citation"]["section"] is None


def _statistics(app, locales: list[str], shares: list[float], distinct: float) -> None:
    """As if ANALYZE had last measured the passages' locales so (for this database)."""
    with app.app_context():
        key = database(db.session.connection())
    answers._SHARES[key] = (time.monotonic(), locales, shares, distinct)


def test_a_locales_share_of_the_passages_is_the_statistics(app, monkeypatch):
    monkeypatch.setattr(answers, "_SHARES", {})
    _statistics(app, ["en", "es"], [0.75, 0.2], 4.0)
    with app.app_context():
        connection = db.session.connection()
        shares = {tag: answers.locale_share(connection, tag) for tag in ("en", "es", "fr")}

    # A locale too rare to be among the most common ones has its part of what is left.
    assert shares == {"en": 0.75, "es": 0.2, "fr": pytest.approx(0.025)}


def test_a_locale_the_statistics_do_not_know_has_no_share(app, monkeypatch):
    monkeypatch.setattr(answers, "_SHARES", {})
    _statistics(app, ["en"], [1.0], 1.0)
    with app.app_context():
        connection = db.session.connection()
        assert answers.locale_share(connection, "en") == 1.0
        assert answers.locale_share(connection, "es") is None


def test_the_statistics_are_read_from_the_database(app, monkeypatch):
    monkeypatch.setattr(answers, "_SHARES", {})
    with app.app_context():
        connection = db.session.connection()
        counts = dict(
            db.session.execute(
                text("SELECT locale, count(*) FROM answer_passages GROUP BY locale")
            ).all()
        )
        shares = {locale: answers.locale_share(connection, locale) for locale in counts}

    # The seeded database was analyzed after it was loaded, every row read.
    total = sum(counts.values())
    assert shares == {locale: pytest.approx(n / total) for locale, n in counts.items()}
