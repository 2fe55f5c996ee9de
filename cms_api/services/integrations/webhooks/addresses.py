"""Where webhooks may go: URLs checked for public addresses, at registration and each send."""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from cms_api.services import runtime

_PRINTABLE_URL = re.compile(r"[\x21-\x7e]+")


def allow_private() -> bool:
    """Whether CMS_WEBHOOKS_ALLOW_PRIVATE lets webhooks reach private addresses (and http)."""
    return runtime.settings().webhooks_allow_private


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")

# Our own list, from IANA's special-purpose address registries, rather than Python's
# `is_private`/`is_global`, which vary between versions and miss blocks (fec0::/10 was
# "global" to Python 3.11). An IPv6 address must also be global unicast (2000::/3).
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_NOT_GLOBAL: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
    )
)


class UrlRefused(Exception):
    """A webhook URL that may not be used, and why."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries, which is where a packet would really go."""
    embedded: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        embedded.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        embedded.append(address.sixtofour)
    if address.teredo is not None:
        embedded.extend(address.teredo)
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return embedded


def refusal(address: IPAddress) -> str | None:
    """Why a webhook may not be sent to this address; None when it is a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        for inner in _embedded_ipv4(address):
            reason = refusal(inner)
            if reason is not None:
                return f"{reason} (it embeds {inner})"
    for flag, label in (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(address, flag):
            return label
    if address in _SITE_LOCAL:
        return "a site-local address"
    if not address.is_global or any(address in network for network in _NOT_GLOBAL):
        return "not a public address"
    if isinstance(address, ipaddress.IPv6Address) and address not in _GLOBAL_UNICAST:
        return "not a public address"
    return None


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Target:
    """Where a delivery goes: the checked addresses to connect to and what to say there."""

    scheme: str
    host: str
    port: int
    host_header: str
    path: str
    addresses: list[str]


def _resolve(host: str, port: int) -> list[str]:
    if _is_literal(host):
        return [str(ipaddress.ip_address(host))]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as error:
        raise UrlRefused(f"The host {host!r} does not resolve.") from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(url: str, *, private_allowed: bool) -> Target:
    """The delivery target of `url`, or UrlRefused saying what is wrong with it.

    Every address the host resolves to must be public (unless private targets are allowed):
    a name with one private address among public ones is refused, since any could be used.
    """
    if not _PRINTABLE_URL.fullmatch(url):
        raise UrlRefused(
            "Must be printable ASCII without spaces (write international names in punycode)."
        )
    parts = urlsplit(url)
    schemes = ("https", "http") if private_allowed else ("https",)
    if parts.scheme not in schemes:
        raise UrlRefused("Must be an https URL.")
    if "@" in parts.netloc:
        raise UrlRefused("Must not carry credentials; the signature authenticates the sender.")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise UrlRefused("The port is not a number from 1 to 65535.")
    port = port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname
    if not host:
        raise UrlRefused("Must name a host.")
    addresses = _resolve(host, port)
    if not addresses:
        raise UrlRefused(f"The host {host!r} does not resolve.")
    if not private_allowed:
        for address in addresses:
            reason = refusal(ipaddress.ip_address(address.split("%", 1)[0]))
            if reason is not None:
                shown = address if _is_literal(host) else f"{host} resolves to {address}, which"
                raise UrlRefused(f"{shown} is {reason}; webhooks only go to public addresses.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, parts.netloc, path, addresses)
