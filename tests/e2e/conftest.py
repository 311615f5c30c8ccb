"""Local mode for the end-to-end tests: ``python -m local`` in a subprocess on free ports.

The Amazon emulator runs here, in the test process, and local mode reaches it as external
Amazon-compatible endpoints (``--amazon-endpoints``): tests drive the real ``Emulator`` object
(users, headless consent, clock, issued secrets) while local mode runs exactly as ``make local``
runs it (template synthesized, moto server, gateway, IAM stand-in, schedule).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from emulator import Emulator
from emulator.http import EmulatorServer
from tests.fixtures.aws import TEST_CLIENT_ID, TEST_CLIENT_SECRET

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
START_TIMEOUT_SECONDS = 300  # synth (bundling skipped) takes ~20 s, far longer on a busy machine
REGION = "us-east-1"


@dataclass
class LocalModeHandle:
    """A running local mode: URLs, the emulator behind it, and the moto endpoint."""

    process: subprocess.Popen[bytes]
    ready: dict[str, Any]
    emulator: Emulator
    emulator_server: EmulatorServer
    console_file: Path
    log_file: Path
    tmp: Path
    _template_file: Path | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return str(self.ready["base_url"])

    @property
    def admin_url(self) -> str:
        return str(self.ready["admin_url"])

    @property
    def moto_endpoint(self) -> str:
        return str(self.ready["moto_endpoint"])

    @property
    def emulator_url(self) -> str:
        return self.emulator_server.base_url

    @property
    def environ(self) -> dict[str, str]:
        """AWS settings for a process that talks to local mode (the CLI, the aws CLI, boto3)."""
        return dict(self.ready["environ"])

    @property
    def table_name(self) -> str:
        [table] = self.ready["tables"]
        return str(table)

    def client(self, service: str) -> Any:
        env = self.environ
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.moto_endpoint,
            region_name=REGION,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )

    def admin(self, method: str, path: str, body: Any = None) -> requests.Response:
        """A SigV4-signed admin API call with the local credentials."""
        url = f"{self.base_url}/admin/{path.lstrip('/')}"
        data = json.dumps(body).encode() if body is not None else None
        request = AWSRequest(
            method=method, url=url, data=data, headers={"Content-Type": "application/json"} if data else {}
        )
        env = self.environ
        SigV4Auth(
            ReadOnlyCredentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], None),
            "execute-api",
            REGION,
        ).add_auth(request)
        prepared = request.prepare()
        return requests.request(
            method, prepared.url, data=prepared.body, headers=dict(prepared.headers.items()), timeout=30
        )

    def create_session(
        self, tenant: str, *, region: str | None = None, display_name: str | None = None
    ) -> str:
        body = {k: v for k, v in {"region": region, "display_name": display_name}.items() if v}
        response = self.admin("POST", f"tenants/{tenant}/connect-sessions", body)
        assert response.status_code == 201, response.text
        return str(response.json()["consent_url"])

    def run_schedule(self) -> dict[str, Any]:
        response = requests.post(f"{self.base_url}/__local__/run-schedule", timeout=120)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def advance_clock(self, seconds: float) -> None:
        """Product and Amazon move forward together (the emulator lives in this process)."""
        response = requests.post(
            f"{self.base_url}/__local__/advance-clock", json={"seconds": seconds}, timeout=10
        )
        assert response.status_code == 200, response.text
        self.emulator.advance(seconds)

    def console(self) -> str:
        return self.console_file.read_text(errors="replace")

    def handler_logs(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""


BINDING_COOKIE = "__Host-ads_connect_binding"


def walk_consent_headless(consent_url: str, region: str | None = None) -> requests.Response:
    """A browser stand-in for a consent URL when the emulator answers headlessly ("allow"/"deny").

    requests never sends a ``Secure`` cookie over http (and a custom cookie policy is lost when a
    Session merges jars), while Chromium does on http://localhost: so the binding cookie is
    carried explicitly, exactly as the browser would send it. Returns the last response.
    """
    http = requests.Session()
    landing = http.get(consent_url, timeout=15)
    assert landing.status_code == 200, landing.status_code
    start = http.post(
        consent_url,
        data={"region": region or "NA"},
        headers={"Sec-Fetch-Site": "same-origin"},  # as a browser submitting the page's own form
        allow_redirects=False,
        timeout=15,
    )
    assert start.status_code == 302, start.text[:500]
    binding = start.cookies.get(BINDING_COOKIE)
    assert binding, "the consent start sets the browser-binding cookie"
    amazon = http.get(start.headers["Location"], allow_redirects=False, timeout=15)
    assert amazon.status_code == 302, f"the emulator must answer headlessly: {amazon.status_code}"
    response = http.get(
        amazon.headers["Location"],
        headers={"Cookie": f"{BINDING_COOKIE}={binding}"},
        allow_redirects=False,
        timeout=30,
    )
    while response.status_code in (302, 303) and response.headers["Location"].startswith(
        consent_url.split("/connect/", maxsplit=1)[0]
    ):
        response = http.get(
            response.headers["Location"],
            headers={"Cookie": f"{BINDING_COOKIE}={binding}"},
            allow_redirects=False,
            timeout=30,
        )
    return response


def start_local_mode(
    tmp: Path,
    *,
    args: list[str],
    env: dict[str, str] | None = None,
    ready_timeout: float = START_TIMEOUT_SECONDS,
) -> tuple[subprocess.Popen[bytes], dict[str, Any], Path]:
    """``python -m local`` with a ready file; returns once it is up (or fails with its output)."""
    tmp.mkdir(parents=True, exist_ok=True)
    ready_file, console_file = tmp / "ready.json", tmp / "console.txt"
    console = console_file.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "--ready-file", str(ready_file), *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=console,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + ready_timeout
    while not ready_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_local_mode(process)
            pytest.fail(f"local mode did not start:\n{console_file.read_text(errors='replace')[-4000:]}")
        time.sleep(0.2)
    return process, json.loads(ready_file.read_text()), console_file


def stop_local_mode(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    """Ctrl-C, as a person stops it; the exit code says whether it stopped cleanly."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return int(process.returncode)


def keep_artifacts(console_file: Path, log_file: Path) -> None:
    """The session's local-mode console and handler logs, under test-artifacts/ (CI keeps them)."""
    ARTIFACTS.mkdir(exist_ok=True)
    for source, name in ((console_file, "local-mode-console.txt"), (log_file, "local-mode-handlers.log")):
        if source.exists():
            shutil.copyfile(source, ARTIFACTS / name)


@pytest.fixture(scope="session")
def local_mode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalModeHandle]:
    tmp = tmp_path_factory.mktemp("local-mode")
    emu = Emulator(client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET)
    server = emu.serve("127.0.0.1", 0)
    log_file = tmp / "handlers.log"
    try:
        process, ready, console_file = start_local_mode(
            tmp,
            args=[
                *("--port", "0", "--moto-port", "0", "--emulator-port", "0", "--schedule-seconds", "0"),
                *("--no-demo", "--log-file", str(log_file), "--amazon-endpoints", server.endpoints_json),
            ],
            env={
                "ADS_CONNECT_LOCAL_LWA_CLIENT_ID": TEST_CLIENT_ID,
                "ADS_CONNECT_LOCAL_LWA_CLIENT_SECRET": TEST_CLIENT_SECRET,
            },
        )
    except BaseException:  # pytest.fail is an OutcomeException: keep the logs, then fail as it did
        keep_artifacts(tmp / "console.txt", log_file)
        server.stop()
        raise
    # Amazon accepts only registered redirect URIs: local mode's port is known only now.
    emu.register_redirect_uri(f"{ready['base_url']}/callback")
    handle = LocalModeHandle(process, ready, emu, server, console_file, log_file, tmp)
    try:
        yield handle
    finally:
        code = stop_local_mode(process)
        server.stop()
        keep_artifacts(console_file, log_file)
        assert code == 0, f"local mode did not stop cleanly (exit {code}):\n{handle.console()[-3000:]}"


@pytest.fixture
def local(local_mode: LocalModeHandle) -> Iterator[LocalModeHandle]:
    """The session's local mode; the emulator's sign-in and consent mode are put back after."""
    emu = local_mode.emulator
    headless, signed_in = emu.headless, emu.signed_in
    try:
        yield local_mode
    finally:
        emu.headless = headless
        if signed_in is not None:
            emu.sign_in(signed_in)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by playwright (playwright cannot download browsers here)."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("ADS_CONNECT_CHROMIUM", "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.fail(
            f"Chromium not found at {executable}: apt-get install -y chromium (or set ADS_CONNECT_CHROMIUM)"
        )
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
