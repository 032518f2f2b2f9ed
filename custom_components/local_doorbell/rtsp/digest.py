"""HTTP digest authentication (RFC 7616, MD5) as a doorbell's web and RTSP servers check it."""

from __future__ import annotations

from collections import OrderedDict
import hashlib
import re
import secrets

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_MAX_NONCES = 256


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def parse_digest(header: str) -> dict[str, str] | None:
    """Return the parameters of a `Digest ...` authorization header, or None."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    return {m[1].lower(): m[2] if m[2] else m[3] for m in _PARAM.finditer(rest)}


class DigestAuthenticator:
    """Issues nonces and checks digest responses for one user."""

    def __init__(self, realm: str, username: str, password: str) -> None:
        """Remember the one account this device knows."""
        self.realm = realm
        self.username = username
        self.password = password
        self.refuse_all = False
        self._nonces: OrderedDict[str, None] = OrderedDict()
        self._opaque = secrets.token_hex(16)

    def challenge(self, *, qop: bool = True) -> str:
        """Return a `WWW-Authenticate` value with a fresh nonce."""
        nonce = secrets.token_hex(16)
        self._nonces[nonce] = None
        while len(self._nonces) > _MAX_NONCES:
            self._nonces.popitem(last=False)
        value = f'Digest realm="{self.realm}", nonce="{nonce}", opaque="{self._opaque}"'
        if qop:
            value += ', qop="auth", algorithm=MD5'
        return value

    def verify(self, method: str, header: str | None) -> bool:
        """Check an `Authorization` header for a request with this method."""
        if self.refuse_all or not header:
            return False
        params = parse_digest(header)
        if params is None:
            return False
        nonce = params.get("nonce", "")
        if params.get("username") != self.username or nonce not in self._nonces:
            return False
        ha1 = _md5(f"{self.username}:{self.realm}:{self.password}")
        ha2 = _md5(f"{method}:{params.get('uri', '')}")
        if params.get("qop") == "auth":
            expected = _md5(
                f"{ha1}:{nonce}:{params.get('nc', '')}:{params.get('cnonce', '')}:auth:{ha2}"
            )
        else:
            expected = _md5(f"{ha1}:{nonce}:{ha2}")
        return secrets.compare_digest(expected, params.get("response", ""))
