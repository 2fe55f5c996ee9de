"""The OpenAPI document: valid 3.1, every operation fully documented, /docs served offline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask.testing import FlaskClient
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from cms_api.http.problems import PROBLEM_KINDS

PROBLEM = "application/problem+json"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# The delivery list operations and the query parameters API.md promises for each.
LIST_PARAMETERS = {
    "/v1/articles": {
        "topic",
        "author",
        "reviewer",
        "code",
        "updated_since",
        "sort",
        "limit",
        "cursor",
        "locale",
    },
    "/v1/faqs": {"topic", "article", "limit", "cursor", "locale"},
    "/v1/people": {"role", "limit", "cursor", "locale", "fallback"},
    "/v1/topics": {"limit", "cursor", "locale", "fallback"},
}


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (such as `#/components/responses/NOT_FOUND`)."""
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def parameters(document: dict[str, Any], path: str, operation: dict[str, Any]) -> list[dict]:
    """The operation's parameters, including those its path item declares for every method."""
    declared = document["paths"][path].get("parameters", []) + operation.get("parameters", [])
    return [resolve(document, parameter) for parameter in declared]


def delivery_gets(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, method, operation in operations(document):
        if path.startswith("/v1/") and not path.startswith("/v1/admin/") and method == "get":
            yield path, operation


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1.")

    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_operation_has_a_summary_and_a_description(document):
    undocumented = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(document)
        if not operation.get("summary") or not operation.get("description")
    ]

    assert list(operations(document)), "the document has no operations"
    assert undocumented == []


def test_every_error_response_is_a_problem_document(document):
    wrong = {}
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if status == "default" or int(status) >= 400:
                content = resolve(document, response).get("content", {})
                if set(content) != {PROBLEM}:
                    wrong[f"{method.upper()} {path} {status}"] = sorted(content)

    assert wrong == {}


def test_every_response_documents_the_request_id_header(document):
    missing = [
        f"{method.upper()} {path} {status}"
        for path, method, operation in operations(document)
        for status, response in operation["responses"].items()
        if "X-Request-ID" not in resolve(document, response).get("headers", {})
    ]

    assert missing == []


def test_delivery_gets_document_caching_and_every_error_they_can_answer(document):
    gaps = {}
    for path, operation in delivery_gets(document):
        responses = {status: resolve(document, r) for status, r in operation["responses"].items()}
        expected = {"200", "304", "400", "503", "default"}
        if "{" in path:
            expected.add("404")
        if path.startswith("/v1/articles/{slug}"):
            expected.add("301")
        missing = expected - set(responses)
        for status in ("200", "304"):
            headers = responses.get(status, {}).get("headers", {})
            missing |= {f"{status} {name}" for name in {"ETag", "Cache-Control"} - set(headers)}
        if "Location" not in responses.get("301", {}).get("headers", {"Location": None}):
            missing.add("301 Location")
        if "Retry-After" not in responses.get("503", {}).get("headers", {}):
            missing.add("503 Retry-After")
        if "If-None-Match" not in {p["name"] for p in parameters(document, path, operation)}:
            missing.add("If-None-Match parameter")
        if missing:
            gaps[path] = sorted(missing)

    assert gaps == {}


def test_list_operations_document_their_query_parameters(document):
    documented = {
        path: {p["name"] for p in parameters(document, path, op) if p["in"] == "query"}
        for path, method, op in operations(document)
        if path in LIST_PARAMETERS and method == "get"
    }

    assert documented == LIST_PARAMETERS
    assert (
        "Link"
        in resolve(document, document["paths"]["/v1/articles"]["get"]["responses"]["200"])[
            "headers"
        ]
    )


def test_path_parameters_are_documented_with_examples(document):
    without_example = [
        f"{path} {parameter['name']}"
        for path, operation in delivery_gets(document)
        for parameter in parameters(document, path, operation)
        if parameter["in"] == "path" and parameter["name"] == "slug" and "example" not in parameter
    ]

    assert without_example == []


def test_description_explains_every_kind_of_problem(document):
    description = document["info"]["description"]

    assert [kind for kind in PROBLEM_KINDS if f"/problems/{kind}" not in description] == []


def test_docs_page_is_served_with_local_assets_only(client: FlaskClient):
    page = client.get("/docs")

    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assets = re.findall(r"""<(?:script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", html)
    assert any(asset.endswith(".js") for asset in assets)
    assert any(asset.endswith(".css") for asset in assets)
    assert not re.search(r"""(?:src|href|url)\s*[=:]\s*["'](?:https?:)?//""", html)
    for asset in assets:
        assert asset.startswith("/docs/assets/"), asset
        with client.get(asset) as response:  # closes the file send_from_directory opened
            assert response.status_code == 200, asset
            assert response.data, asset
    assert '"/openapi.json"' in html


def test_docs_assets_do_not_escape_their_folder(client: FlaskClient):
    response = client.get("/docs/assets/../../pyproject.toml")

    assert response.status_code == 404
    assert response.content_type == PROBLEM


def test_docs_page_is_served(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert b"swagger-ui" in response.data


def test_every_locale_parameter_names_the_sites_locales(document):
    found = [
        (path, parameter["schema"].get("enum"))
        for path, method, op in operations(document)
        for parameter in parameters(document, path, op)
        if parameter["name"] == "locale" and parameter["in"] == "query"
    ]
    assert len(found) >= 20
    assert [path for path, enum in found if not enum or not {"en", "es"} <= set(enum)] == []
