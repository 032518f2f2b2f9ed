"""A device's HTTP answers read safely: bodies capped, failures told without the credentials."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp

from .base import REQUEST_TIMEOUT, CannotConnect

# Far above what real firmware sends, far below what could strain Home Assistant's memory.
MAX_ANSWER = 64 * 1024  # a CGI or JSON answer: a few hundred bytes in practice
MAX_SOAP = 512 * 1024  # a SOAP answer: GetEventProperties reaches tens of KiB
MAX_JPEG = 5 * 1024 * 1024  # a snapshot: a 2560x1920 JPEG stays under 2 MiB
_TIMEOUT = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)


def describe(err: BaseException) -> str:
    """Return what went wrong with a request, never what the request carried.

    The repr of aiohttp's response errors holds the request's headers (`Authorization` too),
    and their message quotes what the device sent: only the kind, status and reason are kept.
    """
    if isinstance(err, aiohttp.ClientResponseError):
        reason = err.message.partition("\n")[0].strip().rstrip(":")
        return f"{type(err).__name__} (HTTP {err.status}{f': {reason}' if reason else ''})"
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


async def read_body(response: aiohttp.ClientResponse, *, limit: int, name: str) -> bytes:
    """Return a response's body; raise CannotConnect for one longer than `limit` bytes."""
    if (length := response.content_length) is not None and length > limit:
        response.close()
        raise CannotConnect(f"{name} announced an answer of {length} bytes; at most {limit} do")
    body = bytearray()
    while chunk := await response.content.read(limit + 1 - len(body)):
        body += chunk
        if len(body) > limit:
            response.close()
            raise CannotConnect(f"{name} sent an answer longer than {limit} bytes")
    return bytes(body)


async def get_body(
    session: aiohttp.ClientSession,
    url: Any,
    *,
    name: str,
    check: Callable[[aiohttp.ClientResponse], None],
    limit: int = MAX_ANSWER,
    **request: Any,
) -> bytes:
    """Return the body of a GET (no redirects) whose answer passed `check`.

    Raise CannotConnect when the device does not answer in time, or answers too much, and
    whatever `check` raises; `name` goes in messages.
    """
    try:
        async with session.get(url, allow_redirects=False, timeout=_TIMEOUT, **request) as response:
            check(response)
            return await read_body(response, limit=limit, name=name)
    except (aiohttp.ClientError, OSError) as err:
        raise CannotConnect(f"{name} did not answer: {describe(err)}") from err
