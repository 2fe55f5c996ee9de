"""Review comments: threads on an article's sections, replies, resolving, deleting, pages."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import bearer
from tests.support.api import NO_ID, PROBLEM

ARTICLES = "/v1/admin/articles"
SECTIONS = [
    {"key": "overview", "heading": "Overview", "body": "What to know."},
    {
        "key": "causes",
        "heading": "Causes",
        "body": "Why it happens.",
        "subsections": [{"key": "injection", "heading": "The injection", "body": "Where."}],
    },
]


@pytest.fixture
def article(client: FlaskClient, editor: str) -> dict[str, Any]:
    """A draft with sections `overview`, `causes` and the sub-section `injection`."""
    created = client.post(
        ARTICLES,
        json={"slug": f"commented-{uuid.uuid4().hex[:8]}", "title": "C", "sections": SECTIONS},
        headers=bearer(editor),
    )
    assert created.status_code == 201, created.get_json()
    return {**created.get_json(), "etag": created.headers["ETag"]}


def _comments(article: dict[str, Any]) -> str:
    return f"{ARTICLES}/{article['id']}/comments"


@pytest.fixture
def comment(client: FlaskClient, article: dict[str, Any]) -> Callable[..., Any]:
    """Post a comment on the article as `token`; answer the response."""

    def post(token: str, **body: Any) -> Any:
        return client.post(
            _comments(article), json={"body": "Check this.", **body}, headers=bearer(token)
        )

    return post


def _created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.get_json()
    return {**response.get_json(), "etag": response.headers["ETag"]}


def _audit(client: FlaskClient, token: str, comment_id: str) -> list[dict[str, Any]]:
    events = client.get(f"/v1/admin/audit?target_id={comment_id}", headers=bearer(token)).get_json()
    assert {event["target_type"] for event in events["items"]} == {"comment"}
    return list(reversed(events["items"]))  # oldest first


def test_reviewers_editors_and_admins_comment_on_sections_and_viewers_read(
    client, article, comment, make_token, editor
):
    reviewer, admin, viewer = make_token("reviewer"), make_token("admin"), make_token("viewer")

    response = comment(reviewer, body="  Cite the <b>label</b> dose.\n", section_key="causes")

    created = _created(response)
    assert response.headers["Location"] == f"{_comments(article)}/{created['id']}"
    assert response.headers["Cache-Control"] == "no-store"
    # Plain text as written: no trimming, no markup interpreted or removed.
    assert created["body"] == "  Cite the <b>label</b> dose.\n"
    assert created["section_key"] == "causes"
    assert created["anchor_missing"] is False
    assert created["revision_number"] == article["revision_number"]
    assert created["parent_id"] is None
    assert created["author"]["role"] == "reviewer"
    assert created["author"]["name"] == "Test reviewer"
    assert (created["resolved"], created["resolved_at"], created["resolved_by"]) == (
        False,
        None,
        None,
    )
    assert created["replies"] == []
    assert created["edited_at"] is None
    # A sub-section's key anchors too; no key is the whole article.
    assert _created(comment(admin, section_key="injection"))["section_key"] == "injection"
    assert _created(comment(editor))["section_key"] is None
    # Commenting changes nothing of the article: an editor's If-Match stays good.
    read = client.get(f"{ARTICLES}/{article['id']}", headers=bearer(editor))
    assert read.headers["ETag"] == article["etag"]

    listed = client.get(_comments(article), headers=bearer(viewer))
    assert listed.status_code == 200
    assert [item["section_key"] for item in listed.get_json()["items"]] == [
        "causes",
        "injection",
        None,
    ]
    single = client.get(f"{_comments(article)}/{created['id']}", headers=bearer(viewer))
    assert single.status_code == 200
    assert single.headers["ETag"] == created["etag"]
    assert single.get_json()["body"] == created["body"]

    refused = comment(viewer)
    assert refused.status_code == 403
    assert refused.content_type == PROBLEM
    assert refused.get_json()["type"] == "/problems/forbidden"
    anonymous = client.post(_comments(article), json={"body": "Hi."})
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get(_comments(article)).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": "Fine.", "section_key": "side-effects"}, "section_key"),
        ({"body": "Fine.", "section_key": "Not A Key"}, "section_key"),
        ({"body": ""}, "body"),
        ({"body": "   \n "}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"body": "a\x00b"}, "body"),
        ({"body": "Fine.", "color": "red"}, "color"),
        ({"body": "Fine.", "parent_id": NO_ID}, "parent_id"),
        ({"body": "Fine.", "parent_id": "not-a-uuid"}, "parent_id"),
    ],
)
def test_bad_comments_are_422_naming_the_field(comment, make_token, body, field):
    response = comment(make_token("reviewer"), **body)

    assert response.status_code == 422, response.get_json()
    assert response.content_type == PROBLEM
    assert field in response.get_json()["errors"]["json"]


def test_a_comment_without_a_body_and_the_longest_body(client, article, make_token):
    reviewer = make_token("reviewer")
    missing = client.post(
        _comments(article), json={"section_key": "causes"}, headers=bearer(reviewer)
    )
    assert missing.status_code == 422
    assert "body" in missing.get_json()["errors"]["json"]
    longest = client.post(_comments(article), json={"body": "x" * 5000}, headers=bearer(reviewer))
    assert longest.status_code == 201


def test_an_unknown_section_is_refused_naming_the_sections_there_are(comment, make_token):
    response = comment(make_token("reviewer"), section_key="side-effects")

    assert response.status_code == 422
    assert "causes, injection, overview" in response.get_json()["errors"]["json"]["section_key"][0]


def test_replies_are_one_level_deep_and_take_their_threads_anchor(
    client, article, comment, make_token, editor
):
    reviewer = make_token("reviewer")
    thread = _created(comment(reviewer, section_key="causes", body="Which study?"))
    first = _created(comment(editor, parent_id=thread["id"], body="The 2019 trial."))
    second = _created(comment(reviewer, parent_id=thread["id"], body="Cite it, please."))

    assert (first["parent_id"], first["section_key"]) == (thread["id"], "causes")
    listed = client.get(_comments(article), headers=bearer(editor)).get_json()
    assert listed["page"]["total"] == 1, "threads are listed, replies inside them"
    (item,) = listed["items"]
    assert [reply["id"] for reply in item["replies"]] == [first["id"], second["id"]]
    assert item["replies"][0]["author"]["role"] == "editor"
    single = client.get(f"{_comments(article)}/{thread['id']}", headers=bearer(editor)).get_json()
    assert [reply["body"] for reply in single["replies"]] == ["The 2019 trial.", "Cite it, please."]

    to_a_reply = comment(reviewer, parent_id=first["id"])
    assert to_a_reply.status_code == 422
    assert thread["id"] in to_a_reply.get_json()["errors"]["json"]["parent_id"][0]
    anchored = comment(reviewer, parent_id=thread["id"], section_key="overview")
    assert anchored.status_code == 422
    assert "section_key" in anchored.get_json()["errors"]["json"]

    # A thread of another article is no parent here.
    other = client.post(
        ARTICLES,
        json={"slug": f"other-{uuid.uuid4().hex[:8]}", "title": "O"},
        headers=bearer(editor),
    ).get_json()
    elsewhere = client.post(
        f"{ARTICLES}/{other['id']}/comments",
        json={"body": "Misplaced.", "parent_id": thread["id"]},
        headers=bearer(reviewer),
    )
    assert elsewhere.status_code == 422
    assert "parent_id" in elsewhere.get_json()["errors"]["json"]


def test_unknown_malformed_and_misplaced_ids_are_404(client, article, comment, make_token, editor):
    reviewer = make_token("reviewer")
    created = _created(comment(reviewer))
    other = client.post(
        ARTICLES,
        json={"slug": f"other-{uuid.uuid4().hex[:8]}", "title": "O"},
        headers=bearer(editor),
    ).get_json()

    for method, url in [
        ("GET", f"{ARTICLES}/{NO_ID}/comments"),
        ("POST", f"{ARTICLES}/{NO_ID}/comments"),
        ("GET", f"{_comments(article)}/{NO_ID}"),
        ("PATCH", f"{_comments(article)}/{NO_ID}"),
        ("DELETE", f"{_comments(article)}/{NO_ID}"),
        # A comment is found only under its own article.
        ("GET", f"{ARTICLES}/{other['id']}/comments/{created['id']}"),
        ("PATCH", f"{ARTICLES}/{other['id']}/comments/{created['id']}"),
        ("DELETE", f"{ARTICLES}/{other['id']}/comments/{created['id']}"),
        ("GET", f"{ARTICLES}/not-a-uuid/comments"),
        ("GET", f"{_comments(article)}/not-a-uuid"),
        ("DELETE", f"{_comments(article)}/12345"),
    ]:
        response = client.open(
            url,
            method=method,
            json={"body": "Hello."},
            headers=bearer(reviewer, **{"If-Match": created["etag"]}),
        )
        assert response.status_code == 404, (method, url, response.get_json())
        assert response.content_type == PROBLEM


def test_an_article_in_the_trash_keeps_its_comments_readable_but_closed(
    client, article, comment, make_token, editor
):
    reviewer = make_token("reviewer")
    created = _created(comment(reviewer))
    trashed = client.delete(
        f"{ARTICLES}/{article['id']}", headers=bearer(editor, **{"If-Match": article["etag"]})
    )
    assert trashed.status_code == 204

    assert client.get(_comments(article), headers=bearer(reviewer)).get_json()["page"]["total"] == 1
    assert comment(reviewer).status_code == 404
    patched = client.patch(
        f"{_comments(article)}/{created['id']}",
        json={"resolved": True},
        headers=bearer(reviewer, **{"If-Match": created["etag"]}),
    )
    assert patched.status_code == 404


def test_a_comment_on_a_removed_section_stays_listed_with_its_anchor_missing(
    client, article, comment, make_token, editor
):
    reviewer = make_token("reviewer")
    on_causes = _created(comment(reviewer, section_key="causes"))
    on_overview = _created(comment(reviewer, section_key="overview"))
    reply = _created(comment(editor, parent_id=on_causes["id"], body="Agreed."))

    edited = client.patch(
        f"{ARTICLES}/{article['id']}",
        json={"sections": [SECTIONS[0]]},
        headers=bearer(editor, **{"If-Match": article["etag"]}),
    )
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["revision_number"] > article["revision_number"]

    listed = client.get(_comments(article), headers=bearer(editor)).get_json()["items"]
    by_id = {item["id"]: item for item in listed}
    assert by_id[on_causes["id"]]["anchor_missing"] is True
    assert by_id[on_causes["id"]]["section_key"] == "causes"
    assert by_id[on_causes["id"]]["replies"][0]["id"] == reply["id"]
    assert by_id[on_causes["id"]]["replies"][0]["anchor_missing"] is True
    assert by_id[on_overview["id"]]["anchor_missing"] is False
    # Written against the revision before the edit, as they were.
    assert by_id[on_causes["id"]]["revision_number"] == article["revision_number"]
    only = client.get(f"{_comments(article)}?section_key=causes", headers=bearer(editor))
    assert [item["id"] for item in only.get_json()["items"]] == [on_causes["id"]]
    # A new comment names a section the article has now.
    assert comment(reviewer, section_key="causes").status_code == 422
    later = _created(comment(reviewer, section_key="overview"))
    assert later["revision_number"] == edited.get_json()["revision_number"]


def test_resolving_and_reopening_a_thread(client, article, comment, make_token, editor):
    reviewer, other_reviewer, viewer = (
        make_token("reviewer"),
        make_token("reviewer"),
        make_token("viewer"),
    )
    thread = _created(comment(reviewer, section_key="causes"))
    reply = _created(comment(editor, parent_id=thread["id"]))
    url = f"{_comments(article)}/{thread['id']}"

    assert client.patch(url, json={"resolved": True}, headers=bearer(editor)).status_code == 428
    resolved = client.patch(
        url, json={"resolved": True}, headers=bearer(editor, **{"If-Match": thread["etag"]})
    )
    assert resolved.status_code == 200, resolved.get_json()
    body = resolved.get_json()
    assert body["resolved"] is True
    assert body["resolved_at"] is not None
    assert body["resolved_by"]["role"] == "editor"
    assert resolved.headers["ETag"] != thread["etag"]
    stale = client.patch(
        url, json={"resolved": False}, headers=bearer(reviewer, **{"If-Match": thread["etag"]})
    )
    assert stale.status_code == 412
    assert stale.get_json()["current_etag"] == resolved.headers["ETag"]

    open_threads = client.get(f"{_comments(article)}?resolved=false", headers=bearer(viewer))
    assert open_threads.get_json()["items"] == []
    closed = client.get(f"{_comments(article)}?resolved=true", headers=bearer(viewer)).get_json()
    assert [item["id"] for item in closed["items"]] == [thread["id"]]

    # Resolving a resolved thread changes nothing, not even its version.
    again = client.patch(
        url,
        json={"resolved": True},
        headers=bearer(reviewer, **{"If-Match": resolved.headers["ETag"]}),
    )
    assert again.status_code == 200
    assert again.headers["ETag"] == resolved.headers["ETag"]
    assert again.get_json()["resolved_by"]["role"] == "editor"
    # A reviewer who did not write it may reopen it; a viewer may not touch it.
    assert (
        client.patch(
            url,
            json={"resolved": False},
            headers=bearer(viewer, **{"If-Match": again.headers["ETag"]}),
        ).status_code
        == 403
    )
    reopened = client.patch(
        url,
        json={"resolved": False},
        headers=bearer(other_reviewer, **{"If-Match": again.headers["ETag"]}),
    )
    assert reopened.status_code == 200
    assert (reopened.get_json()["resolved"], reopened.get_json()["resolved_by"]) == (False, None)

    on_reply = client.patch(
        f"{_comments(article)}/{reply['id']}",
        json={"resolved": True},
        headers=bearer(editor, **{"If-Match": reply["etag"]}),
    )
    assert on_reply.status_code == 422
    assert thread["id"] in on_reply.get_json()["errors"]["json"]["resolved"][0]

    assert [event["action"] for event in _audit(client, editor, thread["id"])] == [
        "comment.create",
        "comment.resolve",
        "comment.reopen",
    ]


def test_only_its_author_edits_a_comment(client, article, comment, make_token, editor):
    reviewer = make_token("reviewer")
    created = _created(comment(reviewer, body="Frist draft."))
    url = f"{_comments(article)}/{created['id']}"

    by_editor = client.patch(
        url, json={"body": "Rewritten."}, headers=bearer(editor, **{"If-Match": created["etag"]})
    )
    assert by_editor.status_code == 403
    assert by_editor.get_json()["type"] == "/problems/forbidden"
    # A refused request changes nothing, also what it was allowed to change.
    both = client.patch(
        url,
        json={"body": "Rewritten.", "resolved": True},
        headers=bearer(editor, **{"If-Match": created["etag"]}),
    )
    assert both.status_code == 403
    assert client.get(url, headers=bearer(editor)).get_json()["resolved"] is False

    for bad in ({"body": ""}, {"body": "x" * 5001}, {"resolved": "yes"}, {"pinned": True}):
        response = client.patch(
            url, json=bad, headers=bearer(reviewer, **{"If-Match": created["etag"]})
        )
        assert response.status_code == 422, bad

    edited = client.patch(
        url,
        json={"body": "First draft."},
        headers=bearer(reviewer, **{"If-Match": created["etag"]}),
    )
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["body"] == "First draft."
    assert edited.get_json()["edited_at"] is not None
    update = _audit(client, editor, created["id"])[-1]
    assert update["action"] == "comment.update"
    assert (update["before"], update["after"]) == (
        {"body": "Frist draft."},
        {"body": "First draft."},
    )


def test_only_its_author_deletes_a_comment_and_only_without_replies(
    client, article, comment, make_token, editor
):
    reviewer = make_token("reviewer")
    thread = _created(comment(reviewer, section_key="overview", body="Too vague."))
    reply = _created(comment(editor, parent_id=thread["id"], body="Clarified."))
    thread_url = f"{_comments(article)}/{thread['id']}"
    reply_url = f"{_comments(article)}/{reply['id']}"

    assert client.delete(thread_url, headers=bearer(reviewer)).status_code == 428
    not_author = client.delete(thread_url, headers=bearer(editor, **{"If-Match": thread["etag"]}))
    assert not_author.status_code == 403
    admin = make_token("admin")
    assert (
        client.delete(thread_url, headers=bearer(admin, **{"If-Match": thread["etag"]})).status_code
        == 403
    )
    answered = client.delete(thread_url, headers=bearer(reviewer, **{"If-Match": thread["etag"]}))
    assert answered.status_code == 409
    assert answered.content_type == PROBLEM

    gone_reply = client.delete(reply_url, headers=bearer(editor, **{"If-Match": reply["etag"]}))
    assert gone_reply.status_code == 204
    gone = client.delete(thread_url, headers=bearer(reviewer, **{"If-Match": thread["etag"]}))
    assert gone.status_code == 204
    assert client.get(thread_url, headers=bearer(editor)).status_code == 404
    assert client.get(_comments(article), headers=bearer(editor)).get_json()["items"] == []

    # The audit log keeps what it said.
    events = _audit(client, editor, thread["id"])
    assert [event["action"] for event in events] == ["comment.create", "comment.delete"]
    assert events[-1]["before"]["body"] == "Too vague."
    assert events[-1]["before"]["section_key"] == "overview"
    assert events[-1]["after"] is None
    assert events[0]["actor_id"] is not None


def test_threads_page_oldest_first_with_keyset_cursors(client, article, comment, make_token):
    reviewer = make_token("reviewer")
    ids = [_created(comment(reviewer, body=f"Point {n}."))["id"] for n in range(5)]

    seen: list[str] = []
    url = f"{_comments(article)}?limit=2"
    pages = 0
    while url:
        response = client.get(url, headers=bearer(reviewer))
        assert response.status_code == 200
        page = response.get_json()
        assert page["page"]["total"] == 5
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["page"]["next_cursor"]
        if cursor:
            assert response.headers["Link"].endswith('; rel="next"')
            url = f"{_comments(article)}?limit=2&cursor={cursor}"
        else:
            assert "Link" not in response.headers
            url = ""
    assert (seen, pages) == (ids, 3)


@pytest.mark.parametrize(
    "query",
    [
        "resolved=maybe",
        "limit=0",
        "limit=101",
        "cursor=not-a-cursor",
        "section_key=Bad Key",
        "sort=created_at",
    ],
)
def test_bad_list_parameters_are_400_problems(client, article, make_token, query):
    response = client.get(f"{_comments(article)}?{query}", headers=bearer(make_token("viewer")))

    assert response.status_code == 400, response.get_json()
    assert response.content_type == PROBLEM


def test_a_cursor_of_another_listing_is_refused(client, article, comment, make_token, editor):
    reviewer = make_token("reviewer")
    for _ in range(2):
        _created(comment(reviewer))
    questions = client.get("/v1/admin/articles?limit=1", headers=bearer(editor)).get_json()
    foreign = questions["page"]["next_cursor"]

    response = client.get(f"{_comments(article)}?cursor={foreign}", headers=bearer(reviewer))

    assert response.status_code == 400
