"""The change feed: publishes, updates, unpublishes and deletions, in order, from a cursor."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import text

from cms_api.database import db
from tests.conftest import bearer


def _drain(client, since: str | None = None, limit: int = 100) -> tuple[list[dict], str]:
    """Every event after `since`, following the feed page by page; and the final cursor."""
    events: list[dict] = []
    while True:
        query = f"/v1/changes?limit={limit}" + (f"&since={since}" if since else "")
        response = client.get(query)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        events += body["items"]
        since = body["page"]["next_cursor"]
        assert since
        if not body["page"]["has_more"]:
            assert "Link" not in response.headers
            return events, since
        assert "since=" in response.headers["Link"]


def _article_id(client, token: str, slug: str) -> str:
    found = client.get(f"/v1/admin/articles?q={slug}", headers=bearer(token)).get_json()
    return next(item["id"] for item in found["items"] if item["slug"] == slug)


def test_a_first_sync_sees_every_published_document(app, client):
    with app.app_context():
        connection = db.engine.connect()
    try:
        _wait_for_older_transactions(client, None, connection)
    finally:
        connection.close()
    events, _ = _drain(client, limit=7)

    published = {(event["kind"], event["slug"] or event["id"]) for event in events}
    assert ("article", "headache-after-botox") in published
    assert ("person", "tobias-lindqvist") in published
    assert ("topic", "headache") in published
    faqs = client.get("/v1/faqs?limit=100").get_json()["items"]
    assert {("faq", faq["id"]) for faq in faqs} <= published
    first = next(event for event in events if event["slug"] == "headache-after-botox")
    assert first["type"] == "article.published"
    assert first["url"] == "/v1/articles/headache-after-botox"
    assert first["occurred_at"].endswith("Z")


def test_a_caught_up_reader_gets_nothing_new_and_keeps_its_cursor(client):
    _, cursor = _drain(client)

    again = client.get(f"/v1/changes?since={cursor}")

    assert again.status_code == 200
    assert again.get_json() == {
        "items": [],
        "page": {"limit": 100, "next_cursor": cursor, "has_more": False},
    }
    assert (
        client.get(
            f"/v1/changes?since={cursor}", headers={"If-None-Match": again.headers["ETag"]}
        ).status_code
        == 304
    )


def test_unpublishing_withdraws_the_article_and_its_faqs_and_updates_linkers(client, make_token):
    editor = make_token("editor")
    _, cursor = _drain(client)
    tmj = _article_id(client, editor, "tmj-headache")
    url = f"/v1/admin/articles/{tmj}"

    assert client.post(f"{url}/unpublish", headers=bearer(editor)).status_code == 200

    events, _ = _drain(client, cursor)
    mine = [event for event in events if event["id"] == tmj]
    assert [event["type"] for event in mine] == ["article.unpublished"]
    assert mine[0]["slug"] == "tmj-headache"
    # The article that linked to it embeds its summary, so its document changed too.
    updated = {event["slug"] for event in events if event["type"] == "article.updated"}
    assert "headache-after-botox" in updated
    # Its FAQs left public view with it.
    assert any(event["type"] == "faq.unpublished" for event in events)


def test_trashing_a_published_article_is_a_deletion(client, make_token):
    editor = make_token("editor")
    _, cursor = _drain(client)
    liver = _article_id(client, editor, "liver-rash")
    url = f"/v1/admin/articles/{liver}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]

    assert client.delete(url, headers=bearer(editor, **{"If-Match": etag})).status_code == 204

    events, cursor = _drain(client, cursor)
    deleted = [event for event in events if event["id"] == liver]
    assert [event["type"] for event in deleted] == ["article.deleted"]
    assert client.get(deleted[0]["url"]).status_code == 404

    assert client.post(f"{url}/restore", headers=bearer(editor)).status_code == 200
    events, _ = _drain(client, cursor)
    assert [event["type"] for event in events if event["id"] == liver] == ["article.published"]


def test_an_unchanged_re_render_is_not_an_update(client, make_token):
    editor = make_token("editor")
    _, cursor = _drain(client)
    person = client.get("/v1/admin/people?q=tobias-lindqvist", headers=bearer(editor))
    url = f"/v1/admin/people/{person.get_json()['items'][0]['id']}"
    etag = client.get(url, headers=bearer(editor)).headers["ETag"]

    # Saving the same job title leaves every served document as it was.
    same = person.get_json()["items"][0]["job_title"]
    response = client.patch(
        url, json={"job_title": same}, headers=bearer(editor, **{"If-Match": etag})
    )

    assert response.status_code == 200
    assert _drain(client, cursor)[0] == []


def test_bad_cursors_are_400_problems(client):
    for since in ("nonsense", "WyJjaGFuZ2VzIiwiYSIsImIiXQ", "WyJ0aXRsZSIsImEiXQ"):
        response = client.get(f"/v1/changes?since={since}")
        assert response.status_code == 400, since
        assert response.content_type == "application/problem+json"
        assert "since" in response.get_json()["detail"] or "cursor" in response.get_json()["detail"]
    assert client.get("/v1/changes?limit=101").status_code == 400
    assert client.get("/v1/changes?after=1").status_code == 400


def _wait_for_older_transactions(
    client, cursor: str | None, connection, expected: int = 1
) -> list[dict]:
    """The feed after `cursor` once it holds `expected` events or more, polling while
    older transactions on the server hold them back.

    The feed waits for every older transaction of the whole server, so a long one
    elsewhere (another database's bulk load, a test running beside this one) delays it,
    and may hold back a later event while an earlier one is out; that is not this test's
    subject.
    """
    deadline = time.monotonic() + 10
    events: list[dict] = []
    while True:
        more, cursor = _drain(client, cursor)
        events += more
        if len(events) >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if len(events) < expected:
        older = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
            )
        ).scalar()
        if older:
            pytest.skip(f"{older} long transaction(s) elsewhere on the server hold the feed back")
    return events


def test_an_event_committed_late_is_not_skipped(app, client):
    """A transaction that began first but commits last must not fall behind a cursor."""
    _, cursor = _drain(client)
    early_id, late_id = uuid.uuid4(), uuid.uuid4()
    insert = text(
        "INSERT INTO change_events (kind, entity_id, slug, action) "
        "VALUES ('article', :id, :slug, 'published')"
    )
    with app.app_context():
        engine = db.engine
    early, late = engine.connect(), engine.connect()
    try:
        early.execute(insert, {"id": early_id, "slug": "early"})  # takes the older id
        late.execute(insert, {"id": late_id, "slug": "late"})
        late.commit()

        held, _ = _drain(client, cursor)
        assert {event["id"] for event in held}.isdisjoint({str(early_id), str(late_id)})

        early.commit()
        events = _wait_for_older_transactions(client, cursor, late, expected=2)
        assert [event["slug"] for event in events] == ["early", "late"]
    finally:
        early.rollback()
        late.rollback()
        for connection in (early, late):
            connection.execute(
                text("DELETE FROM change_events WHERE entity_id IN (:a, :b)"),
                {"a": early_id, "b": late_id},
            )
            connection.commit()
            connection.close()


SPANISH = "dolor-de-cabeza-despues-del-botox"


def test_each_event_names_its_locale_and_a_url_that_reads_it_there(client):
    events, _ = _drain(client)

    assert "Content-Language" not in client.get("/v1/changes").headers  # every locale
    assert {event["locale"] for event in events} == {"en", "es"}
    original = next(e for e in events if e["slug"] == "headache-after-botox")
    assert original["locale"] == "en"
    assert original["url"] == "/v1/articles/headache-after-botox"
    translation = next(e for e in events if e["kind"] == "article" and e["slug"] == SPANISH)
    assert translation["locale"] == "es"
    assert translation["url"] == f"/v1/articles/{SPANISH}?locale=es"
    assert client.get(translation["url"]).status_code == 200
    # A topic's Spanish page is its own document, read with the same slug in Spanish.
    topics = [e for e in events if e["kind"] == "topic" and e["slug"] == "headache"]
    assert {(e["locale"], e["url"]) for e in topics} == {
        ("en", "/v1/topics/headache"),
        ("es", "/v1/topics/headache?locale=es"),
    }
    assert len({e["id"] for e in topics}) == 2


def test_the_locale_parameter_narrows_the_feed_to_one_locale(client):
    everything, _ = _drain(client)

    response = client.get("/v1/changes?locale=ES&limit=100")
    spanish = response.get_json()["items"]

    assert response.status_code == 200
    assert response.headers["Content-Language"] == "es"
    assert spanish == [event for event in everything if event["locale"] == "es"]
    assert {event["kind"] for event in spanish} >= {"article", "topic", "person", "faq"}
    assert (
        client.get("/v1/changes?locale=en&limit=100").get_json()["items"]
        == [event for event in everything if event["locale"] == "en"][:100]
    )
    # The next page keeps to the locale.
    first = client.get("/v1/changes?locale=es&limit=1")
    assert "locale=es" in first.headers["Link"]
    cursor = first.get_json()["page"]["next_cursor"]
    rest = client.get(f"/v1/changes?locale=es&since={cursor}&limit=100").get_json()["items"]
    assert [first.get_json()["items"][0], *rest] == spanish


def test_a_cursor_is_a_place_in_the_feed_of_every_locale(client):
    spanish = client.get("/v1/changes?locale=es&limit=1").get_json()
    cursor = spanish["page"]["next_cursor"]
    everything, _ = _drain(client)

    after, _ = _drain(client, cursor)

    (first,) = spanish["items"]
    position = next(
        index
        for index, event in enumerate(everything)
        if (event["id"], event["type"], event["occurred_at"])
        == (first["id"], first["type"], first["occurred_at"])
    )
    assert after == everything[position + 1 :]


def test_a_locale_the_site_does_not_serve_is_a_400_problem(client):
    for locale in ("fr", "not a tag"):
        response = client.get("/v1/changes", query_string={"locale": locale})
        assert response.status_code == 400, locale
        assert response.content_type == "application/problem+json"
