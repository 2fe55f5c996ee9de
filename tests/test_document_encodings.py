"""Stored documents are served compressed as clients ask, revalidated from ETags alone."""

from __future__ import annotations

import gzip
import threading
import uuid

import brotli
import psycopg
import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import make_url, text

from cms_api.database import db
from cms_api.document_cache import NAMED_LIMIT, PAYLOAD_BYTES, parse, payloads
from cms_api.http.conditional import acceptable_codings
from tests.conftest import build_app
from tests.support.cache import cache_of, eventually, wait_until_listening

ARTICLE = "/v1/articles/headache-after-botox"
OTHER = "/v1/articles/tmj-headache"
PERSON = "/v1/people/tobias-lindqvist"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, ("identity",)),
        ("", ("identity",)),
        ("gzip, deflate, br, zstd", ("br", "gzip", "identity")),
        ("gzip", ("gzip", "identity")),
        ("x-gzip", ("gzip", "identity")),
        ("br;q=0.5, gzip", ("gzip", "br", "identity")),
        ("*", ("br", "gzip", "identity")),
        ("gzip;q=0, br;q=0", ("identity",)),
        ("identity;q=1, gzip;q=0.5", ("identity", "gzip")),
        ("br, *;q=0", ("br", "identity")),  # identity refused, yet the fallback
        ("gzip;q=abc, br;q=2", ("identity",)),  # weights that are not weights: ignored
        ("GZIP ; Q=0.8", ("gzip", "identity")),
    ],
)
def test_accept_encoding_is_read_with_its_weights(header, expected):
    assert acceptable_codings(header) == expected


def test_payloads_name_documents_within_postgresql_limit():
    changed = {("article", uuid.uuid4()) for _ in range(NAMED_LIMIT)}

    sent = payloads(changed)

    assert all(len(payload.encode()) < min(PAYLOAD_BYTES + 1, 8000) for payload in sent)
    assert set().union(*(parse(payload) or set() for payload in sent)) == changed
    assert payloads(changed | {("faq", uuid.uuid4())}) == ["*"]  # too many: everything
    assert parse("*") is None and parse("") is None and parse("article:nonsense") is None


def test_each_document_is_served_in_the_coding_asked_for(committed_app):
    client = committed_app.test_client()
    for address in (ARTICLE, PERSON):
        identity = client.get(address)
        stem = identity.headers["ETag"][:-1]
        assert identity.headers["Vary"].startswith("Accept-Encoding")
        assert "Content-Encoding" not in identity.headers
        for _ in range(2):  # read from PostgreSQL, then from memory
            for accept, coding, decode, suffix in [
                ("gzip, deflate, br", "br", brotli.decompress, "-br"),
                ("gzip", "gzip", gzip.decompress, "-gz"),
                ("br;q=0.1, gzip;q=0.9", "gzip", gzip.decompress, "-gz"),
                ("identity, gzip;q=0.5", None, bytes, ""),
                ("br;q=0, gzip;q=0", None, bytes, ""),
            ]:
                for method in ("GET", "HEAD"):
                    answer = client.open(
                        address, method=method, headers={"Accept-Encoding": accept}
                    )
                    assert answer.status_code == 200
                    assert answer.headers.get("Content-Encoding") == coding, accept
                    assert answer.headers["ETag"] == stem + suffix + '"'
                    assert answer.headers["Vary"] == identity.headers["Vary"]
                    assert answer.headers["Cache-Control"] == identity.headers["Cache-Control"]
                    if method == "GET":
                        data = answer.get_data()
                        assert int(answer.headers["Content-Length"]) == len(data)
                        assert decode(data) == identity.get_data()
                    else:
                        assert answer.get_data() == b""
            eventually(lambda: cache_of(committed_app)._listening)


def test_a_revalidation_matches_any_coding_the_client_accepts(committed_app):
    client = committed_app.test_client()
    etag = client.get(ARTICLE).headers["ETag"]
    gz, br = etag[:-1] + '-gz"', etag[:-1] + '-br"'
    for if_none_match, accept, status, answered in [
        (gz, "gzip", 304, gz),
        (gz, "br, gzip", 304, gz),  # a cache's gzip copy is as fresh as the brotli one
        (f'W/{br}, "other"', "br", 304, br),  # weak comparison, as for any GET
        ("*", "br", 304, br),
        (etag, "br, gzip", 304, etag),  # identity is acceptable unless refused
        (gz, None, 200, etag),  # no gzip accepted: that copy is not the client's
        (br, "gzip", 200, gz),
        ('"' + "0" * 32 + '-br"', "br", 200, br),  # an older version
    ]:
        headers = {"If-None-Match": if_none_match}
        if accept is not None:
            headers["Accept-Encoding"] = accept
        for method in ("GET", "HEAD"):
            answer = client.open(ARTICLE, method=method, headers=headers)
            assert answer.status_code == status, (if_none_match, accept)
            assert answer.headers["ETag"] == answered
            assert answer.headers["Vary"] == "Accept-Encoding, X-Preview-Token"
            if status == 304:
                assert answer.get_data() == b""
                assert "Content-Encoding" not in answer.headers


@pytest.fixture
def etag_only_app(committed_app: Flask):
    """The committed app's database, read by a role that may read ETags but no bodies."""
    role = f"etag_reader_{uuid.uuid4().hex[:8]}"
    url = committed_app.config["SQLALCHEMY_DATABASE_URI"]
    with committed_app.app_context():
        db.session.execute(text(f"CREATE ROLE {role} LOGIN"))
        db.session.execute(
            text(
                "GRANT SELECT (kind, locale, slug, entity_id, etag) "
                f"ON published_documents TO {role}"
            )
        )
        db.session.commit()
    # As that role, on whichever server the suite runs (its superuser is not always postgres).
    app = build_app(make_url(url).set(username=role, password=None).render_as_string(False))
    try:
        yield app
    finally:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()
        with committed_app.app_context():
            db.session.execute(text(f"REVOKE ALL ON published_documents FROM {role}"))
            # The app's document cache listener reconnects after losing its connection.
            db.session.execute(text(f"ALTER ROLE {role} NOLOGIN"))
            db.session.commit()
            db.session.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                {"r": role},
            )
            db.session.commit()

            def gone() -> bool:
                # A transaction sees one snapshot of pg_stat_activity: a new one each time.
                with db.engine.connect() as connection:
                    return not connection.execute(
                        text("SELECT count(*) FROM pg_stat_activity WHERE usename = :r"),
                        {"r": role},
                    ).scalar()

            eventually(gone)
            db.session.execute(text(f"DROP ROLE {role}"))
            db.session.commit()


def test_a_revalidation_never_reads_the_body(committed_app, etag_only_app):
    etag = committed_app.test_client().get(ARTICLE).headers["ETag"]
    client = etag_only_app.test_client()

    for headers in ({"If-None-Match": etag}, {"If-None-Match": etag[:-1] + '-br"'}):
        revalidated = client.get(ARTICLE, headers={**headers, "Accept-Encoding": "br"})
        assert revalidated.status_code == 304
    # The proof that it was the ETag alone: this role may not read a body at all (the
    # refusal is a server error).
    assert client.get(ARTICLE).status_code == 500


def test_a_publish_drops_only_the_documents_it_changed(committed_app):
    client = committed_app.test_client()
    eventually(
        lambda: client.get(ARTICLE).status_code == 200 and cache_of(committed_app)._listening
    )
    first, other = client.get(ARTICLE), client.get(OTHER)
    cache = cache_of(committed_app)
    assert ("article", "headache-after-botox") in cache._entries
    assert ("article", "tmj-headache") in cache._entries

    with committed_app.app_context():
        ids = dict(
            db.session.execute(
                text("SELECT slug, entity_id FROM published_documents WHERE slug = ANY(:slugs)"),
                {"slugs": ["headache-after-botox", "tmj-headache"]},
            ).all()
        )
        # Both changed behind publishing's back; only one is announced, as publishing would.
        db.session.execute(
            text(
                "UPDATE published_documents SET body = :body, etag = '\"x\"' "
                "WHERE slug IN ('headache-after-botox', 'tmj-headache')"
            ),
            {"body": '{"changed":true}'},
        )
        db.session.execute(
            text("SELECT pg_notify('cms_documents', :payload)"),
            {"payload": payloads({("article", ids["headache-after-botox"])})[0]},
        )
        db.session.commit()

    eventually(lambda: client.get(ARTICLE).headers["ETag"] == '"x"')
    assert client.get(ARTICLE, headers={"Accept-Encoding": "br"}).get_json() == {"changed": True}
    # The body changed without its compressed forms: they went (the trigger), so no one
    # gets the old body compressed.
    assert "Content-Encoding" not in client.get(ARTICLE, headers={"Accept-Encoding": "br"}).headers
    # The other one, not announced, is still served from memory.
    assert client.get(OTHER).get_data() == other.get_data() != first.get_data()
    assert len(cache) >= 2


def test_memory_keeps_the_uncompressed_body_only_for_clients_that_take_no_compression(
    committed_app,
):
    client = committed_app.test_client()
    wait_until_listening(committed_app, PERSON)
    cache = cache_of(committed_app)
    cache.clear()
    compressed = client.get(PERSON, headers={"Accept-Encoding": "br"})
    assert compressed.headers["Content-Encoding"] == "br"
    kept = cache._entries[("person", "tobias-lindqvist")]
    assert kept.identity is None and kept.br is not None  # a quarter of the size

    plain = client.get(PERSON)
    assert "Content-Encoding" not in plain.headers
    kept = cache._entries[("person", "tobias-lindqvist")]
    assert kept.identity == plain.get_data() == brotli.decompress(compressed.get_data())
    # Kept beside the brotli form: the next client of either kind is served from memory.
    assert kept.br is not None
    assert client.get(PERSON).get_data() == plain.get_data()


def test_a_bulk_announcement_empties_everything(committed_app):
    client = committed_app.test_client()
    eventually(
        lambda: client.get(ARTICLE).status_code == 200 and cache_of(committed_app)._listening
    )
    client.get(ARTICLE)
    client.get(OTHER)
    cache = cache_of(committed_app)
    assert len(cache) >= 2
    many = {("article", uuid.uuid4()) for _ in range(NAMED_LIMIT + 1)}
    with committed_app.app_context():
        db.session.execute(
            text("SELECT pg_notify('cms_documents', :payload)"), {"payload": payloads(many)[0]}
        )
        db.session.commit()
    eventually(lambda: len(cache) == 0)


def test_a_renamed_article_leaves_memory_under_its_former_slug(committed_app, live_server):
    _port, tokens = live_server
    client = committed_app.test_client()
    wait_until_listening(committed_app, OTHER)
    assert client.get(OTHER).status_code == 200  # now in memory under tmj-headache
    headers = {"Authorization": f"Bearer {tokens['editor']}"}
    found = client.get("/v1/admin/articles?q=tmj-headache", headers=headers).get_json()
    url = f"/v1/admin/articles/{found['items'][0]['id']}"
    etag = client.get(url, headers=headers).headers["ETag"]

    renamed = client.patch(
        url, json={"slug": "jaw-joint-headache"}, headers={**headers, "If-Match": etag}
    )

    assert renamed.status_code == 200, renamed.get_json()
    assert client.get(OTHER).status_code == 301
    assert client.get("/v1/articles/jaw-joint-headache").status_code == 200


def test_the_migration_compresses_documents_already_stored(committed_app):
    with committed_app.app_context():
        downgrade(revision="0010")
        upgrade()
        rows = db.session.execute(
            text("SELECT body, body_gzip, body_br FROM published_documents")
        ).all()
        db.session.rollback()
    assert rows
    for body, gzipped, brotlied in rows:
        assert gzip.decompress(gzipped) == body.encode() == brotli.decompress(brotlied)


def test_the_app_opens_nothing_before_a_fork(committed_app):
    url = committed_app.config["SQLALCHEMY_DATABASE_URI"]
    threads = {thread.name for thread in threading.enumerate()}
    before = _connections(url)

    app = build_app(url)

    assert {thread.name for thread in threading.enumerate()} <= threads
    assert _connections(url) == before
    with app.app_context():
        for engine in db.engines.values():
            assert engine.pool.checkedout() == 0


def _connections(url: str) -> int:
    """Connections to the database of this URL, other than the one asking."""
    server, _, database = url.replace("+psycopg", "").rpartition("/")
    with psycopg.connect(server + "/postgres") as conn:
        found = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchone()
    assert found is not None
    return found[0]
