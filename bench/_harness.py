"""Shared set-up for the benchmarks: moto server + the Amazon emulator on loopback, seeded
connections, and an AWS call counter. Never shipped; never used by tests."""

from __future__ import annotations

import collections
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "lambdas")]

import botocore.client

AWS_CALLS: collections.Counter[str] = collections.Counter()
_original_call = botocore.client.BaseClient._make_api_call


def _counting_call(self: Any, operation_name: str, api_params: Any) -> Any:
    AWS_CALLS[f"{self.meta.service_model.service_name}:{operation_name}"] += 1
    return _original_call(self, operation_name, api_params)


botocore.client.BaseClient._make_api_call = _counting_call  # type: ignore[method-assign]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    try:
        yield endpoint
    finally:
        server.stop()


def print_table(title: str, headers: list[str], rows: list[list[Any]]) -> None:
    widths = [max(len(str(x)) for x in [h, *[r[i] for r in rows]]) for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def run_fresh_python(code: str, flags: list[str], env: dict[str, str], *, what: str) -> dict[str, Any]:
    """Run ``code`` in a fresh isolated interpreter (``python -I``) and return the JSON object it
    printed last; a failing child ends the benchmark naming ``what`` it was doing."""
    result = subprocess.run(
        [sys.executable, "-I", *flags, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
    )
    if result.returncode != 0:
        raise SystemExit(f"{what} failed:\n{result.stderr}")
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed
