"""Lambda packaging (stacks/packaging.py): what goes into the dependency layer and the code asset.

Fast on purpose: a small lock in uv's export format, tiny CDK apps, and the real layer only when
``build/`` already holds one (``make synth`` builds it; these tests never do). The code asset is
compiled by every synth (cached per source state); the bytecode checks read each pyc's header
here and take the source hashes from the compiler's own CPython 3.12 (3.11 cannot compute them:
the key is the interpreter's magic number).
"""

from __future__ import annotations

import json
import struct
import sys
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
    compiler_source_hashes,
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
    with pytest.raises(PackagingError, match=r"bad\.py"):
        packaging.build_code_asset(source, tmp_path / "build")
    assert not list((tmp_path / "build").glob("code-*"))  # neither a build nor a partial one left


def fake_node(directory: Path, python_version: str) -> Path:
    """A stand-in for Node + pyodide that reports another CPython and writes nothing."""
    script = directory / "node"
    report = json.dumps(
        {"python": python_version, "magic": "00000000", "ok": True, "compiled": 1, "missing": []}
    )
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


def assert_checked_hash_bytecode(root: Path, runtime_dir: str) -> int:
    """Every .py under root has exactly its CPython 3.12 pyc: magic 3531, checked-hash flags, the
    source hash CPython 3.12 computes, the path Lambda gives the file. Returns the count."""
    report, hashes = compiler_source_hashes(root)
    assert python_minor(report.python) == LAMBDA_PYTHON_VERSION
    files = staged_files(root)
    sources = {f for f in files if f.endswith(".py")}
    assert set(hashes) == sources
    assert {f for f in files if f.endswith(".pyc")} == {pyc_path(f) for f in sources}
    for name in sorted(sources):
        pyc = (root / pyc_path(name)).read_bytes()
        magic, flags, source_hash = pyc[:4], struct.unpack("<I", pyc[4:8])[0], pyc[8:16]
        assert magic == (3531).to_bytes(2, "little") + b"\r\n", name
        assert flags == 0b11, name  # hash-based (bit 0) and checked (bit 1)
        assert source_hash.hex() == hashes[name], name
        assert f"{runtime_dir}/{name}".encode() in pyc, name  # co_filename: tracebacks name Lambda's path
    return len(sources)


def test_every_source_of_the_stacks_code_asset_has_its_checked_hash_312_pyc(stack_code_asset: Path) -> None:
    assert assert_checked_hash_bytecode(stack_code_asset, CODE_RUNTIME_DIR) > 50


def test_the_compilers_python_is_the_lambda_runtimes(tmp_path: Path) -> None:
    """Bumping the runtime (stacks/functions.py RUNTIME) without the compiler, or the reverse, fails."""
    report, _ = compiler_source_hashes(write_tree(tmp_path / "t", {"m.py": "x = 1\n"}))
    assert RUNTIME.name == f"python{python_minor(report.python)}"
    assert RUNTIME.name == f"python{LAMBDA_PYTHON_VERSION}"
    assert report.magic == "cb0d0d0a"  # CPython 3.12's magic number, 3531


# --- the built layer (only when make synth built it already) -------------------------------------


def test_a_built_layer_has_no_runtime_provided_package_nor_scripts() -> None:
    target, requirements = layer_directory()
    if not (target / ".complete").exists():
        pytest.skip(f"{target.relative_to(REPO_ROOT)} not built (make synth builds it)")
    top = {path.name.lower() for path in (target / "python").iterdir()}
    assert {"pydantic", "aws_lambda_powertools", "requests"} <= top
    assert not top & {"boto3", "botocore", "s3transfer", "bin"}
    assert (target / ".complete").read_text(encoding="utf-8") == requirements


def test_every_source_of_a_built_layer_has_its_checked_hash_312_pyc() -> None:
    target, _ = layer_directory()
    if not (target / ".complete").exists():
        pytest.skip(f"{target.relative_to(REPO_ROOT)} not built (make synth builds it)")
    assert assert_checked_hash_bytecode(target / "python", LAYER_RUNTIME_DIR) > 500


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
