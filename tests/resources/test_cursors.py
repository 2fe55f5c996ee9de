"""Every listing, public and admin, pages with keyset cursors and refuses forged ones with 400."""

from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import bearer

# Each paginated listing: its address (with what it needs to list anything) and the
# query parameter its cursor travels in.
PUBLIC_LISTINGS = [
    ("/v1/articles?limit=1", "cursor"),
    ("/v1/articles?limit=1&sort=title", "cursor"),
    ("/v1/faqs?limit=1", "cursor"),
    ("/v1/people?limit=1", "cursor"),
    ("/v1/topics?limit=1", "cursor"),
    ("/v1/search?q=headache&limit=1", "cursor"),
    ("/v1/changes?limit=1", "since"),
]
ADMIN_LISTINGS = [
    ("/v1/admin/articles?limit=1", "cursor"),
    ("/v1/admin/faqs?limit=1", "cursor"),
    ("/v1/admin/people?limit=1", "cursor"),
    ("/v1/admin/topics?limit=1", "cursor"),
    ("/v1/admin/articles/{article_id}/links?limit=1", "cursor"),
    ("/v1/admin/questions?limit=1", "cursor"),
    ("/v1/admin/audit?limit=1", "cursor"),
    ("/v1/admin/webhooks?limit=1", "cursor"),
]


def _cursor(*values: object) -> str:
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


FORGED = {
    "not base64": "%%%not-a-cursor%%%",
    "not JSON": base64.urlsafe_b64encode(b"{{{").decode(),
    "not a list": base64.urlsafe_b64encode(b'{"a":1}').decode(),
    "another listing's": _cursor("some-other-listing", "2026-01-01T00:00:00+00:00", "x"),
    "wrong arity": _cursor("audit", 1, 2, 3, 4),
    "wrong value types": _cursor("admin-articles", 12, True),
    "a NUL in a value": _cursor("title", "a\u0000b", "00000000-0000-0000-0000-000000000000"),
    "a negative id": _cursor("audit", -5),
}


@pytest.fixture
def admin_headers(make_token) -> dict[str, str]:
    return bearer(make_token("admin"))


@pytest.fixture
def article_id(client, admin_headers) -> str:
    return client.get("/v1/admin/articles?limit=1", headers=admin_headers).json["items"][0]["id"]


def _assert_refused(response, parameter: str) -> None:
    assert response.status_code == 400, response.data
    assert response.content_type == "application/problem+json"
    problem = response.json
    assert problem["type"] == "/problems/invalid-parameter"
    assert parameter in problem["errors"]["query"]


@pytest.mark.parametrize(("listing", "parameter"), PUBLIC_LISTINGS)
@pytest.mark.parametrize("forgery", sorted(FORGED))
def test_public_listings_refuse_forged_cursors(client, listing, parameter, forgery):
    response = client.get(f"{listing}&{parameter}={FORGED[forgery]}")
    _assert_refused(response, parameter)


@pytest.mark.parametrize(("listing", "parameter"), ADMIN_LISTINGS)
@pytest.mark.parametrize("forgery", sorted(FORGED))
def test_admin_listings_refuse_forged_cursors(
    client, admin_headers, article_id, listing, parameter, forgery
):
    address = listing.format(article_id=article_id)
    response = client.get(f"{address}&{parameter}={FORGED[forgery]}", headers=admin_headers)
    _assert_refused(response, parameter)


def test_a_cursor_is_good_only_for_the_listing_that_issued_it(client, admin_headers):
    issued = client.get("/v1/admin/people?limit=1", headers=admin_headers).json["page"]
    assert issued["next_cursor"]
    elsewhere = client.get(
        f"/v1/admin/faqs?limit=1&cursor={issued['next_cursor']}", headers=admin_headers
    )
    _assert_refused(elsewhere, "cursor")
    by_title = client.get("/v1/articles?limit=1&sort=title").json["page"]["next_cursor"]
    _assert_refused(client.get(f"/v1/articles?limit=1&cursor={by_title}"), "cursor")


@pytest.mark.parametrize(("listing", "parameter"), ADMIN_LISTINGS)
def test_admin_listings_walk_every_item_once_with_a_next_link(
    client, admin_headers, article_id, listing, parameter
):
    address = listing.format(article_id=article_id)
    first = client.get(address, headers=admin_headers)
    assert first.status_code == 200
    total, seen = first.json["page"]["total"], [item["id"] for item in first.json["items"]]
    page = first
    while page.json["page"]["next_cursor"]:
        link = page.headers["Link"]
        assert link.endswith('>; rel="next"')
        page = client.get(link[1 : link.index(">")], headers=admin_headers)
        assert page.status_code == 200
        seen += [item["id"] for item in page.json["items"]]
    assert "Link" not in page.headers
    assert len(seen) == len(set(seen)) == total
