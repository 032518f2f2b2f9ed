"""The development Home Assistant: its integrations, their requirements, and its launcher.

devinstance.py requirements KIND   print the pip requirements of the integrations that the
                                   tests (KIND=tests) or the instance (KIND=develop) load
devinstance.py run CONFIG_DIR      write a configuration if missing, then run Home Assistant
"""

from __future__ import annotations

import json
from pathlib import Path
import sys

# Everything a person needs to add the doorbell and watch it, and nothing that needs the
# internet or a binary this machine lacks (so no default_config: it pulls in go2rtc, cloud...).
INTEGRATIONS = (
    "automation",
    "config",
    "frontend",
    "history",
    "input_boolean",
    "logbook",
    "logger",
    "media_source",
    "person",
    "script",
    "stream",
    "system_log",
)
# What the tests load besides our integration and its manifest's dependencies.
TEST_INTEGRATIONS = ("automation", "camera", "diagnostics", "media_source", "stream")
CONFIGURATION = """\
# Development instance of Local Doorbell (git-ignored; delete it to start afresh).
homeassistant:
  name: Local Doorbell development
  country: DE
  time_zone: Europe/Berlin
  unit_system: metric
  media_dirs:
    media: {media}
http:
  server_host: 127.0.0.1
  server_port: 8123
logger:
  default: info
  logs:
    custom_components.local_doorbell: debug
{integrations}
input_boolean:
  garden_gate_button:
    name: Garden gate button
    icon: mdi:gate
"""


def _components() -> Path:
    from homeassistant import components  # noqa: PLC0415 - only inside the venv

    return Path(components.__path__[0])


def requirements(domains: tuple[str, ...], *, after: bool) -> list[str]:
    """Return the requirements of these integrations, ours, and what they depend on.

    With `after`, also of their `after_dependencies`, which a full instance loads too.
    """
    root = Path(__file__).resolve().parent.parent
    ours = json.loads((root / "custom_components/local_doorbell/manifest.json").read_text())
    seen: set[str] = set()
    todo = [*domains, *ours.get("dependencies", [])]
    found: list[str] = []
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest = json.loads((_components() / domain / "manifest.json").read_text())
        found.extend(manifest.get("requirements", []))
        todo.extend(manifest.get("dependencies", []))
        if after:
            todo.extend(manifest.get("after_dependencies", []))
    return sorted(set(found))


def run(config_dir: Path) -> int:
    """Write a configuration if there is none, then run Home Assistant in the foreground."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "media").mkdir(exist_ok=True)
    configuration = config_dir / "configuration.yaml"
    if not configuration.exists():
        listed = "\n".join(
            f"{name}:" for name in INTEGRATIONS if name not in ("logger", "input_boolean")
        )
        configuration.write_text(
            CONFIGURATION.format(media=config_dir / "media", integrations=listed)
        )
    custom = config_dir / "custom_components"
    custom.mkdir(exist_ok=True)
    link = custom / "local_doorbell"
    if not link.is_symlink():
        target = Path(__file__).resolve().parent.parent / "custom_components/local_doorbell"
        link.symlink_to(target)
    import homeassistant.__main__ as hass_main  # noqa: PLC0415 - only inside the venv

    # Home Assistant 2026.2 declares Python 3.13.2 but runs on 3.13.0, which this machine has.
    hass_main.validate_python = lambda: None
    sys.argv = ["hass", "--config", str(config_dir)]
    return hass_main.main()


def main() -> int:
    """Dispatch the subcommand."""
    if sys.argv[1:2] == ["requirements"] and sys.argv[2:] in (["tests"], ["develop"]):
        develop = sys.argv[2] == "develop"
        domains = INTEGRATIONS if develop else TEST_INTEGRATIONS
        print("\n".join(requirements(domains, after=develop)))
        return 0
    if sys.argv[1:2] == ["run"] and len(sys.argv) == 3:
        return run(Path(sys.argv[2]).resolve())
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
