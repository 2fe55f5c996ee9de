"""Every locale is served as fast as the default: fast path, memory, snapshot, remembered pages."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text
from werkzeug.test import Client
from werkzeug.wrappers import Response

from cms_api import fastpath
from cms_api.database import db
from cms_api.fastpath import PublishedDocumentFastPath
from tests.resources.public.test_locales_delivery import Translated, translate_and_publish
from tests.support.cache import cache_of, eventually
from tests.test_fastpath import VARIANTS, _comparable, _fast_path
from tests.test_remembered_fastpath import _counting_views


@pytest.fixture
def translated(app: Flask) -> Translated:
    return translate_and_publish(app)


def _unreachable(environ, start_response):
    pytest.fail(f"{environ['PATH_INFO']}?{environ.get('QUERY_STRING')} reached the Flask app")


def test_a_translation_is_served_without_reaching_flask(app, client, translated):
    fast = Client(PublishedDocumentFastPath(app, _unreachable), Response)
    address = f"/v1/articles/{translated.translation}?locale=es"
    reference = client.get(address)

    answer = fast.get(address)
    revalidated = fast.get(address, headers={"If-None-Match": reference.headers["ETag"]})

    assert answer.status_code == 200
    assert answer.get_data() == reference.get_data()
    assert answer.headers["Content-Language"] == "es"
    assert answer.headers["ETag"] == reference.headers["ETag"]
    assert revalidated.status_code == 304
    assert revalidated.headers["Content-Language"] == "es"
    assert revalidated.headers["ETag"] == reference.headers["ETag"]


def test_a_revalidation_compares_the_etag_of_the_locale_asked_for(app, client, translated):
    fast = Client(PublishedDocumentFastPath(app, _unreachable), Response)
    spanish = client.get(f"/v1/articles/{translated.translation}?locale=es").headers["ETag"]
    english = client.get(f"/v1/articles/{translated.original}").headers["ETag"]

    crossed = fast.get(
        f"/v1/articles/{translated.translation}?locale=es", headers={"If-None-Match": english}
    )
    same = fast.get(f"/v1/articles/{translated.original}", headers={"If-None-Match": english})

    assert crossed.status_code == 200
    assert crossed.headers["ETag"] == spanish
    assert same.status_code == 304
    assert same.headers["Content-Language"] == "en"


def test_answers_in_a_locale_are_those_of_the_flask_views(app, client, translated):
    flask_only = Client(_fast_path(app).downstream, Response)
    faq = client.get("/v1/faqs?locale=es&limit=1").get_json()["items"]
    addresses = [
        f"/v1/articles/{translated.translation}?locale=es",
        f"/v1/articles/{translated.original}?locale=en",
        *(f"/v1/faqs/{item['id']}?locale=es" for item in faq),
    ]
    for address in addresses:
        etag = client.get(address).headers["ETag"]
        for headers in [*VARIANTS, {"If-None-Match": etag}]:
            for method in ("GET", "HEAD"):
                fast = client.open(address, method=method, headers=headers)
                reference = flask_only.open(address, method=method, headers=headers)
                supplied = "X-Request-ID" in headers
                assert _comparable(fast, request_id_supplied=supplied, fast=True) == _comparable(
                    reference, request_id_supplied=supplied
                ), (address, method, headers)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("locale=ES", 200),  # another spelling: the view reads it
        ("locale=es&sections=x", 400),  # more than the locale
        ("locale=fr", 400),  # not one of the site's
        ("locale=", 400),
    ],
)
def test_any_other_query_goes_on_to_the_views(app, translated, query, status):
    seen: list[str] = []
    downstream = _fast_path(app).downstream

    def recording(environ, start_response):
        seen.append(environ["QUERY_STRING"])
        return downstream(environ, start_response)

    layer = Client(PublishedDocumentFastPath(app, recording), Response)
    response = layer.get(f"/v1/articles/{translated.translation}?{query}")

    assert response.status_code == status
    assert seen == [query]


def test_a_remembered_list_page_keeps_its_content_language(app, client, translated):
    address = "/v1/articles?locale=es&limit=5"
    first = client.get(address)

    with _counting_views(app) as reached:
        again = client.get(address)

    assert reached == []
    assert again.get_data() == first.get_data()
    assert again.headers["Content-Language"] == first.headers["Content-Language"] == "es"


# -- each worker's memory, told of changes by PostgreSQL ----------------------------------


def _entity_hex(app: Flask, kind: str, slug: str, locale: str) -> str:
    with app.app_context():
        return (
            db.session.execute(
                text(
                    "SELECT entity_id FROM published_documents "
                    "WHERE kind = :kind AND slug = :slug AND locale = :locale"
                ),
                {"kind": kind, "slug": slug, "locale": locale},
            )
            .scalar_one()
            .hex
        )


def _behind_publishing_and_announced(app: Flask, slug: str, locale: str, etag: str) -> None:
    """The stored document changes and its change is announced, as publishing does."""
    announced = f"article:{_entity_hex(app, 'article', slug, locale)}"
    with app.app_context():
        db.session.execute(
            text(
                "UPDATE published_documents SET body = :body, etag = :etag, "
                "body_br = NULL, body_gzip = NULL "
                "WHERE kind = 'article' AND slug = :slug AND locale = :locale"
            ),
            {"body": '{"changed":true}', "etag": etag, "slug": slug, "locale": locale},
        )
        db.session.execute(text("SELECT pg_notify('cms_documents', :p)"), {"p": announced})
        db.session.commit()


def test_a_change_to_a_translation_drops_only_it_from_memory(committed_app):
    translated = translate_and_publish(committed_app)
    client = committed_app.test_client()
    spanish = f"/v1/articles/{translated.translation}?locale=es"
    english = f"/v1/articles/{translated.original}"
    eventually(lambda: client.get(english).status_code == 200 and cache_of(committed_app).listening)
    english_etag = client.get(english).headers["ETag"]
    before = client.get(spanish)
    cache = cache_of(committed_app)
    assert ("article", translated.original) in cache._entries
    # Another locale's document is kept by its own address.
    assert ("article", translated.translation, "es") in cache._entries
    assert ("article", translated.translation) not in cache._entries

    _behind_publishing_and_announced(committed_app, translated.translation, "es", '"es-new"')

    eventually(lambda: client.get(spanish).headers["ETag"] == '"es-new"')
    after = client.get(spanish)
    assert after.get_json() == {"changed": True}
    assert after.headers["Content-Language"] == "es"
    assert before.headers["ETag"] != '"es-new"'
    # The original was not dropped: still kept, and answered as before.
    assert ("article", translated.original) in cache._entries
    assert client.get(english).headers["ETag"] == english_etag
    revalidated = client.get(spanish, headers={"If-None-Match": '"es-new"'})
    assert revalidated.status_code == 304
    assert revalidated.headers["Content-Language"] == "es"


def test_a_snapshot_serves_every_locale(committed_app):
    translated = translate_and_publish(committed_app)
    snapshot = fastpath.warm(committed_app)
    assert snapshot is not None
    assert snapshot.get(("article", translated.translation, "es")) is not None
    assert snapshot.get(("article", translated.original)) is not None
    client = committed_app.test_client()
    spanish = f"/v1/articles/{translated.translation}?locale=es"
    # The cache and its listener start with a first request, for no document: one for
    # the article, made before the listener serves the snapshot, would read it into
    # memory (on a slow machine the listener may get ready between that request's
    # lookup and its keeping the document).
    assert client.get("/v1/articles/no-such-article").status_code == 404
    cache = cache_of(committed_app)
    eventually(lambda: cache._snapshot_ready and cache.listening)

    answer = client.get(spanish)
    compressed = client.get(spanish, headers={"Accept-Encoding": "br"})

    assert answer.status_code == 200
    assert answer.headers["Content-Language"] == "es"
    assert compressed.headers["Content-Encoding"] == "br"
    assert compressed.headers["Content-Language"] == "es"
    # From the snapshot: nothing read into this worker's own memory.
    assert len(cache_of(committed_app)) == 0
    _behind_publishing_and_announced(committed_app, translated.translation, "es", '"es-new"')
    eventually(lambda: client.get(spanish).headers["ETag"] == '"es-new"')
    assert ("article", translated.translation, "es") in cache_of(committed_app)._stale
    assert ("article", translated.original) not in cache_of(committed_app)._stale
