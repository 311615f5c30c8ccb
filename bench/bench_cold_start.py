"""Cold-start benchmark: what a handler's cold start costs beyond the least any Python Lambda pays.

For each function, in fresh interpreters (``python -I``), side by side in one shuffled run:

- **handler**: import the handler module and build the dependencies its first request builds
  (settings, adapters, boto3 clients), up to but not including the first network call (a socket
  guard in the child turns any connect into a failure, so nothing here waits on a network);
- **baseline**: ``import boto3, requests`` and create the same boto3 clients and resources the
  handler created (found by a discovery run that records them, so the two cannot drift).

``cold start ratio`` = the median over ``RUNS`` (≥ 7) rounds of handler ÷ baseline, both measured
in the same round (each round runs every probe once, shuffled), the larger of the consent and
callback functions (the advertiser waits on those two); target ≤ 1.25. Pairing within a round
keeps a machine whose speed drifts between rounds from moving the ratio. The table's milliseconds
are the plain medians. Admin, scheduler and worker are in the table for information.

Bytecode: "with .pyc" runs read a bytecode cache warmed beforehand (``-X pycache_prefix``): what a
deployed function gets now that both assets ship CPython 3.12 bytecode (stacks/packaging.py). The
local run uses this interpreter's 3.11 bytecode as a stand-in for the shipped 3.12 pycs (there is
no 3.12 here; pyodide compiles but cannot run these imports). "No .pyc" runs use a copy of that
cache without the modules our assets ship (``lambdas/`` and every dependency-layer package): how
Lambda imported the assets before they shipped bytecode (the standard library and the
runtime-provided boto3 family keep theirs), kept to show what the bytecode saves. Both figures
divide by the baseline with bytecode (the least a function pays). The imports use the venv's
copies of the layer's pinned versions (the layer holds aarch64 wheels that cannot load here);
Python 3.11 here, 3.12 on Lambda.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import random
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _harness import ROOT, print_table, run_fresh_python

from stacks import packaging
from stacks.functions import FUNCTION_KINDS

RUNS = 15
TARGET = 1.25
PUBLIC_KINDS = ("consent", "callback")
# What each function's first request builds (its composition root), as module:callable.
FIRST_REQUEST_BUILDS = {
    "consent": "ads_connect.handlers.dependencies:public_dependencies",
    "callback": "ads_connect.handlers.dependencies:public_dependencies",
    "admin": "ads_connect.handlers.admin:service",
    "refresh_scheduler": "ads_connect.handlers.refresh_scheduler:_dependencies",
    "refresh_worker": "ads_connect.handlers.refresh_worker:_dependencies",
}
# A deployed function's environment, with made-up values (nothing here is contacted).
CHILD_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench-not-a-key",
    "AWS_SECRET_ACCESS_KEY": "bench-not-a-secret",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "amazon-ads-connect",
    "POWERTOOLS_METRICS_NAMESPACE": "AmazonAdsConnect",
    "ADS_CONNECT_TABLE_NAME": "AmazonAdsConnect-bench-Table",
    "ADS_CONNECT_SECRET_PREFIX": "ads-connect/bench",
    "ADS_CONNECT_LWA_SECRET_ID": "ads-connect/bench/lwa-client",
    "ADS_CONNECT_EVENT_BUS_NAME": "AmazonAdsConnect-bench-Bus",
    "ADS_CONNECT_APP_NAME": "Bench",
    "ADS_CONNECT_WORK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-work",
}

# Runs first in every child: a connect attempt ends the run (the measured path must not wait
# on a network), and the measurement starts after it.
GUARD = """
import json, socket, sys, time
sys.path[:0] = {paths!r}
def _no_network(*args, **kwargs):
    raise SystemExit("network call during the measured cold start")
socket.socket.connect = _no_network
socket.socket.connect_ex = _no_network
"""
HANDLER_BODY = """
import importlib
start = time.perf_counter()
module_name, _, builder = {builds!r}.partition(":")
importlib.import_module("ads_connect.handlers.{kind}")
getattr(importlib.import_module(module_name), builder)()
elapsed = time.perf_counter() - start
"""
BASELINE_BODY = """
start = time.perf_counter()
import boto3, requests
for service in {resources!r}:
    boto3.resource(service)
for service in {clients!r}:
    boto3.client(service)
elapsed = time.perf_counter() - start
"""
REPORT = """
print(json.dumps({"ms": elapsed * 1000, "xray": "aws_xray_sdk" in sys.modules, "modules": len(sys.modules)}))
"""
# Discovery: which boto3 resources and clients does the handler's first request build?
DISCOVER = """
import boto3.session, importlib
made = {{"resources": [], "clients": []}}
depth = [0]
_resource, _client = boto3.session.Session.resource, boto3.session.Session.client
def resource(self, name, *args, **kwargs):
    made["resources"].append(name); depth[0] += 1
    try:
        return _resource(self, name, *args, **kwargs)
    finally:
        depth[0] -= 1
def client(self, name, *args, **kwargs):
    if not depth[0]:
        made["clients"].append(name)
    return _client(self, name, *args, **kwargs)
boto3.session.Session.resource, boto3.session.Session.client = resource, client
module_name, _, builder = {builds!r}.partition(":")
importlib.import_module("ads_connect.handlers.{kind}")
getattr(importlib.import_module(module_name), builder)()
print(json.dumps(made))
"""


# Rewrites the cache entries of the given packages/modules as hash-based pycs of the mode the
# assets ship (compileall honours -X pycache_prefix).
HASH_BASED = """
import compileall, json, os, py_compile
ok = True
for path, invalidation in {paths!r}:
    mode = py_compile.PycInvalidationMode[invalidation.upper().replace("-", "_")]
    compile_one = compileall.compile_dir if os.path.isdir(path) else compileall.compile_file
    ok = bool(compile_one(path, quiet=2, force=True, invalidation_mode=mode)) and ok
print(json.dumps({{"ok": ok}}))
"""


@dataclass(frozen=True)
class Probe:
    label: str
    code: str
    bytecode: bool


def child_env() -> dict[str, str]:
    keep = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "ADS_CONNECT_"))}
    return {**keep, **CHILD_ENV}


def run_child(code: str, flags: list[str]) -> dict[str, Any]:
    return run_fresh_python(code, flags, child_env(), what=f"cold-start probe\n{code}\n")


def shipped_sources() -> list[Path]:
    """What our assets ship as source: ``lambdas/`` and every dependency-layer package's top-level
    modules (the runtime-provided boto3 family is not among them and keeps its bytecode)."""
    lock = packaging.RUNTIME_LOCK.read_text(encoding="utf-8")
    layer = {entry.name for entry in packaging.parse_lock(packaging.layer_requirements(lock))}
    shipped = [packaging.LAMBDAS_DIR.resolve()]
    for name in sorted(layer):
        distribution = importlib.metadata.distribution(name)
        site = Path(str(distribution.locate_file(""))).resolve()
        for file in distribution.files or ():
            top = Path(str(distribution.locate_file(file.parts[0]))).resolve()
            if file.suffix == ".py" and top.parent == site and top not in shipped:
                shipped.append(top)
    return shipped


def prepare_caches(workdir: Path, probes: list[Probe]) -> tuple[Path, Path]:
    """(full bytecode cache, the same without our assets' modules), warmed by one run each."""
    full = workdir / "pyc"
    for probe in probes:
        run_child(probe.code, ["-X", f"pycache_prefix={full}"])
    # The shipped pycs are hash-based (stacks/packaging.py): the code's are checked (each import
    # also reads and hashes the source), the layer's unchecked. Recompile our assets' modules the
    # same way so the .pyc figure pays what a deployed function pays.
    sources = shipped_sources()
    modes = [
        (
            str(p),
            packaging.CODE_INVALIDATION
            if p == packaging.LAMBDAS_DIR.resolve()
            else packaging.LAYER_INVALIDATION,
        )
        for p in sources
    ]
    recompiled = run_child(HASH_BASED.format(paths=modes), ["-X", f"pycache_prefix={full}"])
    if not recompiled["ok"]:
        raise SystemExit("recompiling the assets' modules as hash-based pycs failed")
    without_assets = workdir / "pyc-runtime-only"
    shutil.copytree(full, without_assets)
    removed = 0
    for source in sources:
        mirrored = without_assets / str(source).lstrip("/")
        if source.is_dir() and mirrored.exists():
            shutil.rmtree(mirrored)
            removed += 1
        # A single-module distribution (typing_extensions.py) is cached beside its siblings.
        for cached in mirrored.parent.glob(f"{source.stem}.*.pyc") if source.is_file() else ():
            cached.unlink()
            removed += 1
    if removed == 0:
        raise SystemExit("no asset bytecode found in the warmed cache: the no-.pyc figures would be wrong")
    return full, without_assets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=RUNS, help=f"fresh interpreters per figure (>= 7; {RUNS})"
    )
    args = parser.parse_args()
    if args.runs < 7:
        parser.error("--runs must be at least 7 (the ratio is a median of at least 7)")
    guard = GUARD.format(paths=[str(ROOT / "lambdas")])

    # Which clients each handler's first request builds, found once (also proves no network);
    # the baseline builds the same ones, as many times (two resources cost two clients).
    baselines: dict[str, str] = {}
    for kind in FUNCTION_KINDS:
        made = run_child(guard + DISCOVER.format(kind=kind, builds=FIRST_REQUEST_BUILDS[kind]), [])
        baselines[kind] = (
            guard
            + BASELINE_BODY.format(
                resources=sorted(made["resources"]),
                clients=sorted(made["clients"]),
            )
            + REPORT
        )

    probes: list[Probe] = []
    for kind in FUNCTION_KINDS:
        handler = guard + HANDLER_BODY.format(kind=kind, builds=FIRST_REQUEST_BUILDS[kind]) + REPORT
        probes += [Probe(kind, handler, True), Probe(kind, handler, False)]
    for code in sorted(set(baselines.values())):
        probes.append(Probe(f"baseline:{code}", code, True))

    samples: dict[tuple[str, bool], list[dict[str, Any]]] = {(p.label, p.bytecode): [] for p in probes}
    with tempfile.TemporaryDirectory(prefix="bench-cold-start-") as workdir:
        full, without_assets = prepare_caches(Path(workdir), probes)
        order = random.Random(13)  # the run order, not a secret
        for _ in range(args.runs):
            round_probes = probes[:]
            order.shuffle(round_probes)
            for probe in round_probes:
                flags = ["-X", f"pycache_prefix={full}"] if probe.bytecode else [
                    "-B", "-X", f"pycache_prefix={without_assets}"
                ]  # fmt: skip
                samples[(probe.label, probe.bytecode)].append(run_child(probe.code, flags))

    def median_ms(label: str, bytecode: bool) -> float:
        return statistics.median(float(s["ms"]) for s in samples[(label, bytecode)])

    def median_ratio(label: str, bytecode: bool, baseline_label: str) -> float:
        """Median over rounds of handler ÷ baseline within the round: each pair ran side by side,
        so a machine that slows down between rounds slows both (sample r is round r's)."""
        pairs = zip(samples[(label, bytecode)], samples[(baseline_label, True)], strict=True)
        return statistics.median(float(h["ms"]) / float(b["ms"]) for h, b in pairs)

    rows = []
    ratios: dict[str, tuple[float, float]] = {}
    for kind in FUNCTION_KINDS:
        baseline_label = f"baseline:{baselines[kind]}"
        baseline = median_ms(baseline_label, True)
        with_pyc, without_pyc = median_ms(kind, True), median_ms(kind, False)
        ratios[kind] = (median_ratio(kind, True, baseline_label), median_ratio(kind, False, baseline_label))
        last = samples[(kind, True)][-1]
        rows.append([
            kind + (" (public)" if kind in PUBLIC_KINDS else ""),
            f"{baseline:.0f}",
            f"{with_pyc:.0f}",
            f"{ratios[kind][0]:.2f}",
            f"{without_pyc:.0f}",
            f"{ratios[kind][1]:.2f}",
            "yes" if last["xray"] else "no",
            last["modules"],
        ])  # fmt: skip
    print_table(
        "Cold start: import + first-request dependencies vs import boto3, requests + the same clients "
        f"(fresh interpreters, median of {args.runs}; Python {sys.version_info[0]}.{sys.version_info[1]})",
        [
            "function",
            "baseline ms",
            "ms (.pyc, shipped)",
            "ratio",
            "ms (no .pyc, before)",
            "ratio (no .pyc)",
            "X-Ray SDK",
            "modules",
        ],
        rows,
    )
    public_with = max(ratios[kind][0] for kind in PUBLIC_KINDS)
    public_without = max(ratios[kind][1] for kind in PUBLIC_KINDS)
    print(f"\ncold start ratio: {public_with:.2f}")
    print(f"cold start ratio without bytecode (the assets before they shipped it): {public_without:.2f}")
    print(f"(target <= {TARGET:.2f}; the larger of {' and '.join(PUBLIC_KINDS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
