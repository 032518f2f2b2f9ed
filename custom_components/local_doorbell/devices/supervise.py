"""The guard around every driver's event loop: an unexpected error costs a reconnect, no more."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
import contextlib
import logging
import traceback

from .backoff import Backoff
from .base import DoorbellEvent, EventKind, InvalidAuth

_LOGGER = logging.getLogger(__name__)


async def supervised(
    loop: Callable[[], AsyncGenerator[DoorbellEvent]], *, host: str, backoff: Backoff
) -> AsyncGenerator[DoorbellEvent]:
    """Yield the events of a driver's `loop`, starting it again whenever it raises.

    InvalidAuth goes through: the owner has to enter new credentials. Any other error is
    logged with its traceback (the first time it happens at that place; after that in one line
    at debug), turns the connection OFFLINE, and the loop starts again after `backoff`, which
    the loop resets once a connection is healthy. ONLINE and OFFLINE pass, and are logged, only
    when they change: a loop yields them for each connection it makes or loses.
    """
    online: bool | None = None
    reported: set[tuple[str, str, int | None]] = set()
    while True:
        try:
            async with contextlib.aclosing(loop()) as events:
                async for event in events:
                    if event.kind in (EventKind.ONLINE, EventKind.OFFLINE):
                        if online is (event.kind is EventKind.ONLINE):
                            continue
                        _log_change(host, online, event.kind is EventKind.ONLINE)
                        online = event.kind is EventKind.ONLINE
                    yield event
            return  # a loop that ends on its own has nothing more to tell
        except InvalidAuth:
            raise
        except Exception as err:  # whatever it is, the events must go on
            where = traceback.extract_tb(err.__traceback__)[-1]
            place = (type(err).__qualname__, where.filename, where.lineno)
            if place in reported:
                _LOGGER.debug("The events of %s failed again: %s: %s", host, place[0], err)
            else:
                reported.add(place)
                _LOGGER.error(
                    "Unexpected error in the events of %s; reconnecting", host, exc_info=err
                )
        if online is not False:
            online = False
            yield DoorbellEvent(kind=EventKind.OFFLINE)
        await backoff.wait()


def _log_change(host: str, was: bool | None, online: bool) -> None:
    """Log a connection lost or back; the first connection is not worth an info line."""
    if not online:
        _LOGGER.info("The events of %s are down, reconnecting", host)
        return
    _LOGGER.log(logging.INFO if was is False else logging.DEBUG, "Receiving the events of %s", host)
