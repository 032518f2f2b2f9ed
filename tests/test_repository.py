"""Offline mirror of the HACS action and hassfest: the repository must pass every check."""

from __future__ import annotations

from collections.abc import Callable
import importlib
import json
from pathlib import Path
import shutil
from typing import Any

from awesomeversion import AwesomeVersion
from homeassistant.const import __version__ as ha_version
from PIL import Image
import pytest

from tests.repo_checks import (
    ALL_CHECKS,
    BRAND_IMAGES,
    Checker,
    check_brand_images,
    check_config_flow_translations,
    check_hacs_json,
    check_icons,
    check_integration_folder,
    check_json_files,
    check_license,
    check_manifest,
    check_quality_scale,
    check_readme,
    check_services,
    check_test_imports,
    check_translations,
)

ROOT = Path(__file__).parent.parent

DOMAIN = "fixture_bell"
PACKAGE = f"custom_components/{DOMAIN}"
MANIFEST = f"{PACKAGE}/manifest.json"
EN_JSON = f"{PACKAGE}/translations/en.json"
MIT_TEXT = """MIT License

Copyright (c) 2026 Fixture

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction.
"""
CONFIG_FLOW = '''"""Config flow."""
from homeassistant.config_entries import ConfigFlow, OptionsFlow


class FixtureConfigFlow(ConfigFlow, domain="fixture_bell"):
    async def _async_probe(self, host):
        if not host:
            return "invalid_host"
        return "cannot_connect"

    async def async_step_user(self, user_input=None):
        errors: dict[str, str] = {}
        if user_input is not None:
            await self.async_set_unique_id(user_input["host"])
            self._abort_if_unique_id_configured()
            info = await self._async_probe(user_input["host"])
            errors["base"] = info
        return self.async_show_form(step_id="user", errors=errors)


class FixtureOptionsFlow(OptionsFlow):
    async def async_step_init(self, user_input=None):
        errors = {}
        if user_input is None:
            errors["base"] = "invalid_path"
            return self.async_show_form(step_id="init", errors={"base": "unknown"})
        return self.async_abort(reason="reconfigured")
'''
INIT = '''"""Integration."""
from .const import DOMAIN, SERVICE_RING


async def async_setup(hass, config):
    hass.services.async_register(DOMAIN, SERVICE_RING, lambda call: None)
    return True
'''
SERVICES_YAML = """ring:
  fields:
    chime:
      required: false
      selector:
        text:
"""
EN_STRINGS: dict[str, Any] = {
    "config": {
        "step": {
            "user": {
                "title": "Add a doorbell",
                "data": {"host": "Host"},
                "data_description": {"host": "Address of the doorbell on your network."},
            }
        },
        "error": {"cannot_connect": "Cannot connect to {host}.", "invalid_host": "Bad host."},
        "abort": {"already_configured": "This doorbell is already set up."},
    },
    "options": {
        "step": {"init": {"data": {"path": "Folder"}}},
        "error": {"invalid_path": "The folder does not exist.", "unknown": "Unexpected error."},
        "abort": {"reconfigured": "Saved."},
    },
    "entity": {"event": {"ring": {"name": "Ring", "state_attributes": {"event_type": {}}}}},
    "services": {
        "ring": {
            "name": "Ring",
            "description": "Rings the doorbell.",
            "fields": {"chime": {"name": "Chime", "description": "The chime to play."}},
        }
    },
}
FILES: dict[str, str] = {
    "hacs.json": '{"name": "Fixture Bell", "homeassistant": "2026.2.0", "render_readme": true}',
    MANIFEST: json.dumps(
        {
            "domain": DOMAIN,
            "name": "Fixture Bell",
            "codeowners": ["@octocat"],
            "config_flow": True,
            "dependencies": ["http"],
            "documentation": "https://github.com/octocat/fixture-bell",
            "integration_type": "device",
            "iot_class": "local_push",
            "issue_tracker": "https://github.com/octocat/fixture-bell/issues",
            "requirements": ["av>=16.0.1"],
            "version": "0.1.0",
        }
    ),
    f"{PACKAGE}/__init__.py": INIT,
    f"{PACKAGE}/const.py": f'DOMAIN = "{DOMAIN}"\nSERVICE_RING = "ring"\n',
    f"{PACKAGE}/config_flow.py": CONFIG_FLOW,
    f"{PACKAGE}/services.yaml": SERVICES_YAML,
    f"{PACKAGE}/icons.json": '{"services": {"ring": {"service": "mdi:bell-ring"}}}',
    f"{PACKAGE}/quality_scale.yaml": "rules:\n  config-flow: done\n  brands:\n"
    "    status: exempt\n    comment: Ships brand/ images.\n",
    "README.md": "# Fixture Bell\n",
    "LICENSE": MIT_TEXT,
    "pyproject.toml": '[project]\nname = "fixture-bell"\nlicense = "MIT"\n',
    ".venv/lib/broken.json": "{not json",
    "config/.storage/broken.json": "{not json",
}


def _write(root: Path, relative: str, text: str) -> None:
    """Write a text file, creating its folders."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _image(root: Path, relative: str, size: tuple[int, int], mode: str = "RGBA") -> None:
    """Write a blank PNG of the given size and mode."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size).save(path)


def _edit_json(root: Path, relative: str, edit: Callable[[dict[str, Any]], object]) -> None:
    """Load a JSON file, apply an edit to it and write it back."""
    data = json.loads((root / relative).read_text(encoding="utf-8"))
    edit(data)
    _write(root, relative, json.dumps(data))


@pytest.fixture(name="repo")
def repo_fixture(tmp_path: Path) -> Path:
    """Build a small repository that passes every check."""
    for relative, text in FILES.items():
        _write(tmp_path, relative, text)
    _write(tmp_path, EN_JSON, json.dumps(EN_STRINGS))
    _image(tmp_path, f"{PACKAGE}/brand/icon.png", (256, 256))
    _image(tmp_path, f"{PACKAGE}/brand/icon@2x.png", (512, 512))
    _image(tmp_path, f"{PACKAGE}/brand/logo.png", (512, 128))
    return tmp_path


def _assert_clean(problems: list[str]) -> None:
    """Fail with every problem, one per line."""
    assert not problems, "\n".join(problems)


# --- the real repository --------------------------------------------------------------------


def test_hacs_json() -> None:
    """hacs.json passes the HACS action's schema."""
    _assert_clean(check_hacs_json(ROOT))


def test_integration_folder() -> None:
    """custom_components/ holds one integration, named after its domain."""
    _assert_clean(check_integration_folder(ROOT))


def test_manifest() -> None:
    """manifest.json passes hassfest's custom integration rules."""
    _assert_clean(check_manifest(ROOT))


def test_json_files_parse() -> None:
    """Every JSON file in the repository parses."""
    _assert_clean(check_json_files(ROOT))


def test_translations() -> None:
    """translations/en.json passes hassfest's translation rules."""
    _assert_clean(check_translations(ROOT))


def test_config_flow_translations() -> None:
    """Every error, abort and step config_flow.py uses is translated."""
    _assert_clean(check_config_flow_translations(ROOT))


def test_services() -> None:
    """services.yaml lists exactly the registered services, all translated."""
    _assert_clean(check_services(ROOT))


def test_icons() -> None:
    """icons.json uses mdi: icons and covers every service."""
    _assert_clean(check_icons(ROOT))


def test_brand_images() -> None:
    """brand/ holds the icons Home Assistant serves, at the right sizes."""
    _assert_clean(check_brand_images(ROOT))


def test_quality_scale() -> None:
    """quality_scale.yaml statuses are valid and exemptions explained."""
    _assert_clean(check_quality_scale(ROOT))


def test_readme() -> None:
    """README.md is present and not empty."""
    _assert_clean(check_readme(ROOT))


def test_license() -> None:
    """LICENSE is an OSI licence text matching pyproject.toml."""
    _assert_clean(check_license(ROOT))


def test_test_modules_import_no_test_module() -> None:
    """Test modules share helpers through tests/helpers/, never by importing each other."""
    _assert_clean(check_test_imports(ROOT))


def test_setup_menu_labels_fit_the_dialog() -> None:
    """Every menu choice fits one line of the setup dialog (about 70 characters cut DoorBird)."""
    strings = json.loads(
        (ROOT / "custom_components/local_doorbell/translations/en.json").read_text()
    )
    labels = [
        label
        for step in strings["config"]["step"].values()
        for label in step.get("menu_options", {}).values()
    ]
    assert labels
    assert [label for label in labels if len(label) > 65] == []


# --- the checks themselves ------------------------------------------------------------------


def test_brand_image_names_match_home_assistant() -> None:
    """The brand file names match Home Assistant's brands proxy, where it has one (2026.3+)."""
    try:
        brands = importlib.import_module("homeassistant.components.brands.const")
    except ModuleNotFoundError:
        # Before 2026.3 Home Assistant had no local brand images, so nothing to compare with.
        assert AwesomeVersion(ha_version) < AwesomeVersion("2026.3.0")
        return
    assert brands.ALLOWED_IMAGES == BRAND_IMAGES


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda check: check.__name__)
def test_fixture_passes(repo: Path, check: Checker) -> None:
    """The fixture repository passes every check, so breakages are what fail."""
    _assert_clean(check(repo))


def _delete(relative: str) -> Callable[[Path], None]:
    """Return a breakage that deletes a file."""
    return lambda root: (root / relative).unlink()


def _set(relative: str, key: str, value: Any) -> Callable[[Path], None]:
    """Return a breakage that sets a top-level key of a JSON file."""
    return lambda root: _edit_json(root, relative, lambda data: data.update({key: value}))


def _drop(relative: str, key: str) -> Callable[[Path], None]:
    """Return a breakage that removes a top-level key of a JSON file."""
    return lambda root: _edit_json(root, relative, lambda data: data.pop(key))


def _text(relative: str, text: str) -> Callable[[Path], None]:
    """Return a breakage that writes a file."""
    return lambda root: _write(root, relative, text)


def _strings(path: str, value: Any) -> Callable[[Path], None]:
    """Return a breakage that sets a dotted key in translations/en.json."""

    def edit(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for part in parents:
            data = data.setdefault(part, {})
        data[last] = value

    return lambda root: _edit_json(root, EN_JSON, edit)


def _reorder_manifest(root: Path) -> None:
    """Move the manifest's version key to the front."""
    data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    _write(root, MANIFEST, json.dumps({"version": data.pop("version"), **data}))


def _rename_package(root: Path) -> None:
    """Rename the integration folder away from its domain."""
    shutil.move(root / PACKAGE, root / "custom_components" / "other_bell")


BREAKAGES = [
    (_set("hacs.json", "domains", ["event"]), check_hacs_json, "unknown key 'domains'"),
    (_drop("hacs.json", "name"), check_hacs_json, "'name' is required"),
    (_set("hacs.json", "homeassistant", "soon"), check_hacs_json, "'homeassistant' must be"),
    (_set("hacs.json", "render_readme", "yes"), check_hacs_json, "'render_readme' must be a bool"),
    (_set("hacs.json", "zip_release", True), check_hacs_json, "needs 'filename'"),
    (_set("hacs.json", "country", "XX"), check_hacs_json, "not an ISO 3166-1 code"),
    (_text("hacs.json", "{'name': 1}"), check_hacs_json, "invalid JSON"),
    (_text("custom_components/x/__init__.py", ""), check_integration_folder, "exactly one"),
    (_rename_package, check_integration_folder, "named as the manifest's domain"),
    (
        _set(MANIFEST, "domain", "camera"),
        check_integration_folder,
        "taken by a built-in integration",
    ),
    (_reorder_manifest, check_manifest, "keys must be domain, name, then alphabetical"),
    (_drop(MANIFEST, "version"), check_manifest, "required key 'version'"),
    (_set(MANIFEST, "version", "one"), check_manifest, "not valid for AwesomeVersion"),
    (_set(MANIFEST, "iot_class", "local"), check_manifest, "iot_class 'local' must be"),
    (_set(MANIFEST, "integration_type", "bridge"), check_manifest, "integration_type must"),
    (_set(MANIFEST, "codeowners", ["octocat"]), check_manifest, "'octocat' must be a GitHub"),
    (_set(MANIFEST, "requirements", ["av>>16"]), check_manifest, "not valid PEP 508"),
    (_set(MANIFEST, "dependencies", [1]), check_manifest, "dependencies must be a list"),
    (_set(MANIFEST, "documentation", "http://x.org"), check_manifest, "documentation must"),
    (_set(MANIFEST, "zeroconf_name", "x"), check_manifest, "unknown key 'zeroconf_name'"),
    (_delete(f"{PACKAGE}/config_flow.py"), check_manifest, "add config_flow.py"),
    (_text("docs/data.json", '{"a": 1,}'), check_json_files, "docs/data.json: invalid JSON"),
    (_text("docs/data.json", '{"a": 1, "a": 2}'), check_json_files, "duplicate keys"),
    (_strings("services.Ring", {}), check_translations, "key 'Ring' must match"),
    (_strings("config.step.User", {}), check_translations, "key 'User' must match"),
    (_strings("entity.event.ring.state_attributes.Bad", {}), check_translations, "'Bad'"),
    (
        _strings("config.step.user.data_description.port", "The port."),
        check_translations,
        "data_description.port is not in data",
    ),
    (
        _strings("config.abort.already_configured", "[%key:common::config_flow::abort%]"),
        check_translations,
        "[%key:...%] reference",
    ),
    (_strings("config.error.cannot_connect", " "), check_translations, "non-empty string"),
    (_strings("config.error.cannot_connect", "<b>No</b>"), check_translations, "HTML"),
    (_strings("config.error.cannot_connect", "'{host}'"), check_translations, "single quotes"),
    (_strings("entity.doorbell", {}), check_translations, "not an entity platform"),
    (_strings("exceptions.offline", "Offline."), check_translations, "exceptions.offline: must be"),
    (
        _strings("config.error", {}),
        check_config_flow_translations,
        "add config.error.cannot_connect (config_flow.py:17)",
    ),
    (
        _strings("config.abort", {}),
        check_config_flow_translations,
        "add config.abort.already_configured",
    ),
    (
        _strings("config.error", {"cannot_connect": "No."}),
        check_config_flow_translations,
        "add config.error.invalid_host",
    ),
    (
        _strings("options.error", {"unknown": "Oops."}),
        check_config_flow_translations,
        "add options.error.invalid_path (config_flow.py:25)",
    ),
    (
        _strings("options.error", {"invalid_path": "No folder."}),
        check_config_flow_translations,
        "add options.error.unknown (config_flow.py:26)",
    ),
    (_strings("options.abort", {}), check_config_flow_translations, "options.abort.reconfigured"),
    (_strings("options.step", {}), check_config_flow_translations, "add options.step.init"),
    (_text(f"{PACKAGE}/services.yaml", "other:\n"), check_services, "add 'ring'"),
    (_text(f"{PACKAGE}/services.yaml", "ring:\nother:\n"), check_services, "'other' is not"),
    (_delete(f"{PACKAGE}/services.yaml"), check_services, "services.yaml: missing"),
    (_strings("services.ring.fields", {}), check_services, "add services.ring.fields.chime.name"),
    (_strings("services.ring.description", ""), check_services, "services.ring.description"),
    (_text(f"{PACKAGE}/services.yaml", "ring: [\n"), check_services, "invalid YAML"),
    (_text(f"{PACKAGE}/icons.json", '{"services": {"ring": "bell"}}'), check_icons, "mdi:"),
    (_text(f"{PACKAGE}/icons.json", "{}"), check_icons, "add services.ring.service"),
    (
        lambda root: _image(root, f"{PACKAGE}/brand/icon.png", (200, 200)),
        check_brand_images,
        "is 200x200, must be 256x256",
    ),
    (
        lambda root: _image(root, f"{PACKAGE}/brand/icon@2x.png", (512, 512), "RGB"),
        check_brand_images,
        "needs an alpha channel",
    ),
    (
        lambda root: _image(root, f"{PACKAGE}/brand/logo.png", (600, 300)),
        check_brand_images,
        "300 px high, must be at most 256",
    ),
    (_delete(f"{PACKAGE}/brand/icon@2x.png"), check_brand_images, "icon@2x.png: missing"),
    (_text(f"{PACKAGE}/brand/icon.png", "not a png"), check_brand_images, "not an image"),
    (
        lambda root: _image(root, f"{PACKAGE}/brand/favicon.png", (256, 256)),
        check_brand_images,
        "favicon.png: not served",
    ),
    (
        _text(f"{PACKAGE}/quality_scale.yaml", "rules:\n  config-flow: finished\n"),
        check_quality_scale,
        "config-flow status must be one of",
    ),
    (
        _text(f"{PACKAGE}/quality_scale.yaml", "rules:\n  brands: {status: exempt}\n"),
        check_quality_scale,
        "add a 'comment'",
    ),
    (_text("README.md", "\n"), check_readme, "missing or empty"),
    (_delete("LICENSE"), check_license, "missing or empty"),
    (_text("LICENSE", "All rights reserved.\n"), check_license, "not a recognisable OSI"),
    (
        _text("pyproject.toml", '[project]\nlicense = "Apache-2.0"\n'),
        check_license,
        "is MIT but pyproject.toml declares Apache-2.0",
    ),
    (
        _text("tests/devices/test_b.py", "from tests.devices.test_a import driver\n"),
        check_test_imports,
        "test_b.py:1: imports the test module tests.devices.test_a",
    ),
    (
        _text("tests/devices/test_b.py", "from tests.devices import test_a\n"),
        check_test_imports,
        "imports the test module tests.devices.test_a;",
    ),
    (
        _text("tests/integration/test_b.py", "def f():\n    from .test_a import x\n"),
        check_test_imports,
        "test_b.py:2: imports the test module tests.integration.test_a",
    ),
    (
        _text("tests/test_b.py", "import tests.recording.test_a\n"),
        check_test_imports,
        "imports the test module tests.recording.test_a",
    ),
]


@pytest.mark.parametrize(
    ("breakage", "check", "expected"),
    BREAKAGES,
    ids=[f"{check.__name__}-{expected}" for _, check, expected in BREAKAGES],
)
def test_check_catches_breakage(
    repo: Path, breakage: Callable[[Path], None], check: Checker, expected: str
) -> None:
    """Each check reports the breakage made to a copy of the fixture."""
    breakage(repo)
    problems = check(repo)
    assert any(expected in problem for problem in problems), problems


def test_test_modules_may_import_helpers_and_conftest(repo: Path) -> None:
    """Helpers, conftest, the code under test and libraries are what test modules import."""
    text = (
        "from tests.helpers.drivers import DRIVERS\nfrom .conftest import wait_for\nimport os\n"
        "from aiohttp.test_utils import TestClient\n"
    )
    _write(repo, "tests/integration/test_a.py", text)
    _assert_clean(check_test_imports(repo))


def test_services_missing_yaml_is_fine_without_registrations(repo: Path) -> None:
    """No services.yaml is fine when no service is registered."""
    (repo / PACKAGE / "services.yaml").unlink()
    _write(repo, f"{PACKAGE}/__init__.py", '"""Integration."""\n')
    _write(repo, f"{PACKAGE}/const.py", f'DOMAIN = "{DOMAIN}"\n')
    _assert_clean(check_services(repo))
