"""No public answer reveals emails, tokens or unpublished content, wherever a reader looks."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask.testing import FlaskClient

from cms_api.domain.clock import utcnow
from cms_api.ratelimit import limiter
from tests.conftest import bearer
from tests.support.api import (
    AUTHOR_PERSON,
    CLINICAL,
    PUBLISHABLE,
    REVIEWER_PERSON,
    SEEDED_ARTICLE,
    expect_created,
)
from tests.support.openapi import is_public, operations, path_parameters, query_parameters


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


MAX_PAGES = 50


class PublicWalk:
    """Every public GET operation in the document, with every value its parameters can
    take that matters here, every page of every list, and every detail page it links."""

    def __init__(self, client: FlaskClient, document: dict[str, Any], filters: dict[str, list]):
        self.client = client
        self.document = document
        self.filters = filters
        self.answers: dict[str, tuple[int, str]] = {}
        self.unwalkable: list[str] = []

    def get(self, url: str, query: dict[str, Any] | None = None, page: int = 1) -> None:
        key = url + "?" + json.dumps(query or {}, sort_keys=True)
        if key in self.answers:
            return
        response = self.client.get(url, query_string=query or {})
        self.answers[key] = (response.status_code, _without_echoes(response))
        # Every next page, as the Link header names it (the same parameters plus a cursor).
        following = re.match(r'<([^>]+)>; rel="next"', response.headers.get("Link", ""))
        if page >= MAX_PAGES:
            return
        if following:
            parts = urlsplit(following[1])
            self.get(parts.path, dict(parse_qsl(parts.query)), page + 1)
        elif url == "/v1/changes" and response.status_code == 200:
            # A feed: its cursor always comes back, to ask later for what is new since.
            body = response.get_json()
            if body["items"]:
                self.get(url, {**(query or {}), "since": body["page"]["next_cursor"]}, page + 1)

    def values(self, parameter: dict[str, Any]) -> list[Any]:
        schema = parameter.get("schema", {})
        if parameter["name"] in ("cursor", "since"):
            return []  # only pages the server issued (followed above)
        if parameter["name"] == "limit":
            return [schema.get("maximum", 100)]
        if schema.get("enum"):
            return list(schema["enum"])
        if parameter["name"] in self.filters:
            return self.filters[parameter["name"]]
        if schema.get("format") == "date-time":
            return ["2000-01-01T00:00:00Z"]
        return []

    def walk(self, slugs: dict[str, list[str]]) -> None:
        for method, path, operation in operations(self.document):
            if method != "GET" or not is_public(path):
                continue
            names = path_parameters(path)
            try:
                concrete = self._concrete(path, names, slugs)
            except KeyError as unknown:
                self.unwalkable.append(f"{path}: no values for {unknown}")
                continue
            parameters = query_parameters(operation)
            required = [p for p in parameters if p.get("required")]
            alternatives = [p for p in parameters if p.get("one_of")]
            optional = [p for p in parameters if not p.get("required") and not p.get("one_of")]
            bases: list[dict[str, Any]] = [{}]
            for parameter in required:
                choices = self.values(parameter)
                if not choices:
                    self.unwalkable.append(f"{path}: no values for {parameter['name']}")
                bases = [{**base, parameter["name"]: value} for base in bases for value in choices]
            if alternatives:
                bases = [
                    {**base, parameter["name"]: value}
                    for base in bases
                    for parameter in alternatives
                    for value in self.values(parameter)
                ]
            limit = next((p for p in optional if p["name"] == "limit"), None)
            paging = {"limit": self.values(limit)[0]} if limit else {}
            for url in concrete:
                for base in bases:
                    self.get(url, {**base, **paging})
                    for parameter in optional:
                        for value in self.values(parameter):
                            self.get(url, {**base, **paging, parameter["name"]: value})

    def _concrete(self, path: str, names: list[str], slugs: dict[str, list[str]]) -> list[str]:
        if not names:
            return [path]
        (name,) = names
        if name == "slug":
            kind = path.split("/")[2]  # /v1/<kind>/{slug}
            values = slugs[kind]
        elif name == "faq_id":
            values = slugs["faqs"]
        elif name == "number":
            values = ["1", "2"]
        elif name == "key":  # a media file's: well formed, and no image has it
            values = ["0" * 64 + ".webp"]
        else:
            raise KeyError(name)
        return [path.replace(f"{{{name}}}", value) for value in values]


def _without_echoes(response: Any) -> str:
    """The answer's headers and body, less what only repeats the request (a problem's
    `instance`, a search's `query`, an answer's `q`, the next page's `Link`): that is the
    asker's text."""
    headers = "\n".join(
        f"{name}: {value}" for name, value in response.headers.items() if name != "Link"
    )
    body = response.get_data(as_text=True)
    if response.is_json:
        parsed = response.get_json()
        if isinstance(parsed, dict):
            parsed.pop("instance", None)
            parsed.pop("query", None)
            parsed.pop("q", None)  # an instant answer repeats the question
        body = json.dumps(parsed, ensure_ascii=False)
    return headers + "\n" + body


def _slugs_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("slug"), str):
            yield value["slug"]
        for item in value.values():
            yield from _slugs_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _slugs_in(item)


def _all_items(client: FlaskClient, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": 100}
    while True:
        body = client.get(path, query_string=query).get_json()
        items += body["items"]
        if not body["page"]["next_cursor"]:
            return items
        query["cursor"] = body["page"]["next_cursor"]


def test_no_public_answer_reveals_emails_tokens_or_unpublished_content(
    app, client, document, make_token
):
    secret = uuid.uuid4().hex[:12]  # in everything that must stay private, and nothing else
    editor, reviewer = make_token("editor"), make_token("reviewer")
    user_token = make_token("editor", email=f"user-{secret}@example.org")
    private_texts = [secret, user_token, user_token[:12], _sha256(user_token)]

    # A reader's question with an email, promoted into a published FAQ: the email stays out.
    limiter.reset()
    asked = client.post(
        "/v1/questions",
        json={
            "question": "Does a promoted question keep its reader private?",
            "article": SEEDED_ARTICLE,
            "email": f"reader-{secret}@example.org",
        },
    )
    assert asked.status_code == 202, asked.get_json()
    promoted = client.post(
        f"/v1/admin/questions/{asked.get_json()['id']}/promote",
        json={"answer": "Yes."},
        headers=bearer(editor),
    )
    assert promoted.status_code == 200, promoted.get_json()

    # A draft in review, with an FAQ of its own, on a seeded topic, by a seeded author.
    draft = client.post(
        "/v1/admin/articles",
        json={
            "slug": f"draft-{secret}",
            "title": f"Draft {secret}",
            "summary": f"Summary {secret}",
            "topics": ["headache"],
            "sections": [{"key": "overview", "heading": "Overview", "body": f"Body {secret}"}],
        },
        headers=bearer(editor),
    )
    draft_url = draft.headers["Location"]
    client.put(
        f"{draft_url}/authors",
        json={"authors": [AUTHOR_PERSON]},
        headers=bearer(editor, **{"If-Match": draft.headers["ETag"]}),
    )
    assert client.post(f"{draft_url}/submit", headers=bearer(editor)).status_code == 200
    hidden_faqs = [
        expect_created(
            client.post(
                "/v1/admin/faqs",
                json={"question": f"FAQ {secret}?", "answer": f"Answer {secret}", **owner},
                headers=bearer(editor),
            ),
            "faq",
        )["id"]
        for owner in (
            {"article_id": draft.get_json()["id"], "status": "published"},
            {"topic": "headache", "status": "draft"},
        )
    ]
    # Approved and scheduled for next week: not public yet.
    scheduled = client.post(
        "/v1/admin/articles",
        json={
            "slug": f"scheduled-{secret}",
            "title": f"Scheduled {secret}",
            "topics": ["skin-rash"],
            **PUBLISHABLE,
        },
        headers=bearer(editor),
    )
    scheduled_url = scheduled.headers["Location"]
    client.put(
        f"{scheduled_url}/authors",
        json={"authors": [AUTHOR_PERSON]},
        headers=bearer(editor, **{"If-Match": scheduled.headers["ETag"]}),
    )
    client.post(f"{scheduled_url}/submit", headers=bearer(editor))
    assert (
        client.post(f"{scheduled_url}/approve", json=CLINICAL, headers=bearer(reviewer)).status_code
        == 200
    )
    later = (utcnow() + timedelta(days=7)).isoformat()
    assert (
        client.post(
            f"{scheduled_url}/publish", json={"publish_at": later}, headers=bearer(editor)
        ).get_json()["status"]
        == "approved"
    )
    # A published article's unapproved edit: readers keep the approved revision.
    live = client.get(
        "/v1/admin/articles", query_string={"q": "liver-rash"}, headers=bearer(editor)
    )
    live_url = f"/v1/admin/articles/{live.get_json()['items'][0]['id']}"
    etag = client.get(live_url, headers=bearer(editor)).headers["ETag"]
    edited = client.patch(
        live_url,
        json={"title": f"Unapproved {secret}", "summary": f"Unapproved summary {secret}"},
        headers=bearer(editor, **{"If-Match": etag}),
    )
    assert edited.get_json()["status"] == "in_review"
    # A person who has not published anything yet.
    expect_created(
        client.post(
            "/v1/admin/people",
            json={"slug": f"nobody-{secret}", "name": f"Nobody {secret}", "bio": secret},
            headers=bearer(editor),
        ),
        "person",
    )

    # A red flag still in draft: its words and triggers match and show nothing.
    expect_created(
        client.post(
            "/v1/admin/red-flags",
            json={
                "slug": f"draft-flag-{secret}",
                "name": f"Draft {secret}",
                "triggers": [f"{secret} + headache"],
                "title": f"Draft {secret}",
                "body": secret,
                "action": {"label": secret, "url": "tel:911"},
            },
            headers=bearer(editor),
        ),
        "red flag",
    )
    articles = [item["slug"] for item in _all_items(client, "/v1/articles")]
    people = [item["slug"] for item in _all_items(client, "/v1/people")]
    topics = sorted(set(_slugs_in(client.get("/v1/topics?limit=100").get_json()["items"])))
    faqs = [item["id"] for item in _all_items(client, "/v1/faqs")]
    assert "liver-rash" in articles and SEEDED_ARTICLE in articles
    slugs = {
        "articles": [*articles, f"draft-{secret}", f"scheduled-{secret}"],
        "people": [*people, f"nobody-{secret}"],
        "topics": topics,
        "faqs": [*faqs, *hidden_faqs],
        "red-flags": [
            *(item["slug"] for item in _all_items(client, "/v1/red-flags")),
            f"draft-flag-{secret}",
        ],
    }
    walk = PublicWalk(
        client,
        document,
        filters={
            "topic": ["headache", "skin-rash"],
            "author": [AUTHOR_PERSON],
            "reviewer": [REVIEWER_PERSON],
            "article": [f"draft-{secret}", "liver-rash", SEEDED_ARTICLE],
            "q": [secret, f"Draft {secret}", "headache"],
            "symptom": [secret, "headache"],
            "code": ["icd10cm:R51.9"],
            "updated_since": ["2000-01-01T00:00:00Z"],
        },
    )
    walk.walk(slugs)

    assert not walk.unwalkable, "\n".join(walk.unwalkable)
    assert len(walk.answers) > 100, "the walk reached every list, page and detail"
    leaks = [
        f"{url}: shows {needle!r}"
        for url, (_, body) in walk.answers.items()
        for needle in private_texts
        if needle in body
    ]
    assert not leaks, "\n".join(leaks)
    assert "reader-" not in "".join(body for _, body in walk.answers.values())
    # Asked for by address, the unpublished things are simply not there.
    for url in (
        f"/v1/articles/draft-{secret}",
        f"/v1/articles/draft-{secret}/jsonld",
        f"/v1/articles/scheduled-{secret}",
        f"/v1/people/nobody-{secret}",
        f"/v1/red-flags/draft-flag-{secret}",
        *(f"/v1/faqs/{faq}" for faq in hidden_faqs),
    ):
        assert client.get(url).status_code == 404, url
    # The approved revision is what readers get.
    assert client.get("/v1/articles/liver-rash").get_json()["title"] != f"Unapproved {secret}"
