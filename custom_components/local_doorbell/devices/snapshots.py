"""Fetching a JPEG over HTTP the way cameras ask for it: digest, or basic on a basic challenge."""

from __future__ import annotations

import base64

import aiohttp
from aiohttp import hdrs
from yarl import URL

from .base import REQUEST_TIMEOUT, CannotConnect, InvalidAuth
from .http import MAX_JPEG, describe, read_body

_TIMEOUT = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)


def basic_authorization(username: str, password: str) -> str:
    """Return an `Authorization` value for basic auth; raise InvalidAuth for a ':' in the name."""
    if ":" in username:
        raise InvalidAuth("a user name with ':' cannot go into basic authentication")
    # Built by hand: aiohttp 3.14 deprecates BasicAuth, 3.13 lacks its successor.
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


async def fetch_jpeg(
    session: aiohttp.ClientSession, url: URL, *, name: str, username: str, password: str
) -> bytes:
    """Return the JPEG at `url`; the password goes in clear only if the camera asks for basic.

    Raise InvalidAuth when refused, CannotConnect for anything else; `name` goes in messages.
    """
    try:
        digest = aiohttp.DigestAuthMiddleware(username, password)
    except ValueError as err:  # a ':' in the user name, which HTTP auth cannot carry
        raise InvalidAuth(str(err)) from err
    status, challenge, image = await _get(session, url, name, middlewares=(digest,))
    if status == 401 and challenge.lower().startswith("basic"):
        basic = basic_authorization(username, password)
        status, _, image = await _get(session, url, name, headers={hdrs.AUTHORIZATION: basic})
    if status == 401:
        raise InvalidAuth(f"{name} refused the user name or password")
    if status != 200 or not image.startswith(b"\xff\xd8"):
        raise CannotConnect(f"{name} sent no JPEG snapshot (HTTP {status})")
    return image


async def _get(
    session: aiohttp.ClientSession,
    url: URL,
    name: str,
    *,
    middlewares: tuple[aiohttp.DigestAuthMiddleware, ...] = (),
    headers: dict[str, str] | None = None,
) -> tuple[int, str, bytes]:
    """Return the status, auth challenge and body of a GET (no redirects)."""
    try:
        async with session.get(
            url,
            middlewares=middlewares,
            headers=headers,
            allow_redirects=False,
            timeout=_TIMEOUT,
        ) as response:
            challenge = response.headers.get(hdrs.WWW_AUTHENTICATE, "")
            return response.status, challenge, await read_body(response, limit=MAX_JPEG, name=name)
    except (aiohttp.ClientError, OSError) as err:
        raise CannotConnect(f"{name} did not answer: {describe(err)}") from err
