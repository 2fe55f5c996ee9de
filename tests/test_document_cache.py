"""Workers keep published documents in memory and drop them when a commit announces a change."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from cms_api.database import db
from cms_api.document_cache import Document, DocumentCache
from cms_api.services.accounts import users
from tests.conftest import bearer
from tests.support.cache import cache_of, eventually

ARTICLE = "/v1/articles/headache-after-botox"


def test_a_document_is_served_from_memory_until_a_commit_announces_a_change(committed_app):
    client = committed_app.test_client()
    first = client.get(ARTICLE)
    assert first.status_code == 200
    eventually(lambda: cache_of(committed_app)._listening)
    assert client.get(ARTICLE).get_data() == first.get_data()  # read once more: now kept

    # A change behind publishing's back, with no announcement: memory still answers.
    with committed_app.app_context():
        db.session.execute(
            text(
                "UPDATE published_documents SET body = :body, etag = :etag "
                "WHERE kind = 'article' AND slug = 'headache-after-botox'"
            ),
            {"body": '{"changed":true}', "etag": '"x"'},
        )
        db.session.commit()
    assert client.get(ARTICLE).headers["ETag"] == first.headers["ETag"]

    # The announcement publishing makes on every change: the next read is fresh.
    with committed_app.app_context():
        db.session.execute(text("NOTIFY cms_documents"))
        db.session.commit()
    eventually(lambda: client.get(ARTICLE).headers["ETag"] == '"x"')
    assert client.get(ARTICLE).get_json() == {"changed": True}


def test_an_edit_through_the_api_reaches_readers_at_once(committed_app):
    client = committed_app.test_client()
    eventually(
        lambda: client.get(ARTICLE).status_code == 200 and cache_of(committed_app)._listening
    )
    client.get(ARTICLE)
    with committed_app.app_context():
        user = users.create_user(email="e@example.org", name="E", role="editor")
        token = users.issue_token(user, name="t").secret
        db.session.commit()
    author = client.get(ARTICLE).get_json()["authors"][0]
    found = client.get(f"/v1/admin/people?q={author['slug']}", headers=bearer(token))
    url = f"/v1/admin/people/{found.get_json()['items'][0]['id']}"
    etag = client.get(url, headers=bearer(token)).headers["ETag"]

    edited = client.patch(
        url,
        json={"job_title": "Consultant Neurologist"},
        headers=bearer(token, **{"If-Match": etag}),
    )

    assert edited.status_code == 200
    eventually(
        lambda: (
            client.get(ARTICLE).get_json()["authors"][0]["job_title"] == "Consultant Neurologist"
        ),
        seconds=5,
    )


def test_a_read_from_before_an_announcement_is_not_kept():
    cache = DocumentCache("postgresql://unused", max_bytes=1 << 20)
    cache._listening = True
    before = cache.generation()
    cache.clear()  # a change was announced while the read was under way

    cache.put(("article", "a"), Document(b"{}", '"old"', entity_id=uuid.uuid4()), before)
    new = Document(b"{}", '"new"', entity_id=uuid.uuid4())
    cache.put(("article", "b"), new, cache.generation())

    assert ("article", "a") not in cache._entries
    assert ("article", "a") not in cache._etags
    assert cache._entries[("article", "b")] == new


def test_the_cache_holds_no_more_than_its_budget():
    cache = DocumentCache("postgresql://unused", max_bytes=8000)
    cache._listening = True
    for number in range(20):
        document = Document(None, '"e"', br=b"x" * 900, entity_id=uuid.uuid4())
        cache.put(("article", number), document, cache.generation())

    assert cache._bytes <= 8000
    assert ("article", 19) in cache._entries and ("article", 0) not in cache._entries
