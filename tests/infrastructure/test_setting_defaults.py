"""Each deployment setting's default and bounds live in one place (stacks/config.py, or
models/settings.py for what the functions validate too); cdk.json and the docs do not copy them."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest
from ads_connect.models.settings import CoreSettings, PagesSettings

from stacks.config import AdsConnectConfig

REPO = Path(__file__).resolve().parents[2]


def config_defaults() -> AdsConnectConfig:
    """Every setting at its default. Not validated: a valid config needs the operator's
    support_contact, which has no default (docs/pages.md)."""
    return AdsConnectConfig.model_construct()


_CONSTRAINTS = ("ge", "le", "min_length", "max_length")


def _found(default: Any, rules: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"default": default}
    for rule in rules:
        for name in _CONSTRAINTS:
            if getattr(rule, name, None) is not None:
                found[name] = getattr(rule, name)
    return found


def _stack_constraints(field: str) -> dict[str, Any]:
    info = AdsConnectConfig.model_fields[field]
    return _found(info.default, info.metadata)


def _function_constraints(model: type[CoreSettings], field: str) -> dict[str, Any]:
    """The checked record's Length/Bounds rules (models/strict.py) and default."""
    annotation = model.annotations()[field]
    found = _found(model.field_defaults().get(field), typing.get_args(annotation)[1:])
    if field in model.required_fields():
        del found["default"]  # the functions require it: the stack always sets it
    return found


def test_cdk_json_holds_only_overrides_never_a_copy_of_a_default() -> None:
    # A default copied into cdk.json would silently outlive a change of the default.
    settings = json.loads((REPO / "cdk.json").read_text())["context"]["ads-connect"]
    defaults = config_defaults()
    copies = [key for key, value in settings.items() if getattr(defaults, key, object()) == value]
    assert not copies, f"remove these defaults from cdk.json (stacks/config.py has them): {copies}"


@pytest.mark.parametrize(
    ("field", "functions_model"),
    [("refresh_lead_seconds", CoreSettings), ("app_name", PagesSettings)],
)
def test_the_stack_and_the_functions_validate_a_shared_setting_alike(
    field: str, functions_model: type[CoreSettings]
) -> None:
    stack, functions = _stack_constraints(field), _function_constraints(functions_model, field)
    assert len(functions) > 1, "the functions' rule for this setting was not found"
    assert {name: stack.get(name) for name in functions} == functions


def test_the_deploy_guide_lists_every_setting_with_its_default() -> None:
    table = (REPO / "docs/deploy.md").read_text()
    documented: dict[str, str] = {}
    for keys, default in re.findall(r"^\| (`[a-z_]+`(?: / `[a-z_]+`)*) \| (.+?) \|", table, re.M):
        names = re.findall(r"`([a-z_]+)`", keys)
        values = [v.strip().strip("`") for v in default.split(" / ")]
        documented.update(zip(names, values * len(names) if len(values) == 1 else values, strict=True))
    missing = sorted(set(AdsConnectConfig.model_fields) - set(documented))
    assert not missing, f"docs/deploy.md section 1 does not list: {missing}"
    defaults = config_defaults()
    for name, text in documented.items():
        value = getattr(defaults, name)
        expected = json.dumps(list(value) if isinstance(value, tuple) else value)
        assert text.strip('"') == expected.strip('"'), f"docs/deploy.md: {name} default is {expected}"
