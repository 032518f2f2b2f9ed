"""How the ONVIF driver's SOAP travels: the caller's session, no redirects, capped answers.

The library's transport logs every envelope at debug, WS-Security token included: a filter on
its logger blanks the token's password digest, which proves the password to anyone replaying it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp

from .base import InvalidAuth
from .http import MAX_SOAP, read_body

_PASSWORD = re.compile(r"(<(?:[\w.-]+:)?Password\b[^>]*>)[^<]*")
_PASSWORD_BYTES = re.compile(_PASSWORD.pattern.encode())


class _HidePasswords(logging.Filter):
    """Blanks the `wsse:Password` of the envelopes a record quotes."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's arguments; never drop the record."""
        if isinstance(record.args, tuple):
            record.args = tuple(_hide(arg) for arg in record.args)
        return True


def _hide(arg: object) -> object:
    """Return an argument with every password element's content blanked."""
    if isinstance(arg, bytes):
        return _PASSWORD_BYTES.sub(rb"\1***", arg)
    if isinstance(arg, str):
        return _PASSWORD.sub(r"\1***", arg)
    return arg


# The logger of onvif-zeep-async's aiohttp transport, the only one that quotes requests.
logging.getLogger("onvif.zeep_aiohttp").addFilter(_HidePasswords())


class CappedResponse:
    """A SOAP answer as the library's transport reads it: at most MAX_SOAP bytes."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        """Wrap `response`; everything but `read` is the response's own."""
        self._response = response

    def __getattr__(self, name: str) -> Any:
        """Return the wrapped response's attribute."""
        return getattr(self._response, name)

    async def read(self) -> bytes:
        """Return the body; raise CannotConnect past MAX_SOAP bytes."""
        return await read_body(self._response, limit=MAX_SOAP, name=str(self._response.url.host))


class SoapSession:
    """The caller's session as the library's transport sees it: redirects are never followed."""

    # The library's transport sends this with every request; our own timeouts bound the calls.
    timeout = aiohttp.ClientTimeout(total=None)

    def __init__(self, session: aiohttp.ClientSession) -> None:
        """Wrap `session`, which stays the caller's to close."""
        self._session = session

    async def post(self, url: str, **kwargs: Any) -> CappedResponse:
        """Post as the session does, without following redirects; HTTP 401 is InvalidAuth."""
        if self._session.closed:  # aiohttp raises RuntimeError, which onvif 4.0 lets through
            raise aiohttp.ClientConnectionError("the session is closed")
        response = await self._session.post(url, allow_redirects=False, **kwargs)
        if response.status == 401:  # whatever the body, which may not even be XML
            response.close()
            raise InvalidAuth(f"{response.url.host} refused the user name or password")
        return CappedResponse(response)
