"""`make dist`: both wheels build, install into a fresh virtualenv outside the checkout (only
their declared dependencies, at the runtime lock's versions), import there, and the
`ads-connect` console script answers `--version` and `--help` with the CLI's exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cli import __version__
from tests.fixtures.wheels import REPO_ROOT, build_wheels, fresh_venv, run_in


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build_wheels(out)
    return out


@pytest.fixture(scope="module")
def venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both wheels and only their declared dependencies (at the runtime lock's versions)."""
    return fresh_venv(tmp_path_factory.mktemp("clean"), [str(w) for w in sorted(dist.glob("*.whl"))])


def test_make_dist_builds_the_two_wheels_with_the_products_version(dist: Path) -> None:
    assert sorted(w.name for w in dist.glob("*.whl")) == [
        f"amazon_ads_connect-{__version__}-py3-none-any.whl",
        f"amazon_ads_connect_client-{__version__}-py3-none-any.whl",
    ]


def test_the_client_wheel_holds_the_consumer_and_only_what_it_imports(dist: Path) -> None:
    [wheel] = dist.glob("amazon_ads_connect_client-*.whl")
    names = {n for n in zipfile.ZipFile(wheel).namelist() if not n.startswith("amazon_ads_connect_client-")}
    consumer = REPO_ROOT / "lambdas" / "ads_connect" / "consumer"
    assert names == {
        "amazon_ads_connect_client/__init__.py",
        "amazon_ads_connect_client/py.typed",
        "amazon_ads_connect_client/table_schema.py",
        "amazon_ads_connect_client/adapters/__init__.py",
        "amazon_ads_connect_client/adapters/aws.py",
    } | {f"amazon_ads_connect_client/consumer/{p.name}" for p in consumer.glob("*.py")}
    # The same bytes as the Lambda tree's: one source, not a copy
    shipped = zipfile.ZipFile(wheel).read("amazon_ads_connect_client/consumer/session.py")
    assert shipped == (consumer / "session.py").read_bytes()
    metadata = zipfile.ZipFile(wheel).read(f"amazon_ads_connect_client-{__version__}.dist-info/METADATA")
    requires = [line for line in metadata.decode().splitlines() if line.startswith("Requires-Dist:")]
    assert [r for r in requires if "extra ==" not in r] == [
        "Requires-Dist: boto3>=1.35",
        "Requires-Dist: requests>=2.32",
    ]


def test_the_operator_wheel_holds_the_cli_and_its_console_script(dist: Path) -> None:
    [wheel] = dist.glob("amazon_ads_connect-*.whl")
    archive = zipfile.ZipFile(wheel)
    cli_files = {n for n in archive.namelist() if n.startswith("cli/")}
    assert cli_files == {f"cli/{p.name}" for p in (REPO_ROOT / "cli").glob("*.py")}
    entry_points = archive.read(f"amazon_ads_connect-{__version__}.dist-info/entry_points.txt").decode()
    assert "ads-connect = cli.main:main" in entry_points


def test_ads_connect_version_and_help_run_from_the_clean_venv(venv: Path) -> None:
    version = run_in(venv, "ads-connect", "--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"ads-connect {__version__}")
    helped = run_in(venv, "ads-connect", "--help")
    assert helped.returncode == 0
    for group in ("credentials", "sessions", "connections", "tenants"):
        assert group in helped.stdout
    assert helped.stdout.startswith("usage: ads-connect")


def test_ads_connect_doctor_help_runs_from_the_clean_venv(venv: Path) -> None:
    doctor = run_in(venv, "ads-connect", "doctor", "--help")
    assert doctor.returncode == 0, doctor.stderr
    assert doctor.stdout.startswith("usage: ads-connect doctor")


def test_the_installed_cli_keeps_its_exit_codes(venv: Path) -> None:
    # A usage error is 2; an admin API nobody answers is 5 (cli/errors.py)
    assert run_in(venv, "ads-connect", "tenants", "frobnicate").returncode == 2
    unreachable = run_in(
        venv,
        "ads-connect",
        "--api-url",
        "http://127.0.0.1:9/",
        "--region",
        "eu-west-1",
        "--timeout",
        "2",
        "tenants",
        "list",
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )
    assert unreachable.returncode == 5, unreachable.stderr


CLIENT_CHECK = """
import importlib.util, json, pathlib
import amazon_ads_connect_client as client

class Secrets:
    def get_secret_value(self, SecretId):
        assert SecretId == "ads-connect/dev/access/acme/FE", SecretId
        return {"SecretString": json.dumps({"access_token": "Atza|fake", "expires_at_epoch": 4e9,
                "api_url": "https://advertising-api-fe.amazon.com", "client_id": "c"})}

session = client.get_session("acme", "FE", profile_id=7, stage="dev", secrets_client=Secrets())
refused = ""
try:
    session.get("https://attacker.example/")
except ValueError as exc:
    refused = str(exc)
missing_library = ""
try:
    client.ad_api_client(object, "acme", "FE", stage="dev", secrets_client=Secrets())
except ImportError as exc:
    missing_library = str(exc)
print(json.dumps({
    "version": client.__version__,
    "base_url": session.base_url,
    "refused": refused,
    "missing_library": missing_library,
    "typed": (pathlib.Path(client.__file__).parent / "py.typed").exists(),
    "not_installed": [m for m in ("pydantic", "aws_lambda_powertools", "ads_connect", "ad_api")
                      if importlib.util.find_spec(m) is not None],
}))
"""


def test_the_client_imports_and_works_in_the_clean_venv(venv: Path) -> None:
    checked = run_in(venv, str(venv / "bin" / "python"), "-c", CLIENT_CHECK)
    assert checked.returncode == 0, checked.stderr
    result = json.loads(checked.stdout)
    assert result["version"] == __version__
    assert result["base_url"] == "https://advertising-api-fe.amazon.com"
    assert "refusing a request to https://attacker.example:443" in result["refused"]
    assert "amazon-ads-connect-client[ad-api]" in result["missing_library"]
    assert result["typed"] is True
    # boto3 and requests only: nothing of the Lambda runtime came along
    assert result["not_installed"] == []


def test_python_m_cli_still_runs_from_the_checkout() -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "cli", "--version"],
        check=False,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert (ran.returncode, ran.stdout.strip()) == (0, f"ads-connect {__version__}")
