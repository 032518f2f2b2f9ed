"""SOAP 1.2 as an ONVIF device speaks it: envelopes, faults, WS-Security and xs:duration."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
import hashlib
import re
import secrets
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from aiohttp import web

from .http import Handler

NAMESPACES = {
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "ter": "http://www.onvif.org/ver10/error",
    "tt": "http://www.onvif.org/ver10/schema",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "tns1": "http://www.onvif.org/ver10/topics",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "wstop": "http://docs.oasis-open.org/wsn/t-1",
    "wsrf-r": "http://docs.oasis-open.org/wsrf/r-2",
    "wsa5": "http://www.w3.org/2005/08/addressing",
}
CONTENT_TYPE = "application/soap+xml"
_DECLARATIONS = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NAMESPACES.items())
_DURATION = re.compile(
    r"P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d*)?)S)?)?"
)
_PLAIN_TYPE = "#PasswordText"  # the UsernameToken carries the password itself
_PUBLIC = frozenset({"GetSystemDateAndTime"})  # answered without a UsernameToken


def envelope(body: str) -> bytes:
    """Return a SOAP 1.2 envelope around `body`, every prefix declared up front (gSOAP style)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<env:Envelope {_DECLARATIONS}><env:Body>{body}</env:Body></env:Envelope>\n"
    ).encode()


class SoapFault(Exception):
    """A fault the device answers with: HTTP 400 for the sender's faults, 500 for its own."""

    def __init__(self, subcode: str, reason: str, *, sender: bool = True) -> None:
        """Describe the fault by its subcode (`ter:NotAuthorized`) and a human reason."""
        super().__init__(reason)
        self.subcode = subcode
        self.reason = reason
        self.status = 400 if sender else 500
        self.code = "env:Sender" if sender else "env:Receiver"

    def render(self) -> bytes:
        """Return the fault's envelope."""
        return envelope(
            f"<env:Fault><env:Code><env:Value>{self.code}</env:Value>"
            f"<env:Subcode><env:Value>{self.subcode}</env:Value></env:Subcode></env:Code>"
            f'<env:Reason><env:Text xml:lang="en">{escape(self.reason)}</env:Text></env:Reason>'
            "</env:Fault>"
        )


def not_authorized() -> SoapFault:
    """Return the fault of a missing or wrong UsernameToken."""
    return SoapFault("ter:NotAuthorized", "Sender not Authorized")


@dataclass(frozen=True, slots=True)
class SoapRequest:
    """The parts of a request the device looks at."""

    operation: str  # the local name of the body's first element
    body: ET.Element
    token: ET.Element | None  # wsse:UsernameToken

    def text(self, name: str) -> str | None:
        """Return the text of the first element called `name` (any namespace) in the body."""
        found = self.body.find(f".//{{*}}{name}")
        return None if found is None or found.text is None else found.text.strip()


def parse_request(data: bytes) -> SoapRequest:
    """Return the operation, body and UsernameToken of a request; raise SoapFault if malformed."""
    try:
        root = ET.fromstring(data)  # noqa: S314  # a loopback test device reading its clients
    except ET.ParseError as err:
        raise SoapFault("ter:WellFormed", "Malformed XML") from err
    ns = NAMESPACES["env"]
    body = root.find(f"{{{ns}}}Body")
    if root.tag != f"{{{ns}}}Envelope" or body is None or len(body) == 0:
        raise SoapFault("ter:WellFormed", "Not a SOAP 1.2 envelope")
    operation = body[0]
    return SoapRequest(
        operation=operation.tag.rpartition("}")[2],
        body=operation,
        token=root.find(f"{{{ns}}}Header/{{*}}Security/{{*}}UsernameToken"),
    )


Operation = Callable[[SoapRequest, web.Request], Awaitable[str | bytes]]


def endpoint(
    operations: Mapping[str, Operation], authorized: Callable[[SoapRequest], bool]
) -> Handler:
    """Return the handler of one SOAP service: parse, authenticate, dispatch, answer.

    An operation returns the body's XML, or bytes to send as they are (garbage).
    """

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            soap = parse_request(await request.read())
            operation = operations.get(soap.operation)
            if operation is None:
                raise SoapFault("ter:ActionNotSupported", soap.operation, sender=False)
            if soap.operation not in _PUBLIC and not authorized(soap):
                raise not_authorized()
            answer = await operation(soap, request)
        except SoapFault as fault:
            return web.Response(body=fault.render(), status=fault.status, content_type=CONTENT_TYPE)
        body = answer if isinstance(answer, bytes) else envelope(answer)
        return web.Response(body=body, content_type=CONTENT_TYPE, charset="utf-8")

    return handle


def verify_token(
    token: ET.Element | None, username: str, password: str, now: datetime, tolerance: float
) -> bool:
    """Check a UsernameToken: user, Created within `tolerance` of `now`, and the digest.

    PasswordDigest = Base64(SHA-1(nonce + created + password)), the nonce Base64-decoded.
    """
    if token is None or token.findtext("{*}Username") != username:
        return False
    secret = token.find("{*}Password")
    created = token.findtext("{*}Created") or ""
    try:
        moment = datetime.fromisoformat(created)
        nonce = base64.b64decode(token.findtext("{*}Nonce") or "", validate=True)
    except (ValueError, binascii.Error):
        return False
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if secret is None or abs((moment - now).total_seconds()) > tolerance:
        return False
    if secret.get("Type", "").endswith(_PLAIN_TYPE):
        expected = password
    elif nonce:
        digest = hashlib.sha1(nonce + created.encode() + password.encode(), usedforsecurity=False)
        expected = base64.b64encode(digest.digest()).decode()
    else:
        return False
    return secrets.compare_digest(expected.encode(), (secret.text or "").strip().encode())


def xml_time(moment: datetime) -> str:
    """Return an xs:dateTime in UTC, to the second, as devices write it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seconds_until(value: str | None, now: datetime, default: float) -> float:
    """Return the seconds an xs:duration (`PT60S`) or an absolute xs:dateTime lies ahead."""
    if not value:
        return default
    if (match := _DURATION.fullmatch(value)) and value not in ("P", "PT"):
        parts = {key: float(number) for key, number in match.groupdict().items() if number}
        hours = parts.get("d", 0) * 24 + parts.get("h", 0)
        return hours * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SoapFault("ter:InvalidArgVal", f"Not a time: {value}") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (moment - now).total_seconds()
