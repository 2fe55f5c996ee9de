"""Search, lookup and instant answers per locale: a Spanish article is found in Spanish only."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from werkzeug.test import Client
from werkzeug.wrappers import Response

from cms_api.database import db
from cms_api.domain import clock
from cms_api.models import (
    Article,
    ArticleAuthor,
    ArticleTopic,
    Faq,
    MedicalReview,
    Person,
    Section,
    Topic,
    TopicTranslation,
)
from cms_api.remembered_fastpath import RememberedFastPath
from cms_api.services.discovery import answers
from cms_api.services.publishing.articles import publish_article
from tests.conftest import build_app
from tests.support.api import bearer

BOTOX = "headache-after-botox"
SPANISH = "cefalea-tras-el-botox-en-breve"
SITE = "https://www.example-health.org"
SECTIONS = (
    (
        "causas",
        "Por qué aparece",
        "La cefalea tras el bótox suele deberse a la tensión de los músculos de la frente "
        "mientras la toxina empieza a actuar. Las inyecciones también pueden irritar la piel "
        "y los nervios de la zona durante uno o dos días.",
    ),
    (
        "cuanto-dura",
        "Cuánto dura el dolor de cabeza",
        "En la mayoría de las personas el dolor desaparece en pocos días. Si sigue ahí al "
        "cabo de una semana, consulte con quien le puso las inyecciones o con su médico.",
    ),
    (
        "alivio",
        "Qué alivia el dolor",
        "El paracetamol y el descanso en una habitación tranquila y en penumbra suelen "
        "bastar. Evite masajear la zona tratada durante las primeras horas.",
    ),
)
FAQ_QUESTION = "¿Es normal tener cefalea después del bótox?"


def _in_spanish(topic: Topic, name: str, synonyms: list[str]) -> None:
    """The topic's Spanish text (whatever the seeds may hold), as these tests expect it."""
    translation = next((t for t in topic.translations if t.locale == "es"), None)
    if translation is None:
        translation = TopicTranslation(topic=topic, locale="es")
        db.session.add(translation)
    translation.name = name
    translation.description = "Dolor en cualquier parte de la cabeza o en la nuca."
    translation.synonyms = synonyms


def _untranslated_source() -> Article | None:
    """A published article of the default locale not translated into Spanish yet."""
    translated = select(Article.source_id).where(
        Article.locale == "es", Article.source_id.is_not(None)
    )
    return db.session.scalars(
        select(Article)
        .where(
            Article.locale == "en",
            Article.source_id.is_(None),
            Article.live_revision.is_not(None),
            Article.id.not_in(translated),
        )
        .order_by(Article.slug)
    ).first()


@pytest.fixture(scope="module")
def app(seeded_copies: Callable[[], str]) -> Iterator[Flask]:
    """The app over a seeded database of this module's own, with the Spanish content
    (`_publish_in_spanish`) committed in it once; each test still runs in a transaction
    that is rolled back."""
    application = build_app(seeded_copies())
    _publish_in_spanish(application)
    yield application
    with application.app_context():
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def spanish(app: Flask) -> uuid.UUID:
    """The Spanish article `_publish_in_spanish` published."""
    with app.app_context():
        return db.session.scalars(
            select(Article.id).where(Article.locale == "es", Article.slug == SPANISH)
        ).one()


def _publish_in_spanish(app: Flask) -> None:
    """The headache topic in Spanish, and a reviewed Spanish article filed under it (a
    translation, though not of the article it is about: any untranslated one will do for
    search), published as any article is."""
    with app.app_context():
        people = {person.slug: person for person in db.session.scalars(select(Person))}
        headache = db.session.scalars(select(Topic).where(Topic.slug == "headache")).one()
        _in_spanish(headache, "Dolor de cabeza", ["cefalea", "dolores de cabeza"])
        # A topic with no Spanish text, which Spanish lookups cannot name.
        for topic in db.session.scalars(
            select(Topic).where(Topic.slug == "temporomandibular-disorders")
        ):
            for translation in [t for t in topic.translations if t.locale == "es"]:
                db.session.delete(translation)
        source = _untranslated_source()
        article = Article(
            id=uuid.uuid4(),
            locale="es",
            source_id=source.id if source else None,
            source_revision=source.live_revision if source else None,
            slug=SPANISH,
            title="Dolor de cabeza tras el bótox, en breve: causas y alivio",
            summary="Por qué algunas personas tienen dolor de cabeza tras las inyecciones de "
            "toxina botulínica, cuánto suele durar y qué lo alivia.",
        )
        article.authorships = [ArticleAuthor(person=people["miriam-castellanos-reed"])]
        article.all_sections = [
            Section(key=key, heading=heading, body=body, position=position)
            for position, (key, heading, body) in enumerate(SECTIONS)
        ]
        article.topic_links = [ArticleTopic(topic=headache, position=0)]
        db.session.add(article)
        db.session.add(
            Faq(
                article=article,
                locale="es",
                question=FAQ_QUESTION,
                answer="Sí. El dolor de cabeza es uno de los efectos secundarios más "
                "frecuentes, y casi siempre es leve y desaparece por sí solo.",
                position=0,
            )
        )
        db.session.flush()
        publish_article(article.id)
        # Quotable, as any article whose clinical review has gone live.
        article.reviews.append(
            MedicalReview(
                reviewer=people["tobias-lindqvist"],
                reviewed_at=clock.utcnow().date() - timedelta(days=3),
                revision_number=article.live_revision,
                kind="clinical",
            )
        )
        db.session.flush()
        publish_article(article.id)
        db.session.commit()


def get(client: FlaskClient, address: str, **query: str) -> Response:
    response = client.get(address, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response


def slugs(items: list[dict]) -> list[str | None]:
    return [item["slug"] for item in items]


def default_locale_articles(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Article.slug).where(Article.locale == "en")))


# -- the index -----------------------------------------------------------------------------


def test_a_spanish_article_is_indexed_in_spanish(app, spanish):
    with app.app_context():
        entry = db.session.execute(
            text(
                "SELECT locale, vector::text AS vector FROM search_entries"
                " WHERE kind = 'article' AND entity_id = :id"
            ),
            {"id": spanish},
        ).one()
        passages = db.session.scalars(
            text("SELECT DISTINCT locale FROM answer_passages WHERE entity_id = :id"),
            {"id": spanish},
        ).all()
        words = dict(
            db.session.execute(
                text("SELECT locale, lexeme FROM search_words WHERE word = 'cabeza'")
            ).all()
        )

    assert entry.locale == "es" and passages == ["es"]
    # Spanish stems, accents folded: "cabeza" is 'cabez', "tensión" 'tension'.
    assert "'cabez'" in entry.vector and "'tension'" in entry.vector
    assert "'cabeza'" not in entry.vector
    # The Spanish word is in the Spanish lexicon only, with its Spanish stem.
    assert words == {"es": "cabez"}


# -- search --------------------------------------------------------------------------------


def test_a_spanish_query_finds_spanish_content_only_and_says_so(client, spanish):
    response = get(client, "/v1/search", q="dolor de cabeza", locale="es")
    body = response.get_json()

    assert response.headers["Content-Language"] == "es"
    assert body["query"]["corrected"] is None  # known Spanish words, not typos
    assert {item["type"] for item in body["items"]} == {"article", "faq"}
    assert all(item["url"].endswith("?locale=es") for item in body["items"])
    article = next(item for item in body["items"] if item["slug"] == SPANISH)
    assert article["url"] == f"/v1/articles/{SPANISH}?locale=es"
    assert "<mark>" in article["title_html"]
    faq = next(item for item in body["items"] if item["title"] == FAQ_QUESTION)
    assert faq["url"] == f"/v1/faqs/{faq['id']}?locale=es"


def test_spanish_word_endings_and_accents_do_not_matter(client, spanish):
    found = {
        query: slugs(get(client, "/v1/search", q=query, locale="es").get_json()["items"])
        for query in ("cefalea", "céfalea", "dolores de cabeza", "CABEZA", "bótox", "botox")
    }

    assert all(SPANISH in found_slugs for found_slugs in found.values()), found
    assert found["cefalea"] == found["céfalea"]


def test_a_word_both_languages_share_finds_each_locale_its_own(app, client, spanish):
    english = get(client, "/v1/search", q="botox").get_json()["items"]
    in_spanish = get(client, "/v1/search", q="botox", locale="es").get_json()["items"]
    written_in_english = default_locale_articles(app)

    assert BOTOX in slugs(english) and set(slugs(english)) - {None} <= written_in_english
    assert SPANISH in slugs(in_spanish) and not set(slugs(in_spanish)) & written_in_english
    assert all("locale=es" in item["url"] for item in in_spanish)
    assert all("locale=" not in item["url"] for item in english)


def test_default_locale_answers_are_those_without_a_locale(client, spanish):
    plain = get(client, "/v1/search", q="botox headache")
    explicit = get(client, "/v1/search", q="botox headache", locale="en")

    assert plain.headers["Content-Language"] == explicit.headers["Content-Language"] == "en"
    assert plain.get_data() == explicit.get_data()
    assert plain.get_json()["items"][0]["url"] == f"/v1/articles/{BOTOX}"


def test_typos_are_corrected_from_the_spanish_lexicon(client, spanish):
    body = get(client, "/v1/search", q="dolr de cabeza", locale="es").get_json()

    assert body["query"]["corrected"] == "dolor de cabeza"
    assert SPANISH in slugs(body["items"])


def test_spanish_words_are_not_known_to_english_search(client, spanish):
    english = get(client, "/v1/search", q="dolr de cabeza").get_json()
    spanish_words = get(client, "/v1/search", q="dolor de cabeza").get_json()

    # English content has no "dolor": nothing to correct "dolr" into, nothing found.
    assert english["query"]["corrected"] != "dolor de cabeza"
    assert SPANISH not in slugs(english["items"])
    assert spanish_words["items"] == []


@pytest.mark.parametrize("locale", ["fr", "es_ES", "x"])
def test_a_locale_that_is_not_the_sites_is_a_problem(client, locale):
    response = client.get("/v1/search", query_string={"q": "botox", "locale": locale})

    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_a_locale_is_read_in_any_case(client, spanish):
    response = get(client, "/v1/search", q="cefalea", locale="ES")

    assert response.headers["Content-Language"] == "es"
    assert SPANISH in slugs(response.get_json()["items"])


# -- answers kept in memory ----------------------------------------------------------------


def _views(app: Flask) -> Client:
    layer = app.wsgi_app
    while not isinstance(layer, RememberedFastPath):
        layer = layer.downstream
    return Client(layer.downstream, Response)


@contextmanager
def _no_views(app: Flask) -> Iterator[list[str]]:
    """The addresses that reach the views while open (none, for answers from memory)."""
    layer = app.wsgi_app
    while not isinstance(layer, RememberedFastPath):
        layer = layer.downstream
    downstream = layer.downstream
    reached: list[str] = []

    def counting(environ, start_response):
        reached.append(environ.get("QUERY_STRING", ""))
        return downstream(environ, start_response)

    layer.downstream = counting
    try:
        yield reached
    finally:
        layer.downstream = downstream


@pytest.mark.parametrize(
    "addresses",
    [
        ("/v1/search?q=botox", "/v1/search?q=botox&locale=es"),
        ("/v1/lookup?code=icd10cm:R51.9", "/v1/lookup?code=icd10cm:R51.9&locale=es"),
    ],
)
def test_answers_from_memory_keep_each_locale_its_own(app, client, spanish, addresses):
    english, in_spanish = addresses
    first = {address: client.get(address) for address in (english, in_spanish)}
    views = _views(app)
    # The views' own memory, behind the fast path, keeps them apart as well.
    behind = {address: views.get(address) for address in (in_spanish, english)}

    with _no_views(app) as reached:
        again = {address: client.get(address) for address in (in_spanish, english)}

    assert reached == []
    assert first[english].get_data() != first[in_spanish].get_data()
    for address, language in ((english, "en"), (in_spanish, "es")):
        for response in (first[address], behind[address], again[address]):
            assert response.status_code == 200
            assert response.get_data() == first[address].get_data()
            assert response.headers["Content-Language"] == language


def test_a_revalidation_says_its_locale(client, spanish):
    first = get(client, "/v1/search", q="cefalea", locale="es")
    again = client.get(
        "/v1/search",
        query_string={"q": "cefalea", "locale": "es"},
        headers={"If-None-Match": first.headers["ETag"]},
    )

    assert again.status_code == 304
    assert again.headers["Content-Language"] == "es"


# -- lookup --------------------------------------------------------------------------------


@pytest.mark.parametrize("symptom", ["cefalea", "céfalea", "CEFALEA", "dolor de cabeza"])
def test_a_spanish_symptom_finds_the_topic_by_its_spanish_names(app, client, spanish, symptom):
    response = get(client, "/v1/lookup", symptom=symptom, locale="es")
    body = response.get_json()

    assert response.headers["Content-Language"] == "es"
    assert body["query"]["corrected"] is None
    headache = body["topics"][0]
    assert (headache["slug"], headache["name"], headache["relation"]) == (
        "headache",
        "Dolor de cabeza",
        "text",
    )
    assert headache["url"] == "/v1/topics/headache?locale=es"
    assert headache["page_url"] == f"{SITE}/es/topics/headache"
    assert headache["synonyms"] == ["cefalea", "dolores de cabeza"]
    assert headache["article_count"] >= 1 and headache["faq_count"] >= 1
    assert SPANISH in slugs(body["articles"])
    assert not set(slugs(body["articles"])) & default_locale_articles(app)
    assert FAQ_QUESTION in [faq["question"] for faq in body["faqs"]]


def test_a_misspelt_spanish_symptom_is_corrected_from_spanish_words(client, spanish):
    body = get(client, "/v1/lookup", symptom="dolr de cabeza", locale="es").get_json()

    assert body["query"]["corrected"] == "dolor de cabeza"
    assert body["topics"][0]["slug"] == "headache"


def test_a_code_finds_the_translated_topics_with_that_locales_content(app, client, spanish):
    english = get(client, "/v1/lookup", code="icd10cm:R51.9").get_json()
    in_spanish = get(client, "/v1/lookup", code="icd10cm:R51.9", locale="es").get_json()
    with app.app_context():
        names = dict(
            db.session.execute(
                select(Topic.slug, TopicTranslation.name)
                .join(TopicTranslation)
                .where(TopicTranslation.locale == "es")
            ).all()
        )

    # The same topics, less those without a Spanish name to list them by (the closest
    # first; those as close, by their name in the locale).
    assert {(t["slug"], t["name"], t["relation"]) for t in in_spanish["topics"]} == {
        (t["slug"], names[t["slug"]], t["relation"])
        for t in english["topics"]
        if t["slug"] in names
    }
    assert (in_spanish["topics"][0]["slug"], in_spanish["topics"][0]["name"]) == (
        "headache",
        "Dolor de cabeza",
    )
    assert in_spanish["topics"][0]["codes"] == english["topics"][0]["codes"]  # shared
    assert SPANISH in slugs(in_spanish["articles"])
    assert not set(slugs(in_spanish["articles"])) & default_locale_articles(app)
    assert FAQ_QUESTION in [faq["question"] for faq in in_spanish["faqs"]]
    # The default locale's answer knows nothing of the translation.
    assert english["topics"][0]["name"] == "Headache"
    assert set(slugs(english["articles"])) <= default_locale_articles(app)
    assert FAQ_QUESTION not in [faq["question"] for faq in english["faqs"]]


def test_an_untranslated_topic_is_not_listed_in_spanish(client, spanish):
    body = get(client, "/v1/lookup", code="icd10cm:M26.60", locale="es").get_json()

    assert body["topics"] == [] and body["articles"] == [] and body["faqs"] == []


# -- instant answers -----------------------------------------------------------------------


def test_a_spanish_question_is_answered_from_spanish_passages(app, spanish):
    question = "ayuda descansar en penumbra"
    with app.test_request_context():
        shortlist = answers.ranked(question, clock.utcnow().date(), locale="es")
        body = answers.answer(question, threshold=0.0, locale="es")
        english = answers.ranked(question, clock.utcnow().date())

    assert shortlist and {item.row.locale for item in shortlist} == {"es"}
    first = body["passages"][0]
    assert first["heading"] == "Qué alivia el dolor"
    assert first["citation"]["url"] == f"{SITE}/es/articles/{SPANISH}#alivio"
    assert all(p["citation"]["url"].startswith(f"{SITE}/es/") for p in body["passages"])
    assert all(item.row.locale == "en" for item in english)


def test_the_answer_says_its_locale_and_quotes_nothing_of_another(client, spanish):
    response = get(client, "/v1/answers", q="how long does a headache after botox last")
    in_spanish = get(
        client, "/v1/answers", q="how long does a headache after botox last", locale="es"
    )

    assert response.headers["Content-Language"] == "en"
    assert in_spanish.headers["Content-Language"] == "es"
    quoted = response.get_json()["passages"]
    assert quoted and all(f"/articles/{BOTOX}" in p["citation"]["url"] for p in quoted)
    assert all("/es/" in p["citation"]["url"] for p in in_spanish.get_json()["passages"])


def test_red_flags_are_given_in_the_locale_they_are_written_in(client, spanish):
    english = get(client, "/v1/answers", q="worst headache of my life").get_json()
    in_spanish = get(client, "/v1/answers", q="worst headache of my life", locale="es").get_json()

    assert english["urgent"] is True
    # The red flags are written in English only: no guidance in another language.
    assert in_spanish["urgent"] is False and in_spanish["guidance"] is None


def test_unanswered_questions_are_counted_per_locale(app, client, admin_token):
    question = "mejor pizza de la ciudad"
    for locale in ("es", "es", "en"):
        body = get(client, "/v1/answers", q=question, locale=locale).get_json()
        assert body["answered"] is False

    listed = client.get("/v1/admin/unanswered", headers=bearer(admin_token)).get_json()["items"]
    only_spanish = client.get(
        "/v1/admin/unanswered?locale=es", headers=bearer(admin_token)
    ).get_json()["items"]

    counted = {(item["locale"], item["count"]) for item in listed if item["question"] == question}
    assert counted == {("es", 2), ("en", 1)}
    assert {item["locale"] for item in only_spanish} == {"es"}
    assert [item["count"] for item in only_spanish if item["question"] == question] == [2]
