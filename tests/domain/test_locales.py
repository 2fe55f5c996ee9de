"""Locale tags and the site's locale settings: normal forms, what is refused, page prefixes."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cms_api.config import Settings
from cms_api.database import db
from cms_api.domain import locales


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("en", "en"),
        ("ES", "es"),
        ("es-mx", "es-MX"),
        ("es-419", "es-419"),
        ("pt-br", "pt-BR"),
        ("zh-hant-tw", "zh-Hant-TW"),
        (" fr ", "fr"),
    ],
)
def test_a_tag_is_read_in_any_case_and_given_in_its_normal_form(given, expected):
    assert locales.normalized(given) == expected


@pytest.mark.parametrize(
    "given", ["", "e", "english", "es_MX", "es-", "-es", "es-MX-x-private", "e1", "es-12", None, 5]
)
def test_what_is_not_a_language_script_region_tag_is_refused(given):
    assert locales.normalized(given) is None


def test_each_language_is_searched_with_its_own_stemmer_and_others_word_for_word():
    assert locales.search_configuration("en") == "cms_search"
    assert locales.search_configuration("en-GB") == "cms_search"
    assert locales.search_configuration("es-MX") == "cms_search_spanish"
    assert locales.search_configuration("de") == "cms_search_german"
    assert locales.search_configuration("ja") == locales.FALLBACK_SEARCH_CONFIGURATION


def test_every_configuration_named_exists_in_the_database(app):
    names = set(locales.SEARCH_CONFIGURATIONS.values()) | {locales.FALLBACK_SEARCH_CONFIGURATION}
    with app.app_context():
        found = set(
            db.session.execute(
                text("SELECT cfgname FROM pg_ts_config WHERE cfgname = ANY(:names)"),
                {"names": sorted(names)},
            ).scalars()
        )
    assert found == names


def test_the_site_locales_are_normalized_with_the_default_first():
    settings = Settings.from_environ(
        {"CMS_DEFAULT_LOCALE": "ES", "CMS_LOCALES": "en, es-mx, es", "CMS_LOCALE_PATHS": ""}
    )
    assert settings.default_locale == "es"
    assert settings.locales == ["es", "en", "es-MX"]


def test_by_default_the_site_is_english_and_spanish():
    settings = Settings.from_environ({})
    assert settings.default_locale == "en"
    assert settings.locales == ["en", "es"]


def test_page_prefixes_default_to_the_tag_and_can_be_configured():
    settings = Settings.from_environ(
        {"CMS_LOCALES": "en,es,pt-BR", "CMS_LOCALE_PATHS": "pt-br=/br/"}
    )
    assert settings.locale_path("en") == ""
    assert settings.locale_path("es") == "/es"
    assert settings.locale_path("pt-BR") == "/br"
    rooted = Settings.from_environ({"CMS_LOCALES": "en,es", "CMS_LOCALE_PATHS": "en=/en"})
    assert rooted.locale_path("en") == "/en"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CMS_DEFAULT_LOCALE": "english"}, "CMS_DEFAULT_LOCALE"),
        ({"CMS_LOCALES": "en,es_ES"}, "CMS_LOCALES"),
        ({"CMS_LOCALE_PATHS": "fr=/fr"}, "not in CMS_LOCALES"),
        ({"CMS_LOCALE_PATHS": "es=es"}, "must start with '/'"),
        ({"CMS_LOCALE_PATHS": "es=/es?x=1"}, "must start with '/'"),
        ({"CMS_LOCALE_PATHS": "es"}, "locale=/prefix"),
    ],
)
def test_a_wrong_locale_setting_stops_the_start_with_its_name(environ, message):
    with pytest.raises(ValueError, match=message.replace("?", r"\?")):
        Settings.from_environ(environ)


@pytest.mark.parametrize(
    ("locale", "detail"),
    [("es_ES", "BCP 47"), ("fr", "en, es"), ("x" * 40, "BCP 47")],
)
def test_a_locale_the_site_does_not_offer_is_a_400_problem(client, locale, detail):
    response = client.get("/v1/articles", query_string={"locale": locale})
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert detail in response.get_data(as_text=True)
