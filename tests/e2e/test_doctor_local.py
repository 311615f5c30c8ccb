"""``doctor`` end to end against local mode: the CLI as a subprocess, the stack's outputs from
``GET /__local__/stack``, every AWS read against local mode's moto server, the credentials check
through the SigV4 admin API, the consent page through the local gateway."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.e2e.test_cli_local import cli

pytestmark = pytest.mark.e2e


def doctor(local: Any, *args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI as an operator runs it, with local mode's credentials and moto endpoint."""
    return cli(local, "--stage", "local", *args, "doctor", "--local", url or local.base_url)


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


def test_doctor_prints_a_table_and_fails_when_there_is_no_stack(local_mode: Any) -> None:
    run = doctor(local_mode)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Doctor of AmazonAdsConnect-local (local mode at")
    assert "STATUS" in run.stdout and "FIX" in run.stdout
    missing = doctor(local_mode, url=local_mode.base_url + "/missing")
    assert missing.returncode == 1, missing.stdout + missing.stderr
    assert "not found" in missing.stdout
