"""GET /v1/search: exclusions keep ranks, phrases mark as one, cut snippets, FAQs name articles."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event

from cms_api.database import db
from cms_api.services.delivery import remembered
from cms_api.services.publishing.articles import publish_article
from tests.conftest import bearer
from tests.resources.public.test_search import publish

BOTOX = "headache-after-botox"
LIP_FILLER = "lip-filler-swelling"
BOTOX_TITLE = "Headache After Botox: Causes, Prevention and Treatment"
# A section of more than a snippet's thirty words, its one match in the middle.
LONG_BODY = (
    "Frostbite usually starts with cold, numb skin that looks white or greyish yellow. "
    "Warming should always be gentle, because numb skin burns easily and rubbing damages "
    "it further. Blisters that appear after warming are a sign of deeper injury: leave "
    "blisters intact, cover them loosely with clean dressings, and keep the hands raised "
    "while travelling towards professional medical care, which decides about surgery later."
)


@pytest.fixture(autouse=True)
def _forget_afterwards() -> Iterator[None]:
    # Content published here is rolled back, which no change event tells the answers kept
    # in memory: a later test publishing as much would count as many events.
    yield
    remembered.ANSWERS.clear()


def page(client: FlaskClient, q: str, **params: str) -> dict:
    response = client.get("/v1/search", query_string={"q": q, "limit": 100, **params})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def search(client: FlaskClient, q: str, **params: str) -> list[dict]:
    return page(client, q, **params)["items"]


def by_slug(items: list[dict], slug: str) -> dict:
    return next(item for item in items if item["slug"] == slug)


# -- exclusions rank ------------------------------------------------------------------------


def test_an_exclusion_filters_but_keeps_each_hits_score(client):
    everything = {item["id"]: item["score"] for item in search(client, "headache")}
    kept = search(client, "headache -botox")

    assert kept and {item["id"] for item in kept} < set(everything)
    assert not [item for item in kept if "botox" in item["title"].lower()]
    scores = [item["score"] for item in kept]
    # Ranked by what the query looks for: each score is the one `headache` alone gives.
    assert all(score > 0.01 for score in scores)
    assert scores == sorted(scores, reverse=True) and len(set(scores)) > 1
    assert all(item["score"] == everything[item["id"]] for item in kept)


def test_a_phrase_with_an_exclusion_finds_what_has_the_phrase_and_not_the_word(app, client):
    publish(
        app,
        slug="choosing-a-lip-filler-clinic",
        title="Choosing a clinic for lip fillers",
        summary="What to ask before booking dermal fillers.",
        body="Ask who injects the lip fillers, and what they do if something goes wrong.",
    )

    phrase = search(client, '"lip filler"')
    excluding = search(client, '"lip filler" -swelling')

    # The plural matches the phrase as written; every seeded page with it mentions swelling.
    assert {LIP_FILLER, "choosing-a-lip-filler-clinic"} <= {item["slug"] for item in phrase}
    assert [item["slug"] for item in excluding] == ["choosing-a-lip-filler-clinic"]
    assert excluding[0]["score"] > 0.1
    assert excluding[0]["title_html"] == "Choosing a clinic for <mark>lip fillers</mark>"


def test_a_corrected_query_keeps_its_exclusion_and_its_ranking(client):
    corrected = page(client, "headake -botox")

    assert corrected["query"]["corrected"] == "headache -botox"
    assert corrected["items"] and all(item["score"] > 0.01 for item in corrected["items"])
    assert not [item for item in corrected["items"] if "botox" in item["title"].lower()]


# -- phrase highlights ----------------------------------------------------------------------


def test_a_phrase_is_marked_as_one_where_it_stands_and_not_where_its_words_stand_apart(app, client):
    publish(
        app,
        slug="lip-care-in-winter",
        title="Lip care in winter",
        summary="Dry lips, balms and fillers.",
        body="A lip balm is no filler. After lip fillers, swelling of the lips settles.",
    )

    seeded = by_slug(search(client, '"lip filler"'), LIP_FILLER)
    words = by_slug(search(client, "lip filler"), LIP_FILLER)
    mine = by_slug(search(client, '"lip filler"'), "lip-care-in-winter")
    stop_words = by_slug(search(client, '"swelling of the lips"'), "lip-care-in-winter")

    assert seeded["title_html"] == (
        "<mark>Lip Filler</mark> Swelling: What Is Normal and What Is Not"
    )
    assert "<mark>lip filler</mark>" in seeded["snippet_html"]
    # Words, unquoted, are marked each on its own.
    assert words["title_html"] == (
        "<mark>Lip</mark> <mark>Filler</mark> Swelling: What Is Normal and What Is Not"
    )
    # "lip" and "filler" apart are not the phrase: only "lip fillers" is marked.
    assert mine["title_html"] == "Lip care in winter"
    assert mine["snippet_html"] == (
        "Overview: A lip balm is no filler. After <mark>lip fillers</mark>, swelling of "
        "the lips settles."
    )
    # Stop words inside a phrase hold their places, and are marked with it.
    assert "<mark>swelling of the lips</mark>" in stop_words["snippet_html"]
    assert stop_words["snippet_html"].count("<mark>") == 1


def test_a_phrase_and_a_word_are_marked_each_as_what_it_is(client):
    item = by_slug(search(client, '"prevention and treatment" headache'), BOTOX)

    assert item["title_html"] == (
        "<mark>Headache</mark> After Botox: Causes, <mark>Prevention and Treatment</mark>"
    )


# -- snippets say where they are cut --------------------------------------------------------


def test_a_snippet_cut_from_a_longer_passage_shows_ellipses_where_it_is_cut(app, client):
    publish(app, slug="frostbite-first-aid", title="Frostbite first aid", body=LONG_BODY)

    middle = by_slug(search(client, "rubbing"), "frostbite-first-aid")["snippet_html"]
    start = by_slug(search(client, "frostbite numb"), "frostbite-first-aid")["snippet_html"]

    assert middle.startswith("… ") and middle.endswith(" …")
    assert "<mark>rubbing</mark>" in middle
    # From the start of the section: cut at the end only.
    assert start.startswith("Overview: <mark>Frostbite</mark> usually starts")
    assert start.endswith(" …")


def test_a_snippet_that_is_the_whole_passage_has_no_ellipsis(app, client):
    publish(
        app,
        slug="chilblains",
        title="Chilblains",
        summary="Itchy swellings after cold.",
        body="Chilblains usually heal within three weeks.",
    )

    item = by_slug(search(client, "heal"), "chilblains")

    assert (
        item["snippet_html"] == "Overview: Chilblains usually <mark>heal</mark> within three weeks."
    )


def test_a_snippet_for_a_title_only_match_starts_the_passage_and_says_it_goes_on(client):
    faq = next(
        item
        for item in search(client, "botox", type="faq")
        if item["title"] == "How long does a headache after Botox usually last?"
    )

    assert "<mark>" not in faq["snippet_html"]
    assert not faq["snippet_html"].startswith("…") and faq["snippet_html"].endswith(" …")


# -- FAQs name their article ----------------------------------------------------------------


def test_a_faq_on_an_article_names_it_and_a_topic_faq_names_none(client):
    items = search(client, "botox")
    on_topic = by_title(search(client, "injector cosmetic"), "What should I tell my injector")

    assert by_title(items, "How long does a headache after Botox")["article"] == {
        "slug": BOTOX,
        "title": BOTOX_TITLE,
        "url": f"/v1/articles/{BOTOX}",
    }
    assert by_title(items, "Can Botox help TMJ pain?")["article"] == {
        "slug": "tmj-headache",
        "title": "TMJ Headache: Why Your Jaw Can Make Your Head Hurt",
        "url": "/v1/articles/tmj-headache",
    }
    assert on_topic["type"] == "faq" and on_topic["article"] is None
    assert all(item["article"] is None for item in items if item["type"] == "article")


def by_title(items: list[dict], start: str) -> dict:
    return next(item for item in items if item["title"].startswith(start))


def test_a_faq_names_its_article_by_its_live_title(app, client, editor):
    article_id = client.get(f"/v1/articles/{BOTOX}").get_json()["id"]
    url = f"/v1/admin/articles/{article_id}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    renamed = client.patch(
        url, json={"title": "Botox and headaches"}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert renamed.status_code == 200, renamed.get_json()

    def named() -> dict:
        items = search(client, "botox", type="faq")
        return by_title(items, "How long does a headache after Botox")["article"]

    draft = named()
    with app.app_context():
        publish_article(uuid.UUID(article_id))
        db.session.commit()

    # A draft's title is nobody's business; once live, its FAQs say it.
    assert draft["title"] == BOTOX_TITLE
    assert named() == {
        "slug": BOTOX,
        "title": "Botox and headaches",
        "url": f"/v1/articles/{BOTOX}",
    }


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_naming_articles_costs_no_query_per_hit(app, client):
    remembered.ANSWERS.clear()
    with app.app_context(), statements() as one:
        assert len(search(client, "headache", type="faq", limit="1")) == 1
    with app.app_context(), statements() as many:
        hits = search(client, "headache", type="faq", limit="50")

    assert len([hit for hit in hits if hit["article"]]) > 5
    assert len(many) == len(one)


# -- caching still holds --------------------------------------------------------------------


def test_a_remembered_answer_and_its_etag_follow_new_content(app, client):
    url = '/v1/search?q="lip filler" -swelling'
    before = client.get(url)
    again = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    publish(app, slug="lip-filler-aftercare", title="Lip filler aftercare")
    after = client.get(url)

    assert before.get_json()["items"] == []
    assert again.status_code == 304
    assert [item["slug"] for item in after.get_json()["items"]] == ["lip-filler-aftercare"]
    assert after.headers["ETag"] != before.headers["ETag"]
