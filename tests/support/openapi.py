"""The OpenAPI document as served, walked: each operation and the parameters it takes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

ADMIN_PREFIX = "/v1/admin/"


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


def valid_value(parameter: dict[str, Any]) -> str | None:
    """A value the operation accepts, for parameters a request must carry."""
    schema = parameter.get("schema", {})
    if schema.get("enum"):
        return str(schema["enum"][0])
    known = {"q": "headache", "symptom": "headache", "code": "icd10cm:R51.9"}
    return known.get(parameter["name"], schema.get("example"))


def base_query(parameters: list[dict[str, Any]], varied: str | None = None) -> dict[str, Any]:
    """Valid values for what a request must carry: the required parameters, and the first
    of a set of alternatives unless the parameter varied is one of them."""
    base = {p["name"]: valid_value(p) for p in parameters if p.get("required")}
    alternatives = [p for p in parameters if p.get("one_of")]
    if alternatives and varied not in {p["name"] for p in alternatives}:
        base[alternatives[0]["name"]] = valid_value(alternatives[0])
    base.pop(varied, None)
    return base
