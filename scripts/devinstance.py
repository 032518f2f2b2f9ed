"""The development Home Assistant: its integrations, their requirements, and its launchers.

devinstance.py requirements KIND      print the pip requirements of the integrations that the
                                      tests (KIND=tests) or the instance (KIND=develop) load
devinstance.py develop CONFIG_DIR [--free-ports]
                                      start the virtual doorbells and Home Assistant, print
                                      what to enter, stop Home Assistant first on Ctrl-C
devinstance.py run CONFIG_DIR PORT    write a configuration if missing, then run Home
                                      Assistant in the foreground (what `develop` starts)
"""

from __future__ import annotations

import ast
import contextlib
from dataclasses import asdict, dataclass
import importlib.util
import ipaddress
import json
import os
from pathlib import Path
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = os.environ.get("DOORBELL_PASSWORD", "doorbell-dev-password")
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
{http}logger:
  default: warning
  logs:
    custom_components.local_doorbell: info
{integrations}
lovelace:
  dashboards:
    local-doorbell:
      mode: yaml
      title: Doorbells
      icon: mdi:doorbell-video
      show_in_sidebar: true
      filename: doorbells.yaml
input_boolean:
  garden_gate_button:
    name: Garden gate button
    icon: mdi:gate
"""


def _components() -> Path:
    from homeassistant import components  # noqa: PLC0415 - only inside the venv

    return Path(components.__path__[0])


def _names_in(path: Path, found: type[ast.AST], where: str) -> list[str]:
    """Return the names a piece of Home Assistant's source lists, or fail loudly."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, found) and where in ast.dump(node):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.List):
                return [ast.literal_eval(item) for item in node.value.elts]
            if isinstance(node, ast.FunctionDef):
                return [
                    alias.name
                    for inner in ast.walk(node)
                    if isinstance(inner, ast.ImportFrom)
                    for alias in inner.names
                ]
    raise SystemExit(f"devinstance: {where} not found in {path}: read it and update this script")


def loaded_by_home_assistant() -> list[str]:
    """Return what every instance loads besides its configuration, read from HA's source.

    Bootstrap sets up its default integrations (every entity platform among them), onboarding
    a fixed list, and validating any services.yaml with a `supported_features` filter imports
    Home Assistant's base entity components.
    """
    from homeassistant.bootstrap import DEFAULT_INTEGRATIONS  # noqa: PLC0415 - only in the venv

    package = _components().parent
    onboarding = _names_in(
        package / "components/onboarding/views.py", ast.Assign, "onboard_integrations"
    )
    base = _names_in(package / "helpers/service.py", ast.FunctionDef, "_base_components")
    return sorted({"onboarding", *DEFAULT_INTEGRATIONS, *onboarding, *base})


def requirements(domains: list[str], *, after: bool) -> list[str]:
    """Return the requirements of these integrations, ours, and what they depend on.

    With `after`, also of their `after_dependencies`, which a full instance loads too.
    """
    ours = json.loads((ROOT / "custom_components/local_doorbell/manifest.json").read_text())
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


def _http(config_dir: Path, port: int) -> str:
    """Return the YAML that binds Home Assistant to loopback, or store it where it now lives.

    Since 2026.10 Home Assistant keeps these settings in `.storage/http` and takes YAML only
    as a trial that reverts to port 8123 on all interfaces five minutes later, unless
    someone confirms it in the UI: write them there as confirmed instead.
    """
    try:
        from homeassistant.components.http import config  # noqa: PLC0415 - only in the venv
    except ImportError:
        return f"http:\n  server_host: 127.0.0.1\n  server_port: {port}\n"
    stable = {**config._DEFAULT_CONFIG, "server_host": ["127.0.0.1"], "server_port": port}
    data = {config.KEY_STABLE: stable, config.KEY_PENDING: None}
    data[config.KEY_YAML_MIGRATION_DONE] = True
    store = {"version": config.STORAGE_VERSION, "minor_version": config.STORAGE_MINOR_VERSION}
    store |= {"key": config.STORAGE_KEY, "data": data}
    (config_dir / ".storage").mkdir(exist_ok=True)
    (config_dir / ".storage/http").write_text(json.dumps(store, indent=2))
    return ""


def _guard_connections() -> None:
    """Refuse connects outside the household (or, with DEVINSTANCE_LOOPBACK_ONLY, loopback).

    Onboarding sets up weather and text-to-speech integrations that call the internet; the
    development instance of a no-cloud integration should not. The household is what the
    integration's own egress guard allows, loaded by path: importing our package here would
    come before Home Assistant loads it from the config folder.
    """
    spec = importlib.util.spec_from_file_location(
        "_devinstance_egress", ROOT / "custom_components/local_doorbell/privacy/egress.py"
    )
    assert spec is not None
    assert spec.loader is not None
    egress = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(egress)
    loopback_only = os.environ.get("DEVINSTANCE_LOOPBACK_ONLY") == "1"
    original = socket.socket.connect

    def allowed(address: object) -> bool:
        if not isinstance(address, tuple):
            return True  # a Unix domain socket
        host = str(address[0])
        if loopback_only:
            with contextlib.suppress(ValueError):
                return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
            return False
        return bool(egress.is_local_address(host))

    def connect(sock: socket.socket, address: object) -> None:
        if not allowed(address):
            raise ConnectionRefusedError(f"development instance: no connection to {address}")
        original(sock, address)  # type: ignore[arg-type]

    socket.socket.connect = connect  # type: ignore[method-assign]


def run(config_dir: Path, port: int) -> int:
    """Write a configuration if there is none, then run Home Assistant in the foreground."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "media").mkdir(exist_ok=True)
    configuration = config_dir / "configuration.yaml"
    if not configuration.exists():
        listed = "\n".join(
            f"{name}:" for name in INTEGRATIONS if name not in ("logger", "input_boolean")
        )
        configuration.write_text(
            CONFIGURATION.format(
                media=config_dir / "media", http=_http(config_dir, port), integrations=listed
            )
        )
    custom = config_dir / "custom_components"
    custom.mkdir(exist_ok=True)
    link = custom / "local_doorbell"
    if not link.is_symlink():
        link.symlink_to(ROOT / "custom_components/local_doorbell")
    _guard_connections()
    import homeassistant.__main__ as hass_main  # noqa: PLC0415 - only inside the venv

    # Home Assistant 2026.2 declares Python 3.13.2 but runs on 3.13.0, which this machine has.
    hass_main.validate_python = lambda: None
    # Requirements come from scripts/setup, never from Home Assistant installing at run time.
    sys.argv = ["hass", "--config", str(config_dir), "--skip-pip"]
    return hass_main.main()


@dataclass(frozen=True, slots=True)
class Doorbell:
    """One simulated doorbell of the development instance."""

    vendor: str
    model: str
    http_port: int
    rtsp_port: int


@dataclass(frozen=True, slots=True)
class Instance:
    """The ports of a development instance (written to `instance.json` once it answers)."""

    url: str
    doorbells: list[Doorbell]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _plan(free_ports: bool) -> Instance:
    """Return the ports: 8123 and 8080-8082 as the README says, or free ones for tests."""
    fixed = [(8080, 8554), (8081, 8555), (8082, 8556)]
    models = [
        ("Dahua/Amcrest", os.environ.get("DOORBELL_MODEL", "AD410")),
        ("DoorBird", "D101"),
        ("Reolink (ONVIF)", "ReolinkDoorbell"),
    ]
    doorbells = [
        Doorbell(vendor, model, *((_free_port(), _free_port()) if free_ports else ports))
        for (vendor, model), ports in zip(models, fixed, strict=True)
    ]
    return Instance(f"http://127.0.0.1:{_free_port() if free_ports else 8123}", doorbells)


def banner(instance: Instance) -> str:
    """Return what to enter in the *Add integration* dialog."""
    dahua, doorbird, _ = instance.doorbells
    lines = [
        "",
        f"  Home Assistant:  {instance.url}   (first start: create the owner account)",
        "  Add a doorbell:  Settings → Devices & services → Add integration → Local Doorbell",
        f"                   username admin, password {PASSWORD}, host 127.0.0.1 and",
    ]
    for doorbell in instance.doorbells:
        extra = f", RTSP port {doorbell.rtsp_port}" if doorbell is doorbird else ""
        lines.append(f"                     {doorbell.vendor:<16} port {doorbell.http_port}{extra}")
    lines += [
        "                   Generic camera:  rtsp://admin:"
        f"{PASSWORD}@127.0.0.1:{dahua.rtsp_port}/cam/realmonitor?channel=1&subtype=1",
        "                                    button input_boolean.garden_gate_button",
        f"  Ring:            curl -X POST http://127.0.0.1:{dahua.http_port}/sim/press"
        "   (the other ports likewise)",
        "  Logs:            Home Assistant's here (warnings) and in config/home-assistant.log,",
        "                   the doorbells' in config/doorbell.<model>.log",
        "  Stop:            Ctrl-C",
        "",
    ]
    return "\n".join(lines)


def dashboard(instance: Instance) -> str:
    """Return the "Doorbells" dashboard: each simulated doorbell as it shows once added."""
    sys.path.insert(0, str(ROOT))
    from custom_components.local_doorbell.devices.base import DeviceIdentity  # noqa: PLC0415
    from custom_components.local_doorbell.devices.dahua import manufacturer_for  # noqa: PLC0415
    from virtual_doorbell.models import MODELS, Protocol  # noqa: PLC0415

    # What the simulator answers for its maker; Dahua's driver names it from the model.
    makers = {Protocol.DOORBIRD: "DoorBird", Protocol.ONVIF: "Reolink"}
    views = []
    for doorbell in instance.doorbells:
        profile = MODELS[doorbell.model]
        maker = makers.get(profile.protocol) or manufacturer_for(profile.device_type)
        # The device's name as the setup dialog makes it, by the drivers' own naming rule.
        identity = DeviceIdentity(
            manufacturer=maker, model=profile.device_type, serial="", firmware=""
        )
        name = f"{identity.manufacturer} {identity.model}"
        device = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        rows = ("doorbell", "motion", "last_visitor", "last_clip", "recorded_clips")
        domains = {"doorbell": "event", "motion": "binary_sensor", "last_visitor": "image"}
        entities = [f"{domains.get(row, 'sensor')}.{device}_{row}" for row in rows]
        cards = [
            {"type": "picture-entity", "entity": f"camera.{device}"},
            {"type": "entities", "entities": entities},
        ]
        views.append({"title": doorbell.vendor, "path": device, "cards": cards})
    return json.dumps({"title": "Doorbells", "views": views}, indent=2)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/manifest.json", timeout=2):  # noqa: S310 - loopback
            return True
    except (OSError, urllib.error.URLError):
        return False


def _stop(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Ask a process to end, then insist."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def develop(config_dir: Path, free_ports: bool) -> int:
    """Run the doorbells and Home Assistant until Ctrl-C, then stop Home Assistant first.

    The children run in sessions of their own, so the terminal's Ctrl-C reaches only this
    process: Home Assistant then stops while its doorbells still answer, and logs no outage.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "instance.json").unlink(missing_ok=True)
    instance = _plan(free_ports)
    (config_dir / "doorbells.yaml").write_text(dashboard(instance))  # JSON is YAML too
    doorbells = []
    for doorbell in instance.doorbells:
        log = (config_dir / f"doorbell.{doorbell.model}.log").open("wb")
        command = [sys.executable, "-m", "virtual_doorbell", "--host", "127.0.0.1"]
        command += ["--http-port", str(doorbell.http_port), "--rtsp-port", str(doorbell.rtsp_port)]
        command += ["--username", "admin", "--password", PASSWORD, "--model", doorbell.model]
        doorbells.append(
            subprocess.Popen(  # noqa: S603 - our interpreter and the simulator's module
                command, cwd=ROOT, stdout=log, stderr=log, start_new_session=True
            )
        )
    port = instance.url.rsplit(":", 1)[1]
    hass = subprocess.Popen(  # noqa: S603 - our interpreter and this script
        [sys.executable, __file__, "run", str(config_dir), port], start_new_session=True
    )
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(banner(instance), flush=True)
    up = False
    while not stopping and hass.poll() is None:
        if not up and _answers(instance.url):
            up = True
            (config_dir / "instance.json").write_text(json.dumps(asdict(instance)))
            print(f"\ndevelop: Home Assistant is up.{banner(instance)}", flush=True)
        time.sleep(0.5)
    print("develop: stopping Home Assistant, then the doorbells", flush=True)
    _stop(hass, 60)
    for process in doorbells:
        _stop(process, 10)
    return 0 if stopping else 1


def main() -> int:
    """Dispatch the subcommand."""
    args = sys.argv[1:]
    if args[:1] == ["requirements"] and args[1:] in (["tests"], ["develop"]):
        if args[1] == "develop":
            domains = [*INTEGRATIONS, *loaded_by_home_assistant()]
            print("\n".join(requirements(domains, after=True)))
        else:
            print("\n".join(requirements(list(TEST_INTEGRATIONS), after=False)))
        return 0
    if args[:1] == ["develop"] and args[2:] in ([], ["--free-ports"]) and len(args) >= 2:
        return develop(Path(args[1]).resolve(), free_ports=args[2:] == ["--free-ports"])
    if args[:1] == ["run"] and len(args) == 3:
        return run(Path(args[1]).resolve(), int(args[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
