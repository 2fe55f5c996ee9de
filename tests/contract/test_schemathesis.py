"""The document as a contract: every schemathesis check over every operation, alone and chained."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth
from sqlalchemy import select

from cms_api.database import db
from cms_api.models import Article, ArticleSlug

pytestmark = pytest.mark.schemathesis

ADMIN = "^/v1/admin/"
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
# Every check schemathesis has is enabled (its default); this only tunes them. Two of them,
# use_after_free and ensure_resource_availability, judge a call by the ones before it, so
# they act in the chained test at the end. object_level_authorization needs identities that
# own objects; here content belongs to no user (roles decide), so it has nothing to compare.
# The bound on a response's time catches a pathological query or regex, not slowness:
# bench/ measures speed, and a run shares its cores with others.
CHECKS = {"max_response_time": 10}
# A write that must name the version it replaces (If-Match) and names none is answered 428
# Precondition Required (RFC 6585), the status made for it; schemathesis's default list of
# answers to a missing header lacks it.
ADMIN_CHECKS = {
    **BODY_CHECKS,
    "missing_required_header": {
        "expected-statuses": ["400", "401", "403", "406", "415", "422", "428"]
    },
}
# An upload's file part is binary by schema: the document can name the picture formats it
# takes but not make random bytes one, so a schema-valid file that is no picture is
# refused with 415 (`/problems/unsupported-image`), as documented.
UPLOAD_CHECKS = {
    **ADMIN_CHECKS,
    "positive_data_acceptance": {"expected-statuses": [*RESOLVING_STATUSES, "415"]},
}
OPERATIONS = [
    {"include-name": ["POST /v1/admin/images"], "checks": UPLOAD_CHECKS},
    {"include-path-regex": ADMIN, "checks": ADMIN_CHECKS},
    {"include-path-regex": "^/v1/questions$", "checks": BODY_CHECKS},
    {
        # Drawing every boundary-valid body of these takes schemathesis over a minute each
        # (the article's nested sections, the user's e-mail pattern); their valid bodies come
        # from the examples and fuzzing phases, their invalid ones from coverage as for all.
        "include-name": [
            "POST /v1/admin/articles",
            "PATCH /v1/admin/articles/{article_id}",
            "POST /v1/admin/users",
        ],
        "phases": {"coverage": {"generation": {"mode": "negative"}}},
    },
]
CONFIG = schemathesis.Config.from_dict({"checks": CHECKS, "operations": OPERATIONS})
# Without a token an admin request stops at authentication whatever it carries, so the
# coverage phase's many body and parameter variants would all test the same 401.
ANONYMOUS_CONFIG = schemathesis.Config.from_dict(
    {
        "checks": CHECKS,
        "operations": [
            {
                "include-path-regex": ADMIN,
                "phases": {"coverage": {"enabled": False}},
                "checks": BODY_CHECKS,
            }
        ],
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


def _load(app: Flask, request: pytest.FixtureRequest, config: Any) -> schemathesis.BaseSchema:
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
    schema = schemathesis.openapi.from_dict(document, config=config)
    schema.app = app
    return schema


@pytest.fixture
def api_schema(app: Flask, request: pytest.FixtureRequest) -> schemathesis.BaseSchema:
    return _load(app, request, CONFIG)


@pytest.fixture
def anonymous_schema(app: Flask, request: pytest.FixtureRequest) -> schemathesis.BaseSchema:
    return _load(app, request, ANONYMOUS_CONFIG)


class ServerIssuedValues:
    """Real values for parameters whose valid values only the server knows.

    Any string is a schema-valid `cursor`, `since` or section key, but only a cursor the listing
    issued, or a key the article has, is accepted (400 otherwise, as API.md requires). So a
    positive case carrying one gets a real one, and paging and section selection are
    exercised instead of rejected.
    """

    def __init__(self, client: FlaskClient, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = headers or {}
        self.cursors: dict[tuple[str, ...], str | None] = {}
        self.sections: dict[str, list[str] | None] = {}

    def cursor(
        self, path: str, sort: str | None, list_of: dict[str, Any] | None = None
    ) -> str | None:
        """A cursor of the listing `path` with `sort` and the same list parameters
        (`locale`, `fallback`): a cursor is only valid for the list it was issued for."""
        same = {name: value for name, value in (list_of or {}).items() if isinstance(value, str)}
        key = (path, sort or "", *sorted(same.items()))
        if key not in self.cursors:
            query = {"limit": 1, **({"sort": sort} if sort else {}), **same}
            response = self.client.get(path, query_string=query, headers=self.headers)
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
            cursor = self.cursor(
                path,
                sort if isinstance(sort, str) else None,
                {name: case.query.get(name) for name in ("locale", "fallback")},
            )
            if cursor is None:
                del case.query["cursor"]
            else:
                case.query["cursor"] = cursor
        if "since" in case.query and path == "/v1/changes":
            # The change feed always issues a cursor, even when nothing is left to read.
            # (The audit log's `since` is a time, which the document can describe.)
            case.query["since"] = self.cursor(path, None)
        if "sections" in case.query and path.startswith("/v1/articles/"):
            keys = self.section_keys(path)
            if keys:
                case.query["sections"] = ",".join(keys[:2])


@pytest.fixture
def server_issued(client: FlaskClient) -> ServerIssuedValues:
    return ServerIssuedValues(client)


@pytest.fixture
def admin_headers(admin_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token}"}


@pytest.fixture
def auth_enforced() -> set[str]:
    """Operations whose refusal of a missing or wrong token ignored_auth has seen."""
    return set()


@pytest.fixture
def admin_server_issued(client: FlaskClient, admin_headers: dict[str, str]) -> ServerIssuedValues:
    return ServerIssuedValues(client, admin_headers)


schema = schemathesis.pytest.from_fixture("api_schema")
anonymous = schemathesis.pytest.from_fixture("anonymous_schema")
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
    case: schemathesis.Case,
    admin_server_issued: ServerIssuedValues,
    admin_headers: dict[str, str],
    auth_enforced: set[str],
) -> None:
    # An admin may do everything but sign off reviews, whose 403 the document lists.
    admin_server_issued.apply(case)
    # Passed as the request's headers, the token is known to be a real one, so ignored_auth
    # sends an accepted request again without it and with a wrong one, expecting 401. That
    # is a property of the operation: once seen, as schemathesis's own runner does, enough.
    seen = case.operation.label in auth_enforced
    response = case.call_and_validate(
        headers=admin_headers, excluded_checks=[ignored_auth] if seen else None
    )
    if 200 <= response.status_code < 300:
        auth_enforced.add(case.operation.label)


@anonymous.include(path_regex=ADMIN).parametrize()
@settings(
    derandomize=DERANDOMIZE, max_examples=5, deadline=None, suppress_health_check=HEALTH_CHECKS
)
def test_every_admin_operation_honours_the_document_without_a_token(
    case: schemathesis.Case,
) -> None:
    # Holds the 401 answers (and the 404s of malformed path parameters) to the document.
    case.call_and_validate()


def test_workflows_honour_the_document(
    app: Flask,
    request: pytest.FixtureRequest,
    admin_token: str,
    admin_server_issued: ServerIssuedValues,
) -> None:
    """Chains of calls over the whole document, linked as its ids and paths suggest.

    Where the stateful checks run: what one call creates, the next finds
    (ensure_resource_availability); what one deletes, the next does not (use_after_free).
    """
    # Given as the bearerAuth credential, the token is one schemathesis knows to be real,
    # so ignored_auth probes each accepted admin call without it and with a wrong one.
    auth = {"auth": {"openapi": {"bearerAuth": {"bearer": admin_token}}}}
    config = schemathesis.Config.from_dict({"checks": CHECKS, "operations": OPERATIONS, **auth})
    links = _load(app, request, config).as_state_machine()

    class Workflows(links):  # type: ignore[misc, valid-type]
        def before_call(self, case: schemathesis.Case) -> None:
            # A cursor is opaque: the document can only say it is a string, and a string
            # the listing did not issue is refused with 400 (API.md). So a step carrying one
            # gets a real one; positive_data_acceptance stays strict for every other value.
            admin_server_issued.apply(case)

    Workflows.run(
        settings=settings(
            derandomize=DERANDOMIZE,
            max_examples=20,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
