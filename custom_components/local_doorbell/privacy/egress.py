"""The egress guard: the integration connects only to addresses inside the home network."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import ipaddress
import socket

from aiohttp import ClientSession, TCPConnector
from aiohttp.abc import AbstractResolver, ResolveResult

_LOCAL_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "127.0.0.0/8",  # loopback
        "10.0.0.0/8",  # RFC 1918
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",  # link-local
        "::1/128",
        "fe80::/10",
        "fc00::/7",  # unique-local IPv6
    )
)


class EgressRefused(OSError):
    """The address is not inside the home network."""

    def __init__(self, host: str, address: str) -> None:
        """Name the host and the address that was refused."""
        super().__init__(f"{host} resolves to {address}, which is not a local address")
        self.host = host
        self.address = address


class UnresolvableHost(Exception):
    """The host name does not resolve."""


def is_local_address(address: str) -> bool:
    """Tell whether an IP address is loopback, RFC 1918, link-local or unique-local."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in _LOCAL_NETWORKS)


async def check_host(host: str, port: int) -> list[str]:
    """Resolve a host and return its addresses; raise if any of them is not local."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError) as err:
        raise UnresolvableHost(host) from err
    addresses = sorted({str(info[4][0]) for info in infos})
    for address in addresses:
        if not is_local_address(address):
            raise EgressRefused(host, address)
    return addresses


class LocalOnlyResolver(AbstractResolver):
    """An aiohttp resolver that resolves on every connection and refuses non-local answers."""

    def __init__(self, on_refused: Callable[[EgressRefused], None]) -> None:
        """Call `on_refused` (from the event loop) whenever a connection is refused."""
        self._on_refused = on_refused

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve like the system does, then check every address before any is used."""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM, family=family
            )
        except (OSError, UnicodeError) as err:
            raise OSError(f"{host} does not resolve: {err}") from err
        results: list[ResolveResult] = []
        for info_family, _, proto, _, sockaddr in infos:
            address = str(sockaddr[0])
            if not is_local_address(address):
                refused = EgressRefused(host, address)
                self._on_refused(refused)
                raise refused
            results.append(
                {
                    "hostname": host,
                    "host": address,
                    "port": int(sockaddr[1]),
                    "family": info_family,
                    "proto": proto,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        return results

    async def close(self) -> None:
        """Nothing to close: the event loop's resolver is shared."""


def local_only_session(on_refused: Callable[[EgressRefused], None]) -> ClientSession:
    """Return an HTTP session whose every connection is resolved and checked first."""
    resolver = LocalOnlyResolver(on_refused)
    # No DNS cache: a name that starts resolving elsewhere is caught at the next connection.
    return ClientSession(connector=TCPConnector(resolver=resolver, use_dns_cache=False))
