"""What a webhook URL may point at (server-side request forgery).

Checked twice: when an endpoint is added (the URL's form, and a literal address in it) and before every
attempt (the host's addresses as resolved then). The attempt connects to the address checked here, so a
second DNS answer (rebinding) cannot send it elsewhere; Host and TLS SNI still carry the URL's host name.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from moderation.domain.errors import BadInput

MAX_URL = 2000
# Cloud instance metadata: AWS (IPv4 and the Nitro IPv6 one), also reached through link-local/private rules.
METADATA = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
LOCAL_NAMES = ("localhost", "localhost.localdomain", "metadata.google.internal")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class UnsafeUrl(BadInput):
    """A webhook URL refused: the message starts with ``url:``."""

    def __init__(self, reason: str):
        super().__init__(f"url: {reason}")


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as in the URL (Host header, SNI), lowercase, IPv6 without brackets
    port: int
    path: str  # path and query, at least "/"


def check_url(url: str, http_hosts: frozenset[str] = frozenset(),
              private_hosts: frozenset[str] = frozenset()) -> Target:
    """The URL's parts if a webhook may use it (``UnsafeUrl`` naming ``url`` otherwise).

    https only, except hosts in MODQ_WEBHOOK_ALLOW_HTTP_HOSTS; no user or password; a literal address or a
    local name must not be loopback, private, link-local, ... unless listed in MODQ_WEBHOOK_ALLOW_HOSTS."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeUrl("give the endpoint's https:// URL")
    if len(url) > MAX_URL or any(not ch.isprintable() or ch.isspace() for ch in url):
        raise UnsafeUrl(f"must be at most {MAX_URL} printable characters without spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"{url!r} is not a URL ({exc})") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http"):
        raise UnsafeUrl(f"scheme {parts.scheme or 'none'!r} is not allowed: use https://")
    if not host:
        raise UnsafeUrl(f"{url!r} names no host")
    if not host.isascii():
        raise UnsafeUrl(f"host {host!r} is not ASCII: write an internationalised name in its xn-- form")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("must not carry credentials (user:password@); the signature authenticates modq")
    if parts.fragment:
        raise UnsafeUrl("must not have a fragment (#...)")
    if parts.scheme == "http" and host not in http_hosts:
        raise UnsafeUrl(f"must use https (plain http only for hosts in MODQ_WEBHOOK_ALLOW_HTTP_HOSTS, not {host!r})")
    if host not in private_hosts:
        literal = _literal(host)
        if literal is not None:
            refusal = refused(literal)
            if refusal:
                raise UnsafeUrl(f"{host} is {refusal} (allowed only for hosts in MODQ_WEBHOOK_ALLOW_HOSTS)")
        elif host in LOCAL_NAMES or host.endswith(".localhost"):
            raise UnsafeUrl(f"{host} is a local name (allowed only for hosts in MODQ_WEBHOOK_ALLOW_HOSTS)")
    path = parts.path or "/"
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80),
                  path + (f"?{parts.query}" if parts.query else ""))


def refused(address: Address) -> str | None:
    """Why an address may not be reached from modq, or None if it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    checks = (("a cloud metadata address", address in METADATA), ("a loopback address", address.is_loopback),
              ("a link-local address", address.is_link_local), ("a multicast address", address.is_multicast),
              ("an unspecified address", address.is_unspecified), ("a private address", address.is_private),
              ("a reserved address", address.is_reserved), ("not a public address", not address.is_global))
    return next((why for why, hit in checks if hit), None)


def system_resolver(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def pin(target: Target, private_hosts: frozenset[str], resolver: Resolver = system_resolver) -> str:
    """The address to connect to, resolved now and checked (``UnsafeUrl`` if any is refused; ``OSError`` if
    the name does not resolve). Every address of the answer is checked, not just the first."""
    literal = _literal(target.host)
    addresses = [str(literal)] if literal is not None else list(dict.fromkeys(resolver(target.host, target.port)))
    if not addresses:
        raise OSError(f"{target.host} resolved to no address")
    if target.host not in private_hosts:
        for text in addresses:
            address = ipaddress.ip_address(text.split("%")[0])
            refusal = refused(address)
            if refusal and text not in private_hosts:
                raise UnsafeUrl(f"{target.host} resolves to {address}, {refusal} (allowed only for hosts in "
                                "MODQ_WEBHOOK_ALLOW_HOSTS)")
    return addresses[0]


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
