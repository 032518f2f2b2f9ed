"""Which driver speaks to a doorbell: each protocol by name, and detection by asking in turn."""

from __future__ import annotations

from enum import StrEnum
import logging

import aiohttp

from .base import CannotConnect, DeviceIdentity, DoorbellDevice, InvalidAuth
from .dahua import DahuaDoorbell
from .doorbird import DoorBirdDoorbell
from .onvif import OnvifDoorbell

_LOGGER = logging.getLogger(__name__)


class DeviceApi(StrEnum):
    """How the integration reaches a doorbell."""

    DAHUA = "dahua"
    DOORBIRD = "doorbird"
    ONVIF = "onvif"
    GENERIC = "generic"  # an RTSP URL and a button from elsewhere: never detected


# Dahua first: its CGI paths are its own, while Dahua doorbells speak ONVIF as well.
# DoorBird last: it locks its API after repeated bad credentials.
NETWORK_APIS: tuple[DeviceApi, ...] = (DeviceApi.DAHUA, DeviceApi.ONVIF, DeviceApi.DOORBIRD)


def network_device(
    protocol: DeviceApi,
    session: aiohttp.ClientSession,
    *,
    host: str,
    port: int,
    username: str,
    password: str,
    rtsp_port: int | None = None,
) -> DoorbellDevice:
    """Return the driver of a doorbell reached by address and credentials."""
    if protocol is DeviceApi.DAHUA:
        return DahuaDoorbell(session, host, port, username, password, rtsp_port=rtsp_port)
    if protocol is DeviceApi.ONVIF:
        return OnvifDoorbell(session, host, port, username, password, rtsp_port=rtsp_port)
    if protocol is DeviceApi.DOORBIRD:
        return DoorBirdDoorbell(session, host, port, username, password, rtsp_port=rtsp_port)
    raise ValueError(f"{protocol} is not reached by address and credentials")


async def detect(
    session: aiohttp.ClientSession,
    host: str,
    port: int,
    username: str,
    password: str,
    *,
    rtsp_port: int | None = None,
) -> tuple[DeviceApi, DeviceIdentity]:
    """Probe each protocol in turn; return the first that answers.

    Raise InvalidAuth if none answered but one refused the credentials, else CannotConnect.
    """
    refused: InvalidAuth | None = None
    for protocol in NETWORK_APIS:
        device = network_device(
            protocol,
            session,
            host=host,
            port=port,
            username=username,
            password=password,
            rtsp_port=rtsp_port,
        )
        try:
            return protocol, await device.probe()
        except InvalidAuth as err:
            _LOGGER.debug("%s at %s refused the credentials: %s", protocol, host, err)
            refused = refused or err
        except CannotConnect as err:
            _LOGGER.debug("%s at %s did not answer: %s", protocol, host, err)
    if refused is not None:
        raise refused
    raise CannotConnect(f"No supported doorbell answered at {host}:{port}")
