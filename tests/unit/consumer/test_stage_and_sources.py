"""The consumer's secret names per stage, and its sources: what the client wheel ships must
import nothing but the standard library, boto3/botocore and requests (and python-amazon-ad-api
lazily, in the adapter)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from ads_connect.consumer import access_secret_name, secret_prefix_for

LAMBDAS = Path(__file__).resolve().parents[3] / "lambdas" / "ads_connect"
# What `make dist` puts into amazon_ads_connect_client besides the consumer (wheels/client).
SHIPPED_WITH_THE_CONSUMER = ("table_schema.py", "adapters/__init__.py", "adapters/aws.py")
ALLOWED_TOP_LEVEL = {"boto3", "botocore", "requests", "ad_api"}


def test_the_default_stage_is_prod_and_a_stage_names_its_prefix() -> None:
    assert secret_prefix_for() == "ads-connect/prod"
    assert secret_prefix_for("dev") == "ads-connect/dev"
    assert access_secret_name(secret_prefix_for("dev"), "acme", "EU") == "ads-connect/dev/access/acme/EU"


def test_an_explicit_prefix_wins_over_the_stage() -> None:
    assert secret_prefix_for("dev", "custom/prefix/") == "custom/prefix"


@pytest.mark.parametrize("stage", ["", "Prod", "1dev", "dev_1", "a" * 17, "dev/../x"])
def test_a_malformed_stage_is_refused(stage: str) -> None:
    with pytest.raises(ValueError, match="stage must match"):
        secret_prefix_for(stage)


def _shipped_files() -> list[Path]:
    return sorted((LAMBDAS / "consumer").glob("*.py")) + [
        LAMBDAS / name for name in SHIPPED_WITH_THE_CONSUMER
    ]


def test_the_shipped_sources_import_only_the_standard_library_boto3_and_requests() -> None:
    for path in _shipped_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue  # relative imports stay inside what the wheel ships (checked below)
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top in ALLOWED_TOP_LEVEL, (path.name, name)


def test_relative_imports_reach_only_files_the_wheel_ships() -> None:
    shipped = {path.resolve() for path in _shipped_files()}
    for path in sorted((LAMBDAS / "consumer").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                base = path.parent
                for _ in range(node.level - 1):
                    base = base.parent
                target = base.joinpath(*(node.module or "").split("."))
                module = (
                    target.with_suffix(".py")
                    if target.with_suffix(".py").exists()
                    else target / "__init__.py"
                )
                assert module.resolve() in shipped, (path.name, node.module)
