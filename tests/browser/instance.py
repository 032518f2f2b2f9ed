"""The development instance as `scripts/develop` starts it, for the browser test."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import json
import os
from pathlib import Path
import re
import signal
import sys
import time

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "doorbell-dev-password"
# What a page stuck on "Loading data" left in the log last time, and what must never show.
BROKEN = re.compile(r"No module named|ModuleNotFoundError|unknown_error")
# Lines our integration, or Home Assistant's stream reading our camera, must not log.
NOISY = re.compile(
    r"(WARNING|ERROR) \([^)]*\) "
    r"\[(custom_components\.local_doorbell|homeassistant\.components\.stream)"
)


@dataclass(slots=True)
class Instance:
    """A running development instance: Home Assistant's address and the doorbells' ports."""

    process: asyncio.subprocess.Process
    config: Path
    url: str
    doorbells: list[dict[str, object]]

    @property
    def dahua(self) -> dict[str, object]:
        """Return the Dahua/Amcrest doorbell, the one the test adds."""
        return self.doorbells[0]

    @property
    def log(self) -> str:
        """Return Home Assistant's log so far."""
        path = self.config / "home-assistant.log"
        return path.read_text(errors="replace") if path.exists() else ""


async def start(config: Path, within: float = 180) -> Instance:
    """Start `scripts/devinstance.py develop` on free ports and wait until it answers."""
    environment = {**os.environ, "DEVINSTANCE_LOOPBACK_ONLY": "1"}
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, str(ROOT / "scripts/devinstance.py"), "develop", str(config)),
        "--free-ports",
        cwd=ROOT,
        env=environment,
        stdout=(config.parent / "develop.out").open("wb"),
        stderr=asyncio.subprocess.STDOUT,
    )
    deadline = time.monotonic() + within
    ports = config / "instance.json"
    while not ports.exists():
        if process.returncode is not None or time.monotonic() > deadline:
            output = (config.parent / "develop.out").read_text(errors="replace")
            await stop(process)
            raise AssertionError(f"the development instance did not come up:\n{output[-3000:]}")
        await asyncio.sleep(0.5)
    found = json.loads(ports.read_text())
    return Instance(process, config, found["url"], found["doorbells"])


async def stop(process: asyncio.subprocess.Process) -> None:
    """Press Ctrl-C as a person would; fail if `develop` does not stop."""
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 90)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError("scripts/develop did not stop within 90 s of Ctrl-C") from None
