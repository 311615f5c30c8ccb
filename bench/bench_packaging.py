"""Packaging benchmark: what each Lambda asset weighs and what each handler costs at cold start.

- Assets: the dependency layer (``build/layer-<hash>/python``) and the code asset
  (``build/code-<hash>/asset``), built by stacks/packaging.py exactly as ``cdk synth`` builds
  them, zipped deterministically (sorted entries, fixed timestamps, deflate) the way they are
  uploaded; with the CPython 3.12 bytecode they ship, and without it (the sources alone, what
  they shipped before), plus the time each compile takes (pyodide, in a scratch copy). Lambda's
  limits: 50 MB zipped per direct upload, 250 MB unzipped for a function plus its layers.
- Handlers: each entry point imported in a fresh interpreter (``python -I -c``), so every module
  is loaded from scratch as on a Lambda cold start: wall time of the import with bytecode (what a
  deployed function gets now; this machine's 3.11 bytecode stands in for the shipped 3.12) and
  without it (every module compiled on import, as before the assets shipped bytecode), and the
  process's peak resident memory (VmHWM), median of a few runs. The layer holds aarch64 wheels
  that cannot load on this machine, so the imports use the venv's copies of the same pinned
  versions (plus boto3, which the Lambda runtime provides). The first row is the bare interpreter.

Prints two tables; exits non-zero if an asset breaks a Lambda size limit.
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from _harness import ROOT, print_table, run_fresh_python

from stacks import packaging
from stacks.functions import FUNCTION_KINDS

RUNS = 5
MB = 1024 * 1024
ZIPPED_LIMIT_MB = 50
UNZIPPED_LIMIT_MB = 250
# Fixed timestamp so the archive (and its size) depends on the content only.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

# Runs in the child interpreter: import one handler, report seconds and peak RSS. VmHWM, not
# getrusage: ru_maxrss survives exec and would report this (CDK-loading) parent's peak.
PROBE = """
import json, sys, time
sys.path[:0] = {paths!r}
start = time.perf_counter()
if {module!r}:
    __import__({module!r})
elapsed = time.perf_counter() - start
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({{"seconds": elapsed, "peak_kib": peak, "modules": len(sys.modules)}}))
"""


def zip_directory(root: Path, *, bytecode: bool) -> tuple[int, int, int]:
    """(zipped bytes, unzipped bytes, files) of ``root`` as a deterministic deflate archive,
    without its ``.pyc`` files unless ``bytecode``."""
    buffer = io.BytesIO()
    unzipped = 0
    files = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if not bytecode and path.suffix == ".pyc":
                continue
            data = path.read_bytes()
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
            unzipped += len(data)
            files += 1
    return len(buffer.getvalue()), unzipped, files


def compile_seconds(directory: Path, runtime_dir: str, invalidation: str) -> float:
    """Wall time of compiling ``directory``'s sources as the build does, in a scratch copy."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "tree"
        shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("__pycache__"))
        start = time.perf_counter()
        packaging.compile_bytecode(copy, runtime_dir, invalidation)
        return time.perf_counter() - start


def import_cost(module: str, *, bytecode: bool) -> tuple[float, float, int]:
    """Median (milliseconds, peak MiB, modules loaded) of importing ``module`` in fresh interpreters.

    ``bytecode=False`` points the interpreter at an empty bytecode cache and forbids writing one,
    so every module is compiled from source, as from the shipped assets.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "ADS_CONNECT_"))}
    env.update(
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_SERVICE_NAME="amazon-ads-connect",
        POWERTOOLS_METRICS_NAMESPACE="AmazonAdsConnect",
    )
    code = PROBE.format(paths=[str(ROOT / "lambdas")], module=module)
    samples = []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as empty_cache:
            flags = [] if bytecode else ["-B", "-X", f"pycache_prefix={empty_cache}"]
            samples.append(run_fresh_python(code, flags, env, what=f"importing {module or 'nothing'}"))
    return (
        statistics.median(s["seconds"] for s in samples) * 1000,
        statistics.median(s["peak_kib"] for s in samples) / 1024,
        int(statistics.median(s["modules"] for s in samples)),
    )


def main() -> int:
    layer_dir = packaging.build_dependency_layer()
    code_dir = packaging.build_code_asset()
    assets = [
        ("dependency layer", layer_dir / "python", packaging.LAYER_RUNTIME_DIR, packaging.LAYER_INVALIDATION),
        ("code (lambdas/)", code_dir, packaging.CODE_RUNTIME_DIR, packaging.CODE_INVALIDATION),
    ]
    rows = []
    total_unzipped = 0
    over_limit = False
    for name, directory, runtime_dir, invalidation in assets:
        zipped, unzipped, files = zip_directory(directory, bytecode=True)
        source_zipped, source_unzipped, source_files = zip_directory(directory, bytecode=False)
        total_unzipped += unzipped
        over_limit |= zipped > ZIPPED_LIMIT_MB * MB
        rows.append([
            name,
            f"{zipped / MB:.2f}",
            f"{unzipped / MB:.2f}",
            files,
            f"{source_zipped / MB:.2f}",
            f"{source_unzipped / MB:.2f}",
            files - source_files,
            f"{compile_seconds(directory, runtime_dir, invalidation):.1f}",
        ])  # fmt: skip
    rows.append(["function + layer", "", f"{total_unzipped / MB:.2f}", "", "", "", "", ""])
    over_limit |= total_unzipped > UNZIPPED_LIMIT_MB * MB
    print_table(
        f"Lambda assets as shipped, with CPython {packaging.LAMBDA_PYTHON_VERSION} bytecode (limits: "
        f"{ZIPPED_LIMIT_MB} MB zipped, {UNZIPPED_LIMIT_MB} MB unzipped; {layer_dir.name}, "
        f"{code_dir.parent.name}; compiled by {packaging.compiler_pin()})",
        [
            "asset",
            "zipped MB",
            "unzipped MB",
            "files",
            "zipped MB (sources only)",
            "unzipped MB (sources only)",
            ".pyc files",
            "compile s",
        ],
        rows,
    )

    import_rows = []
    for module in ["", *(f"ads_connect.handlers.{kind}" for kind in FUNCTION_KINDS)]:
        cached_ms, _, _ = import_cost(module, bytecode=True)
        source_ms, mib, modules = import_cost(module, bytecode=False)
        label = module or "(bare interpreter)"
        import_rows.append([label, f"{cached_ms:.0f}", f"{source_ms:.0f}", f"{mib:.1f}", modules])
    print_table(
        f"Cold import per handler (fresh interpreter, median of {RUNS}; Python "
        f"{sys.version_info.major}.{sys.version_info.minor} here, 3.12 on Lambda)",
        ["handler", "import ms (.pyc, shipped)", "import ms (no .pyc, before)", "peak RSS MiB", "modules"],
        import_rows,
    )
    if over_limit:
        print("\nFAIL: an asset exceeds a Lambda size limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
