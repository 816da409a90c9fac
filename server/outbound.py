"""The one guarded way out: every server-side HTTP request (push services, intel feeds, the
notification webhook) goes through a client from here, which refuses to connect to loopback,
private, link-local (cloud metadata at 169.254.169.254), shared, multicast, reserved and
unspecified addresses, unless the host is allow-listed in settings (OUTBOUND_ALLOW_HOSTS).

The check happens where the connection is made, on every connection, so it covers redirects too:
the host is resolved, every address it resolves to is checked (one internal answer refuses the
host: a name that mixes public and internal answers is a rebinding trick), and the socket connects
to the address that was checked, never to a second lookup's answer.

Two clients: `session()` (requests, for feeds and webhooks) and `aiohttp_connector()` (aiohttp, for
web push batches)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from server.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class OutboundRefused(Exception):
    """The destination is not allowed. `code` for the records: refused-address, refused-scheme,
    refused-host, unresolvable."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Policy:
    hosts: frozenset[str] = frozenset()  # host names allowed whatever they resolve to
    networks: tuple[IPNetwork, ...] = ()  # addresses allowed although internal
    _entries: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> Policy:
        hosts, networks = set(), []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks), tuple(entries))

    def host_allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def address_allowed(self, address: IPAddress) -> bool:
        if any(address in network for network in self.networks):
            return True
        return is_public(address)


def policy_for(settings: Settings) -> Policy:
    """OUTBOUND_ALLOW_HOSTS, plus in DEMO_MODE the app's own host (the demo bank's feeds are served
    by the app itself)."""
    entries = list(settings.OUTBOUND_ALLOW_HOSTS)
    if settings.DEMO_MODE:
        own = urlsplit(settings.PUBLIC_URL).hostname
        if own:
            entries.append(own)
    return Policy.from_entries(entries)


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return is_public(mapped)
        if address.teredo is not None:
            return False
    return address.is_global and not address.is_multicast and not address.is_reserved


def resolve(host: str, port: int, policy: Policy) -> list[tuple[int, Any]]:
    """(family, sockaddr) of every address `host` resolves to, all of them checked. Raises
    OutboundRefused when any is internal and the host is not allow-listed."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        if not policy.address_allowed(literal):
            raise OutboundRefused("refused-address", f"{literal} is an internal address.")
        family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        return [(family, (str(literal), port))]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundRefused("unresolvable", f"{host} does not resolve ({exc}).") from None
    if not infos:
        raise OutboundRefused("unresolvable", f"{host} does not resolve.")
    trusted = policy.host_allowed(host)
    out: list[tuple[int, Any]] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if not trusted and not policy.address_allowed(address):
            raise OutboundRefused("refused-address", f"{host} resolves to an internal address ({address}).")
        out.append((family, sockaddr))
    return out


def check_url(url: str, policy: Policy, *, require_https: bool = False) -> None:
    """Checks a URL before it is stored (a push endpoint, a feed URL): scheme, host, addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused("refused-scheme", "Only http(s) URLs with a host are allowed.")
    trusted = policy.host_allowed(parts.hostname)
    if (
        require_https
        and parts.scheme != "https"
        and not trusted
        and not _allowed_literal(parts.hostname, policy)
    ):
        raise OutboundRefused("refused-scheme", "Only https URLs are allowed.")
    resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), policy)


def _allowed_literal(host: str, policy: Policy) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return any(address in network for network in policy.networks)


# --- requests / urllib3 ---------------------------------------------------------------------------


def _connect_checked(conn: HTTPConnection, policy: Policy):
    """urllib3's own connect, pointed at the checked address (TLS still verifies the host name)."""
    family, sockaddr = resolve(conn.host, conn.port or 80, policy)[0]
    conn._dns_host = sockaddr[0]  # type: ignore[attr-defined]  # where urllib3 connects; SNI uses .host
    return HTTPConnection._new_conn(conn)


def session(policy: Policy) -> requests.Session:
    """A requests session whose every connection (redirects included) is checked. Proxies from the
    environment are ignored: a proxy would hide the destination from the check."""

    class _Http(HTTPConnection):
        def _new_conn(self):
            return _connect_checked(self, policy)

    class _Https(HTTPSConnection):
        def _new_conn(self):
            return _connect_checked(self, policy)

    class _HttpPool(HTTPConnectionPool):
        ConnectionCls = _Http

    class _HttpsPool(HTTPSConnectionPool):
        ConnectionCls = _Https

    class _Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": _HttpPool, "https": _HttpsPool}

    http = requests.Session()
    http.trust_env = False
    http.max_redirects = 5
    adapter = _Adapter(max_retries=0)
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    return http


# --- aiohttp --------------------------------------------------------------------------------------


def aiohttp_connector(policy: Policy, **kwargs: Any):
    """An aiohttp connector that resolves through the check (names) and checks literal addresses
    on every connection it opens (redirects included)."""
    import asyncio

    import aiohttp
    from aiohttp.abc import AbstractResolver

    class _Resolver(AbstractResolver):
        async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET):
            loop = asyncio.get_running_loop()
            try:
                found = await loop.run_in_executor(None, resolve, host, port, policy)
            except OutboundRefused as exc:
                raise OSError(exc.message) from exc  # aiohttp reports it as a connection error
            return [
                {
                    "hostname": host,
                    "host": sockaddr[0],
                    "port": sockaddr[1],
                    "family": fam,
                    "proto": 0,
                    "flags": 0,
                }
                for fam, sockaddr in found
            ]

        async def close(self) -> None:
            return None

    class _Connector(aiohttp.TCPConnector):
        async def connect(self, req, traces, timeout):  # type: ignore[no-untyped-def]
            host = req.url.host or ""
            try:
                literal = ipaddress.ip_address(host.strip("[]"))
            except ValueError:
                literal = None
            if literal is not None and not policy.address_allowed(literal):
                raise aiohttp.ClientConnectorError(
                    req.connection_key, OSError(f"{literal} is an internal address.")
                )
            return await super().connect(req, traces, timeout)

    return _Connector(resolver=_Resolver(), use_dns_cache=False, **kwargs)
