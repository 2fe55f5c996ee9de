"""Webhooks go only to globally reachable addresses, whatever Python calls private."""

from __future__ import annotations

import ipaddress

import pytest

from cms_api.services.integrations.webhooks.addresses import UrlRefused, check_url, refusal
from tests.conftest import bearer

NOT_GLOBAL = [
    "fec0::1",  # site-local (deprecated, but still routed inside some networks)
    "fed0:1234::5",
    "feff:ffff::1",
    "2001:db8::1",  # documentation
    "3fff::1",  # documentation (RFC 9637)
    "2001:2::1",  # benchmarking
    "2001:10::1",  # ORCHID
    "100::1",  # discard-only
    "64:ff9b:1::808:808",  # local-use NAT64
    "5f00::1",  # SRv6 SIDs
    "4000::1",  # unassigned, outside global unicast
    "192.0.0.8",  # IETF protocol assignments
    "192.88.99.1",  # 6to4 relay anycast
    "198.18.0.1",  # benchmarking
    "233.252.0.1",  # multicast test net
    "255.255.255.255",
]


@pytest.mark.parametrize("address", NOT_GLOBAL)
def test_every_non_global_address_is_refused(address):
    assert refusal(ipaddress.ip_address(address)) is not None
    url = f"https://[{address}]/hook" if ":" in address else f"https://{address}/hook"
    with pytest.raises(UrlRefused):
        check_url(url, private_allowed=False)


def test_site_local_is_named():
    assert refusal(ipaddress.IPv6Address("fec0::1")) == "a site-local address"


@pytest.mark.parametrize(
    "address",
    ["93.184.215.14", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "2002:5db8:d70e::1"],
)
def test_global_addresses_are_taken(address):
    assert refusal(ipaddress.ip_address(address)) is None


def test_registering_a_site_local_webhook_is_a_422(client, make_token):
    response = client.post(
        "/v1/admin/webhooks",
        json={"url": "https://[fec0::1]/hook", "events": ["article.published"]},
        headers=bearer(make_token("admin")),
    )

    assert response.status_code == 422, response.get_json()
    assert "site-local" in str(response.get_json()["errors"]["json"]["url"])
