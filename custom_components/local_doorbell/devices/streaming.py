"""Long-lived HTTP event streams (Dahua's eventManager, DoorBird's monitor): open and read."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
from typing import Any

import aiohttp

from .base import CannotConnect, InvalidAuth
from .http import describe

_LOGGER = logging.getLogger(__name__)

# The stream lasts forever; its opening and its silences are timed separately.
_NO_TOTAL = aiohttp.ClientTimeout(total=None)


async def open_stream(
    session: aiohttp.ClientSession,
    url: Any,
    *,
    host: str,
    within: float,
    check: Callable[[aiohttp.ClientResponse], None],
    **request: Any,
) -> aiohttp.ClientResponse:
    """Open a stream (no redirects) and `check` its answer; raise CannotConnect or InvalidAuth."""
    try:
        async with asyncio.timeout(within):
            response = await session.get(url, allow_redirects=False, timeout=_NO_TOTAL, **request)
    except (aiohttp.ClientError, OSError) as err:
        raise CannotConnect(f"{host} did not answer: {describe(err)}") from err
    try:
        check(response)
    except (CannotConnect, InvalidAuth):
        response.close()
        raise
    return response


async def read_chunk(response: aiohttp.ClientResponse, *, host: str, silence: float) -> bytes:
    """Return the next bytes of a stream, or nothing once it ended or was silent too long."""
    try:
        async with asyncio.timeout(silence):
            return await response.content.readany()
    except TimeoutError:
        _LOGGER.debug("Nothing from %s for %s s", host, silence)
    except (aiohttp.ClientError, OSError) as err:
        _LOGGER.debug("Event stream of %s broke: %s", host, describe(err))
    return b""
