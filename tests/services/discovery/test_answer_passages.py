"""Answer passages and their ranking: fusion of ranked lists, confidence, folding, passages."""

from __future__ import annotations

from cms_api.services.discovery.answers import confidence, fuse, normalized


def test_fusion_sums_reciprocal_ranks_over_any_number_of_lists():
    fused = dict(fuse([["a", "b", "c"], ["b", "a"], ["b"]], k=60))

    assert fused["b"] == 1 / 62 + 1 / 61 + 1 / 61
    assert fused["a"] == 1 / 61 + 1 / 62
    assert fused["c"] == 1 / 63
    assert [item for item, _ in fuse([["a", "b", "c"], ["b", "a"], ["b"]])] == ["b", "a", "c"]


def test_fusion_of_nothing_is_empty():
    assert fuse([]) == [] and fuse([[], []]) == []


def test_confidence_grows_with_coverage_and_agreement_and_stays_in_bounds():
    low = confidence(0.1, 0.2, 1, 2, 40)
    high = confidence(0.9, 0.6, 2, 2, 40)
    assert 0 <= low < 0.5 < high <= 1
    assert confidence(0.9, 0.6, 2, 2, 400) < high  # long sections count against


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
