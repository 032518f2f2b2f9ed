"""Finding credentials in what the integration shows: messages, errors, logs."""

from __future__ import annotations

import base64
import re

from virtual_doorbell import VirtualDoorbell


def leaks(text: str, doorbell: VirtualDoorbell) -> list[str]:
    """Return the credentials, authorization headers and digests that `text` shows."""
    basic = base64.b64encode(f"{doorbell.username}:{doorbell.password}".encode()).decode()
    found = [
        secret
        for secret in (doorbell.password, basic, "Authorization", "Digest username", 'response="')
        if secret.lower() in text.lower()
    ]
    # WS-Security: the password digest proves the password to whoever replays it.
    return found + re.findall(r"Password\b[^>]*>(?!\*\*\*<)[^<]+<", text)
