"""Locales as BCP 47 tags: their normal form, and the text search configuration of each."""

from __future__ import annotations

import re

# language[-script][-region], the subset of BCP 47 a publisher's sites use ("en",
# "es-419", "pt-BR", "zh-Hant-TW"); variants and private use are refused rather than
# half-understood.
_TAG = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|[0-9]{3}))?$")

# The text search configuration (migration 0019) each language is indexed with: its
# Snowball stemmer behind unaccent. English keeps `cms_search`, the name it always had, so
# the documents indexed before languages existed stay as they are.
SEARCH_CONFIGURATIONS = {
    "en": "cms_search",
    "da": "cms_search_danish",
    "de": "cms_search_german",
    "es": "cms_search_spanish",
    "fi": "cms_search_finnish",
    "fr": "cms_search_french",
    "hu": "cms_search_hungarian",
    "it": "cms_search_italian",
    "nl": "cms_search_dutch",
    "nb": "cms_search_norwegian",
    "no": "cms_search_norwegian",
    "pt": "cms_search_portuguese",
    "ro": "cms_search_romanian",
    "ru": "cms_search_russian",
    "sv": "cms_search_swedish",
    "tr": "cms_search_turkish",
}
# Languages without a stemmer are still matched word for word, accents folded.
FALLBACK_SEARCH_CONFIGURATION = "cms_search_simple"


def normalized(tag: str) -> str | None:
    """The tag in its canonical case ("es-419", "pt-BR", "zh-Hant"), or None when `tag`
    is not a language[-script][-region] tag."""
    match = _TAG.match(tag.strip()) if isinstance(tag, str) else None
    if match is None:
        return None
    language, script, region = match.groups()
    parts = [language.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def language(tag: str) -> str:
    """The primary language subtag: "es" for "es-419"."""
    return tag.split("-", 1)[0].lower()


def search_configuration(tag: str) -> str:
    """The PostgreSQL text search configuration a document in `tag` is indexed with."""
    return SEARCH_CONFIGURATIONS.get(language(tag), FALLBACK_SEARCH_CONFIGURATION)
