"""Lambda packaging (stacks/packaging.py): what goes into the dependency layer and the code asset.

Fast on purpose: a small lock in uv's export format, tiny CDK apps, and the real layer only when
``build/`` already holds one (``make synth`` builds it; these tests never do). The code asset is
compiled by every synth (cached per source state); the bytecode checks read each pyc's header
and recompute its source hash here, independently of the compiler: ``_imp.source_hash`` takes
its key explicitly, so this 3.11 computes CPython 3.12's hash from 3.12's magic number. The
build-folder tests (pruning, staging, concurrent builds) replace the compiler with a stand-in.
"""

from __future__ import annotations

import _imp
import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from stacks import packaging
from stacks.functions import RUNTIME
from stacks.packaging import (
    CODE_EXCLUDES,
    CODE_RUNTIME_DIR,
    LAMBDA_PYTHON_VERSION,
    LAYER_RUNTIME_DIR,
    RUNTIME_LOCK,
    RUNTIME_PROVIDED,
    PackagingError,
    compile_bytecode,
    compiler_version,
    layer_directory,
    layer_key,
    layer_requirements,
    parse_lock,
    python_minor,
)
from tests.infrastructure.conftest import FAST_CONTEXT, REPO_ROOT

# uv's `export --format requirements-txt` layout: a name==version line, indented hashes, then
# `# via` with one parent on the same line or several on the following lines.
LOCK = """\
boto3==1.44.5 \\
    --hash=sha256:aaaa
    # via amazon-ads-connect
botocore==1.44.5 \\
    --hash=sha256:bbbb
    # via
    #   boto3
    #   s3transfer
jmespath==1.0.1 \\
    --hash=sha256:cccc
    # via
    #   boto3
    #   botocore
pydantic==2.12.0 \\
    --hash=sha256:dddd \\
    --hash=sha256:eeee
    # via amazon-ads-connect
python-dateutil==2.9.0 \\
    --hash=sha256:ffff
    # via botocore
requests==2.32.5 \\
    --hash=sha256:1111
    # via amazon-ads-connect
s3transfer==0.14.0 \\
    --hash=sha256:2222
    # via boto3
six==1.17.0 \\
    --hash=sha256:3333
    # via python-dateutil
Typing_Extensions==4.15.0 \\
    --hash=sha256:4444
    # via pydantic
urllib3==2.5.0 \\
    --hash=sha256:5555
    # via
    #   botocore
    #   requests
"""
# CPython 3.12's magic number (3531): the first 4 bytes of its pycs and the key of its source hashes.
MAGIC_312 = (3531).to_bytes(2, "little") + b"\r\n"
DEV_TOOLS = ("pytest", "ruff", "mypy", "aws-cdk-lib", "constructs", "cdk-nag", "moto", "playwright", "uv")


def names(requirements: str) -> set[str]:
    return {entry.name for entry in parse_lock(requirements)}


def lock_file(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "runtime.lock"
    path.write_text(text, encoding="utf-8")
    return path


# --- the lock and the layer's requirement list -------------------------------------------------


def test_parse_lock_reads_names_hashes_and_every_parent() -> None:
    entries = {entry.name: entry for entry in parse_lock(LOCK)}
    assert list(entries) == [
        "boto3",
        "botocore",
        "jmespath",
        "pydantic",
        "python-dateutil",
        "requests",
        "s3transfer",
        "six",
        "typing-extensions",  # normalised as pip normalises names
        "urllib3",
    ]
    assert entries["botocore"].via == {"boto3", "s3transfer"}
    assert entries["pydantic"].via == {"amazon-ads-connect"}
    assert entries["pydantic"].block.splitlines() == [
        "pydantic==2.12.0 \\",
        "    --hash=sha256:dddd \\",
        "    --hash=sha256:eeee",
    ]
    assert all("# via" not in entry.block for entry in entries.values())


def test_the_layer_drops_the_boto3_family_and_what_only_it_needs() -> None:
    kept = layer_requirements(LOCK)
    # boto3/botocore/s3transfer ship with the runtime; jmespath, python-dateutil and six are
    # needed only by them (six only through python-dateutil); urllib3 is also requests'.
    assert names(kept) == {"pydantic", "requests", "typing-extensions", "urllib3"}
    assert "--hash=sha256:dddd" in kept and "--hash=sha256:eeee" in kept
    assert "--hash=sha256:aaaa" not in kept


def test_the_real_layer_holds_only_runtime_lock_packages_never_a_dev_tool() -> None:
    runtime = names(RUNTIME_LOCK.read_text(encoding="utf-8"))
    layer = names(layer_requirements(RUNTIME_LOCK.read_text(encoding="utf-8")))
    dev_only = names((REPO_ROOT / "requirements" / "dev.lock").read_text(encoding="utf-8")) - runtime
    assert {"pydantic", "aws-lambda-powertools", "requests"} <= layer <= runtime
    assert not layer & RUNTIME_PROVIDED
    assert not layer & dev_only
    assert not layer & set(DEV_TOOLS)
    assert {"pytest", "ruff", "aws-cdk-lib"} <= dev_only  # the dev lock really is the other list
    for entry in parse_lock(layer_requirements(RUNTIME_LOCK.read_text(encoding="utf-8"))):
        assert "--hash=sha256:" in entry.block, f"{entry.name} is not hash-pinned"


# --- the layer's cache key and asset hash --------------------------------------------------------


def test_layer_key_depends_on_the_kept_requirements_only(tmp_path: Path) -> None:
    first = lock_file(tmp_path / "a", LOCK)
    same_text_elsewhere = lock_file(tmp_path / "b", LOCK)
    runtime_bump = lock_file(tmp_path / "c", LOCK.replace("boto3==1.44.5", "boto3==1.44.9"))
    pydantic_bump = lock_file(tmp_path / "d", LOCK.replace("pydantic==2.12.0", "pydantic==2.12.1"))
    key = layer_key(first)[1]
    assert layer_key(same_text_elsewhere)[1] == key
    assert layer_key(runtime_bump)[1] == key  # a boto3 bump ships nothing new
    assert layer_key(pydantic_bump)[1] != key
    assert layer_directory(first)[0].name == f"layer-{key}"


def layer_asset_key(outdir: Path, lock_path: Path) -> str:
    """The S3 key CDK gives the layer asset of a one-layer app (bundling skipped, as in tests)."""
    app = cdk.App(outdir=str(outdir), context=FAST_CONTEXT)
    stack = cdk.Stack(app, "Layer")
    lambda_.LayerVersion(stack, "Dependencies", code=packaging.dependency_layer_code(lock_path))
    template = app.synth().get_stack_by_name("Layer").template
    [layer] = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::LayerVersion"]
    return str(layer["Properties"]["Content"]["S3Key"])


def test_the_layer_asset_hash_is_reproducible_from_the_lock(tmp_path: Path) -> None:
    first = lock_file(tmp_path / "a", LOCK)
    again = lock_file(tmp_path / "b", LOCK)
    changed = lock_file(tmp_path / "c", LOCK.replace("--hash=sha256:1111", "--hash=sha256:9999"))
    key = layer_asset_key(tmp_path / "out1", first)
    assert layer_asset_key(tmp_path / "out2", again) == key
    assert layer_asset_key(tmp_path / "out3", changed) != key


# --- the code asset ----------------------------------------------------------------------------


def staged_files(directory: Path) -> set[str]:
    return {str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file()}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


TINY_SOURCES = {
    "ads_connect/__init__.py": "",
    "ads_connect/handlers/worker.py": "def handler(event, context): ...\n",
    "ads_connect/handlers/__pycache__/worker.cpython-312.pyc": "bytecode",
    "ads_connect/handlers/__pycache__/worker.cpython-311.pyc": "bytecode",
    "ads_connect/stale.pyc": "bytecode",
    "ads_connect/models.pyi": "def f() -> None: ...\n",
    "ads_connect/py.typed": "",
    "ads_connect/.mypy_cache/3.12/cache.json": "{}",
}


def code_asset_of(source: Path, build_dir: Path, outdir: Path) -> Path:
    """The code asset directory CDK stages for a one-function app (bundling skipped, as in tests)."""
    app = cdk.App(outdir=str(outdir), context=FAST_CONTEXT)
    stack = cdk.Stack(app, "Code")
    lambda_.Function(
        stack,
        "Fn",
        code=packaging.function_code(source, build_dir),
        handler="ads_connect.handlers.worker.handler",
        runtime=RUNTIME,
    )
    template = app.synth().get_stack_by_name("Code").template
    [function] = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    return outdir / f"asset.{function['Properties']['Code']['S3Key'].removesuffix('.zip')}"


def test_the_code_asset_leaves_out_caches_stubs_and_markers_and_ships_312_bytecode(tmp_path: Path) -> None:
    source = write_tree(tmp_path / "lambdas", TINY_SOURCES)
    asset = code_asset_of(source, tmp_path / "build", tmp_path / "out")
    assert staged_files(asset) == {
        "ads_connect/__init__.py",
        "ads_connect/__pycache__/__init__.cpython-312.pyc",
        "ads_connect/handlers/worker.py",
        "ads_connect/handlers/__pycache__/worker.cpython-312.pyc",
    }
    assert len(CODE_EXCLUDES) == 5  # each pattern above has its file
    # The checkout's stale bytecode never ships: the pyc is the compiler's.
    assert (asset / "ads_connect/handlers/__pycache__/worker.cpython-312.pyc").read_bytes() != b"bytecode"


def test_the_code_asset_hash_is_the_same_for_the_same_sources_built_twice(tmp_path: Path) -> None:
    """Checked-hash pycs hold no timestamp: two clean builds give one asset (no needless upload)."""
    source = write_tree(tmp_path / "lambdas", TINY_SOURCES)
    first = code_asset_of(source, tmp_path / "build1", tmp_path / "out1")
    again = code_asset_of(source, tmp_path / "build2", tmp_path / "out2")
    assert first.name == again.name
    (source / "ads_connect/handlers/worker.py").write_text("def handler(event, context): return 1\n")
    changed = code_asset_of(source, tmp_path / "build1", tmp_path / "out3")
    assert changed.name != first.name


def test_a_source_that_does_not_compile_stops_the_build_naming_it(tmp_path: Path) -> None:
    source = write_tree(
        tmp_path / "lambdas", {"ads_connect/__init__.py": "", "ads_connect/bad.py": "def f(:\n"}
    )
    with pytest.raises(PackagingError, match=r"bad\.py") as raised:
        packaging.build_code_asset(source, tmp_path / "build")
    assert not list((tmp_path / "build").glob("code-*"))  # neither a build nor a partial one left
    # The error names the file where it is, not where pyodide mounted it.
    assert "/mnt/tree" not in str(raised.value)
    staging = str(tmp_path / "build" / "code-")
    assert f"{staging}" in str(raised.value) and "/asset/ads_connect/bad.py" in str(raised.value)


def fake_node(directory: Path, python_version: str, pyodide: str | None = None) -> Path:
    """A stand-in for Node + pyodide that reports a CPython (and a pyodide) and writes nothing."""
    script = directory / "node"
    fields: dict[str, Any] = {"python": python_version, "magic": "00000000", "ok": True, "compiled": 1}
    fields["pyodide"] = compiler_version() if pyodide is None else pyodide
    report = json.dumps({**fields, "missing": []})
    script.write_text(f"#!/bin/sh\necho '{report}'\n")
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("version", ["3.13.1", "3.11.9", "4.12.0"])
def test_a_compiler_of_another_python_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    source = write_tree(tmp_path / "lambdas", {"ads_connect/__init__.py": ""})
    monkeypatch.setattr(packaging, "node_executable", lambda: str(fake_node(tmp_path, version)))
    with pytest.raises(PackagingError, match=rf"runs Python {version}, the Lambda runtime is Python 3\.12"):
        packaging.build_code_asset(source, tmp_path / "build")
    assert not list((tmp_path / "build").glob("code-*"))
    # The same fake with the runtime's version passes the check (the refusal is the version's).
    monkeypatch.setattr(packaging, "node_executable", lambda: str(fake_node(tmp_path, "3.12.99")))
    assert packaging.build_code_asset(source, tmp_path / "build").is_dir()


@pytest.mark.parametrize("installed", ["0.27.7", "0.28.0", ""])
def test_an_installed_pyodide_other_than_the_pin_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, installed: str
) -> None:
    """The cache keys name the pin: a stale node_modules must not build under the pin's key."""
    source = write_tree(tmp_path / "lambdas", {"ads_connect/__init__.py": ""})
    monkeypatch.setattr(packaging, "node_executable", lambda: str(fake_node(tmp_path, "3.12.7", installed)))
    with pytest.raises(PackagingError, match=rf"pins {compiler_version()}: run `make dev`"):
        packaging.build_code_asset(source, tmp_path / "build")
    assert not list((tmp_path / "build").iterdir())


def test_both_cache_keys_include_the_compile_script_runtime_dir_and_invalidation_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = lock_file(tmp_path / "lock", LOCK)
    source = write_tree(tmp_path / "lambdas", {"ads_connect/__init__.py": ""})
    layer, code = layer_key(lock)[1], packaging.code_key(source)
    s3_key = layer_asset_key(tmp_path / "o1", lock)
    script = tmp_path / "compile_bytecode.mjs"
    script.write_bytes(packaging.BYTECODE_COMPILER.read_bytes() + b"// changed\n")
    with monkeypatch.context() as patch:
        patch.setattr(packaging, "BYTECODE_COMPILER", script)
        assert layer_key(lock)[1] != layer
        assert packaging.code_key(source) != code
        # The layer's S3 key is its cache key: a new script uploads a new layer.
        assert layer_asset_key(tmp_path / "o2", lock) != s3_key
    # Each asset's own recipe settings change its key only.
    for setting, value, layer_changes in [
        ("LAYER_RUNTIME_DIR", "/opt/python3", True),
        ("LAYER_INVALIDATION", "checked-hash", True),
        ("CODE_RUNTIME_DIR", "/var/task2", False),
        ("CODE_INVALIDATION", "unchecked-hash", False),
    ]:
        with monkeypatch.context() as patch:
            patch.setattr(packaging, setting, value)
            assert (layer_key(lock)[1] != layer) is layer_changes, setting
            assert (packaging.code_key(source) != code) is not layer_changes, setting
    assert (layer_key(lock)[1], packaging.code_key(source)) == (layer, code)


def test_a_step_that_does_not_finish_is_a_packaging_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def hangs(command: list[str], **kwargs: Any) -> None:
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    monkeypatch.setattr(packaging.subprocess, "run", hangs)
    source = write_tree(tmp_path / "lambdas", {"ads_connect/__init__.py": ""})
    with pytest.raises(PackagingError, match=r"^compiling bytecode did not finish within 600 s"):
        packaging.build_code_asset(source, tmp_path / "build")
    monkeypatch.setattr(packaging, "BUILD_DIR", tmp_path / "build")
    with pytest.raises(PackagingError, match=r"^installing the dependency layer did not finish within 600 s"):
        packaging.build_dependency_layer(lock_file(tmp_path / "lock", LOCK))
    assert not list((tmp_path / "build").iterdir())


# --- build/: reuse, pruning, staging, concurrent builds (the compiler replaced by a stand-in) ----

HOUR = packaging.IN_USE_SECONDS


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace the compiler (pyodide, ~2 s a run) by a recorder: the directories it was given."""
    calls: list[Path] = []

    def record(directory: Path, runtime_dir: str, invalidation: str) -> None:
        calls.append(directory)

    monkeypatch.setattr(packaging, "compile_bytecode", record)
    return calls


def aged(path: Path, seconds: float) -> Path:
    """Set path's mtime to that many seconds ago (pruning and sweeping go by it)."""
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def fake_build(build_dir: Path, key: str, last_used_ago: float | None) -> Path:
    """A build folder as build_code_asset leaves it; None: no .complete (a half-removed one)."""
    path = build_dir / f"code-{key}"
    (path / "asset").mkdir(parents=True)
    if last_used_ago is None:
        return aged(path, 2 * HOUR)
    (path / ".complete").touch()
    aged(path / ".complete", last_used_ago)
    return path


def test_pruning_keeps_the_most_recently_used_builds_and_nothing_but_old_builds_goes(
    tmp_path: Path, compiles: list[Path]
) -> None:
    build = tmp_path / "build"
    old = [fake_build(build, f"{i:016x}", 2 * HOUR + i * 60) for i in range(4)]  # old[0] used last
    half_removed = fake_build(build, "e" * 16, None)
    # Another process's staging, .complete already written, about to be renamed into place, and
    # a folder that is no build: both look like old builds except for their names.
    theirs = build / f"code-{'f' * 16}.partial-4242-x1y2"
    not_a_build = build / "code-notes"
    for path in (theirs, not_a_build):
        (path / "asset").mkdir(parents=True)
        (path / ".complete").touch()
        aged(path / ".complete", 3 * HOUR)
    source = write_tree(tmp_path / "lambdas", {"ads_connect/__init__.py": ""})
    new = packaging.build_code_asset(source, build).parent
    assert len(compiles) == 1
    # Kept: the 3 most recently used builds (the new one first), another process's staging and
    # a name that is no build. Gone: the older builds and the half-removed one.
    assert packaging.CODE_BUILDS_KEPT == 3
    assert {p.name for p in build.iterdir()} == {p.name for p in [new, old[0], old[1], theirs, not_a_build]}
    assert not half_removed.exists()


def test_a_build_used_within_the_hour_is_never_pruned(tmp_path: Path, compiles: list[Path]) -> None:
    """Another synth may be copying it into its cdk.out right now."""
    build = tmp_path / "build"
    recent = [fake_build(build, f"{i:016x}", 60 + i) for i in range(4)]
    fresh_half_removed = aged(fake_build(build, "e" * 16, None), 60)  # maybe being removed right now
    source = write_tree(tmp_path / "lambdas", {"ads_connect/__init__.py": ""})
    new = packaging.build_code_asset(source, build).parent
    assert {p.name for p in build.iterdir()} == {p.name for p in [new, *recent, fresh_half_removed]}


def test_reusing_a_build_makes_it_the_most_recently_used(tmp_path: Path, compiles: list[Path]) -> None:
    build = tmp_path / "build"
    source = write_tree(tmp_path / "lambdas", {"ads_connect/__init__.py": ""})
    first = packaging.build_code_asset(source, build)
    aged(first.parent / ".complete", 3 * HOUR)
    assert packaging.build_code_asset(source, build) == first
    assert len(compiles) == 1  # reused, not rebuilt
    assert time.time() - (first.parent / ".complete").stat().st_mtime < 60


def test_staging_abandoned_over_an_hour_ago_is_swept_and_recent_staging_kept(
    tmp_path: Path, compiles: list[Path]
) -> None:
    build = tmp_path / "build"
    abandoned = [
        build / f"code-{'a' * 16}.partial-4242-x1y2",  # a SIGTERMed synth's
        build / f"layer-{'b' * 16}.partial",  # the layer's staging before it was per process
    ]
    running = build / f"code-{'c' * 16}.partial-4343-z3w4"
    for path in [*abandoned, running]:
        (path / "asset").mkdir(parents=True)
    for path in abandoned:
        aged(path, HOUR + 60)
    aged(running, HOUR - 60)
    source = write_tree(tmp_path / "lambdas", {"ads_connect/__init__.py": ""})
    new = packaging.build_code_asset(source, build).parent
    assert {p.name for p in build.iterdir()} == {new.name, running.name}


@pytest.mark.parametrize("step", ["copying", "compiling"])
def test_an_interrupted_build_leaves_no_staging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    def interrupted(*args: Any) -> None:
        raise KeyboardInterrupt

    if step == "copying":
        monkeypatch.setattr(packaging.shutil, "copyfile", interrupted)
    else:
        monkeypatch.setattr(packaging, "compile_bytecode", interrupted)
    source = write_tree(tmp_path / "lambdas", {"ads_connect/__init__.py": ""})
    with pytest.raises(KeyboardInterrupt):
        packaging.build_code_asset(source, tmp_path / "build")
    assert not list((tmp_path / "build").iterdir())


def test_a_target_left_without_complete_is_replaced(tmp_path: Path, compiles: list[Path]) -> None:
    """What an interrupted removal leaves used to fail every later build ("Directory not empty")."""
    build = tmp_path / "build"
    source = write_tree(tmp_path / "lambdas", {"ads_connect/__init__.py": ""})
    leftover = write_tree(build / f"code-{packaging.code_key(source)}", {"asset/ads_connect/old.py": ""})
    asset = packaging.build_code_asset(source, build)
    assert asset.parent == leftover and (leftover / ".complete").is_file()
    assert staged_files(asset) == {"ads_connect/__init__.py"}
    assert [p.name for p in build.iterdir()] == [leftover.name]


def test_a_code_build_another_process_finished_first_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = tmp_path / "build"
    source = write_tree(tmp_path / "lambdas", {"ads_connect/__init__.py": ""})
    target = build / f"code-{packaging.code_key(source)}"

    def another_process_finishes_first(directory: Path, runtime_dir: str, invalidation: str) -> None:
        write_tree(target, {"asset/theirs": "", ".complete": CODE_RUNTIME_DIR})

    monkeypatch.setattr(packaging, "compile_bytecode", another_process_finishes_first)
    assert packaging.build_code_asset(source, build) == target / "asset"
    assert staged_files(target) == {"asset/theirs", ".complete"}
    assert [p.name for p in build.iterdir()] == [target.name]  # our staging discarded


def test_a_layer_build_is_staged_per_process_and_keeps_one_finished_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two synths building one layer: the second to finish discards its own, never replacing the
    first's (which the first may be copying into its cdk.out)."""
    monkeypatch.setattr(packaging, "BUILD_DIR", tmp_path / "build")
    lock = lock_file(tmp_path / "lock", LOCK)
    target, requirements = layer_directory(lock)
    stagings: list[Path] = []

    def install(staging: Path, requirements: str) -> str:
        stagings.append(staging)
        write_tree(staging, {"python/ours.py": ""})
        write_tree(target, {"python/theirs.py": "", ".complete": requirements})
        return requirements

    monkeypatch.setattr(packaging, "_install_layer", install)
    assert packaging.build_dependency_layer(lock) == target
    [staging] = stagings
    assert staging.parent == target.parent and staging.name.startswith(
        f"{target.name}.partial-{os.getpid()}-"
    )
    assert staged_files(target) == {"python/theirs.py", ".complete"}
    assert [p.name for p in target.parent.iterdir()] == [target.name]
    assert (target / ".complete").read_text(encoding="utf-8") == requirements


# --- the stack's code asset and its bytecode ---------------------------------------------------


@pytest.fixture(scope="module")
def stack_code_asset(synthesized: Any) -> Path:
    keys = {
        r["Properties"]["Code"]["S3Key"]
        for r in synthesized.of_type("AWS::Lambda::Function").values()
        if "S3Key" in r["Properties"].get("Code", {})
        and r["Properties"].get("Handler", "").startswith("ads_connect.")
    }
    [key] = keys  # one code asset shared by every product function
    return Path(synthesized.outdir / f"asset.{key.removesuffix('.zip')}")


def test_the_stacks_code_asset_is_the_lambdas_sources_and_their_bytecode(stack_code_asset: Path) -> None:
    files = staged_files(stack_code_asset)
    sources = {f for f in files if not f.endswith(".pyc")}
    assert "ads_connect/handlers/refresh_worker.py" in sources
    assert sources == {p.as_posix() for p in packaging.shipped_sources(packaging.LAMBDAS_DIR)}
    for name in sources:  # the same bytes as the checkout's, not a rewritten copy
        assert (stack_code_asset / name).read_bytes() == (packaging.LAMBDAS_DIR / name).read_bytes(), name
    offending = [f for f in sources if f.endswith((".pyi", "py.typed")) or "__pycache__" in f or "mypy" in f]
    assert offending == []
    assert not any(f.startswith(("tests/", "local/", "emulator/", "cli/")) for f in files)


def pyc_path(source: str) -> str:
    parent, _, name = source.rpartition("/")
    cached = f"__pycache__/{name.removesuffix('.py')}.cpython-{LAMBDA_PYTHON_VERSION.replace('.', '')}.pyc"
    return f"{parent}/{cached}" if parent else cached


def source_hash_312(source: bytes) -> bytes:
    """The source hash CPython 3.12 puts in a hash-based pyc: SipHash keyed with its magic number
    (what importlib.util.source_hash does with the running interpreter's)."""
    return _imp.source_hash(int.from_bytes(MAGIC_312, "little"), source)


def test_the_local_312_source_hash_is_the_one_pyodide_writes(tmp_path: Path) -> None:
    """Guards source_hash_312 (the independent check below) against pyodide's own pyc."""
    root = write_tree(tmp_path / "t", {"m.py": "x = 1\n"})
    compile_bytecode(root, CODE_RUNTIME_DIR)
    pyc = (root / pyc_path("m.py")).read_bytes()
    assert pyc[8:16] == source_hash_312(b"x = 1\n") != source_hash_312(b"x = 2\n")


# The pyc flags word (PEP 552): bit 0 hash-based, bit 1 checked against the source.
CHECKED_HASH_FLAGS = 0b11
UNCHECKED_HASH_FLAGS = 0b01


def assert_hash_based_bytecode(root: Path, runtime_dir: str, flags_expected: int) -> int:
    """Every .py under root has exactly its CPython 3.12 pyc: magic 3531, the given hash-based
    flags, the source hash CPython 3.12 computes, the path Lambda gives the file. Returns the count."""
    files = staged_files(root)
    sources = {f for f in files if f.endswith(".py")}
    assert {f for f in files if f.endswith(".pyc")} == {pyc_path(f) for f in sources}
    for name in sorted(sources):
        pyc = (root / pyc_path(name)).read_bytes()
        magic, flags, source_hash = pyc[:4], struct.unpack("<I", pyc[4:8])[0], pyc[8:16]
        assert magic == MAGIC_312, name
        assert flags == flags_expected, name
        assert source_hash == source_hash_312((root / name).read_bytes()), name
        assert f"{runtime_dir}/{name}".encode() in pyc, name  # co_filename: tracebacks name Lambda's path
    return len(sources)


def test_every_source_of_the_stacks_code_asset_has_its_checked_hash_312_pyc(stack_code_asset: Path) -> None:
    # Checked: a file edited in the Lambda console is compiled, never shadowed by its old pyc.
    assert assert_hash_based_bytecode(stack_code_asset, CODE_RUNTIME_DIR, CHECKED_HASH_FLAGS) > 50


def test_the_compilers_python_is_the_lambda_runtimes(tmp_path: Path) -> None:
    """Bumping the runtime (stacks/functions.py RUNTIME) without the compiler, or the reverse, fails."""
    report = compile_bytecode(write_tree(tmp_path / "t", {"m.py": "x = 1\n"}), CODE_RUNTIME_DIR)
    assert RUNTIME.name == f"python{python_minor(report.python)}"
    assert RUNTIME.name == f"python{LAMBDA_PYTHON_VERSION}"
    assert report.magic == MAGIC_312.hex() == "cb0d0d0a"  # CPython 3.12's magic number, 3531
    assert report.pyodide == compiler_version()


# --- the built layer (only when make synth built it already) -------------------------------------


def test_a_built_layer_has_no_runtime_provided_package_nor_scripts() -> None:
    target, requirements = layer_directory()
    if not (target / ".complete").exists():
        pytest.skip(f"{target.relative_to(REPO_ROOT)} not built (make synth builds it)")
    top = {path.name.lower() for path in (target / "python").iterdir()}
    assert {"pydantic", "aws_lambda_powertools", "requests"} <= top
    assert not top & {"boto3", "botocore", "s3transfer", "bin"}
    assert (target / ".complete").read_text(encoding="utf-8") == requirements


def test_every_source_of_a_built_layer_has_its_unchecked_hash_312_pyc() -> None:
    target, _ = layer_directory()
    if not (target / ".complete").exists():
        pytest.skip(f"{target.relative_to(REPO_ROOT)} not built (make synth builds it)")
    # Unchecked: a layer version is immutable, so an import need not read and hash the source.
    assert assert_hash_based_bytecode(target / "python", LAYER_RUNTIME_DIR, UNCHECKED_HASH_FLAGS) > 500


# --- which uv builds it ----------------------------------------------------------------------


def test_the_venvs_uv_builds_the_layer_before_any_uv_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv_bin, elsewhere = tmp_path / "venv" / "bin", tmp_path / "elsewhere"
    for directory in (venv_bin, elsewhere):
        directory.mkdir(parents=True)
        (directory / "uv").write_text("#!/bin/sh\n")
        (directory / "uv").chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(venv_bin / "python"))
    monkeypatch.setenv("PATH", str(elsewhere))
    assert packaging.uv_executable() == str(venv_bin / "uv")
    (venv_bin / "uv").unlink()
    assert packaging.uv_executable() == str(elsewhere / "uv")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(PackagingError, match="make dev"):
        packaging.uv_executable()


def test_the_fixture_lock_is_in_uvs_export_format() -> None:
    """Guards the fixture above against drifting from what `make lock` writes."""
    real = RUNTIME_LOCK.read_text(encoding="utf-8").splitlines()
    assert real[0].endswith(" \\") and real[1].startswith("    --hash=sha256:")
    assert any(line == "    # via" for line in real) and any(line.startswith("    #   ") for line in real)
    assert json.dumps(LOCK).count("# via") == len(parse_lock(LOCK))
