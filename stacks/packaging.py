"""Lambda packaging without Docker: a dependency layer built once per lock file, plus the code.

- Dependency layer: the runtime dependencies from ``requirements/runtime.lock`` (hash-pinned),
  minus what the Lambda Python runtime already ships (boto3, botocore, s3transfer and what only
  they need), installed as manylinux aarch64 / CPython 3.12 wheels (``--only-binary``: nothing is
  compiled, so the result does not depend on this machine). CDK local bundling (no Docker)
  copies it from ``build/layer-<hash>/``, named by the hash of the filtered requirement list,
  so synth reuses it until the lock changes; the asset hash is that same key.
- Code: ``lambdas/`` as a plain asset (source files only; every function shares it and picks
  its handler), so a code change uploads kilobytes, not the dependencies.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from stacks import LAMBDAS_DIR, REPO_ROOT

RUNTIME_LOCK: Final = REPO_ROOT / "requirements" / "runtime.lock"
BUILD_DIR: Final = REPO_ROOT / "build"
LAMBDA_PYTHON_VERSION: Final = "3.12"
LAMBDA_PLATFORM: Final = "aarch64-manylinux2014"
# Bump when the way the layer is built changes, so old cache entries are not reused.
LAYER_RECIPE_VERSION: Final = "1"
# The Lambda Python runtime provides these; shipping them would only add megabytes.
RUNTIME_PROVIDED: Final = frozenset({"boto3", "botocore", "s3transfer"})
# Never in a function package: tests, caches, type stubs.
CODE_EXCLUDES: Final = ("**/__pycache__", "**/*.pyc", "**/.mypy_cache", "**/*.pyi", "**/py.typed")


class PackagingError(RuntimeError):
    """The dependency layer could not be built (names the step; pip's output is attached)."""


@dataclass(frozen=True)
class Requirement:
    name: str
    block: str  # the requirement line(s) with their hashes, as exported
    via: frozenset[str]  # the packages that pull it in ("amazon-ads-connect" for direct ones)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lock(text: str) -> list[Requirement]:
    """Split uv's exported requirement list into entries with their ``# via`` parents."""
    entries: list[Requirement] = []
    name = ""
    block: list[str] = []
    via: set[str] = set()
    in_via = False

    def flush() -> None:
        if name:
            entries.append(Requirement(name, "\n".join(block), frozenset(via)))

    for line in text.splitlines():
        if not line.strip():
            continue
        if not line.startswith((" ", "\t")):
            flush()
            name = _normalise(line.split("==", 1)[0].split(";", 1)[0].strip())
            block, via, in_via = [line], set(), False
            continue
        stripped = line.strip()
        if stripped.startswith("# via"):
            in_via = True
            rest = stripped.removeprefix("# via").strip()
            if rest:
                via.add(_normalise(rest))
        elif stripped.startswith("#") and in_via:
            via.add(_normalise(stripped.lstrip("#").strip()))
        else:
            block.append(line)
    flush()
    return entries


def layer_requirements(lock_text: str) -> str:
    """The runtime lock minus packages the Lambda runtime provides (and what only they need)."""
    entries = parse_lock(lock_text)
    dropped = set(RUNTIME_PROVIDED)
    changed = True
    while changed:
        changed = False
        for entry in entries:
            if entry.name not in dropped and entry.via and entry.via <= dropped:
                dropped.add(entry.name)
                changed = True
    kept = [entry.block for entry in entries if entry.name not in dropped]
    return "\n".join(kept) + "\n"


def layer_key(lock_path: Path = RUNTIME_LOCK) -> tuple[str, str]:
    """(filtered requirement list, cache key)."""
    requirements = layer_requirements(lock_path.read_text(encoding="utf-8"))
    recipe = f"{LAYER_RECIPE_VERSION}|{LAMBDA_PYTHON_VERSION}|{LAMBDA_PLATFORM}\n{requirements}"
    return requirements, hashlib.sha256(recipe.encode()).hexdigest()[:16]


def layer_directory(lock_path: Path = RUNTIME_LOCK) -> tuple[Path, str]:
    requirements, key = layer_key(lock_path)
    return BUILD_DIR / f"layer-{key}", requirements


def uv_executable() -> str:
    """The uv the Makefile bootstrapped into the venv (pinned), else the first one on PATH.

    The venv's own uv wins over PATH so that a synth run outside make (an IDE, ``python app.py``)
    builds the layer with the same uv version as ``make synth``.
    """
    beside = Path(sys.executable).with_name("uv")
    if beside.is_file():
        return str(beside)
    found = shutil.which("uv")
    if found is None:
        raise PackagingError("uv not found beside the venv's Python nor on PATH: run `make dev` first")
    return found


def build_dependency_layer(lock_path: Path = RUNTIME_LOCK) -> Path:
    """Return ``build/layer-<hash>/`` (containing ``python/``), building it on first use."""
    target, requirements = layer_directory(lock_path)
    if (target / ".complete").exists():
        return target
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "python").mkdir(parents=True)
    requirements_file = staging / "requirements.txt"
    requirements_file.write_text(requirements, encoding="utf-8")
    command = [
        uv_executable(), "pip", "install", "--quiet", "--no-deps", "--require-hashes",
        "--only-binary", ":all:",
        "--python-platform", LAMBDA_PLATFORM, "--python-version", LAMBDA_PYTHON_VERSION,
        "--no-compile", "--link-mode", "copy",
        "--target", str(staging / "python"), "-r", str(requirements_file),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)  # noqa: S603
    if result.returncode != 0:
        raise PackagingError(f"building the dependency layer failed:\n{result.stdout}\n{result.stderr}")
    # Console scripts and type stubs are never imported at runtime.
    for junk in [
        staging / "python" / "bin",
        *staging.glob("python/**/__pycache__"),
        *staging.glob("python/*-stubs"),
    ]:
        shutil.rmtree(junk, ignore_errors=True)
    requirements_file.unlink()
    (staging / ".complete").write_text(requirements, encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


@jsii.implements(ILocalBundling)
class LayerBundler:
    """CDK local bundling: copy the cached layer (building it first if needed) into the asset.

    CDK calls this only when it bundles (``cdk synth``/``deploy``); local mode and tests that
    skip bundling (``aws:cdk:bundling-stacks = []``) never build the layer.
    """

    def __init__(self, lock_path: Path = RUNTIME_LOCK) -> None:
        self.lock_path = lock_path

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        built = build_dependency_layer(self.lock_path)
        shutil.copytree(built / "python", Path(output_dir) / "python", dirs_exist_ok=True)
        return True


def dependency_layer_code(lock_path: Path = RUNTIME_LOCK) -> lambda_.Code:
    _, key = layer_key(lock_path)
    return lambda_.Code.from_asset(
        str(lock_path.parent),
        # The layer is a function of the filtered lock and the recipe only.
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=key,
        bundling=BundlingOptions(
            # Never pulled: local bundling always succeeds or raises (no Docker on purpose).
            image=DockerImage.from_registry("local-bundling-only"),
            # jsii passes the options positionally, so the Python signature cannot match the protocol.
            local=LayerBundler(lock_path),  # type: ignore[arg-type]
        ),
    )


def function_code() -> lambda_.Code:
    return lambda_.Code.from_asset(str(LAMBDAS_DIR), exclude=list(CODE_EXCLUDES))
