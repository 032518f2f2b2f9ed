"""The guard around the drivers' event loops: any error costs a reconnect, never the events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
import contextlib
import logging
from typing import Any

import aiohttp
import pytest

from custom_components.local_doorbell.devices import (
    backoff as backoff_module,
    doorbird as doorbird_module,
)
from custom_components.local_doorbell.devices.backoff import Backoff
from custom_components.local_doorbell.devices.base import DoorbellEvent, EventKind, InvalidAuth
from custom_components.local_doorbell.devices.dahua_events import EventMapper
from custom_components.local_doorbell.devices.onvif_events import MessageMapper
from custom_components.local_doorbell.devices.supervise import supervised
from tests.helpers.drivers import DRIVERS
from tests.helpers.events import events_of
from virtual_doorbell import VirtualDoorbell

LOGGER = "custom_components.local_doorbell.devices.supervise"
ONLINE = DoorbellEvent(kind=EventKind.ONLINE)
OFFLINE = DoorbellEvent(kind=EventKind.OFFLINE)
RING = DoorbellEvent(kind=EventKind.RING)


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the back-off's pauses instead of sleeping them, without jitter."""
    seen: list[float] = []

    async def pause(delay: float) -> None:
        seen.append(delay)

    monkeypatch.setattr(backoff_module, "sleep", pause)
    monkeypatch.setattr(backoff_module, "uniform", lambda low, high: 1.0)
    return seen


def runs(*scripts: list[DoorbellEvent | BaseException]) -> Callable[[], AsyncGenerator[Any]]:
    """Return a loop that plays one script per start: yield its events, raise its errors."""
    pending = list(scripts)

    async def loop() -> AsyncGenerator[DoorbellEvent]:
        for step in pending.pop(0):
            if isinstance(step, BaseException):
                raise step
            yield step

    return loop


async def collect(events: AsyncGenerator[DoorbellEvent]) -> list[EventKind]:
    """Return the kinds of every event, to the end of the stream."""
    return [event.kind async for event in events]


async def test_an_error_is_offline_then_a_restart_after_back_off(
    pauses: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    loop = runs(
        [ONLINE, ValueError("at the first place")],
        [ONLINE, RING, ValueError("at the first place")],
        [ONLINE],
    )
    kinds = await collect(supervised(loop, host="door", backoff=Backoff(1.0)))
    assert kinds == [
        EventKind.ONLINE,
        EventKind.OFFLINE,
        EventKind.ONLINE,
        EventKind.RING,
        EventKind.OFFLINE,
        EventKind.ONLINE,
    ]
    assert pauses == [1.0, 2.0]  # the loop never got healthy: the delay doubles
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1  # the same error at the same place: its traceback once
    assert errors[0].exc_info is not None
    assert "Unexpected error in the events of door" in errors[0].getMessage()
    assert "failed again: ValueError: at the first place" in caplog.text


async def test_errors_at_other_places_are_each_logged_with_their_traceback(
    pauses: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    loop = runs([ValueError("one")], [KeyError("two")], [])
    kinds = await collect(supervised(loop, host="door", backoff=Backoff(1.0)))
    # Never online: OFFLINE once, for the runtime that took the device to be up after setup.
    assert kinds == [EventKind.OFFLINE]
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert [record.exc_info[0] for record in errors if record.exc_info] == [ValueError, KeyError]


async def test_connection_events_pass_only_when_they_change(pauses: list[float]) -> None:
    loop = runs([OFFLINE, OFFLINE, ONLINE, ONLINE, RING, OFFLINE, RuntimeError()], [OFFLINE])
    kinds = await collect(supervised(loop, host="door", backoff=Backoff(1.0)))
    assert kinds == [EventKind.OFFLINE, EventKind.ONLINE, EventKind.RING, EventKind.OFFLINE]


async def test_connection_changes_are_logged_once_coming_back_at_info(
    pauses: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    loop = runs([ONLINE, ONLINE, RING, OFFLINE, OFFLINE, ONLINE, OFFLINE], [])
    await collect(supervised(loop, host="door", backoff=Backoff(1.0)))
    logged = [(record.levelno, record.getMessage()) for record in caplog.records]
    assert logged == [
        (logging.DEBUG, "Receiving the events of door"),  # the first connection
        (logging.INFO, "The events of door are down, reconnecting"),
        (logging.INFO, "Receiving the events of door"),
        (logging.INFO, "The events of door are down, reconnecting"),
    ]


async def test_refused_credentials_go_through(pauses: list[float]) -> None:
    loop = runs([ONLINE, InvalidAuth("refused")])
    events = supervised(loop, host="door", backoff=Backoff(1.0))
    assert (await anext(events)).kind is EventKind.ONLINE
    with pytest.raises(InvalidAuth):
        await anext(events)
    assert pauses == []


async def test_closing_closes_the_loop() -> None:
    closed = asyncio.Event()

    async def loop() -> AsyncGenerator[DoorbellEvent]:
        try:
            yield ONLINE
            await asyncio.sleep(3600)
        finally:
            closed.set()

    async with contextlib.aclosing(supervised(loop, host="door", backoff=Backoff(1.0))) as events:
        assert (await anext(events)).kind is EventKind.ONLINE
    assert closed.is_set()


# Every driver's loop is guarded: a bug in its parser, here made to fail once.
PARSERS: dict[str, tuple[Any, str]] = {
    "AD410": (EventMapper, "map"),
    "D101": (doorbird_module, "parse_input"),
    "ReolinkDoorbell": (MessageMapper, "map"),
}


@pytest.mark.parametrize("doorbell_model", list(DRIVERS))
async def test_every_driver_recovers_from_an_unexpected_error(
    session: aiohttp.ClientSession,
    doorbell: VirtualDoorbell,
    doorbell_model: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner, name = PARSERS[doorbell_model]
    parse = getattr(owner, name)
    failed: list[bool] = []

    def fails_once(*args: Any) -> Any:
        if not failed:
            failed.append(True)
            raise RuntimeError("a bug")
        return parse(*args)

    monkeypatch.setattr(owner, name, fails_once)
    async with events_of(DRIVERS[doorbell_model].make(session, doorbell)) as events:
        seen = await events.until(EventKind.OFFLINE)
        assert [event.kind for event in seen] in (
            [EventKind.OFFLINE],
            [EventKind.ONLINE, OFFLINE.kind],
        )
        assert [event.kind for event in await events.until(EventKind.ONLINE)] == [EventKind.ONLINE]
        doorbell.press()
        assert (await events.until(EventKind.RING))[-1].kind is EventKind.RING
    assert failed == [True]
    errors = [
        record
        for record in caplog.records
        if record.name == LOGGER and "Receiving the events" not in record.getMessage()
    ]
    assert [record.levelno for record in errors] == [logging.ERROR]
    assert errors[0].exc_info is not None
