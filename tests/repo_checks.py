"""Offline mirror of the HACS action and hassfest rules: each checker returns the problems found."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
import json
from pathlib import Path
import re
import tomllib
from typing import Any, get_args, get_type_hints
from urllib.parse import urlparse

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from awesomeversion.exceptions import AwesomeVersionException
import homeassistant.components as ha_components
from homeassistant.const import Platform
from homeassistant.core import valid_domain
from homeassistant.exceptions import HomeAssistantError
from homeassistant.generated.countries import COUNTRIES
from homeassistant.loader import Manifest
from homeassistant.util.yaml import load_yaml
from packaging.requirements import InvalidRequirement, Requirement
from PIL import Image, UnidentifiedImageError

type Checker = Callable[[Path], list[str]]

# HACS action: custom_components/hacs/utils/validate.py, HACS_MANIFEST_JSON_SCHEMA (PREVENT_EXTRA).
HACS_TYPES: dict[str, type] = {
    "content_in_root": bool,
    "filename": str,
    "hacs": str,
    "hide_default_branch": bool,
    "homeassistant": str,
    "persistent_directory": str,
    "render_readme": bool,
    "zip_release": bool,
}
HACS_KEYS = frozenset({*HACS_TYPES, "country", "name"})

# hassfest (script/hassfest/manifest.py) for custom integrations, plus HACS's issue_tracker.
MANIFEST_REQUIRED = (
    "domain",
    "name",
    "codeowners",
    "documentation",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "requirements",
    "version",
)
MANIFEST_HINTS = get_type_hints(Manifest)
MANIFEST_KEYS = frozenset(MANIFEST_HINTS) - {"is_built_in", "overwrites_built_in"}
INTEGRATION_TYPES = frozenset(get_args(MANIFEST_HINTS["integration_type"]))
IOT_CLASSES = frozenset(
    {"assumed_state", "calculated", "cloud_polling", "cloud_push", "local_polling", "local_push"}
)
VERSION_STRATEGIES = [
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
]
CODEOWNER_RE = re.compile(r"^@[A-Za-z0-9][A-Za-z0-9-]*(/[A-Za-z0-9._-]+)?$")

# hassfest (script/hassfest/translations.py).
TRANSLATION_KEY_RE = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
HTML_RE = re.compile(r"<[a-z].*?>", re.IGNORECASE)
QUOTED_PLACEHOLDER_RE = re.compile(r"'{\w+}'")
KEYED_SECTIONS = ("entity", "exceptions", "issues", "services", "selector")
FLOW_SECTIONS = ("config", "options")
PLATFORMS = frozenset(platform.value for platform in Platform)

# Config flow helpers that abort with a reason the integration must translate.
IMPLICIT_ABORTS = {
    "_abort_if_unique_id_configured": "already_configured",
    "_async_abort_entries_match": "already_configured",
    "_async_handle_discovery_without_unique_id": "already_configured",
    "_abort_if_unique_id_mismatch": "unique_id_mismatch",
}
FORM_CALLS = frozenset({"async_show_form", "async_show_menu"})

# Where the service name sits among the positional arguments of each registration call.
SERVICE_ARG_INDEX = {
    "async_register_admin_service": 2,
    "async_register_platform_entity_service": 2,
    "async_register_batched_platform_entity_service": 2,
}
ENTITY_SERVICE_CALLS = frozenset(
    {"async_register_entity_service", "async_register_batched_entity_service"}
)
SERVICE_KEYWORDS = frozenset({"service", "name", "service_name"})

# Home Assistant's brands proxy (homeassistant/components/brands/const.py, 2026.3+).
BRAND_IMAGES = frozenset(
    {
        "icon.png",
        "logo.png",
        "icon@2x.png",
        "logo@2x.png",
        "dark_icon.png",
        "dark_logo.png",
        "dark_icon@2x.png",
        "dark_logo@2x.png",
    }
)
ICON_SIZES = {"icon.png": 256, "icon@2x.png": 512, "dark_icon.png": 256, "dark_icon@2x.png": 512}
LOGO_HEIGHTS = {"logo.png": 256, "logo@2x.png": 512, "dark_logo.png": 256, "dark_logo@2x.png": 512}

QUALITY_STATUSES = frozenset({"done", "todo", "exempt"})

# Phrases that identify OSI-approved licence texts, most specific first.
LICENSE_MARKERS = {
    "AGPL-3.0": ("GNU AFFERO GENERAL PUBLIC LICENSE",),
    "LGPL-3.0": ("GNU LESSER GENERAL PUBLIC LICENSE", "Version 3"),
    "LGPL-2.1": ("GNU LESSER GENERAL PUBLIC LICENSE", "Version 2.1"),
    "GPL-3.0": ("GNU GENERAL PUBLIC LICENSE", "Version 3"),
    "GPL-2.0": ("GNU GENERAL PUBLIC LICENSE", "Version 2"),
    "Apache-2.0": ("Apache License", "Version 2.0"),
    "MPL-2.0": ("Mozilla Public License Version 2.0",),
    "MIT": ("Permission is hereby granted, free of charge",),
    "BSD-3-Clause": ("Redistribution and use in source and binary forms", "Neither the name"),
    "BSD-2-Clause": ("Redistribution and use in source and binary forms",),
    "ISC": ("Permission to use, copy, modify, and/or distribute this software",),
    "Unlicense": ("This is free and unencumbered software released into the public domain",),
}

SKIPPED_DIRS = frozenset({".git", "__pycache__", "node_modules", ".tox", "htmlcov"})


# --- shared helpers -------------------------------------------------------------------------


def _rel(root: Path, path: Path) -> str:
    """Return a path relative to the repository root, for messages."""
    return path.relative_to(root).as_posix()


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build a JSON object, refusing keys that appear twice."""
    keys = [key for key, _ in pairs]
    if duplicates := sorted({key for key in keys if keys.count(key) > 1}):
        raise ValueError(f"duplicate keys {duplicates}")
    return dict(pairs)


def _load_json(path: Path) -> Any:
    """Parse a JSON file strictly (UTF-8, no duplicate keys)."""
    return json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_no_duplicate_keys)


def _json_object(root: Path, path: Path, problems: list[str]) -> dict[str, Any] | None:
    """Load a JSON object, recording why it cannot be used."""
    name = _rel(root, path)
    if not path.is_file():
        problems.append(f"{name}: missing; create it")
        return None
    try:
        data = _load_json(path)
    except ValueError as err:
        problems.append(f"{name}: invalid JSON ({err}); fix the syntax")
        return None
    if not isinstance(data, dict):
        problems.append(f"{name}: must be a JSON object")
        return None
    return data


def _yaml(root: Path, path: Path, problems: list[str]) -> Any:
    """Load a YAML file with Home Assistant's own loader, recording parse errors."""
    try:
        return load_yaml(path)
    except HomeAssistantError as err:
        problems.append(f"{_rel(root, path)}: invalid YAML ({err}); fix the syntax")
        return None


def _integration_dirs(root: Path) -> list[Path]:
    """Return the folders under custom_components/, ignoring caches."""
    base = root / "custom_components"
    if not base.is_dir():
        return []
    return sorted(path for path in base.iterdir() if path.is_dir() and path.name != "__pycache__")


def _integration(root: Path, problems: list[str]) -> Path | None:
    """Return the single integration folder, or record that there is not exactly one."""
    dirs = _integration_dirs(root)
    if len(dirs) != 1:
        problems.append("custom_components/ must hold exactly one integration folder")
        return None
    return dirs[0]


def _optional_file(root: Path, name: str, problems: list[str]) -> Path | None:
    """Return the integration's file `name`, or None where it has none (nothing to check).

    None too where there is not exactly one integration folder, which is recorded.
    """
    if (package := _integration(root, problems)) is None:
        return None
    return path if (path := package / name).is_file() else None


def _en_path(package: Path) -> Path:
    """Return the path of the integration's English translations."""
    return package / "translations" / "en.json"


def _lookup(data: Any, dotted: str) -> Any:
    """Follow a dotted key path through nested dicts; None when any part is missing."""
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _is_https_url(value: Any) -> bool:
    """Tell whether a value is an absolute https URL."""
    if not isinstance(value, str):
        return False
    parsed = urlparse(value)
    return parsed.scheme == "https" and bool(parsed.netloc)


def _is_str_list(value: Any) -> bool:
    """Tell whether a value is a list of strings."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _valid_version(value: Any) -> bool:
    """Tell whether AwesomeVersion accepts a version with hassfest's strategies."""
    if not isinstance(value, str):
        return False
    try:
        AwesomeVersion(value, ensure_strategy=VERSION_STRATEGIES)
    except AwesomeVersionException:
        return False
    return True


def _python_files(package: Path) -> Iterator[tuple[Path, ast.Module]]:
    """Parse every Python module of the integration package."""
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _call_name(func: ast.expr) -> str:
    """Return the called function or method name."""
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _str_value(node: ast.expr | None) -> str | None:
    """Return a node's value if it is a string literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


# --- hacs.json ------------------------------------------------------------------------------


def check_hacs_json(root: Path) -> list[str]:
    """Check hacs.json against the HACS action's schema."""
    problems: list[str] = []
    if (data := _json_object(root, root / "hacs.json", problems)) is None:
        return problems
    for key in sorted(set(data) - HACS_KEYS):
        problems.append(f"hacs.json: unknown key {key!r}; HACS only allows {sorted(HACS_KEYS)}")
    if not isinstance(data.get("name"), str) or not data["name"].strip():
        problems.append("hacs.json: 'name' is required and must be a non-empty string")
    for key, expected in HACS_TYPES.items():
        if key in data and not isinstance(data[key], expected):
            problems.append(f"hacs.json: {key!r} must be a {expected.__name__}")
    for key in ("homeassistant", "hacs"):
        if key in data and not _valid_version(data[key]):
            problems.append(f"hacs.json: {key!r} must be a version such as '2026.2.0'")
    if data.get("zip_release") and "filename" not in data:
        problems.append("hacs.json: 'zip_release' needs 'filename' (the release asset name)")
    if "country" in data:
        countries = data["country"] if isinstance(data["country"], list) else [data["country"]]
        for country in countries:
            if not isinstance(country, str) or country.upper() not in COUNTRIES:
                problems.append(f"hacs.json: country {country!r} is not an ISO 3166-1 code")
    return problems


# --- integration folder and manifest.json ---------------------------------------------------


def check_integration_folder(root: Path) -> list[str]:
    """Check that custom_components/ holds one integration named after its domain."""
    dirs = _integration_dirs(root)
    if len(dirs) != 1:
        names = [path.name for path in dirs]
        return [f"custom_components/: HACS needs exactly one integration folder, found {names}"]
    problems: list[str] = []
    path = dirs[0] / "manifest.json"
    if (manifest := _json_object(root, path, problems)) is None:
        return problems
    domain = manifest.get("domain")
    if domain != dirs[0].name:
        problems.append(
            f"{_rel(root, dirs[0])}/: folder must be named as the manifest's domain {domain!r}"
        )
    if not isinstance(domain, str) or not valid_domain(domain):
        problems.append(f"{_rel(root, path)}: domain {domain!r} must be a-z, 0-9 and _ only")
    elif any((Path(base) / domain).is_dir() for base in ha_components.__path__):
        problems.append(f"{_rel(root, path)}: domain {domain!r} is taken by a built-in integration")
    return problems


def check_manifest(root: Path) -> list[str]:
    """Check manifest.json against hassfest's custom integration rules."""
    problems: list[str] = []
    if (package := _integration(root, problems)) is None:
        return problems
    name = _rel(root, package / "manifest.json")
    if (data := _json_object(root, package / "manifest.json", problems)) is None:
        return problems
    problems += [f"{name}: {problem}" for problem in _manifest_problems(data, package)]
    return problems


def _manifest_problems(data: dict[str, Any], package: Path) -> Iterator[str]:
    """Yield every manifest rule the data breaks."""
    for key in MANIFEST_REQUIRED:
        if key not in data:
            yield f"add the required key {key!r}"
    for key in sorted(set(data) - MANIFEST_KEYS):
        yield f"unknown key {key!r}; hassfest rejects keys it does not know"
    if list(data) != (expected := sorted(data, key=_manifest_sort_key)):
        yield f"keys must be domain, name, then alphabetical: {expected}"
    if "version" in data and not _valid_version(data["version"]):
        yield f"version {data['version']!r} is not valid for AwesomeVersion; use e.g. '0.1.0'"
    if "iot_class" in data and data["iot_class"] not in IOT_CLASSES:
        yield f"iot_class {data['iot_class']!r} must be one of {sorted(IOT_CLASSES)}"
    if "integration_type" in data and data["integration_type"] not in INTEGRATION_TYPES:
        yield f"integration_type must be one of {sorted(INTEGRATION_TYPES)}"
    yield from _manifest_list_problems(data)
    if "config_flow" in data and not isinstance(data["config_flow"], bool):
        yield "config_flow must be true or false"
    if data.get("config_flow") is True and not (package / "config_flow.py").is_file():
        yield "config_flow is true, so add config_flow.py to the integration"
    for key in ("documentation", "issue_tracker"):
        if key in data and not _is_https_url(data[key]):
            yield f"{key} must be an https:// URL"


def _manifest_sort_key(key: str) -> str:
    """Sort key that puts domain and name first, like hassfest."""
    return {"domain": ".domain", "name": ".name"}.get(key, key)


def _manifest_list_problems(data: dict[str, Any]) -> Iterator[str]:
    """Yield problems with codeowners, requirements and dependency lists."""
    codeowners = data.get("codeowners")
    if "codeowners" in data and (not _is_str_list(codeowners) or not codeowners):
        yield "codeowners must be a non-empty list of GitHub handles such as '@octocat'"
    elif isinstance(codeowners, list):
        for owner in codeowners:
            if not CODEOWNER_RE.match(owner):
                yield f"codeowner {owner!r} must be a GitHub handle such as '@octocat'"
    if "requirements" in data and not _is_str_list(data["requirements"]):
        yield "requirements must be a list of PEP 508 strings"
    elif isinstance(data.get("requirements"), list):
        for requirement in data["requirements"]:
            try:
                Requirement(requirement)
            except InvalidRequirement as err:
                reason = " ".join(str(err).split())
                yield f"requirement {requirement!r} is not valid PEP 508 ({reason})"
    for key in ("dependencies", "after_dependencies", "loggers"):
        if key in data and not _is_str_list(data[key]):
            yield f"{key} must be a list of strings"


# --- every JSON file ------------------------------------------------------------------------


def check_json_files(root: Path) -> list[str]:
    """Check that every JSON file in the repository parses."""
    problems: list[str] = []
    for path in _json_files(root):
        try:
            _load_json(path)
        except ValueError as err:
            problems.append(f"{_rel(root, path)}: invalid JSON ({err}); fix the syntax")
    return problems


def _json_files(root: Path) -> Iterator[Path]:
    """Yield the repository's JSON files, skipping virtualenvs, config/ and caches."""
    for directory, dirnames, filenames in root.walk():
        dirnames[:] = [name for name in dirnames if not _skipped_dir(root, directory, name)]
        yield from (directory / name for name in sorted(filenames) if name.endswith(".json"))


def _skipped_dir(root: Path, parent: Path, name: str) -> bool:
    """Tell whether a directory holds no repository content to check."""
    return (
        name in SKIPPED_DIRS
        or name.startswith((".venv", "venv"))
        or name.endswith("_cache")
        or (parent == root and name == "config")
    )


# --- translations ---------------------------------------------------------------------------


def check_translations(root: Path) -> list[str]:
    """Check translations/en.json against hassfest's translation rules."""
    problems: list[str] = []
    if (package := _integration(root, problems)) is None:
        return problems
    if (strings := _json_object(root, _en_path(package), problems)) is None:
        return problems
    found = [
        *_translation_value_problems(strings),
        *_translation_key_problems(strings),
        *_data_description_problems(strings),
        *_entity_platform_problems(strings),
        *_exception_problems(strings),
    ]
    return [f"{_rel(root, _en_path(package))}: {problem}" for problem in found]


def _leaves(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (dotted path, value) for every non-dict value."""
    if not isinstance(node, dict):
        yield path, node
        return
    for key, value in node.items():
        yield from _leaves(value, f"{path}.{key}" if path else key)


def _keys(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """Yield (dotted path, key) for every key at every level."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}", key
            yield from _keys(value, f"{path}.{key}")


def _translation_value_problems(strings: dict[str, Any]) -> Iterator[str]:
    """Yield strings that are empty, padded, HTML, references or single-quoted placeholders."""
    for path, value in _leaves(strings):
        if not isinstance(value, str) or not value.strip():
            yield f"{path} must be a non-empty string"
        elif "[%key:" in value:
            yield f"{path} uses a [%key:...%] reference; custom integrations must spell it out"
        elif value != value.strip():
            yield f"{path} has leading or trailing spaces"
        elif HTML_RE.search(value):
            yield f"{path} contains HTML; use Markdown"
        elif QUOTED_PLACEHOLDER_RE.search(value):
            yield f"{path} has a placeholder inside single quotes; remove the quotes"


def _translation_key_problems(strings: dict[str, Any]) -> Iterator[str]:
    """Yield keys that are not valid translation keys."""
    keyed = (
        (path, key)
        for section in KEYED_SECTIONS
        for path, key in _keys(strings.get(section), section)
    )
    flows = (
        (f"{section}.{kind}.{key}", key)
        for section in FLOW_SECTIONS
        for kind in ("step", "error", "abort")
        for key in _dict(_lookup(strings, f"{section}.{kind}"))
    )
    for path, key in (*keyed, *flows):
        if not TRANSLATION_KEY_RE.match(key):
            yield f"{path}: key {key!r} must match [a-z0-9-_]+ without leading/trailing/double _ -"


def _dict(value: Any) -> dict[str, Any]:
    """Return the value if it is a dict, else an empty one."""
    return value if isinstance(value, dict) else {}


def _data_description_problems(strings: dict[str, Any]) -> Iterator[str]:
    """Yield data_description keys that describe a field missing from the step's data."""
    for section in FLOW_SECTIONS:
        for step_id, step in _dict(_lookup(strings, f"{section}.step")).items():
            data = _dict(_dict(step).get("data"))
            for key in _dict(_dict(step).get("data_description")):
                if key not in data:
                    yield f"{section}.step.{step_id}.data_description.{key} is not in data"


def _entity_platform_problems(strings: dict[str, Any]) -> Iterator[str]:
    """Yield entity sections that are not named after an entity platform."""
    for platform in _dict(strings.get("entity")):
        if platform not in PLATFORMS:
            yield f"entity.{platform}: not an entity platform (binary_sensor, camera, event...)"


def _exception_problems(strings: dict[str, Any]) -> Iterator[str]:
    """Yield exception texts Home Assistant cannot find: it reads exceptions.<key>.message."""
    for key, value in _dict(strings.get("exceptions")).items():
        if not isinstance(value, dict) or set(value) != {"message"}:
            yield f'exceptions.{key}: must be {{"message": ...}}, or the user reads the key'


# --- config_flow.py against translations ----------------------------------------------------


def check_config_flow_translations(root: Path) -> list[str]:
    """Check that the errors, aborts and steps config_flow.py uses are translated."""
    problems: list[str] = []
    if (flow := _optional_file(root, "config_flow.py", problems)) is None:
        return problems
    if (strings := _json_object(root, en_path := _en_path(flow.parent), problems)) is None:
        return problems
    tree = ast.parse(flow.read_text(encoding="utf-8"), filename=str(flow))
    for key, line in sorted(set(_flow_translation_keys(tree))):
        value = _lookup(strings, key)
        if key.split(".")[1] == "step":
            translated = isinstance(value, dict)
        else:
            translated = isinstance(value, str) and bool(value.strip())
        if not translated:
            problems.append(f"{_rel(root, en_path)}: add {key} ({flow.name}:{line})")
    return problems


def _flow_translation_keys(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """Yield (translation key, line) for each error, abort reason and form step in a flow."""
    returned = _returned_strings(tree)
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = [_call_name(base) for base in node.bases]
            if any("SubentryFlow" in base for base in bases):
                continue
            section = "options" if any("OptionsFlow" in base for base in bases) else "config"
        else:
            section = "config"
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                yield from _call_keys(sub, section)
            elif isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from _error_keys(sub, section, returned)


def _returned_strings(tree: ast.Module) -> dict[str, set[str]]:
    """Map each function name to the string literals it returns."""
    returned: dict[str, set[str]] = {}
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            returned[func.name] = {
                text
                for node in ast.walk(func)
                if isinstance(node, ast.Return) and (text := _str_value(node.value))
            }
    return returned


def _called(node: ast.expr | None) -> str | None:
    """Return the name of the function whose (awaited) result an expression is."""
    if isinstance(node, ast.Await):
        node = node.value
    return _call_name(node.func) if isinstance(node, ast.Call) else None


def _call_keys(call: ast.Call, section: str) -> Iterator[tuple[str, int]]:
    """Yield the translation keys one call needs."""
    name = _call_name(call.func)
    keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
    if (reason := _str_value(keywords.get("reason"))) and "translation_domain" not in keywords:
        yield f"{section}.abort.{reason}", call.lineno
    if name in IMPLICIT_ABORTS and "reason" not in keywords:
        yield f"{section}.abort.{IMPLICIT_ABORTS[name]}", call.lineno
    if name == "AbortFlow" and call.args and (reason := _str_value(call.args[0])):
        yield f"{section}.abort.{reason}", call.lineno
    if name in FORM_CALLS and (step_id := _str_value(keywords.get("step_id"))):
        yield f"{section}.step.{step_id}", call.lineno
    if isinstance(errors := keywords.get("errors"), ast.Dict):
        yield from _error_dict_keys(errors, section)


def _error_keys(
    func: ast.FunctionDef | ast.AsyncFunctionDef, section: str, returned: dict[str, set[str]]
) -> Iterator[tuple[str, int]]:
    """Yield error keys a function sets: literals, or what a helper it called returns."""
    origins = {
        node.targets[0].id: called
        for node in ast.walk(func)
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and (called := _called(node.value))
    }
    for node in ast.walk(func):
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
            if isinstance(target, ast.Subscript) and _call_name(target.value).endswith("errors"):
                for error in _error_values(node.value, origins, returned):
                    yield f"{section}.error.{error}", node.lineno
            elif _call_name(target).endswith("errors") and isinstance(node.value, ast.Dict):
                yield from _error_dict_keys(node.value, section)


def _error_values(
    value: ast.expr, origins: dict[str, str], returned: dict[str, set[str]]
) -> set[str]:
    """Return the error keys an assigned value can hold."""
    if text := _str_value(value):
        return {text}
    called = origins.get(value.id) if isinstance(value, ast.Name) else _called(value)
    return returned.get(called or "", set())


def _error_dict_keys(errors: ast.Dict, section: str) -> Iterator[tuple[str, int]]:
    """Yield the error keys in an errors dict literal."""
    for value in errors.values:
        if error := _str_value(value):
            yield f"{section}.error.{error}", value.lineno


# --- services.yaml --------------------------------------------------------------------------


def check_services(root: Path) -> list[str]:
    """Check services.yaml lists exactly the registered services, each translated."""
    problems: list[str] = []
    if (package := _integration(root, problems)) is None:
        return problems
    registered, unresolved = _registered_services(package)
    path = package / "services.yaml"
    if not path.is_file():
        if registered or unresolved:
            problems.append(f"{_rel(root, path)}: missing, but the code registers services")
        return problems
    services = _yaml(root, path, problems) or {}
    if problems:
        return problems
    if not isinstance(services, dict):
        return [f"{_rel(root, path)}: must map service names to definitions"]
    for service in sorted(registered - set(services)):
        problems.append(f"{_rel(root, path)}: add {service!r}, which the code registers")
    if not unresolved:
        for service in sorted(set(services) - registered):
            problems.append(f"{_rel(root, path)}: {service!r} is not registered by the code")
    en_path = _en_path(package)
    if services and (strings := _json_object(root, en_path, problems)) is not None:
        found = _service_strings(services, strings)
        problems += [f"{_rel(root, en_path)}: {problem}" for problem in found]
    return problems


def _registered_services(package: Path) -> tuple[set[str], int]:
    """Return the service names the package registers, and how many calls could not be read."""
    modules = list(_python_files(package))
    constants = {
        name: value for path, tree in modules for name, value in _module_strings(tree).items()
    }
    names = {
        value
        for path, tree in modules
        if path.name == "const.py"
        for name, value in _module_strings(tree).items()
        if name.startswith("SERVICE_")
    }
    unresolved = 0
    for _, tree in modules:
        for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
            if (index := _service_arg_index(call)) is None:
                continue
            if (name := _resolve(_service_argument(call, index), constants)) is None:
                unresolved += 1
            else:
                names.add(name)
    return names, unresolved


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """Return the module-level string constants."""
    found: dict[str, str] = {}
    value: ast.expr | None
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and (text := _str_value(value)) is not None:
            found[target.id] = text
    return found


def _service_arg_index(call: ast.Call) -> int | None:
    """Return the service name's positional index if the call registers a service."""
    name = _call_name(call.func)
    owner = call.func.value if isinstance(call.func, ast.Attribute) else None
    if name in {"async_register", "register"}:
        on_services = isinstance(owner, ast.Attribute) and owner.attr == "services"
        return 1 if on_services else None
    if name in ENTITY_SERVICE_CALLS:
        helper = owner is None or (isinstance(owner, ast.Name) and owner.id == "service")
        return 2 if helper else 0
    return SERVICE_ARG_INDEX.get(name)


def _service_argument(call: ast.Call, index: int) -> ast.expr | None:
    """Return the expression a registration call passes as the service name."""
    for keyword in call.keywords:
        if keyword.arg in SERVICE_KEYWORDS:
            return keyword.value
    return call.args[index] if len(call.args) > index else None


def _resolve(node: ast.expr | None, constants: dict[str, str]) -> str | None:
    """Resolve a literal or a (module attribute) constant to its string value."""
    if isinstance(node, ast.Name | ast.Attribute):
        return constants.get(_call_name(node))
    return _str_value(node)


def _service_strings(services: dict[str, Any], strings: dict[str, Any]) -> Iterator[str]:
    """Yield missing service, field and section names and descriptions."""
    for service, definition in services.items():
        base = f"services.{service}"
        yield from _missing_texts(strings, base, ("name", "description"))
        for field, spec in _dict(_dict(definition).get("fields")).items():
            if "fields" in _dict(spec):
                yield from _missing_texts(strings, f"{base}.sections.{field}", ("name",))
                for inner in _dict(spec["fields"]):
                    field_base = f"{base}.fields.{inner}"
                    yield from _missing_texts(strings, field_base, ("name", "description"))
            else:
                yield from _missing_texts(
                    strings, f"{base}.fields.{field}", ("name", "description")
                )


def _missing_texts(strings: dict[str, Any], base: str, names: tuple[str, ...]) -> Iterator[str]:
    """Yield the texts under base that are missing or empty."""
    for name in names:
        value = _lookup(strings, f"{base}.{name}")
        if not isinstance(value, str) or not value.strip():
            yield f"add {base}.{name}"


# --- icons.json -----------------------------------------------------------------------------


def check_icons(root: Path) -> list[str]:
    """Check icons.json uses mdi: icons and gives every service an icon."""
    problems: list[str] = []
    if (path := _optional_file(root, "icons.json", problems)) is None:
        return problems
    if (icons := _json_object(root, path, problems)) is None:
        return problems
    name = _rel(root, path)
    for key, value in _leaves(icons):
        if not isinstance(value, str) or not value.startswith("mdi:"):
            problems.append(f"{name}: {key} must be a Material Design icon 'mdi:...'")
    services_yaml = path.parent / "services.yaml"
    services = _yaml(root, services_yaml, problems) if services_yaml.is_file() else None
    for service in _dict(services):
        icon = _lookup(icons, f"services.{service}")
        if not isinstance(icon, str) and not isinstance(_dict(icon).get("service"), str):
            problems.append(f"{name}: add services.{service}.service with an mdi: icon")
    return problems


# --- brand images ---------------------------------------------------------------------------


def check_brand_images(root: Path) -> list[str]:
    """Check the brand/ images Home Assistant serves for custom integrations."""
    problems: list[str] = []
    if (package := _integration(root, problems)) is None:
        return problems
    brand = package / "brand"
    for required in ("icon.png", "icon@2x.png"):
        if not (brand / required).is_file():
            problems.append(f"{_rel(root, brand / required)}: missing; add the brand icon")
    present = sorted(brand.iterdir()) if brand.is_dir() else []
    for path in present:
        if path.name not in BRAND_IMAGES:
            problems.append(f"{_rel(root, path)}: not served; use one of {sorted(BRAND_IMAGES)}")
        else:
            problems += [f"{_rel(root, path)}: {problem}" for problem in _image_problems(path)]
    return problems


def _image_problems(path: Path) -> Iterator[str]:
    """Yield what is wrong with one brand image."""
    try:
        with Image.open(path) as image:
            image_format, size, transparent = image.format, image.size, image.has_transparency_data
    except UnidentifiedImageError:
        yield "not an image; save a PNG"
        return
    if image_format != "PNG":
        yield f"is {image_format}, must be PNG"
    if not transparent:
        yield "needs an alpha channel or transparency (RGBA)"
    if (side := ICON_SIZES.get(path.name)) and size != (side, side):
        yield f"is {size[0]}x{size[1]}, must be {side}x{side}"
    if (height := LOGO_HEIGHTS.get(path.name)) and size[1] > height:
        yield f"is {size[1]} px high, must be at most {height}"


# --- quality_scale.yaml ---------------------------------------------------------------------


def check_quality_scale(root: Path) -> list[str]:
    """Check quality_scale.yaml rule statuses, and that exemptions are explained."""
    problems: list[str] = []
    if (path := _optional_file(root, "quality_scale.yaml", problems)) is None:
        return problems
    name = _rel(root, path)
    data = _yaml(root, path, problems)
    if not isinstance(rules := _dict(data).get("rules"), dict):
        return [*problems, f"{name}: needs a 'rules' mapping"]
    for rule, value in rules.items():
        status = value if isinstance(value, str) else _dict(value).get("status")
        if status not in QUALITY_STATUSES:
            problems.append(f"{name}: rule {rule} status must be one of {sorted(QUALITY_STATUSES)}")
        elif status == "exempt" and not str(_dict(value).get("comment") or "").strip():
            problems.append(f"{name}: rule {rule} is exempt, so add a 'comment' saying why")
    return problems


# --- the tests themselves -------------------------------------------------------------------


def check_test_imports(root: Path) -> list[str]:
    """Check no test module imports another: shared helpers live in tests/helpers/.

    A test module imported elsewhere runs its tests twice, or carries helpers nobody finds.
    """
    problems = []
    for path in sorted(root.glob("tests/**/test_*.py")):
        package = path.relative_to(root).parent.parts
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for module in _imported_modules(node, package):
                parts = module.split(".")  # only ours: aiohttp.test_utils is no test module
                if parts[0] == "tests" and any(part.startswith("test_") for part in parts):
                    problems.append(
                        f"{_rel(root, path)}:{node.lineno}: imports the test module {module};"
                        " move what it shares to tests/helpers/"
                    )
    return problems


def _imported_modules(node: ast.Import | ast.ImportFrom, package: tuple[str, ...]) -> Iterator[str]:
    """Return the modules an import statement may load, relative ones made absolute."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    else:
        base = list(package[: len(package) - node.level + 1]) if node.level else []
        module = ".".join([*base, *filter(None, [node.module])])
        yield module
        # `from tests.devices import test_dahua` names a module, not a definition.
        yield from (f"{module}.{alias.name}" for alias in node.names)


# --- README and LICENSE ---------------------------------------------------------------------


def check_readme(root: Path) -> list[str]:
    """Check README.md exists and has content (HACS shows it)."""
    path = root / "README.md"
    if not path.is_file() or not path.read_text(encoding="utf-8").strip():
        return ["README.md: missing or empty; HACS shows it to users"]
    return []


def check_license(root: Path) -> list[str]:
    """Check LICENSE is an OSI licence text, matching pyproject.toml's licence if declared."""
    path = root / "LICENSE"
    if not path.is_file() or not (text := path.read_text(encoding="utf-8").strip()):
        return ["LICENSE: missing or empty; add the full licence text"]
    if (found := _license_id(text)) is None:
        return ["LICENSE: not a recognisable OSI licence text; paste the licence verbatim"]
    declared = _declared_license(root)
    if declared and declared != found and not declared.startswith(f"{found}-"):
        return [f"LICENSE: is {found} but pyproject.toml declares {declared}; make them agree"]
    return []


def _license_id(text: str) -> str | None:
    """Identify the licence a text is, as an SPDX id."""
    flat = " ".join(text.split())
    for spdx, markers in LICENSE_MARKERS.items():
        if all(marker in flat for marker in markers):
            return spdx
    return None


def _declared_license(root: Path) -> str | None:
    """Return pyproject.toml's SPDX licence expression, if it declares one."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return None
    declared = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {}).get("license")
    return declared if isinstance(declared, str) else None


ALL_CHECKS: tuple[Checker, ...] = (
    check_hacs_json,
    check_integration_folder,
    check_manifest,
    check_json_files,
    check_translations,
    check_config_flow_translations,
    check_services,
    check_icons,
    check_brand_images,
    check_quality_scale,
    check_readme,
    check_license,
    check_test_imports,
)
