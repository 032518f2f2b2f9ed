"""Run a virtual doorbell: `python -m virtual_doorbell --help`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import fields
import logging
import signal
from typing import get_args

from .audio import AudioCodec
from .device import VideoSettings, VirtualDoorbell
from .models import MODELS, Protocol


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m virtual_doorbell", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--rtsp-port", type=int, default=8554)
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", required=True)
    apis = {
        Protocol.DAHUA: "Dahua CGI (Amcrest, Lorex, IMOU)",
        Protocol.DOORBIRD: "DoorBird LAN-2-LAN",
        Protocol.ONVIF: "ONVIF with Reolink-shaped events",
    }
    speaks = "; ".join(
        f"{', '.join(sorted(name for name, m in MODELS.items() if m.protocol is api))}: {text}"
        for api, text in apis.items()
    )
    parser.add_argument(
        "--model",
        choices=sorted(MODELS),
        default="AD410",
        metavar="MODEL",
        help=f"the model, which picks the vendor API it speaks ({speaks}); default AD410",
    )
    parser.add_argument("--serial", help="default: derived from the model and ports")
    video = parser.add_argument_group(
        "video", "the main stream; the sub-stream has a third of its width and height"
    )
    for setting in fields(VideoSettings):
        video.add_argument(
            f"--{setting.name.replace('_', '-')}",
            type=type(setting.default),
            default=setting.default,
            choices=get_args(AudioCodec) if setting.name == "audio" else None,
        )
    for quirk in ("coalesce-parts", "split-parts", "stray-http-line"):
        parser.add_argument(f"--{quirk}", action="store_true", help="event-stream quirk")
    parser.add_argument(
        "--content-length-space",
        choices=("model", "yes", "no"),
        default="model",
        help="`Content-Length: 9` (yes) or `Content-Length:9` (no); default as the model does",
    )
    return parser


async def _run(args: argparse.Namespace) -> None:
    video = VideoSettings(
        **{setting.name: getattr(args, setting.name) for setting in fields(VideoSettings)}
    )
    device = VirtualDoorbell(
        host=args.host,
        http_port=args.http_port,
        rtsp_port=args.rtsp_port,
        username=args.username,
        password=args.password,
        model=args.model,
        serial=args.serial,
        video=video,
    )
    quirks = device.state.quirks
    quirks.coalesce_parts = args.coalesce_parts
    quirks.split_parts = args.split_parts
    quirks.stray_http_line = args.stray_http_line
    quirks.content_length_space = {"model": None, "yes": True, "no": False}[
        args.content_length_space
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await device.start()
    print(
        f"Virtual doorbell {device.state.model.name} (serial {device.state.serial})\n"
        f"  HTTP  {device.url}  user {args.username!r}\n"
        f"  RTSP  {device.rtsp_url(credentials=False)}\n"
        f"  press: curl -X POST {device.url}/sim/press",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await device.stop()


def main() -> None:
    """Parse the command line and serve until interrupted."""
    args = _parser().parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(args))


if __name__ == "__main__":
    main()
