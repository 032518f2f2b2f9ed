"""The egress guard: the integration connects only to addresses inside the home network."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

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


class EgressRefused(Exception):
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
