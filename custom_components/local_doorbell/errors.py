"""Our exceptions at the Home Assistant edge: one map to translation keys, raised translated."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import wraps

from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
    HomeAssistantError,
)

from .const import DOMAIN
from .devices.base import CannotConnect, DoorbellError, InvalidAuth, UnsupportedStream
from .privacy.egress import EgressRefused, UnresolvableHost

# Subclasses before their bases: the first match wins.
SETUP_ERRORS: dict[type[Exception], tuple[str, type[HomeAssistantError]]] = {
    EgressRefused: ("not_local", ConfigEntryError),
    UnresolvableHost: ("cannot_connect", ConfigEntryNotReady),
    InvalidAuth: ("invalid_auth", ConfigEntryAuthFailed),
    UnsupportedStream: ("unsupported_stream", ConfigEntryNotReady),
    CannotConnect: ("cannot_connect", ConfigEntryNotReady),
}


def error_key(err: Exception) -> str:
    """Return the translation key of a refused address or a failing device."""
    return next(key for kind, (key, _) in SETUP_ERRORS.items() if isinstance(err, kind))


def error_placeholders(err: Exception) -> dict[str, str]:
    """Return what an exception adds to its translated message."""
    if isinstance(err, EgressRefused):
        return {"host": err.host, "address": err.address}
    if isinstance(err, UnsupportedStream):
        return {"scheme": err.scheme}
    return {}


@contextmanager
def setup_errors(placeholders: dict[str, str]) -> Iterator[None]:
    """Raise what setup expects, translated, for a refused address or a failing device."""
    try:
        yield
    except tuple(SETUP_ERRORS) as err:
        key, error = next(pair for kind, pair in SETUP_ERRORS.items() if isinstance(err, kind))
        raise error(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={**placeholders, **error_placeholders(err)},
        ) from err


@contextmanager
def translated(
    key: str,
    placeholders: Mapping[str, str] | None = None,
    failures: tuple[type[Exception], ...] = (DoorbellError,),
) -> Iterator[None]:
    """Raise an action's failures as a HomeAssistantError with a translated message.

    The failure's own text fills `{error}` where the message shows it.
    """
    try:
        yield
    except failures as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={**(placeholders or {}), "error": str(err)},
        ) from err


def raise_translated[**P, R](
    key: str,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Make an action's device errors a HomeAssistantError with a translated message."""

    def decorator(func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(func)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with translated(key):
                return await func(*args, **kwargs)

        return wrapper

    return decorator
