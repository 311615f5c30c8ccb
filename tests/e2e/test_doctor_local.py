"""``doctor`` end to end against local mode: the CLI as a subprocess, the stack's outputs from
``GET /__local__/stack``, every AWS read against local mode's moto server, the credentials check
through the SigV4 admin API, the consent page through the local gateway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def doctor(local: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ADS_CONNECT_"))}
    env.update(dict(local.environ))  # local mode's credentials and its moto endpoint
    return subprocess.run(
        [sys.executable, "-m", "cli", "--stage", "local", *args, "doctor", "--local", local.base_url],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )


def test_doctor_checks_a_local_mode_deployment(local_mode: Any) -> None:
    run = doctor(local_mode, "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    findings = {f["check"]: f for f in json.loads(run.stdout)["findings"]}
    status = {name: f["status"] for name, f in findings.items()}
    assert "AmazonAdsConnect-local" in findings["stack"]["found"]
    for check in ("stack", "client credentials", "work queue", "dead-letter queue", "alarms", "consent page",
                  "connections", "capacity", "monthly cost"):  # fmt: skip
        assert status[check] == "pass", findings[check]
    # The e2e local mode runs no timer (--schedule-seconds 0): a warning, not a failure
    assert status["refresh schedule"] == "warn"
    assert "security headers" in findings["consent page"]["found"]
    assert findings["capacity"]["found"].endswith("(54000 if every refresh rotates)")


def test_doctor_prints_a_table_and_fails_for_an_unknown_stage(local_mode: Any) -> None:
    run = doctor(local_mode)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Doctor of AmazonAdsConnect-local (local mode at")
    assert "STATUS" in run.stdout and "FIX" in run.stdout
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "--stage",
            "nope",
            "doctor",
            "--local",
            local_mode.base_url + "/missing",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **local_mode.environ},
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1, missing.stdout + missing.stderr
