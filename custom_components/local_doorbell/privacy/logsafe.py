"""Addresses fit for logs: cameras put passwords in their RTSP URLs."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_SECRET_QUERY_KEYS = ("pass", "pwd", "user", "token", "auth", "key")


def mask_url(url: str) -> str:
    """Return a URL without its user name, password or secret query values."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    if parts.netloc != netloc:
        netloc = "***@" + netloc
    query = [
        (key, "***" if any(s in key.lower() for s in _SECRET_QUERY_KEYS) else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="*")))
