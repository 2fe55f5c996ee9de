"""The OpenAPI examples work when executed as they stand, as /docs "Try it out" sends them."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.contract.test_openapi import operations


def _example(parameter: dict[str, Any]) -> Any:
    if "example" in parameter:
        return parameter["example"]
    return parameter.get("schema", {}).get("example")


def _parameters(document: dict[str, Any], path: str, operation: dict[str, Any]) -> list[dict]:
    return [*document["paths"][path].get("parameters", []), *operation.get("parameters", [])]


def _request(client: FlaskClient, path: str, parameters: list[dict[str, Any]]) -> int:
    query: dict[str, Any] = {}
    headers: dict[str, str] = {}
    for parameter in parameters:
        value = _example(parameter)
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", str(value))
        elif parameter["in"] == "query" and isinstance(value, dict):
            query.update(value)  # style form, explode: one query parameter per property
        elif parameter["in"] == "query" and isinstance(value, list):
            query[parameter["name"]] = ",".join(map(str, value))  # as /docs joins them
        elif parameter["in"] == "query":
            query[parameter["name"]] = value
        elif parameter["in"] == "header":
            headers[parameter["name"]] = str(value)
    return client.get(path, query_string=query, headers=headers).status_code


def test_no_optional_example_of_a_public_read_makes_it_fail(client: FlaskClient):
    document = client.get("/openapi.json").json
    checked, failing = 0, []
    for path, method, operation in operations(document):
        if method != "get" or path.startswith("/v1/admin"):
            continue
        parameters = [
            *document["paths"][path].get("parameters", []),
            *operation.get("parameters", []),
        ]
        required = [p for p in parameters if p.get("required") or p["in"] == "path"]
        if any(_example(p) is None for p in required):
            continue
        if _request(client, path, required) >= 400:
            continue  # the documented example does not exist here: nothing to compare with
        for parameter in parameters:
            if parameter in required or _example(parameter) is None:
                continue
            checked += 1
            status = _request(client, path, [*required, parameter])
            if status >= 400:
                failing.append(f"{path} {parameter['in']} {parameter['name']}: {status}")
    assert checked > 0
    assert failing == [], failing


def test_preview_parameters_carry_no_token_example(client: FlaskClient):
    document = client.get("/openapi.json").json
    for path, _method, operation in operations(document):
        parameters = [
            *document["paths"][path].get("parameters", []),
            *operation.get("parameters", []),
        ]
        for parameter in parameters:
            if parameter["name"] in ("preview_token", "X-Preview-Token"):
                assert _example(parameter) is None, (path, parameter["name"])
                assert "cmspv_" in parameter["description"], "the format stays documented"
