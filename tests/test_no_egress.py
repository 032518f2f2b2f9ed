"""The run-wide connect recorder sees every attempt, the refused ones included."""

from __future__ import annotations

import socket

import aiohttp
import pytest

from virtual_doorbell import VirtualDoorbell

from .conftest import _loopback


async def test_loopback_connects_are_recorded(
    doorbell: VirtualDoorbell, connect_attempts: list[object]
) -> None:
    before = len(connect_attempts)
    async with aiohttp.ClientSession() as session, session.get(f"{doorbell.url}/sim/state"):
        pass
    assert ("127.0.0.1", doorbell.http_port) in connect_attempts[before:]


def test_a_refused_connect_is_still_recorded(
    socket_enabled: None, connect_attempts: list[object]
) -> None:
    with socket.socket() as sock, pytest.raises(Exception, match=r"203\.0\.113\.1"):
        sock.connect(("203.0.113.1", 80))
    assert connect_attempts.pop() == ("203.0.113.1", 80)  # taken back: the test made it


@pytest.mark.parametrize(
    ("address", "local"),
    [
        (("127.0.0.1", 80), True),
        (("::1", 80, 0, 0), True),
        ("/run/some.sock", True),
        (("203.0.113.1", 80), False),
        (("example.com", 80), False),
    ],
)
def test_loopback_rule(address: object, local: bool) -> None:
    assert _loopback(address) is local
