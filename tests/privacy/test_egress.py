"""The egress guard decides which addresses the integration may connect to."""

from __future__ import annotations

import asyncio
import socket

import pytest

from custom_components.local_doorbell.privacy.egress import (
    EgressRefused,
    UnresolvableHost,
    check_host,
    is_local_address,
)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.5",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.1.40",
        "169.254.10.20",
        "::1",
        "fe80::1%eth0",
        "fd12:3456:789a::1",
        "::ffff:192.168.1.40",
    ],
)
def test_local_addresses_are_allowed(address: str) -> None:
    assert is_local_address(address)


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "172.32.0.1",  # just outside 172.16.0.0/12
        "100.64.0.1",  # carrier-grade NAT is not the home network
        "192.0.2.1",
        "0.0.0.0",
        "224.0.0.1",
        "2001:4860:4860::8888",
        "::ffff:8.8.8.8",
        "not an address",
        "",
    ],
)
def test_other_addresses_are_refused(address: str) -> None:
    assert not is_local_address(address)


async def test_check_host_returns_the_local_addresses() -> None:
    assert await check_host("127.0.0.1", 80) == ["127.0.0.1"]
    assert await check_host("[::1]", 80) == ["::1"]


async def test_check_host_refuses_a_public_address() -> None:
    with pytest.raises(EgressRefused) as err:
        await check_host("8.8.8.8", 80)
    assert err.value.address == "8.8.8.8"
    assert "not a local address" in str(err.value)


async def test_a_name_with_any_public_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # The harness has no DNS: answer as a resolver would for a name with two addresses.
    async def resolve(host: str, port: int, **kwargs: object) -> list[tuple[object, ...]]:
        assert host == "doorbell.example"
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.40", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.9", port)),
        ]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolve)
    with pytest.raises(EgressRefused) as err:
        await check_host("doorbell.example", 80)
    assert err.value.address == "203.0.113.9"


async def test_an_unresolvable_name(monkeypatch: pytest.MonkeyPatch) -> None:
    async def resolve(*args: object, **kwargs: object) -> list[tuple[object, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolve)
    with pytest.raises(UnresolvableHost):
        await check_host("no-such-doorbell.invalid", 80)
