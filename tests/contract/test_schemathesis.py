"""The document as a contract: a schemathesis run over every public and admin operation."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, ArticleSlug

pytestmark = pytest.mark.schemathesis

ADMIN = "^/v1/admin/"
# Without a token an admin request stops at authentication whatever it carries, so the
# coverage phase's many body and parameter variants would all test the same 401.
# A write may name things that must exist (a topic slug, a person, an article id): the
# document can say what shape a reference has, not that it resolves, so such a request
# passes the schema and is refused with 422 naming the field. That is the contract. So is
# 413 for a schema-valid body over the 1 MiB limit.
RESOLVING_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "412", "413", "422", "428", "429"]
# Likewise a schema-violating body can be over the limit too, and 413 is its refusal
# (schemathesis's default list of refusals lacks it; a random run once drew such a body).
REFUSING_STATUSES = [
    *("400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"),
]
BODY_CHECKS = {
    "positive_data_acceptance": {"expected-statuses": RESOLVING_STATUSES},
    "negative_data_rejection": {"expected-statuses": REFUSING_STATUSES},
}
CONFIG = schemathesis.Config.from_dict(
    {
        "operations": [
            {
                "include-path-regex": ADMIN,
                "phases": {"coverage": {"enabled": False}},
                "checks": BODY_CHECKS,
            },
            {"include-path-regex": "^/v1/questions$", "checks": BODY_CHECKS},
        ]
    }
)
ARTICLE = "headache-after-botox"
FORMER_SLUG = "botox-headache"  # added as a former slug of ARTICLE, so 301s are exercised


def _with_seeded_examples(document: dict[str, Any], faq_id: str) -> dict[str, Any]:
    """The document with examples the explicit-examples phase can only get from this database."""
    for path, item in document["paths"].items():
        for parameter in item.get("parameters", []):
            if parameter["in"] != "path":
                continue
            if parameter["name"] == "faq_id":
                # FAQ ids are random per database, so the document cannot name one.
                parameter["example"] = faq_id
            elif parameter["name"] == "slug" and path.startswith("/v1/articles/"):
                parameter.pop("example", None)
                parameter["examples"] = {
                    "current": {"value": ARTICLE},
                    "former": {"value": FORMER_SLUG},
                }
    return document


@pytest.fixture
def api_schema(app: Flask, request: pytest.FixtureRequest) -> schemathesis.BaseSchema:
    """The document as the app serves it, with requests sent in-process over WSGI."""
    # schemathesis 4.32's lazy loader relabels the test node through the private `_nodeid`,
    # which pytest 9.2 no longer has; without it every run dies with an AttributeError.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    with app.app_context():
        article_id = db.session.scalar(select(Article.id).where(Article.slug == ARTICLE))
        db.session.add(ArticleSlug(slug=FORMER_SLUG, article_id=article_id))
        db.session.commit()  # a savepoint: the test's transaction still rolls it back
    client = app.test_client()
    faq_id = client.get("/v1/faqs?limit=1").get_json()["items"][0]["id"]
    document = _with_seeded_examples(client.get("/openapi.json").get_json(), faq_id)
    schema = schemathesis.openapi.from_dict(document, config=CONFIG)
    schema.app = app
    return schema


class ServerIssuedValues:
    """Real values for parameters whose valid values only the server knows.

    Any string is a schema-valid `cursor`, `since` or section key, but only a cursor the listing
    issued, or a key the article has, is accepted (400 otherwise, as API.md requires). So a
    positive case carrying one gets a real one, and paging and section selection are
    exercised instead of rejected.
    """

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.cursors: dict[tuple[str, str], str | None] = {}
        self.sections: dict[str, list[str] | None] = {}

    def cursor(self, path: str, sort: str | None) -> str | None:
        key = (path, sort or "")
        if key not in self.cursors:
            query = {"limit": 1, **({"sort": sort} if sort else {})}
            response = self.client.get(path, query_string=query)
            page = response.get_json()["page"] if response.status_code == 200 else {}
            self.cursors[key] = page.get("next_cursor")
        return self.cursors[key]

    def section_keys(self, path: str) -> list[str] | None:
        if path not in self.sections:
            response = self.client.get(path)
            sections = response.get_json()["sections"] if response.status_code == 200 else None
            self.sections[path] = [section["key"] for section in sections or []] or None
        return self.sections[path]

    def apply(self, case: schemathesis.Case) -> None:
        if case.meta is None or not case.meta.generation.mode.is_positive or not case.query:
            return
        path = case.formatted_path
        if "cursor" in case.query:
            sort = case.query.get("sort")
            cursor = self.cursor(path, sort if isinstance(sort, str) else None)
            if cursor is None:
                del case.query["cursor"]
            else:
                case.query["cursor"] = cursor
        if "since" in case.query:
            # The change feed always issues a cursor, even when nothing is left to read.
            case.query["since"] = self.cursor(path, None)
        if "sections" in case.query:
            keys = self.section_keys(path)
            if keys:
                case.query["sections"] = ",".join(keys[:2])


@pytest.fixture
def server_issued(client: FlaskClient) -> ServerIssuedValues:
    return ServerIssuedValues(client)


schema = schemathesis.pytest.from_fixture("api_schema")
# The fixtures are function-scoped on purpose (one rolled-back transaction for the run).
# CI replays the same examples every run, so a landing never hinges on a lucky draw; a
# developer's run explores new ones each time.
DERANDOMIZE = bool(os.environ.get("CI"))
HEALTH_CHECKS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@schema.exclude(path_regex=ADMIN).parametrize()
@settings(
    derandomize=DERANDOMIZE, max_examples=60, deadline=None, suppress_health_check=HEALTH_CHECKS
)
def test_every_public_operation_honours_the_document(
    case: schemathesis.Case, server_issued: ServerIssuedValues
) -> None:
    server_issued.apply(case)
    case.call_and_validate()


@schema.include(path_regex=ADMIN).parametrize()
@settings(
    derandomize=DERANDOMIZE, max_examples=12, deadline=None, suppress_health_check=HEALTH_CHECKS
)
def test_every_admin_operation_honours_the_document_with_a_token(
    case: schemathesis.Case, admin_token: str
) -> None:
    # An admin may do everything but sign off reviews, whose 403 the document lists.
    if case.meta is not None and case.meta.generation.mode.is_positive and case.query:
        # Only the server issues valid cursors; admin paging has its own tests.
        case.query.pop("cursor", None)
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"})


@schema.include(path_regex=ADMIN).parametrize()
@settings(
    derandomize=DERANDOMIZE, max_examples=5, deadline=None, suppress_health_check=HEALTH_CHECKS
)
def test_every_admin_operation_honours_the_document_without_a_token(
    case: schemathesis.Case,
) -> None:
    # Holds the 401 answers (and the 404s of malformed path parameters) to the document.
    case.call_and_validate()
