"""No code path builds an external or cloud URL, or registers a webhook reachable from outside."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "custom_components" / "local_doorbell"
# Names that would hand out an address reachable from outside the house.
FORBIDDEN_CALLS = {"async_register_webhook", "async_generate_url", "async_remote_ui_url"}


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def test_no_external_or_cloud_url_is_built() -> None:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for call in _calls(tree):
            name = _name(call)
            if name in FORBIDDEN_CALLS:
                problems.append(f"{path.name}:{call.lineno} calls {name}")
            if name == "get_url":
                flags = {kw.arg: kw.value for kw in call.keywords}
                for flag in ("allow_cloud", "allow_external"):
                    value = flags.get(flag)
                    if not (isinstance(value, ast.Constant) and value.value is False):
                        problems.append(f"{path.name}:{call.lineno} get_url without {flag}=False")
        for node in ast.walk(tree):
            # A URL may only be formatted from the device's own (checked) address.
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if "://" in text and text not in ("http://", "rtsp://", "://"):
                    problems.append(f"{path.name}:{node.lineno} has a fixed URL {text!r}")
    assert not problems, "\n".join(problems)


def test_the_checker_finds_calls() -> None:
    bad = ast.parse(
        "get_url(hass, allow_cloud=True)\nasync_register_webhook(hass, 'd', 'n', 'i', h)"
    )
    names = [_name(call) for call in _calls(bad)]
    assert names == ["get_url", "async_register_webhook"]
