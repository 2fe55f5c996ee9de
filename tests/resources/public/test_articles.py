"""Delivery of published articles: the whole document, lists, filters, pagination and caching."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

SLUG = "headache-after-botox"
RELATED = [
    "liver-rash",
    "ear-infection-headache",
    "lip-filler-swelling",
    "tmj-headache",
    "headache-with-ear-pain",
    "allergy-headache-relief",
]


def test_whole_article_has_everything_a_page_needs(client):
    response = client.get(f"/v1/articles/{SLUG}")

    assert response.status_code == 200
    assert response.content_type == "application/json"
    article = response.get_json()
    assert article["slug"] == SLUG
    assert [section["key"] for section in article["sections"]] == [
        "introduction",
        "causes",
        "risk-factors",
        "prevention",
        "treatment",
        "complications",
        "when-to-see-a-doctor",
    ]
    causes = next(s for s in article["sections"] if s["key"] == "causes")
    assert [s["key"] for s in causes["subsections"]] == [
        "injection",
        "muscle-tension-changes",
        "immune-response",
        "procedure-stress",
    ]
    assert all(section["body_html"].startswith("<") for section in article["sections"])
    assert len(article["faqs"]) >= 5
    assert [item["article"]["slug"] for item in article["related"]] == RELATED
    assert {item["relation"] for item in article["related"]} <= {
        "see_also",
        "similar_symptom",
        "complication_of",
        "treatment_for",
        "differential",
    }
    author, reviewer = article["authors"][0], article["reviewers"][0]
    assert author["slug"] != reviewer["slug"]
    assert {c["kind"] for c in author["credentials"]} == {
        "degree",
        "license",
        "board_certification",
    }
    assert reviewer["credentials"] and reviewer["reviewed_at"] == article["last_reviewed_at"]
    codes = {(c["system"], c["code"]) for t in article["topics"] for c in t["codes"]}
    assert ("icd10cm", "R51.9") in codes and ("snomed", "25064002") in codes
    assert article["disclaimer_html"]
    assert "symptom_checker" in {cta["kind"] for cta in article["call_to_actions"]}
    assert set(article["seo"]) == {"meta_title", "meta_description", "canonical_url"}
    assert article["next_review_due"] > article["last_reviewed_at"]
    assert article["reading_time_minutes"] >= 5


def test_article_has_strong_etag_and_revalidates_with_304(client):
    first = client.get(f"/v1/articles/{SLUG}")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["Cache-Control"] == "public, max-age=60, stale-while-revalidate=600"

    again = client.get(f"/v1/articles/{SLUG}", headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag

    stale = client.get(f"/v1/articles/{SLUG}", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


def test_sections_parameter_returns_only_those_sections(client):
    response = client.get(f"/v1/articles/{SLUG}?sections=treatment,causes")

    assert response.status_code == 200
    keys = [section["key"] for section in response.get_json()["sections"]]
    assert keys == ["treatment", "causes"]
    assert response.headers["ETag"] != client.get(f"/v1/articles/{SLUG}").headers["ETag"]


def test_unknown_section_is_a_problem_naming_the_available_ones(client):
    response = client.get(f"/v1/articles/{SLUG}?sections=causes,nonsense")

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "/problems/invalid-parameter"
    assert "nonsense" in problem["detail"] and "risk-factors" in problem["detail"]


def test_article_faqs_and_related_subresources(client):
    faqs = client.get(f"/v1/articles/{SLUG}/faqs").get_json()
    related = client.get(f"/v1/articles/{SLUG}/related").get_json()
    whole = client.get(f"/v1/articles/{SLUG}").get_json()

    assert faqs["items"] == whole["faqs"]
    assert faqs["page"] == {"limit": 100, "next_cursor": None, "total": len(whole["faqs"])}
    assert [item["article"]["slug"] for item in related["items"]] == RELATED


def test_unknown_article_is_a_404_problem(client):
    response = client.get("/v1/articles/no-such-article")

    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.get_json()["type"] == "/problems/not-found"


def test_list_is_newest_first_with_summaries(client):
    response = client.get("/v1/articles")

    assert response.status_code == 200
    body = response.get_json()
    dates = [item["published_at"] for item in body["items"]]
    assert dates == sorted(dates, reverse=True)
    assert body["page"]["total"] == len(body["items"]) == 7
    assert "sections" not in body["items"][0]
    assert "ETag" in response.headers


def test_keyset_pagination_walks_every_article_once(client):
    seen, url = [], "/v1/articles?limit=2&sort=title"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.get_json()
        seen += [item["title"].casefold() for item in body["items"]]
        link = response.headers.get("Link")
        if body["page"]["next_cursor"]:
            assert link and link.endswith('>; rel="next"')
            target = urlparse(link[1 : link.index(">")])
            assert parse_qs(target.query)["cursor"] == [body["page"]["next_cursor"]]
            url = f"{target.path}?{target.query}"
        else:
            assert link is None
            url = None
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 7


def test_filters_by_topic_author_reviewer_and_code(client):
    def slugs(query: str) -> set[str]:
        response = client.get(f"/v1/articles?{query}")
        assert response.status_code == 200, response.get_json()
        return {item["slug"] for item in response.get_json()["items"]}

    headache = slugs("topic=headache")
    assert SLUG in headache and "liver-rash" not in headache
    # A parent topic includes its subtopics' articles.
    assert slugs("topic=neurological-symptoms") >= headache
    assert slugs("code=icd10cm:R51.9") == headache
    assert slugs("code=icd10cm:r51.9") == headache
    article = client.get(f"/v1/articles/{SLUG}").get_json()
    assert SLUG in slugs(f"author={article['authors'][0]['slug']}")
    assert SLUG in slugs(f"reviewer={article['reviewers'][0]['slug']}")
    assert slugs("topic=no-such-topic") == set()


def test_updated_since_and_sorts(client):
    recent = client.get("/v1/articles?updated_since=2026-10-01T00:00:00Z").get_json()["items"]
    assert recent and all(item["updated_at"] >= "2026-10-01" for item in recent)
    oldest = client.get("/v1/articles?sort=published_at&limit=1").get_json()["items"][0]
    newest = client.get("/v1/articles?sort=-published_at&limit=1").get_json()["items"][0]
    assert oldest["published_at"] < newest["published_at"]
    reviewed = client.get("/v1/articles?sort=-last_reviewed_at").get_json()["items"]
    dates = [item["last_reviewed_at"] for item in reviewed]
    assert dates == sorted(dates, reverse=True)


def test_list_revalidates_with_304(client):
    etag = client.get("/v1/articles?limit=3").headers["ETag"]
    assert client.get("/v1/articles?limit=3", headers={"If-None-Match": etag}).status_code == 304
