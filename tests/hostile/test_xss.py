"""Stored XSS: hostile text never runs from HTML, JSON-LD or XML; URL fields take web addresses."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
from flask.testing import FlaskClient

from tests.conftest import bearer
from tests.support.api import (
    AUTHOR_PERSON,
    CLINICAL,
    PUBLISHABLE,
    SEEDED_ARTICLE,
    expect_created,
)
from tests.support.html import executable_constructs, html_fields


def test_the_inspector_finds_what_a_browser_would_run():
    # The check the XSS proofs rely on, held to known answers.
    assert executable_constructs("<p>Hi <a href='https://x.example'>x</a> &lt;script&gt;</p>") == []
    assert executable_constructs("<script>alert(1)</script>") == ["<script>"]
    assert executable_constructs("<img src=x onerror=alert(1)>") == ["<img onerror=...>"]
    assert executable_constructs('<a href=" JaVa\tScRiPt:alert(1)">x</a>')
    assert executable_constructs('<a href="&#106;avascript:alert(1)">x</a>')
    assert executable_constructs("<img src='data:image/svg+xml,<svg onload=alert(1)>'>")
    assert list(html_fields({"a": [{"body_html": "<b>"}], "title": "<i>"})) == [
        ("$.a[0].body_html", "<b>")
    ]


# -- stored XSS ------------------------------------------------------------------------------

XSS_PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "img-onerror": "<img src=x onerror=alert(1)>",
    "a-javascript": '<a href="javascript:alert(1)">x</a>',
    "svg-onload": "<svg onload=alert(1)>",
    "script-breakout": "</script><script>alert(1)</script>",
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "data-url": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "md-javascript": "[x](javascript:alert(1))",
    "md-mixed-case": "[x](JaVaScRiPt:alert(1))",
    "md-entity-scheme": "[x](&#106;avascript&colon;alert(1))",
    "md-data-image": "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "md-data-link": "[x](data:text/html,%3Cscript%3Ealert(1)%3C/script%3E)",
    "md-vbscript": "[x](vbscript:msgbox(1))",
    "md-reference": "[x][r]\n\n[r]: javascript:alert(1)",
    "md-autolink": "<javascript:alert(1)>",
    "md-attribute-breakout": '[x](https://example.org/ "t\\" onmouseover=\\"alert(1)")',
    "md-image-alt-breakout": '![x" onerror="alert(1)](https://example.org/a.png)',
    "entities": "&lt;script&gt;alert(1)&lt;/script&gt; &#60;img src=x onerror=alert(1)&#62;",
    "split-tag": "<scr<script>ipt>alert(1)</script>",
    "style": "<style>*{background:url(javascript:alert(1))}</style>",
    "comment": "<!--<img src=x onerror=alert(1)>-->",
    "mxss": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "ld-json-breakout": '"}]}</script><script>alert(1)</script><!--',
}
# A word the search index can find the hostile content by.
FIND_ME = "zyxqhostile"


def fit(value: str, limit: int) -> str:
    return value[:limit]


@pytest.mark.parametrize("payload", list(XSS_PAYLOADS.values()), ids=list(XSS_PAYLOADS))
def test_stored_xss_in_every_text_field_never_reaches_html_or_jsonld(client, make_token, payload):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    titled = f"{FIND_ME} {payload}"
    markdown = f"{FIND_ME}\n\n{payload}"
    topic = expect_created(
        client.post(
            "/v1/admin/topics",
            json={
                "slug": "hostile-topic",
                "name": fit(titled, 200),
                "description": payload,
                "codes": [{"system": "icd10cm", "code": "R68.84", "display": fit(payload, 300)}],
            },
            headers=bearer(editor),
        ),
        "topic",
    )
    person = expect_created(
        client.post(
            "/v1/admin/people",
            json={
                "slug": "hostile-person",
                "name": fit(titled, 200),
                "honorific_prefix": fit(payload, 40),
                "honorific_suffix": fit(payload, 80),
                "job_title": fit(payload, 200),
                "bio": markdown,
                "specialties": [fit(payload, 120)],
                "credentials": [
                    {
                        "kind": "license",
                        "name": fit(payload, 200),
                        "issuer": fit(payload, 200),
                        "jurisdiction": fit(payload, 120),
                        "number": fit(payload, 80),
                    }
                ],
            },
            headers=bearer(editor),
        ),
        "person",
    )
    created = client.post(
        "/v1/admin/articles",
        json={
            "slug": "hostile-article",
            "title": fit(titled, 200),
            "summary": fit(titled, 1000),
            "disclaimer": markdown,
            "meta_title": fit(payload, 120),
            "meta_description": fit(payload, 320),
            "topics": [topic["slug"]],
            "sections": [
                {
                    "key": "overview",
                    "heading": fit(payload, 200),
                    "body": markdown,
                    "subsections": [
                        {"key": "detail", "heading": fit(payload, 200), "body": payload}
                    ],
                }
            ],
            "citations": [
                {
                    "title": fit(payload, 500),
                    "authors": fit(payload, 500),
                    "publisher": fit(payload, 300),
                    "url": "https://example.org/reference",
                }
            ],
            "call_to_actions": [
                {
                    "key": "ask",
                    "kind": "ask_question",
                    "title": fit(payload, 200),
                    "body": payload,
                    "button_label": fit(payload, 80),
                    "url": "https://example.org/ask",
                }
            ],
        },
        headers=bearer(editor),
    )
    article = expect_created(created, "article")
    url = created.headers["Location"]
    authors = client.put(
        f"{url}/authors",
        json={"authors": [person["slug"]]},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    assert authors.status_code == 200, authors.get_json()
    target = client.get(f"/v1/articles/{SEEDED_ARTICLE}").get_json()
    expect_created(
        client.post(
            f"{url}/links",
            json={"target_id": target["id"], "anchor_text": fit(payload, 200)},
            headers=bearer(editor),
        ),
        "link",
    )
    faqs = [
        expect_created(
            client.post(
                "/v1/admin/faqs",
                json={"question": fit(titled, 500), "answer": markdown, **owner},
                headers=bearer(editor),
            ),
            "faq",
        )
        for owner in (
            {"article_id": article["id"], "status": "published"},
            {"topic": topic["slug"]},
        )
    ]
    # A topic FAQ reaches readers through its own review.
    topic_faq = f"/v1/admin/faqs/{faqs[1]['id']}"
    assert client.post(f"{topic_faq}/submit", headers=bearer(editor)).status_code == 200
    assert client.post(f"{topic_faq}/approve", headers=bearer(reviewer)).status_code == 200
    slug = article["slug"]
    # Before publishing, a frontend previews the draft: rendered the same way, as safely.
    preview = expect_created(
        client.post(f"{url}/preview-tokens", json={}, headers=bearer(editor)), "preview token"
    )
    previewing = {"X-Preview-Token": preview["token"]}
    article_addresses = [
        f"/v1/articles/{slug}",
        f"/v1/articles/{slug}?sections=overview",
        f"/v1/articles/{slug}/faqs",
        f"/v1/articles/{slug}/related",
    ]
    assert _check_rendered_html(client, article_addresses, previewing) >= 5
    _check_jsonld(client, f"/v1/articles/{slug}/jsonld", fit(titled, 200), previewing)

    assert client.post(f"{url}/submit", headers=bearer(editor)).status_code == 200
    assert client.post(f"{url}/approve", json=CLINICAL, headers=bearer(reviewer)).status_code == 200
    published = client.post(f"{url}/publish", json={}, headers=bearer(editor))
    assert published.status_code == 200, published.get_json()

    delivered = client.get(f"/v1/articles/{slug}")
    assert delivered.status_code == 200
    document = delivered.get_json()
    # The text arrived whole (a JSON string, for the frontend to escape), not dropped.
    assert document["title"] == fit(titled, 200)
    assert document["sections"][0]["body_html"]
    assert document["faqs"], "the article's FAQ is published with it"
    assert document["related"][0]["anchor_text"] == fit(payload, 200)

    readings = [
        *article_addresses,
        f"/v1/articles?topic={topic['slug']}",
        f"/v1/people/{person['slug']}",
        "/v1/people?role=author",
        f"/v1/topics/{topic['slug']}",
        "/v1/topics",
        f"/v1/faqs?article={slug}",
        f"/v1/faqs?topic={topic['slug']}",
        *(f"/v1/faqs/{faq['id']}" for faq in faqs),
        f"/v1/search?q={FIND_ME}",
    ]
    assert _check_rendered_html(client, readings) >= 10, "the documents carry HTML to check"
    hits = client.get(f"/v1/search?q={FIND_ME}").get_json()["items"]
    assert hits, "the hostile content is searchable, so its highlighted snippets are checked"
    _check_jsonld(client, f"/v1/articles/{slug}/jsonld", fit(titled, 200))


def _check_rendered_html(
    client: FlaskClient, addresses: list[str], headers: dict[str, str] | None = None
) -> int:
    """Assert no `*_html` field at these addresses can run; return how many were checked."""
    checked = 0
    for address in addresses:
        response = client.get(address, headers=headers or {})
        assert response.status_code == 200, (address, response.get_json())
        for where, html in html_fields(response.get_json()):
            checked += 1
            assert executable_constructs(html) == [], (address, where, html)
    return checked


def _check_jsonld(
    client: FlaskClient, address: str, title: str, headers: dict[str, str] | None = None
) -> None:
    response = client.get(address, headers=headers or {})
    assert response.status_code == 200
    served = response.get_data(as_text=True)
    # Pasted into <script type="application/ld+json">, nothing in it can end the element.
    assert not {"<", ">", "&"} & set(served), served
    # Escaped, not mangled: the text a crawler reads is exactly what the editor wrote.
    nodes = json.loads(served)["@graph"]
    assert next(node["headline"] for node in nodes if node["@type"] == "Article") == title
    assert title in {node.get("name") for node in nodes if node["@type"] == "Person"}


def test_the_link_graph_export_stays_well_formed_xml_with_hostile_titles(client, make_token):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    title = '</node><script>alert(1)</script><node id="x">&amp; "quoted" \'single\''
    created = client.post(
        "/v1/admin/articles",
        json={"slug": "hostile-graph", "title": title, "topics": ["headache"], **PUBLISHABLE},
        headers=bearer(editor),
    )
    url = created.headers["Location"]
    client.put(
        f"{url}/authors",
        json={"authors": [AUTHOR_PERSON]},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    target = client.get(f"/v1/articles/{SEEDED_ARTICLE}").get_json()["id"]
    expect_created(
        client.post(f"{url}/links", json={"target_id": target}, headers=bearer(editor)), "link"
    )
    client.post(f"{url}/submit", headers=bearer(editor))
    client.post(f"{url}/approve", json=CLINICAL, headers=bearer(reviewer))
    assert client.post(f"{url}/publish", json={}, headers=bearer(editor)).status_code == 200

    for form in ("graphml", "gexf"):
        response = client.get(f"/v1/graph?format={form}")
        assert response.status_code == 200, form
        root = ElementTree.fromstring(response.get_data())  # well-formed, or this raises
        names = {element.tag.rsplit("}", 1)[-1] for element in root.iter()}
        assert "script" not in names, form
        texts = {element.text for element in root.iter()} | {
            value for element in root.iter() for value in element.attrib.values()
        }
        assert title in texts, f"{form}: the title survives escaping intact"


URL_FIELDS = [
    ("/v1/admin/articles", {"slug": "bad-url", "title": "T"}, "canonical_url"),
    ("/v1/admin/people", {"slug": "bad-url", "name": "N"}, "photo_url"),
]
SCRIPT_URLS = [
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x",
]


@pytest.mark.parametrize("hostile_url", SCRIPT_URLS)
def test_url_fields_take_only_web_addresses(client, make_token, hostile_url):
    editor = make_token("editor")
    cases = [
        *((path, {**body, field: hostile_url}, field) for path, body, field in URL_FIELDS),
        (
            "/v1/admin/articles",
            {
                "slug": "bad-url",
                "title": "T",
                "citations": [{"title": "C", "url": hostile_url}],
            },
            "citations",
        ),
        (
            "/v1/admin/articles",
            {
                "slug": "bad-url",
                "title": "T",
                "call_to_actions": [
                    {"key": "k", "kind": "booking", "title": "Book", "url": hostile_url}
                ],
            },
            "call_to_actions",
        ),
        (
            "/v1/admin/people",
            {
                "slug": "bad-url",
                "name": "N",
                "profile_links": [{"kind": "web", "url": hostile_url}],
            },
            "profile_links",
        ),
    ]
    for path, body, field in cases:
        response = client.post(path, json=body, headers=bearer(editor))
        assert response.status_code == 422, (path, field, response.get_json())
        assert field in response.get_json()["errors"]["json"], (path, field)
