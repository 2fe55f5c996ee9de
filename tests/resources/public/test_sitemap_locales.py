"""Sitemaps per locale: each lists its own pages, each page names its language versions."""

from __future__ import annotations

import dataclasses
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import event, select

from cms_api.database import db
from cms_api.models import Article, ArticleAuthor, ArticleTopic
from cms_api.services.discovery import sitemap
from cms_api.services.publishing.articles import publish_article, unpublish_article
from tests.support.api import PROBLEM

SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML = "http://www.w3.org/1999/xhtml"
NS = {"sm": SITEMAP, "xhtml": XHTML}
SITE = "https://www.example-health.org"
# A seeded article that the seeds translate into no other locale, and one translated here.
UNTRANSLATED = "liver-rash"
TMJ = "tmj-headache"
TMJ_ES = "cefalea-por-trastorno-temporomandibular"


def publish_translation(
    app: Flask,
    slug: str,
    locale: str,
    new_slug: str,
    *,
    title: str,
    canonical_url: str | None = None,
) -> uuid.UUID:
    """Translate a seeded default-locale article as editors would (its own row in
    `locale`, naming its source and the source's live revision, with the source's authors
    and topics) and publish it through the publishing service."""
    with app.app_context():
        source = db.session.scalars(
            select(Article).where(Article.slug == slug, Article.locale == "en")
        ).one()
        return _publish(
            Article(
                id=uuid.uuid4(),
                slug=new_slug,
                locale=locale,
                source_id=source.id,
                source_revision=source.live_revision,
                title=title,
                summary="Un resumen breve.",
                canonical_url=canonical_url,
                status="draft",
            ),
            like=source,
        )


def publish_original(app: Flask, locale: str, slug: str, *, like: str) -> uuid.UUID:
    """An article first written in `locale` (no source), by the authors of `like`."""
    with app.app_context():
        model = db.session.scalars(select(Article).where(Article.slug == like)).first()
        return _publish(
            Article(
                id=uuid.uuid4(),
                slug=slug,
                locale=locale,
                title=slug.replace("-", " ").capitalize(),
                summary="Un texte court.",
                status="draft",
            ),
            like=model,
        )


def translate_original(app: Flask, source_id: uuid.UUID, locale: str, slug: str) -> uuid.UUID:
    with app.app_context():
        source = db.session.get(Article, source_id)
        return _publish(
            Article(
                id=uuid.uuid4(),
                slug=slug,
                locale=locale,
                source_id=source.id,
                source_revision=source.live_revision,
                title=slug.replace("-", " ").capitalize(),
                summary="Un resumen breve.",
                status="draft",
            ),
            like=source,
        )


def _publish(article: Article, *, like: Article) -> uuid.UUID:
    article.authorships = [
        ArticleAuthor(person_id=item.person_id, position=item.position) for item in like.authorships
    ]
    article.topic_links = [
        ArticleTopic(topic_id=item.topic_id, position=item.position) for item in like.topic_links
    ]
    db.session.add(article)
    db.session.flush()
    publish_article(article.id)
    db.session.commit()
    return article.id


def _unpublish(app: Flask, article_id: uuid.UUID) -> None:
    with app.app_context():
        unpublish_article(article_id)
        db.session.commit()


def _page(path: str, locale: str = "en") -> str:
    prefix = "" if locale == "en" else f"/{locale}"
    return f"{SITE}{prefix}{path}"


def _urlset(response) -> dict[str, dict[str, str]]:
    """Each listed page's language versions (hreflang -> href), from a well-formed,
    namespaced urlset."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type == "application/xml"
    head = response.data.split(b"\n", 2)[1]
    assert head == (f'<urlset xmlns="{SITEMAP}" xmlns:xhtml="{XHTML}">').encode()
    root = ET.fromstring(response.data)
    assert root.tag == f"{{{SITEMAP}}}urlset"
    pages: dict[str, dict[str, str]] = {}
    for entry in root.findall("sm:url", NS):
        assert [child.tag for child in entry][:2] == [f"{{{SITEMAP}}}loc", f"{{{SITEMAP}}}lastmod"]
        links = entry.findall("xhtml:link", NS)
        assert all(link.get("rel") == "alternate" for link in links)
        pages[entry.findtext("sm:loc", namespaces=NS)] = {
            link.get("hreflang"): link.get("href") for link in links
        }
    return pages


def _sitemap(client, locale: str | None = None) -> dict[str, dict[str, str]]:
    response = client.get("/sitemap.xml" + (f"?locale={locale}" if locale else ""))
    assert response.headers["Content-Language"] == (locale or "en")
    return _urlset(response)


def _assert_reciprocal(sitemaps: dict[str, dict[str, dict[str, str]]]) -> None:
    """Every version a page names is listed in its locale's sitemap, naming the same set."""
    for pages in sitemaps.values():
        for url, versions in pages.items():
            if not versions:
                continue
            assert "x-default" in versions
            assert url in versions.values()
            for hreflang, href in versions.items():
                if hreflang != "x-default":
                    assert sitemaps[hreflang][href] == versions, (url, hreflang)


@contextmanager
def _locales(app: Flask, *locales: str) -> Iterator[None]:
    settings = app.config["CMS_SETTINGS"]
    app.config["CMS_SETTINGS"] = dataclasses.replace(settings, locales=list(locales))
    try:
        yield
    finally:
        app.config["CMS_SETTINGS"] = settings


def test_a_translation_is_listed_in_its_locale_with_reciprocal_alternates(app, client):
    publish_translation(app, TMJ, "es", TMJ_ES, title="Cefalea por trastorno temporomandibular")

    spanish = _sitemap(client, "es")
    english = _sitemap(client)

    versions = {
        "en": _page(f"/articles/{TMJ}"),
        "es": _page(f"/articles/{TMJ_ES}", "es"),
        "x-default": _page(f"/articles/{TMJ}"),
    }
    assert spanish[_page(f"/articles/{TMJ_ES}", "es")] == versions
    assert english[_page(f"/articles/{TMJ}")] == versions
    # A locale's sitemap lists only its own pages.
    assert all(url.startswith(f"{SITE}/es/") for url in spanish)
    assert not any(url.startswith(f"{SITE}/es/") for url in english)
    assert _page(f"/articles/{UNTRANSLATED}", "es") not in spanish
    assert _page(f"/articles/{UNTRANSLATED}") not in spanish
    # Published in one locale only: no alternates at all.
    assert english[_page(f"/articles/{UNTRANSLATED}")] == {}
    _assert_reciprocal({"en": english, "es": spanish})


def test_hub_pages_name_the_locales_whose_pages_list_something(app, client):
    publish_translation(app, TMJ, "es", TMJ_ES, title="Cefalea por trastorno temporomandibular")

    spanish = _sitemap(client, "es")
    english = _sitemap(client)

    # The seeds translate the headache topic; an article of it is published in Spanish.
    topic = _page("/topics/headache", "es")
    assert spanish[topic] == {
        "en": _page("/topics/headache"),
        "es": topic,
        "x-default": _page("/topics/headache"),
    }
    assert english[_page("/topics/headache")] == spanish[topic]
    # A topic page in a locale where nothing it lists is published is left out.
    assert _page("/topics/liver-disease", "es") not in spanish
    assert _page("/topics/liver-disease") in english
    _assert_reciprocal({"en": english, "es": spanish})


def test_unpublishing_a_translation_takes_it_out_of_both_sitemaps(app, client):
    translation = publish_translation(
        app, TMJ, "es", TMJ_ES, title="Cefalea por trastorno temporomandibular"
    )
    before = client.get("/sitemap.xml")
    assert "es" in _urlset(before)[_page(f"/articles/{TMJ}")]

    _unpublish(app, translation)

    after = client.get("/sitemap.xml", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200, "the original's alternates changed"
    assert _urlset(after)[_page(f"/articles/{TMJ}")] == {}
    assert _page(f"/articles/{TMJ_ES}", "es") not in _sitemap(client, "es")


def test_x_default_is_the_original_when_the_default_locale_has_no_version(app, client):
    with _locales(app, "en", "es", "fr"):
        original = publish_original(app, "fr", "maux-de-tete-du-matin", like=TMJ)
        translate_original(app, original, "es", "dolor-de-cabeza-matutino")
        sitemaps = {locale: _sitemap(client, locale) for locale in ("en", "es", "fr")}

    versions = {
        "es": _page("/articles/dolor-de-cabeza-matutino", "es"),
        "fr": _page("/articles/maux-de-tete-du-matin", "fr"),
        # No English version: the original's, though Spanish comes first in CMS_LOCALES.
        "x-default": _page("/articles/maux-de-tete-du-matin", "fr"),
    }
    assert sitemaps["fr"][versions["fr"]] == versions
    assert sitemaps["es"][versions["es"]] == versions
    _assert_reciprocal(sitemaps)


def test_x_default_is_the_default_locales_version_even_of_a_translation(app, client):
    with _locales(app, "en", "es", "fr"):
        original = publish_original(app, "fr", "douleur-de-la-machoire", like=TMJ)
        translate_original(app, original, "en", "jaw-pain-at-night")
        french = _sitemap(client, "fr")

    assert french[_page("/articles/douleur-de-la-machoire", "fr")]["x-default"] == _page(
        "/articles/jaw-pain-at-night"
    )


def test_a_translation_whose_canonical_is_elsewhere_is_no_language_version(app, client):
    publish_translation(
        app,
        TMJ,
        "es",
        TMJ_ES,
        title="Cefalea por trastorno temporomandibular",
        canonical_url=_page(f"/articles/{TMJ}"),
    )

    assert _page(f"/articles/{TMJ_ES}", "es") not in _sitemap(client, "es")
    assert _sitemap(client)[_page(f"/articles/{TMJ}")] == {}


def test_the_default_locale_is_served_as_before(client):
    plain = client.get("/sitemap.xml")
    english = client.get("/sitemap.xml?locale=EN")

    assert english.data == plain.data
    assert english.headers["ETag"] == plain.headers["ETag"]
    assert plain.headers["Content-Language"] == "en"
    # A page published in one locale only is the entry it always was.
    text = plain.get_data(as_text=True)
    entry = f"<url><loc>{_page(f'/articles/{UNTRANSLATED}')}</loc><lastmod>"
    start = text.index(entry)
    assert text[start : text.index("</url>", start)].endswith("Z</lastmod>")
    again = client.get("/sitemap.xml?locale=en", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["Content-Language"] == "en"


def test_one_index_names_every_locales_sitemaps(client):
    response = client.get("/sitemaps/index.xml")

    assert response.status_code == 200
    assert response.headers["Content-Language"] == "en, es"
    root = ET.fromstring(response.data)
    assert root.tag == f"{{{SITEMAP}}}sitemapindex"
    locations = [item.findtext("sm:loc", namespaces=NS) for item in root]
    assert locations == [
        "http://localhost/sitemaps/1.xml",
        "http://localhost/sitemaps/1.xml?locale=es",
    ]
    for location, locale in zip(locations, ("en", "es"), strict=True):
        numbered = client.get(location.removeprefix("http://localhost"))
        assert numbered.headers["Content-Language"] == locale
        assert numbered.data == client.get(f"/sitemap.xml?locale={locale}").data
    again = client.get("/sitemaps/index.xml", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_past_the_limit_a_locale_has_its_own_numbered_sitemaps(app, client):
    publish_translation(app, TMJ, "es", TMJ_ES, title="Cefalea por trastorno temporomandibular")
    expected = _sitemap(client, "es")
    settings = app.config["CMS_SETTINGS"]
    app.config["CMS_SETTINGS"] = dataclasses.replace(settings, sitemap_max_urls=2)
    try:
        response = client.get("/sitemap.xml?locale=es")
        root = ET.fromstring(response.data)
        assert root.tag == f"{{{SITEMAP}}}sitemapindex"
        locations = [item.findtext("sm:loc", namespaces=NS) for item in root]
        assert locations[0] == "http://localhost/sitemaps/1.xml?locale=es"
        seen: dict[str, dict[str, str]] = {}
        for location in locations:
            seen |= _urlset(client.get(location.removeprefix("http://localhost")))
        assert seen == expected
        everything = ET.fromstring(client.get("/sitemaps/index.xml").data)
        named = [item.findtext("sm:loc", namespaces=NS) for item in everything]
        assert named[-len(locations) :] == locations
        missing = client.get(f"/sitemaps/{len(locations) + 1}.xml?locale=es")
        assert missing.status_code == 404
    finally:
        app.config["CMS_SETTINGS"] = settings


def test_many_locales_make_smaller_files_that_stay_under_50_mb(app):
    with app.test_request_context():
        assert sitemap.max_urls() == 50_000
        with _locales(app, *["en", "es", "fr", "de", "it", "pt", "nl", "sv", "da", "fi"]):
            fewer = sitemap.max_urls()

    assert fewer < 50_000
    # Each entry: its own line and twelve links, each with a 120-character slug.
    site = len(SITE) + len("/es/articles/")
    entry = 12 * (site + 120 + len('<xhtml:link rel="alternate" hreflang="pt" href=""/>'))
    assert fewer * (entry + site + 120 + 60) <= 52_428_800


def test_alternates_of_a_whole_page_take_one_statement(app, client):
    def statements_for_spanish_sitemap() -> list[str]:
        seen: list[str] = []

        def count(*args, **kwargs) -> None:
            seen.append(args[2])

        with app.app_context():
            engines = list(db.engines.values())
        for engine in engines:
            event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/sitemap.xml?locale=es").status_code == 200
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", count)
        # What reads the articles' rows: their translations, for the alternates.
        return [statement for statement in seen if re.search(r"\barticles\b", statement)]

    publish_translation(app, TMJ, "es", TMJ_ES, title="Cefalea por trastorno temporomandibular")
    few = statements_for_spanish_sitemap()
    for slug in ("allergy-headache-relief", "ear-infection-headache", "lip-filler-swelling"):
        publish_translation(app, slug, "es", f"{slug}-es", title=f"Traducción de {slug}")
    many = statements_for_spanish_sitemap()

    assert len(_sitemap(client, "es")) >= 5
    assert len(many) == len(few) == 1


@pytest.mark.parametrize("query", ["?locale=fr", "?locale=e", "?locale=en_US!", "?page=2"])
def test_a_locale_the_site_does_not_publish_in_is_refused(client, query):
    for path in ("/sitemap.xml", "/sitemaps/1.xml"):
        response = client.get(path + query)
        assert response.status_code == 400
        assert response.content_type == PROBLEM
    assert client.get("/sitemaps/index.xml?locale=es").status_code == 400
