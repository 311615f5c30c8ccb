"""``python -m local`` as a person runs it (``make local``): the emulator with demo accounts,
the printed URLs and commands, run-now, Ctrl-C, and ``--state-dir`` keeping state across runs."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from ads_connect.regions import Region
from ads_connect.table_schema import ConsentKind, consent_pk_pattern

from tests.e2e.conftest import (
    REPO,
    LocalModeHandle,
    start_local_mode,
    stop_local_mode,
    walk_consent_headless,
)

pytestmark = pytest.mark.e2e

DEMO_NA_PROFILES = ("1234567890123", str(2**53 + 11))  # emulator/demo.py's demo advertiser in NA


def run(tmp: Path, template: str, state_dir: Path) -> tuple[Any, dict[str, Any], Path]:
    return start_local_mode(
        tmp,
        args=[
            *("--port", "0", "--moto-port", "0", "--emulator-port", "0", "--schedule-seconds", "0"),
            *("--template", template, "--state-dir", str(state_dir)),
        ],
        ready_timeout=120,
    )


def signed_admin(ready: dict[str, Any], method: str, path: str) -> requests.Response:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import ReadOnlyCredentials

    env = ready["environ"]
    request = AWSRequest(method=method, url=f"{ready['admin_url']}/{path}")
    SigV4Auth(
        ReadOnlyCredentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], None),
        "execute-api",
        "us-east-1",
    ).add_auth(request)
    prepared = request.prepare()
    return requests.request(method, prepared.url, headers=dict(prepared.headers.items()), timeout=30)


def test_make_local_prints_what_a_person_needs_and_keeps_state(
    local_mode: LocalModeHandle, tmp_path: Path
) -> None:
    # Given the template the session's local mode synthesized (one synth per test session)
    template = local_mode.ready["template_file"]
    state_dir = tmp_path / "state"
    process, ready, console_file = run(tmp_path / "first", template, state_dir)
    try:
        console = console_file.read_text()
        # Then it prints a consent URL per region, the admin URL, local AWS, the emulator, how to stop
        for region in Region:
            assert re.search(rf"^  {region}  {re.escape(ready['base_url'])}/connect/\S+$", console, re.M)
        assert ready["base_url"].startswith("http://localhost:")
        assert "Admin API (SigV4; LOCAL-ONLY IAM stand-in" in console and ready["admin_url"] in console
        scan = re.search(r"aws --endpoint-url (\S+) dynamodb scan --table-name (\S+)", console)
        assert scan and scan.group(1) == ready["moto_endpoint"]
        assert f"Amazon emulator: {ready['emulator_url']}" in console
        assert "Stop: Ctrl-C" in console and "Handler logs (JSON lines):" in console
        # And the printed `aws --endpoint-url ... scan` reaches the local table
        env = ready["environ"]
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=scan.group(1),
            region_name="us-east-1",
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        sessions = dynamodb.scan(TableName=scan.group(2))["Items"]
        assert (
            len(
                [
                    i
                    for i in sessions
                    if i["pk"]["S"].startswith(consent_pk_pattern(ConsentKind.SESSION).rstrip("*"))
                ]
            )
            == 3
        )

        # When the demo NA consent URL is walked (the emulator answers "allow" headlessly)
        control = f"{ready['emulator_url']}/__emulator__/config"
        assert requests.post(control, json={"headless": "allow"}, timeout=10).status_code == 200
        final = walk_consent_headless(ready["consent_urls"]["NA"])
        assert final.status_code == 200 and "Amazon Ads is connected" in final.text
        assert all(profile in final.text for profile in DEMO_NA_PROFILES)
        # And the schedule is run now over HTTP (nothing is due yet)
        tick = requests.post(f"{ready['base_url']}/__local__/run-schedule", timeout=60)
        assert tick.status_code == 200 and tick.json()["errors"] == []
    finally:
        # Then Ctrl-C stops it cleanly and leaves the state file, readable by its owner only
        assert stop_local_mode(process) == 0
    assert "Stopped." in console_file.read_text()
    state_file = state_dir / "local-state.json"
    assert state_file.exists() and stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert "demo-na" in json.dumps(json.loads(state_file.read_text())["aws"]["tables"])

    # Given a second run on the same state directory
    process, ready, console_file = run(tmp_path / "second", template, state_dir)
    try:
        assert f"State restored from {state_dir}" in console_file.read_text()
        # Then the connection is still there and refreshes against the restored emulator grant
        detail = signed_admin(ready, "GET", "tenants/demo-na")
        assert detail.status_code == 200, detail.text
        assert [c["status"] for c in detail.json()["connections"]] == ["active"]
        refreshed = signed_admin(ready, "POST", "tenants/demo-na/connections/NA/refresh")
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["attempt"]["outcome"] == "succeeded"
    finally:
        assert stop_local_mode(process) == 0


def test_ctrl_c_while_synthesizing_stops_cleanly_with_exit_130(tmp_path: Path) -> None:
    # Given `python -m local` started from a terminal (its own process group, as a shell makes
    # one per job) and synthesizing the stack
    console_file = tmp_path / "console.txt"
    with console_file.open("wb") as console:
        process = subprocess.Popen(
            [sys.executable, "-m", "local", "--port", "0", "--moto-port", "0", "--emulator-port", "0"],
            cwd=REPO,
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while "Synthesizing the stack" not in console_file.read_text(errors="replace"):
            assert process.poll() is None and time.monotonic() < deadline, console_file.read_text()
            time.sleep(0.1)
        time.sleep(1)  # the synth child is running now
        # When the person presses Ctrl-C: the terminal signals the whole foreground group
        os.killpg(process.pid, signal.SIGINT)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    # Then it says it stopped, exits 130, and shows no synth failure or traceback
    console = console_file.read_text(errors="replace")
    assert code == 130, console
    assert "Stopping (asked to stop during start-up)..." in console and "Stopped." in console
    assert "Traceback" not in console and "failed" not in console
