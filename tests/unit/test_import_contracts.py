"""The layering contracts `make lint` checks (pyproject.toml [tool.importlinter]) really bite:
a copy of the tree with one forbidden import fails, naming the offending import."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin" / "lint-imports"


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    # The copied packages come first on the path, so they shadow the checkout's.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree / "lambdas"), str(tree), str(REPO)])}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(REPO / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: run make dev")
    shutil.copytree(REPO / "lambdas" / "ads_connect", tmp_path / "lambdas" / "ads_connect")
    shutil.copytree(REPO / "emulator", tmp_path / "emulator")
    return tmp_path


def test_the_tree_as_it_is_keeps_every_contract(tree: Path) -> None:
    run = _lint_imports(tree)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.parametrize(
    ("module", "forbidden_import", "reported"),
    [
        ("lambdas/ads_connect/logic/ids.py", "import boto3", "ads_connect.logic.ids -> boto3"),
        (
            "lambdas/ads_connect/logic/ids.py",
            "from ads_connect.adapters import aws",
            "ads_connect.logic.ids -> ads_connect.adapters.aws",
        ),
        (
            "lambdas/ads_connect/models/records.py",
            "from ads_connect.logic import ids",
            "ads_connect.models.records -> ads_connect.logic.ids",
        ),
        ("lambdas/ads_connect/clock.py", "import emulator", "ads_connect.clock -> emulator"),
        ("lambdas/ads_connect/regions.py", "import pydantic", "ads_connect.regions -> pydantic"),
        ("emulator/demo.py", "import ads_connect.regions", "emulator.demo -> ads_connect.regions"),
    ],
)
def test_a_forbidden_import_fails_naming_it(
    tree: Path, module: str, forbidden_import: str, reported: str
) -> None:
    path = tree / module
    path.write_text(path.read_text() + f"\n{forbidden_import}  # the probe\n")
    run = _lint_imports(tree)
    assert run.returncode == 1, run.stdout + run.stderr
    assert reported in run.stdout, run.stdout
