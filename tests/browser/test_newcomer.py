"""A new user's first quarter hour, in Debian's Chromium: onboard, add a doorbell, see a press.

The development instance starts as `scripts/develop` starts it (virtual doorbells and Home
Assistant on free loopback ports, a fresh config folder); the browser does what a person
would. Screenshots of every step land in `screenshots/` (git-ignored) for review.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
import json
from pathlib import Path
import shutil
import time
from typing import Any
import urllib.request
from zoneinfo import ZoneInfo

from awesomeversion import AwesomeVersion
import homeassistant.const as ha
from playwright.async_api import (
    Browser,
    Page,
    TimeoutError as PlaywrightTimeout,
    async_playwright,
)
import pytest

from .instance import BROKEN, NOISY, PASSWORD, ROOT, Instance, start, stop

# A whole Home Assistant started and walked through in a browser: about a minute beside
# three other test workers on two cores; the guard against a hang is wider than others'.
pytestmark = pytest.mark.timeout(300)

SCREENSHOTS = ROOT / "screenshots"
# Local brand images for custom integrations came with Home Assistant 2026.3.
LOCAL_BRANDS = AwesomeVersion(ha.__version__) >= AwesomeVersion("2026.3.0")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # The browser, too, reaches nothing but loopback (the map's tiles, fonts...).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
# True once a video anywhere in the page, shadow roots included, has played; keeps it.
FIND_PLAYING_VIDEO = """() => {
  const find = (root) => {
    for (const el of root.querySelectorAll("*")) {
      if (el.tagName === "VIDEO" && el.currentTime > 0) return el;
      const inner = el.shadowRoot && find(el.shadowRoot);
      if (inner) return inner;
    }
    return null;
  };
  window.__playing = find(document);
  return window.__playing !== null;
}"""
OWNER = {"name": "Owner", "username": "owner", "password": "owner-password-1"}


class Problems:
    """What the page reported that a user would call broken."""

    def __init__(self, url: str) -> None:
        """Start with none, watching the routes of Home Assistant at this address."""
        self.url = url
        self.found: list[str] = []

    def ours(self, url: str) -> bool:
        """Tell whether a URL is one of the integration's routes (its views, its entities)."""
        mine = ("local_doorbell", "amcrest_ad410")
        return url.startswith(self.url) and any(part in url for part in mine)

    def watch(self, page: Page) -> None:
        """Record websocket errors, and failures of the integration's own routes."""
        page.on("websocket", self._websocket)
        page.on("response", self._response)
        page.on("console", self._console)

    def _websocket(self, socket: Any) -> None:
        def received(payload: str | bytes) -> None:
            messages = json.loads(payload)
            for message in messages if isinstance(messages, list) else [messages]:
                if (message.get("error") or {}).get("code") == "unknown_error":
                    self.found.append(f"websocket: {message.get('error')}")

        socket.on("framereceived", received)

    def _response(self, response: Any) -> None:
        if self.ours(response.url) and response.status >= 400:
            self.found.append(f"HTTP {response.status} from {response.url}")

    def _console(self, message: Any) -> None:
        if message.type == "error" and self.ours(message.location.get("url", "")):
            self.found.append(f"console: {message.text}")


@pytest.fixture
async def instance(tmp_path: Path, socket_enabled: None) -> AsyncIterator[Instance]:
    """Run the development instance for one test, then stop it with Ctrl-C."""
    config = tmp_path / "config"
    running = await start(config)
    try:
        yield running
    finally:
        await stop(running.process)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Launch Debian's Chromium (scripts/setup installs it); fail loudly without it."""
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: run scripts/setup (apt-get install chromium)"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield launched
        await launched.close()


async def shot(page: Page, name: str) -> None:
    """Save a screenshot of this step for review."""
    SCREENSHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


async def onboard(page: Page, url: str) -> None:
    """Create the owner account and accept the defaults of every onboarding step."""
    await page.goto(url)
    await page.get_by_role("button", name="Create my smart home").click()
    fields = {**OWNER, "password_confirm": OWNER["password"]}
    for _ in range(3):  # the form can re-render while it is filled (seen on 2026.2): refill
        for field, value in fields.items():
            await page.locator(f"input[name={field}]").fill(value)
        filled = {name: await page.locator(f"input[name={name}]").input_value() for name in fields}
        if filled == fields:
            break
    await shot(page, "01-onboarding-account")
    assert filled == fields, filled
    await page.get_by_role("button", name="Create account").click()
    finish = page.get_by_role("button", name="Finish")
    following = page.get_by_role("button", name="Next")
    for _ in range(5):  # location, country, analytics (fewer on older releases)
        await finish.or_(following).first.wait_for()
        if await finish.is_visible():
            break
        step = await following.element_handle()
        await step.click()
        await step.wait_for_element_state("hidden")  # each step has a button of its own
    await finish.click()
    # Stuck on "Loading data" is what a missing requirement looked like: the sidebar never came.
    await page.locator("ha-sidebar").wait_for(timeout=60_000)
    await shot(page, "02-onboarded")


async def add_doorbell(page: Page, instance: Instance) -> float:
    """Add the Dahua doorbell through the config-flow dialog; return how long it took to open."""
    await page.goto(f"{instance.url}/config/integrations/dashboard")
    await page.get_by_role("button", name="Add integration").click()
    search = page.locator("dialog-add-integration input").filter(visible=True).first
    await search.fill("Local Doorbell")
    asked = time.monotonic()
    await page.get_by_text("Local Doorbell", exact=True).last.click()
    network = page.get_by_text("A network doorbell")
    await network.wait_for()
    opened = time.monotonic() - asked
    await shot(page, "03-setup-menu")
    await network.click()
    await page.locator("input[name=host]").fill("127.0.0.1")
    await page.get_by_role("spinbutton").first.fill(str(instance.dahua["http_port"]))
    await page.locator("input[name=password]").fill(PASSWORD)
    await shot(page, "04-setup-form")
    await page.get_by_role("button", name="Submit").click()
    done = page.get_by_role("button", name="Finish").or_(
        page.get_by_role("button", name="Skip and finish")
    )
    await done.first.wait_for(timeout=60_000)
    await shot(page, "05-setup-done")
    await done.first.click()
    return opened


async def wait_until(page: Page, script: str, seconds: float = 30) -> float:
    """Wait until a script is true in the page; return the seconds it took."""
    started = time.monotonic()
    await page.wait_for_function(script, timeout=seconds * 1000, polling=100)
    return time.monotonic() - started


async def video_plays(page: Page, seconds: float) -> float:
    """Wait for a visible video to play and go on playing; return seconds to its first frame."""
    first = await wait_until(page, FIND_PLAYING_VIDEO, seconds)
    start = await page.evaluate("window.__playing.currentTime")
    # A second of video within ten: live HLS may buffer on a busy machine, but must not stop.
    await wait_until(page, f"() => window.__playing.currentTime > {start} + 1", 10)
    return first


def today() -> str:
    """Return today as the media browser names days (the instance's time zone is Berlin's)."""
    return datetime.now(ZoneInfo("Europe/Berlin")).strftime("%A, %d %B %Y")


async def open_todays_clips(page: Page, url: str) -> None:
    """Open today's clips in the media browser, once the press's clip is finished.

    Live view now plays within seconds of the press, before its clip (10 s of post-roll)
    is done, and the media browser lists a doorbell from its first finished clip on.
    """
    for attempt in range(12):
        await page.goto(f"{url}/media-browser")
        await page.get_by_text("Local Doorbell", exact=True).filter(visible=True).first.click()
        doorbell = page.get_by_text("Amcrest AD410", exact=True).filter(visible=True).first
        try:
            await doorbell.wait_for(timeout=5000)
        except PlaywrightTimeout:
            if attempt == 11:
                raise
            continue
        await doorbell.click()
        await page.get_by_text(today(), exact=True).filter(visible=True).first.click()
        return


def press(instance: Instance) -> None:
    """Ring the Dahua doorbell through the simulator's control API."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{instance.dahua['http_port']}/sim/press", method="POST"
    )
    with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - loopback
        pass


async def test_a_new_user_adds_a_doorbell_and_sees_a_press(
    instance: Instance, browser: Browser
) -> None:
    """Onboarding, the setup dialog, device page, dashboard, a press, live view and a clip."""
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    problems = Problems(instance.url)
    problems.watch(page)

    try:
        await onboard(page, instance.url)
        opened = await add_doorbell(page, instance)
        print(f"setup dialog opened after {opened:.2f} s")

        await page.goto(f"{instance.url}/config/integrations/integration/local_doorbell")
        if LOCAL_BRANDS:
            icon = page.locator("img[src*='brands/integration/local_doorbell']").first
            await icon.wait_for()
            assert await icon.evaluate("img => img.complete && img.naturalWidth > 0")
        await shot(page, "06-integration")
        await page.goto(f"{instance.url}/config/devices/dashboard")
        await page.get_by_text("Amcrest AD410", exact=True).filter(visible=True).first.click()
        await page.get_by_text("by Amcrest").wait_for()
        await shot(page, "07-device")

        await page.locator("ha-sidebar").get_by_text("Doorbells").click()
        for name in ("Doorbell", "Motion", "Last visitor", "Last clip", "Recorded clips"):
            await page.get_by_text(f"Amcrest AD410 {name}", exact=True).wait_for()
        camera = page.locator("hui-picture-entity-card").first
        await camera.locator("img").first.wait_for()
        await shot(page, "08-dashboard")

        # The doorbell's row says "Unknown" until the first press, then "Ring" and when.
        ring = page.get_by_text("Ring", exact=True)
        assert await ring.count() == 0
        press(instance)
        await ring.wait_for(timeout=10_000)
        await shot(page, "09-pressed")

        await camera.click()
        first_frame = await video_plays(page, seconds=45)
        print(f"camera dialog: first frame after {first_frame:.2f} s (cold)")
        await shot(page, "10-live-view")
        await page.keyboard.press("Escape")

        await open_todays_clips(page, instance.url)
        await shot(page, "11-media-clips")
        newest = page.locator("ha-media-player-browse ha-card").filter(visible=True).first
        await newest.click()
        await video_plays(page, seconds=30)
        await shot(page, "12-clip-plays")
    finally:
        await shot(page, "zz-last")

    assert not problems.found, problems.found
    log = instance.log
    assert not BROKEN.findall(log), [line for line in log.splitlines() if BROKEN.search(line)]
    await stop(instance.process)
    log = instance.log
    assert not NOISY.findall(log), [line for line in log.splitlines() if NOISY.search(line)]
