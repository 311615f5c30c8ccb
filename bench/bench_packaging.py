"""Packaging benchmark: what each Lambda asset weighs and what each handler costs at cold start.

- Assets: the dependency layer (``build/layer-<hash>/``, built by stacks/packaging.py exactly as
  ``cdk synth`` builds it) and the ``lambdas/`` code asset, zipped deterministically (sorted
  entries, fixed timestamps, deflate) the way they are uploaded. Lambda's limits: 50 MB zipped
  per direct upload, 250 MB unzipped for a function plus its layers.
- Handlers: each entry point imported in a fresh interpreter (``python -I -c``), so every module
  is loaded from scratch as on a Lambda cold start: wall time of the import with bytecode caches
  and without them (the assets ship no ``.pyc``, so Lambda compiles on first import), and the
  process's peak resident memory (VmHWM), median of a few runs. The layer holds aarch64 wheels
  that cannot load on this machine, so the imports use the venv's copies of the same pinned
  versions (plus boto3, which the Lambda runtime provides). The first row is the bare interpreter.

Prints two tables; exits non-zero if an asset breaks a Lambda size limit.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
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


def _excluded(relative: Path) -> bool:
    return any(relative.match(pattern.removeprefix("**/")) for pattern in packaging.CODE_EXCLUDES) or any(
        part in ("__pycache__", ".mypy_cache") for part in relative.parts
    )


def zip_directory(root: Path, *, exclude: bool) -> tuple[int, int, int]:
    """(zipped bytes, unzipped bytes, files) of ``root`` as a deterministic deflate archive."""
    buffer = io.BytesIO()
    unzipped = 0
    files = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            relative = path.relative_to(root)
            if exclude and _excluded(relative):
                continue
            data = path.read_bytes()
            info = zipfile.ZipInfo(relative.as_posix(), date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
            unzipped += len(data)
            files += 1
    return len(buffer.getvalue()), unzipped, files


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
    assets = [
        ("dependency layer", layer_dir, False),
        ("code (lambdas/)", packaging.LAMBDAS_DIR, True),
    ]
    rows = []
    total_unzipped = 0
    over_limit = False
    for name, directory, exclude in assets:
        zipped, unzipped, files = zip_directory(directory, exclude=exclude)
        total_unzipped += unzipped
        over_limit |= zipped > ZIPPED_LIMIT_MB * MB
        rows.append([name, f"{zipped / MB:.2f}", f"{unzipped / MB:.2f}", files])
    rows.append(["function + layer", "", f"{total_unzipped / MB:.2f}", ""])
    over_limit |= total_unzipped > UNZIPPED_LIMIT_MB * MB
    print_table(
        f"Lambda assets (limits: {ZIPPED_LIMIT_MB} MB zipped, {UNZIPPED_LIMIT_MB} MB unzipped; "
        f"layer {layer_dir.name})",
        ["asset", "zipped MB", "unzipped MB", "files"],
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
        ["handler", "import ms (.pyc)", "import ms (no .pyc)", "peak RSS MiB", "modules"],
        import_rows,
    )
    if over_limit:
        print("\nFAIL: an asset exceeds a Lambda size limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
