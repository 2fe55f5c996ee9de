"""The WSGI fast path answers exactly as the Flask views do, and stands aside otherwise."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.test import Client
from werkzeug.wrappers import Response

from cms_api.config import Settings
from cms_api.database import db
from cms_api.fastpath import PublishedDocumentFastPath
from tests.conftest import build_app

VARIANTS = [
    {},
    {"Origin": "https://frontend.example"},
    {"X-Request-ID": "req-123"},
    {"If-None-Match": '"not-the-etag"'},
]


def _fast_path(app: Flask) -> PublishedDocumentFastPath:
    layer = app.wsgi_app
    while not isinstance(layer, PublishedDocumentFastPath):
        layer = layer.downstream  # the measuring layer wraps it
    return layer


def _addresses(client) -> list[str]:
    faq = client.get("/v1/faqs?limit=1").get_json()["items"][0]["id"]
    return [
        "/v1/articles/headache-after-botox",
        "/v1/people/tobias-lindqvist",
        "/v1/topics/headache",
        f"/v1/faqs/{faq}",
    ]


def _comparable(response: Response, *, request_id_supplied: bool, fast: bool = False) -> tuple:
    headers = dict(response.headers)
    if not request_id_supplied:
        assert len(headers.pop("X-Request-ID")) == 32
    if fast:
        # The one difference: the fast path, which may compress, says its answers vary
        # with Accept-Encoding (the views, which never compress, need not).
        varies = [part.strip() for part in headers.pop("Vary").split(",")]
        assert varies[0] == "Accept-Encoding"
        if varies[1:]:
            headers["Vary"] = ", ".join(varies[1:])
    return response.status_code, response.get_data(), headers


def test_answers_are_those_of_the_flask_views(app, client):
    flask_only = Client(_fast_path(app).downstream, Response)
    for address in _addresses(client):
        etag = client.get(address).headers["ETag"]
        for headers in [*VARIANTS, {"If-None-Match": etag}, {"If-None-Match": f'W/{etag}, "x"'}]:
            for method in ("GET", "HEAD"):
                fast = client.open(address, method=method, headers=headers)
                reference = flask_only.open(address, method=method, headers=headers)
                supplied = "X-Request-ID" in headers
                assert _comparable(fast, request_id_supplied=supplied, fast=True) == _comparable(
                    reference, request_id_supplied=supplied
                ), (address, method, headers)


def test_published_documents_are_served_without_reaching_flask(app, client):
    def unreachable(environ, start_response):
        pytest.fail(f"{environ['PATH_INFO']} reached the Flask app")

    fast = Client(PublishedDocumentFastPath(app, unreachable), Response)
    for address in _addresses(client):
        response = fast.get(address)
        assert response.status_code == 200
        assert response.get_data() == client.get(address).get_data()


@pytest.mark.parametrize(
    ("address", "status"),
    [
        ("/v1/articles/botox-headache-old", 404),  # no such slug: the view's 404 problem
        ("/v1/articles/headache-after-botox?sections=causes", 200),  # a query: the view
        ("/v1/articles/Headache-After-Botox", 404),
        ("/v1/faqs/00000000-0000-0000-0000-000000000000", 404),
    ],
)
def test_everything_else_goes_on_to_the_views(app, client, address, status):
    seen: list[str] = []
    downstream = _fast_path(app).downstream

    def recording(environ, start_response):
        seen.append(environ["PATH_INFO"])
        return downstream(environ, start_response)

    response = Client(PublishedDocumentFastPath(app, recording), Response).get(address)

    assert response.status_code == status
    assert seen == [address.partition("?")[0]]


def test_a_former_slug_still_redirects(client, make_token):
    from tests.conftest import bearer

    editor = make_token("editor")
    found = client.get("/v1/admin/articles?q=tmj-headache", headers=bearer(editor)).get_json()
    url = f"/v1/admin/articles/{found['items'][0]['id']}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]
    renamed = client.patch(
        url, json={"slug": "jaw-joint-headache"}, headers=bearer(editor, **{"If-Match": etag})
    )
    assert renamed.status_code == 200, renamed.get_json()

    response = client.get("/v1/articles/tmj-headache")

    assert response.status_code == 301
    assert response.headers["Location"].endswith("/v1/articles/jaw-joint-headache")


def test_a_database_outage_on_the_fast_path_is_the_views_503_problem():
    # Nothing listens on port 9 of this machine: every connection attempt is refused.
    client = build_app("postgresql+psycopg://postgres@127.0.0.1:9/cms").test_client()

    response = client.get("/v1/people/tobias-lindqvist")

    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"].isdigit()


def test_an_origin_allow_list_leaves_cors_to_the_views(app):
    settings = Settings(
        database_url=app.config["SQLALCHEMY_DATABASE_URI"],
        cors_origins=["https://www.example-health.org", "https://preview.example-health.org"],
    )
    restricted = build_app(app.config["SQLALCHEMY_DATABASE_URI"], CMS_SETTINGS=settings)
    client = restricted.test_client()

    allowed = client.get(
        "/v1/articles/headache-after-botox", headers={"Origin": "https://www.example-health.org"}
    )
    other = client.get(
        "/v1/articles/headache-after-botox", headers={"Origin": "https://evil.example"}
    )

    with restricted.app_context():
        for engine in db.engines.values():
            engine.dispose()
    assert _fast_path(restricted).enabled is False
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://www.example-health.org"
    assert "Access-Control-Allow-Origin" not in other.headers
    # Both reasons to vary survive together: the origin (flask-cors) and the preview token.
    varies = {part.strip() for line in allowed.headers.getlist("Vary") for part in line.split(",")}
    assert {"Origin", "X-Preview-Token"} <= varies
