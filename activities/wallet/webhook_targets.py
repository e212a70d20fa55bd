"""Where guardian webhooks may be sent: public HTTPS endpoints only.

Whoever creates a guardian chooses its webhook URL, so the URL is a way to make Saku's
worker send signed requests (tenant, student, amounts) anywhere it can reach: the cloud's
metadata service, the database, the API's own port. A URL must therefore be https and its
host a public address. That is checked when the URL is stored (literal addresses and local
names) and again before every delivery, against every address the name resolves to then;
the delivery connects to the address that was checked, so a name that resolves elsewhere
between the check and the connection (DNS rebinding) gains nothing. Hosts on an explicit
allow-list (SAKU_WEBHOOK_ALLOW_HOSTS, for development receivers) are exempt.

The same holds for the receivers a tenant's alerts are handed off to (a SIEM's webhook and
syslog collector, `activities.alert_handoff`); a syslog collector is addressed by host and
port (`check_host`, `resolve_host`) rather than by a URL.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

MAX_URL_CHARS = 2048
# names that always mean this machine or its cloud's metadata service
_LOCAL_NAMES = frozenset(
    {"localhost", "localhost.localdomain", "metadata", "metadata.google.internal"}
)
_LOCAL_SUFFIXES = (".localhost", ".internal", ".local")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookTargetRefused(ValueError):
    """A webhook URL Saku will not send to; the message says why."""


@dataclass(frozen=True)
class Target:
    """A checked delivery: connect to `url` (the checked address in place of the name),
    naming the host in the Host header and, over TLS, in SNI and the certificate check."""

    url: str
    host_header: str
    tls_hostname: str | None


def _kind(address: Address) -> str | None:
    """Why an address is not public, or None if it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind, test in (
        ("loopback", address.is_loopback),
        ("link-local (metadata)", address.is_link_local),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if test:
            return kind
    return None if address.is_global else "non-public"


class WebhookPolicy:
    def __init__(self, allowed_hosts: Iterable[str] = ()) -> None:
        self.allowed_hosts = frozenset(h.strip().lower() for h in allowed_hosts if h.strip())

    def _allowed(self, parts: SplitResult) -> bool:
        host = (parts.hostname or "").lower()
        return host in self.allowed_hosts or f"{host}:{parts.port}" in self.allowed_hosts

    def check(self, url: str) -> SplitResult:
        """The URL's parts, if Saku may send to it as far as can be told without resolving
        its name; WebhookTargetRefused otherwise."""
        if len(url) > MAX_URL_CHARS:
            raise WebhookTargetRefused(f"a webhook URL is at most {MAX_URL_CHARS} characters")
        parts = urlsplit(url)
        try:
            parts.port  # noqa: B018 -- raises for a port that is not a number in range
        except ValueError as err:
            raise WebhookTargetRefused(f"the webhook URL's port is invalid: {err}") from None
        if not parts.hostname:
            raise WebhookTargetRefused("the webhook URL has no host")
        if parts.username is not None or parts.password is not None:
            raise WebhookTargetRefused("a webhook URL may not carry a user name or password")
        if self._allowed(parts):
            if parts.scheme not in ("http", "https"):
                raise WebhookTargetRefused("a webhook URL must be http or https")
            return parts
        if parts.scheme != "https":
            raise WebhookTargetRefused("a webhook URL must be https")
        self._refuse_unless_public_host(parts.hostname.lower())
        return parts

    def _refuse_unless_public_host(self, host: str) -> None:
        if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
            raise WebhookTargetRefused(f"{host} is a local name, which Saku may not send to")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return  # a name: checked against its addresses before each delivery
        self._refuse_unless_public(host, address)

    @staticmethod
    def _receiver(host: str, port: int) -> SplitResult:
        netloc = f"[{host}]" if ":" in host else host
        return urlsplit(f"//{netloc}:{port}")

    def check_host(self, host: str, port: int) -> None:
        """What `check` asks of a URL's host, for a receiver addressed by host and port (a
        syslog collector): a public name or address, unless the host is allow-listed."""
        printable = all("!" <= c <= "~" and c not in "/@?#[]%" for c in host)
        if not host or len(host) > 253 or not printable:
            raise WebhookTargetRefused(f"{host!r} is not a host name or address")
        if not 1 <= port <= 65535:
            raise WebhookTargetRefused(f"port {port} is not in 1-65535")
        if not self._allowed(self._receiver(host, port)):
            self._refuse_unless_public_host(host.lower())

    async def resolve_host(self, host: str, port: int) -> str:
        """The checked address to connect to for a receiver at host:port: every address the
        name resolves to must be public, as in `resolve`. OSError if it does not resolve."""
        self.check_host(host, port)
        infos = await asyncio.get_running_loop().getaddrinfo(host, port)
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        if not addresses:
            raise OSError(f"{host} resolves to no address")
        if not self._allowed(self._receiver(host, port)):
            for address in addresses:
                self._refuse_unless_public(host, address)
        return str(addresses[0])

    @staticmethod
    def _refuse_unless_public(host: str, address: Address) -> None:
        kind = _kind(address)
        if kind is not None:
            raise WebhookTargetRefused(
                f"{host} is a {kind} address ({address}), which Saku may not send to"
            )

    async def resolve(self, url: str) -> Target:
        """The checked delivery target: every address the host resolves to must be public
        (a client may connect to any of them). OSError if the name does not resolve."""
        parts = self.check(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        if not addresses:
            raise OSError(f"{host} resolves to no address")
        if not self._allowed(parts):
            for address in addresses:
                self._refuse_unless_public(host, address)
        chosen = addresses[0]
        netloc = f"[{chosen}]" if chosen.version == 6 else str(chosen)
        if parts.port is not None:
            netloc += f":{parts.port}"
        return Target(
            url=urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")),
            host_header=parts.netloc,
            tls_hostname=host if parts.scheme == "https" else None,
        )
