"""Hostile input end to end: stored XSS, SQL injection, bad bodies, private fields, other roles."""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update

from cms_api.database import db
from cms_api.domain.clock import utcnow
from cms_api.http.requests import NDJSON_BODY_LIMITS
from cms_api.models import ApiToken, User
from cms_api.ratelimit import limiter
from tests.conftest import bearer

PROBLEM = "application/problem+json"
ADMIN_PREFIX = "/v1/admin/"
REVIEWER_PERSON = "tobias-lindqvist"  # make_token("reviewer") signs off as this person
AUTHOR_PERSON = "miriam-castellanos-reed"
SEEDED_ARTICLE = "headache-after-botox"
NO_ID = "00000000-0000-0000-0000-000000000000"


# -- the OpenAPI document, walked --------------------------------------------------------------


@pytest.fixture(scope="module")
def document(app: Flask) -> dict[str, Any]:
    """The contract as served: every operation the API has now, new ones included."""
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
                yield method.upper(), path, {**operation, "parameters": parameters}


def query_parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    """Each query parameter; an object parameter (`style: form`) stands for its properties."""
    found = []
    for parameter in operation["parameters"]:
        if parameter["in"] != "query":
            continue
        schema = parameter.get("schema", {})
        if schema.get("type") == "object":
            # One of several alternatives (`code` or `symptom`) is required: each is then
            # marked `one_of`, not `required`.
            alternatives = {
                name for option in schema.get("oneOf", []) for name in option["required"]
            }
            for name, prop in schema.get("properties", {}).items():
                found.append({"name": name, "schema": prop, "one_of": name in alternatives})
        else:
            found.append(parameter)
    return found


def path_parameters(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def is_public(path: str) -> bool:
    return not path.startswith(ADMIN_PREFIX)


# -- what counts as executable markup ----------------------------------------------------------

# Elements that run script, load other documents or restyle the page.
DANGEROUS_TAGS = {
    "script",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "svg",
    "math",
    "style",
    "link",
    "meta",
    "base",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "template",
    "noscript",
    "xmp",
    "plaintext",
    "portal",
}
URL_ATTRIBUTES = {
    "href",
    "src",
    "srcset",
    "action",
    "formaction",
    "xlink:href",
    "background",
    "poster",
    "data",
    "cite",
    "longdesc",
    "lowsrc",
    "dynsrc",
    "ping",
}
SCRIPTABLE_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:")
# Browsers drop ASCII whitespace and control characters inside a URL's scheme.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")


def executable_constructs(html: str) -> list[str]:
    """Every element, attribute or URL in the HTML that a browser would run, or that could."""
    found: list[str] = []

    class Inspector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in DANGEROUS_TAGS:
                found.append(f"<{tag}>")
            for name, value in attrs:
                if name.startswith("on") or name in ("style", "srcdoc"):
                    found.append(f"<{tag} {name}=...>")
                squashed = _URL_NOISE.sub("", value or "").lower()
                if name in URL_ATTRIBUTES and squashed.startswith(SCRIPTABLE_SCHEMES):
                    found.append(f"<{tag} {name}={value!r}>")

        handle_startendtag = handle_starttag

    inspector = Inspector(convert_charrefs=True)
    inspector.feed(html)
    inspector.close()
    return found


def html_fields(value: Any, where: str = "$") -> Iterator[tuple[str, str]]:
    """Every `*_html` string in a JSON value, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("_html") and isinstance(item, str):
                yield f"{where}.{key}", item
            else:
                yield from html_fields(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from html_fields(item, f"{where}[{index}]")


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


def _created(response: Any, what: str) -> dict[str, Any]:
    assert response.status_code == 201, (what, response.get_json())
    return response.get_json()


@pytest.mark.parametrize("payload", list(XSS_PAYLOADS.values()), ids=list(XSS_PAYLOADS))
def test_stored_xss_in_every_text_field_never_reaches_html_or_jsonld(client, make_token, payload):
    editor, reviewer = make_token("editor"), make_token("reviewer")
    titled = f"{FIND_ME} {payload}"
    markdown = f"{FIND_ME}\n\n{payload}"
    topic = _created(
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
    person = _created(
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
    article = _created(created, "article")
    url = created.headers["Location"]
    authors = client.put(
        f"{url}/authors",
        json={"authors": [person["slug"]]},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    assert authors.status_code == 200, authors.get_json()
    target = client.get(f"/v1/articles/{SEEDED_ARTICLE}").get_json()
    _created(
        client.post(
            f"{url}/links",
            json={"target_id": target["id"], "anchor_text": fit(payload, 200)},
            headers=bearer(editor),
        ),
        "link",
    )
    faqs = [
        _created(
            client.post(
                "/v1/admin/faqs",
                json={"question": fit(titled, 500), "answer": markdown, **owner},
                headers=bearer(editor),
            ),
            "faq",
        )
        for owner in (
            {"article_id": article["id"], "status": "published"},
            {"topic": topic["slug"], "status": "published"},
        )
    ]
    slug = article["slug"]
    # Before publishing, a frontend previews the draft: rendered the same way, as safely.
    preview = _created(
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
    assert client.post(f"{url}/approve", json={}, headers=bearer(reviewer)).status_code == 200
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
        json={"slug": "hostile-graph", "title": title, "topics": ["headache"]},
        headers=bearer(editor),
    )
    url = created.headers["Location"]
    client.put(
        f"{url}/authors",
        json={"authors": [AUTHOR_PERSON]},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    target = client.get(f"/v1/articles/{SEEDED_ARTICLE}").get_json()["id"]
    _created(
        client.post(f"{url}/links", json={"target_id": target}, headers=bearer(editor)), "link"
    )
    client.post(f"{url}/submit", headers=bearer(editor))
    client.post(f"{url}/approve", json={}, headers=bearer(reviewer))
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


# -- SQL injection ---------------------------------------------------------------------------

SQL_INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE articles; --",
    "%27",
    "\\",
    "\u2019 OR \u20191\u2019=\u20191",  # typographic quotes
    "\uff07 OR 1=1 --",  # a fullwidth apostrophe
    '" OR ""="',
    "1) OR (1=1",
    "$$; DROP TABLE faqs; $$",
    "headache'; SELECT pg_sleep(3); --",
    "%_%",
    "a\u0000b",
]
TABLES = ("articles", "faqs", "people", "topics", "users", "api_tokens", "published_documents")
LEAKY_TEXT = ("psycopg", "sqlalchemy", "SQLSTATE", "syntax error", "Traceback", 'File "/')


@pytest.fixture
def admin_token(make_token) -> str:
    return make_token("admin")


def _table_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {table: db.session.scalar(text(f"SELECT count(*) FROM {table}")) for table in TABLES}


def _valid_value(parameter: dict[str, Any]) -> str | None:
    """A value the operation accepts, for parameters a request must carry."""
    schema = parameter.get("schema", {})
    if schema.get("enum"):
        return str(schema["enum"][0])
    known = {"q": "headache", "symptom": "headache", "code": "icd10cm:R51.9"}
    return known.get(parameter["name"], schema.get("example"))


def _base_query(parameters: list[dict[str, Any]], varied: str | None = None) -> dict[str, Any]:
    """Valid values for what a request must carry: the required parameters, and the first
    of a set of alternatives unless the parameter varied is one of them."""
    base = {p["name"]: _valid_value(p) for p in parameters if p.get("required")}
    alternatives = [p for p in parameters if p.get("one_of")]
    if alternatives and varied not in {p["name"] for p in alternatives}:
        base[alternatives[0]["name"]] = _valid_value(alternatives[0])
    base.pop(varied, None)
    return base


def _check_answer(response: Any, allowed: set[int], what: str, failures: list[str]) -> None:
    body = response.get_data(as_text=True)
    if response.status_code not in allowed:
        failures.append(f"{what}: {response.status_code} {body[:300]}")
    elif response.status_code >= 400 and response.content_type != PROBLEM:
        failures.append(f"{what}: {response.status_code} as {response.content_type}")
    leaked = [needle for needle in LEAKY_TEXT if needle in body]
    if leaked:
        failures.append(f"{what}: the answer mentions {leaked}")


def test_sql_injection_in_every_query_parameter_and_path_segment(
    app, client, document, admin_token
):
    before = _table_counts(app)
    failures: list[str] = []
    swept_parameters = swept_paths = 0
    for method, path, operation in operations(document):
        headers = bearer(admin_token) if not is_public(path) else {}
        parameters = query_parameters(operation)
        names = path_parameters(path)
        if method == "GET" and not names:
            for parameter in parameters:
                swept_parameters += 1
                for payload in SQL_INJECTIONS:
                    query = {
                        **_base_query(parameters, parameter["name"]),
                        parameter["name"]: payload,
                    }
                    started = time.monotonic()
                    response = client.get(path, query_string=query, headers=headers)
                    what = f"GET {path}?{parameter['name']}={payload!r}"
                    _check_answer(response, {200, 400, 404}, what, failures)
                    if time.monotonic() - started > 2:
                        failures.append(f"{what}: took {time.monotonic() - started:.1f}s")
        for name in names:
            swept_paths += 1
            for payload in SQL_INJECTIONS:
                concrete = path
                for other in names:
                    value = quote(payload, safe="") if other == name else NO_ID
                    concrete = concrete.replace(f"{{{other}}}", value)
                response = client.open(concrete, method=method, headers=headers)
                what = f"{method} {path} with {name}={payload!r}"
                _check_answer(response, {400, 404, 405}, what, failures)

    assert not failures, "\n".join(failures)
    assert swept_parameters >= 40 and swept_paths >= 40, (swept_parameters, swept_paths)
    assert _table_counts(app) == before, "every table is still there, with the same rows"
    assert client.get(f"/v1/articles/{SEEDED_ARTICLE}").status_code == 200


def test_sql_injection_in_written_text_is_stored_as_text(client, make_token):
    editor = make_token("editor")
    hostile = "Robert'); DROP TABLE articles; --"
    created = client.post(
        "/v1/admin/articles",
        json={"slug": "little-bobby", "title": hostile, "summary": "' OR '1'='1"},
        headers=bearer(editor),
    )
    assert created.status_code == 201, created.get_json()
    again = client.get(created.headers["Location"], headers=bearer(editor)).get_json()
    assert (again["title"], again["summary"]) == (hostile, "' OR '1'='1")
    found = client.get(
        "/v1/admin/articles", query_string={"q": "Robert');"}, headers=bearer(editor)
    )
    assert [item["slug"] for item in found.get_json()["items"]] == ["little-bobby"]
    for slug in ("' OR '1'='1", "a'; DROP TABLE articles; --", "ok\\"):
        response = client.post(
            "/v1/admin/articles", json={"slug": slug, "title": "T"}, headers=bearer(editor)
        )
        assert response.status_code == 422, slug
        assert "slug" in response.get_json()["errors"]["json"]


# -- bodies: too big, too deep, not JSON -------------------------------------------------------

MALFORMED = [
    # (what, body, content type for a JSON operation)
    ("arrays 5000 deep", b"[" * 5000 + b"]" * 5000, "application/json"),
    ("objects 40 deep", b'{"a":' * 40 + b"1" + b"}" * 40, "application/json"),
    (
        "objects 40 deep, merge patch",
        b'{"a":' * 40 + b"1" + b"}" * 40,
        "application/merge-patch+json",
    ),
    ("truncated JSON", b'{"title": "unfinished', "application/json"),
    ("invalid UTF-8", b'{"title": "\xff\xfe"}', "application/json"),
]
WRONG_TYPES = [
    ("a form", b"title=hello", "application/x-www-form-urlencoded"),
    ("multipart", b"--b\r\n\r\nhello\r\n--b--\r\n", "multipart/form-data; boundary=b"),
    ("plain text", b"hello", "text/plain"),
    ("XML", b"<title>hello</title>", "application/xml"),
    ("JSON", b'{"title": "hello"}', "application/json"),
    ("no content type", b'{"title": "hello"}', None),
]
# JSON that parses but is not the object any operation takes.
ODD_JSON = [b"null", b"[]", b'"text"', b"12", b"true", b'{"": {"": []}}', b"1e999999"]


def _with_ids(path: str) -> str:
    return re.sub(r"{\w+}", NO_ID, path).replace(f"/sitemaps/{NO_ID}", "/sitemaps/1")


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def _body_cases(accepted: list[str], limit: int) -> list[tuple[str, bytes, str | None, set[int]]]:
    """What to send an operation that takes a body in one of the `accepted` types, and what
    it may answer: too big 413; malformed 400 (JSON) or the format's own 422; not in a
    type it takes, 415."""
    own = accepted[0]
    json_body = any(_is_json(kind) for kind in accepted)
    cases = [("over the size limit", b'{"title": "' + b"x" * limit + b'"}', own, {413})]
    for what, body, content_type in MALFORMED:
        cases.append(
            (what, body, content_type if json_body else own, {400} if json_body else {400, 422})
        )
    for what, body, content_type in WRONG_TYPES:
        mimetype = (content_type or "").split(";")[0]
        if not (mimetype in accepted or (json_body and _is_json(mimetype))):
            cases.append((what, body, content_type, {415}))
    return cases


def test_bodies_too_big_too_deep_or_not_json_on_every_operation_that_takes_one(
    client, document, admin_token, make_token
):
    reviewer = make_token("reviewer")
    failures: list[str] = []
    taking_bodies = [
        (method, path, list(operation["requestBody"]["content"]))
        for method, path, operation in operations(document)
        if "requestBody" in operation
    ]

    def send(method: str, path: str, body: bytes, content_type: str | None) -> Any:
        # As a role that may make the request, so a body that parses reaches validation.
        for token in (admin_token, reviewer):
            headers = bearer(token, **{"If-Match": "*"})
            if content_type:
                headers["Content-Type"] = content_type
            response = client.open(_with_ids(path), method=method, data=body, headers=headers)
            if response.status_code != 403:
                break
        return response

    default_limit = client.application.config["MAX_CONTENT_LENGTH"]
    for method, path, accepted in taking_bodies:
        limit = NDJSON_BODY_LIMITS.get(path, default_limit)
        for what, body, content_type, statuses in _body_cases(accepted, limit):
            response = send(method, path, body, content_type)
            problem = response.get_json(silent=True) or {}
            if response.status_code not in statuses or problem.get("status") not in statuses:
                failures.append(f"{method} {path} {what}: {response.status_code} {problem}")
            elif response.content_type != PROBLEM:
                failures.append(f"{method} {path} {what}: {response.content_type}")
        if not any(_is_json(kind) for kind in accepted):
            continue
        for body in ODD_JSON:
            response = send(method, path, body, "application/json")
            if response.status_code >= 500 or response.content_type != PROBLEM:
                failures.append(f"{method} {path} {body!r}: {response.status_code}")

    assert len(taking_bodies) >= 15, taking_bodies
    assert not failures, "\n".join(failures)


# -- private fields: filters, sorts, includes, and what any public answer shows -----------------

PRIVATE_PARAMETERS = [
    ("email", "reader@example.org"),
    ("token", "cms_x"),
    ("token_hash", "0" * 64),
    ("digest", "0" * 64),
    ("prefix", "cms_"),
    ("status", "draft"),
    ("include", "drafts"),
    ("include", "email"),
    ("fields", "email"),
    ("expand", "authors.email"),
    ("filter[email]", "x"),
    ("where", "email IS NOT NULL"),
    ("trashed", "true"),
    ("deleted", "true"),
    ("user", NO_ID),
    ("password", "x"),
]
PRIVATE_SORTS = ["email", "-email", "token_hash", "digest", "status", "deleted_at", "title;--"]


def test_public_operations_refuse_filters_sorts_and_includes_on_private_fields(client, document):
    failures: list[str] = []
    public_gets = [
        (path, operation)
        for method, path, operation in operations(document)
        # Content, not the probes (which read no parameters and show nothing).
        if method == "GET" and path.startswith("/v1/") and is_public(path)
    ]
    for path, operation in public_gets:
        parameters = query_parameters(operation)
        base = _base_query(parameters)
        concrete = _public_example_path(path)
        known = {parameter["name"] for parameter in parameters}
        attempts = [(name, value) for name, value in PRIVATE_PARAMETERS if name not in known]
        if "sort" in known:
            attempts += [("sort", value) for value in PRIVATE_SORTS]
        for name, value in attempts:
            response = client.get(concrete, query_string={**base, name: value})
            problem = response.get_json(silent=True) or {}
            if response.status_code != 400 or response.content_type != PROBLEM:
                failures.append(f"{path}?{name}={value}: {response.status_code}")
            elif name not in problem.get("detail", ""):
                failures.append(f"{path}?{name}={value}: detail {problem.get('detail')!r}")
    assert len(public_gets) >= 15
    assert not failures, "\n".join(failures)


def _public_example_path(path: str) -> str:
    return (
        path.replace("/v1/articles/{slug}", f"/v1/articles/{SEEDED_ARTICLE}")
        .replace("/v1/people/{slug}", f"/v1/people/{AUTHOR_PERSON}")
        .replace("/v1/topics/{slug}", "/v1/topics/headache")
        .replace("/sitemaps/{number}", "/sitemaps/1")
        .replace("{faq_id}", NO_ID)
    )


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
        else:
            raise KeyError(name)
        return [path.replace(f"{{{name}}}", value) for value in values]


def _without_echoes(response: Any) -> str:
    """The answer's headers and body, less what only repeats the request (a problem's
    `instance`, a search's `query`, the next page's `Link`): that is the asker's text."""
    headers = "\n".join(
        f"{name}: {value}" for name, value in response.headers.items() if name != "Link"
    )
    body = response.get_data(as_text=True)
    if response.is_json:
        parsed = response.get_json()
        if isinstance(parsed, dict):
            parsed.pop("instance", None)
            parsed.pop("query", None)
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
        _created(
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
        client.post(f"{scheduled_url}/approve", json={}, headers=bearer(reviewer)).status_code
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
    _created(
        client.post(
            "/v1/admin/people",
            json={"slug": f"nobody-{secret}", "name": f"Nobody {secret}", "bio": secret},
            headers=bearer(editor),
        ),
        "person",
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
        *(f"/v1/faqs/{faq}" for faq in hidden_faqs),
    ):
        assert client.get(url).status_code == 404, url
    # The approved revision is what readers get.
    assert client.get("/v1/articles/liver-rash").get_json()["title"] != f"Unapproved {secret}"


# -- other roles' objects --------------------------------------------------------------------


def _token_row(app: Flask, secret: str) -> ApiToken:
    with app.app_context():
        return db.session.scalar(select(ApiToken).where(ApiToken.prefix == secret[:12]))


@pytest.mark.parametrize("role", ["editor", "reviewer", "viewer"])
def test_only_admins_reach_users_and_tokens_even_by_id(app, client, make_token, role):
    admin, other = make_token("admin"), make_token(role)
    admin_row = _token_row(app, admin)
    me = _token_row(app, other)

    attempts = [
        ("GET", "/v1/admin/users", None),
        ("GET", "/v1/admin/tokens", None),
        ("POST", "/v1/admin/users", {"email": "x@example.org", "name": "X", "role": "admin"}),
        # Minting a token for the admin, or for oneself, is an admin's act.
        ("POST", "/v1/admin/tokens", {"user_id": str(admin_row.user_id), "name": "mine"}),
        ("POST", "/v1/admin/tokens", {"user_id": str(me.user_id), "name": "another"}),
        ("POST", f"/v1/admin/tokens/{admin_row.id}/revoke", None),
        ("POST", f"/v1/admin/tokens/{me.id}/revoke", None),
    ]
    for method, path, body in attempts:
        response = client.open(path, method=method, json=body, headers=bearer(other))
        assert response.status_code == 403, (role, method, path, response.get_json())
        assert response.content_type == PROBLEM
        assert "token" not in response.get_json() and "items" not in response.get_json()

    assert client.get("/v1/admin/users", headers=bearer(admin)).status_code == 200
    assert _token_row(app, admin).revoked_at is None
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None


def test_a_reviewer_cannot_approve_an_article_they_wrote(client, make_token):
    editor = make_token("editor")
    author = make_token("reviewer", person_slug=AUTHOR_PERSON)
    created = client.post(
        "/v1/admin/articles", json={"slug": "self-review", "title": "Mine"}, headers=bearer(editor)
    )
    url = created.headers["Location"]
    client.put(
        f"{url}/authors",
        json={"authors": [REVIEWER_PERSON, AUTHOR_PERSON]},
        headers=bearer(editor, **{"If-Match": created.headers["ETag"]}),
    )
    client.post(f"{url}/submit", headers=bearer(editor))

    response = client.post(f"{url}/approve", json={}, headers=bearer(author))

    assert response.status_code in (403, 409), response.get_json()
    assert response.content_type == PROBLEM
    after = client.get(url, headers=bearer(editor)).get_json()
    assert (after["status"], after["approval_current"], after["reviews"]) == (
        "in_review",
        False,
        [],
    )
    assert client.post(f"{url}/publish", json={}, headers=bearer(editor)).status_code == 409


def test_a_viewer_reads_drafts_but_changes_nothing(app, client, make_token):
    editor, viewer = make_token("editor"), make_token("viewer")
    created = client.post(
        "/v1/admin/articles", json={"slug": "look-only", "title": "Look"}, headers=bearer(editor)
    )
    url, etag = created.headers["Location"], created.headers["ETag"]
    faq = _created(
        client.post(
            "/v1/admin/faqs",
            json={"question": "Q?", "answer": "A.", "article_id": created.get_json()["id"]},
            headers=bearer(editor),
        ),
        "faq",
    )
    writes = [
        ("PATCH", url, {"title": "Changed"}),
        ("DELETE", url, None),
        ("PUT", f"{url}/authors", {"authors": [AUTHOR_PERSON]}),
        ("POST", f"{url}/submit", None),
        ("POST", f"{url}/publish", {}),
        ("POST", f"{url}/revisions/1/restore", None),
        ("PATCH", f"/v1/admin/faqs/{faq['id']}", {"answer": "Changed."}),
        ("POST", "/v1/admin/articles", {"slug": "viewer-made", "title": "V"}),
    ]
    for method, path, body in writes:
        response = client.open(
            path, method=method, json=body, headers=bearer(viewer, **{"If-Match": etag})
        )
        assert response.status_code == 403, (method, path, response.get_json())

    seen = client.get(url, headers=bearer(viewer))
    assert seen.status_code == 200
    assert seen.headers["ETag"] == etag, "nothing changed"
    assert seen.get_json()["title"] == "Look"


@pytest.mark.parametrize("role", ["editor", "reviewer", "viewer"])
def test_roles_that_do_not_answer_questions_never_see_the_readers_email(client, make_token, role):
    limiter.reset()
    asked = client.post(
        "/v1/questions",
        json={"question": "Is my address kept private?", "email": "reader-private@example.org"},
    )
    question_id = asked.get_json()["id"]
    token = make_token(role)
    listed = client.get("/v1/admin/questions?limit=100", headers=bearer(token)).get_json()["items"]
    single = client.get(f"/v1/admin/questions/{question_id}", headers=bearer(token)).get_json()
    mine = next(item for item in listed if item["id"] == question_id)

    expected = "reader-private@example.org" if role == "editor" else None
    assert mine["email"] == single["email"] == expected


def test_revoked_expired_and_deactivated_users_tokens_answer_401(app, client, make_token):
    admin = make_token("admin")
    revoked, expired, disabled, spare = (make_token("editor") for _ in range(4))
    assert client.get("/v1/admin/articles", headers=bearer(revoked)).status_code == 200

    revoke = client.post(
        f"/v1/admin/tokens/{_token_row(app, revoked).id}/revoke", headers=bearer(admin)
    )
    assert revoke.status_code == 200
    with app.app_context():
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.prefix == expired[:12])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        disabled_user = _token_row(app, disabled).user_id
        db.session.execute(
            update(User).where(User.id == disabled_user).values(disabled_at=utcnow())
        )
        db.session.commit()
    # A second token the deactivated user got before: it dies with the account.
    second = client.post(
        "/v1/admin/tokens", json={"user_id": str(disabled_user), "name": "b"}, headers=bearer(admin)
    )
    assert second.status_code == 201

    for token in (revoked, expired, disabled, second.get_json()["token"]):
        for method, path in (("GET", "/v1/admin/articles"), ("POST", "/v1/admin/articles")):
            response = client.open(
                path, method=method, json={"slug": "x", "title": "x"}, headers=bearer(token)
            )
            assert response.status_code == 401, (method, path)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/v1/admin/articles", headers=bearer(spare)).status_code == 200
