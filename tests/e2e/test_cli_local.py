"""The operator CLI end to end against local mode (local gateway + moto server + emulator).

The CLI runs as a subprocess (``python -m cli``), exactly as an operator runs it, signing with
the AWS credentials local mode hands out. The advertiser's side is walked headlessly: the
hosted consent page's form is submitted and the emulator answers "allow".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PROFILE = {
    "profileId": 1234567890123456789,
    "countryCode": "US",
    "currencyCode": "USD",
    "timezone": "America/Los_Angeles",
    "accountInfo": {
        "marketplaceStringId": "ATVPDKIKX0DER",
        "id": "A3LUQZ2NBMFGO4",
        "type": "seller",
        "name": "E2E Seller",
        "validPaymentMethod": True,
    },
}


def cli(local: Any, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ADS_CONNECT_"))}
    # Only the credentials local mode hands out: its IAM stand-in accepts no others.
    env.update(dict(local.environ))
    return subprocess.run(
        [sys.executable, "-m", "cli", "--api-url", local.base_url, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
        check=False,
    )


def cli_json(local: Any, *args: str) -> Any:
    run = cli(local, "--json", *args)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


class _Forms(HTMLParser):
    """The consent page's forms: action, method and the fields a browser would submit."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                {"action": a.get("action", ""), "method": a.get("method", "get").lower(), "fields": {}}
            )
        elif self.forms and tag in {"input", "button"} and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in {"radio", "checkbox"} and a["name"] in self.forms[-1]["fields"]:
                return  # keep the first choice, as a user clicking the first option would
            self.forms[-1]["fields"][a["name"]] = a.get("value", "")


def walk_consent(consent_url: str) -> requests.Response:
    """Browser stand-in: open the consent page, submit its form, follow redirects to the end.

    Cookies are kept by hand: local mode serves http://localhost, which browsers treat as a
    secure context (so ``__Host-`` cookies work) but ``requests`` does not.
    """
    http = requests.Session()
    own_host = urlsplit(consent_url).netloc
    jar: dict[str, str] = {}

    def fetch(method: str, url: str, data: dict[str, str] | None = None) -> requests.Response:
        headers = {}
        if urlsplit(url).netloc == own_host and jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        if method == "POST":
            headers["Sec-Fetch-Site"] = "same-origin"  # as a browser submitting the page's own form
        response = http.request(method, url, data=data, headers=headers, allow_redirects=False, timeout=30)
        if urlsplit(url).netloc == own_host:
            for raw in response.raw.headers.getlist("Set-Cookie"):
                name, _, rest = raw.partition("=")
                jar[name.strip()] = rest.split(";", 1)[0]
        return response

    page = fetch("GET", consent_url)
    assert page.status_code == 200, page.status_code
    parser = _Forms()
    parser.feed(page.text)
    posts = [f for f in parser.forms if f["method"] == "post"]
    assert posts, "the consent page has no form to start the flow"
    url = urljoin(consent_url, posts[0]["action"])
    response = fetch("POST", url, posts[0]["fields"])
    for _ in range(10):
        if response.status_code not in (301, 302, 303, 307, 308):
            return response
        url = urljoin(url, response.headers["Location"])
        response = fetch("GET", url)
    raise AssertionError("too many redirects")


def test_operator_connects_lists_refreshes_and_disconnects_a_tenant(local: Any) -> None:
    emu = local.emulator
    emu.add_user("e2e-advertiser", profiles={"NA": [PROFILE]})
    emu.sign_in("e2e-advertiser")
    emu.headless = "allow"

    # Credentials: the secret goes in on stdin, and Amazon (the emulator) accepts it
    check = cli_json(local, "credentials", "check")
    assert check["valid"] is True

    # A connect session for a new tenant, walked by a headless browser
    created = cli_json(local, "sessions", "create", "e2e-tenant", "--region", "NA", "--display-name", "E2E")
    end = walk_consent(created["consent_url"])
    assert end.status_code == 200
    assert "1234567890123456789" in end.text  # the success page lists the connected profile

    listing = cli_json(local, "connections", "list", "--status", "active", "--all")
    mine = [c for c in listing["items"] if c["tenant_id"] == "e2e-tenant"]
    assert len(mine) == 1 and mine[0]["region"] == "NA" and mine[0]["profile_count"] == 1

    table = cli(local, "connections", "list")
    assert table.returncode == 0 and "e2e-tenant" in table.stdout and "TENANT" in table.stdout

    tenants = cli_json(local, "tenants", "list", "--status", "active", "--limit", "1", "--all")
    (tenant,) = [t for t in tenants["items"] if t["tenant_id"] == "e2e-tenant"]
    assert tenant["status"] == "active" and [c["region"] for c in tenant["connections"]] == ["NA"]
    assert tenant["soonest_access_token_expires_at"] is not None

    refreshed = cli_json(local, "connections", "refresh", "e2e-tenant", "NA")
    assert refreshed["attempt"]["outcome"] == "succeeded"

    detail = cli_json(local, "tenants", "show", "e2e-tenant")
    assert [p["profile_id"] for p in detail["profiles"]] == ["1234567890123456789"]
    assert any(a["trigger"] == "admin" for a in detail["refresh_attempts"])

    resynced = cli_json(local, "connections", "resync", "e2e-tenant", "NA")
    assert resynced["connection"]["profile_count"] == 1

    # Disconnecting needs --yes when not interactive
    refused = cli(local, "connections", "disconnect", "e2e-tenant", "NA")
    assert refused.returncode == 2

    gone = cli_json(local, "connections", "disconnect", "e2e-tenant", "NA", "--yes")
    assert gone["status"] == "disconnected" and gone["already_disconnected"] is False
    disconnected = cli_json(local, "connections", "list", "--status", "disconnected", "--all")
    assert "e2e-tenant" in [c["tenant_id"] for c in disconnected["items"]]

    again = cli(local, "connections", "refresh", "e2e-tenant", "NA")
    assert again.returncode == 6 and "connection_disconnected" in again.stderr

    # No secret the emulator issued ever reached the operator's terminal
    for issued in emu.issued_secrets():
        assert issued not in json.dumps([created, listing, refreshed, detail, resynced, gone])


def test_sessions_create_url_only_prints_a_consent_url_that_opens(local: Any) -> None:
    run = cli(local, "sessions", "create", "e2e-url-only", "--url-only")
    assert run.returncode == 0, run.stderr
    (url,) = run.stdout.splitlines()
    page = requests.get(url, timeout=30)
    assert page.status_code == 200 and "e2e-url-only" in page.text


def test_cli_errors_against_local_mode(local: Any) -> None:
    missing = cli(local, "tenants", "show", "no-such-tenant")
    assert missing.returncode == 3 and "tenant_not_found" in missing.stderr

    bad = cli(local, "tenants", "show", "bad!tenant")
    assert bad.returncode == 2 and "invalid_tenant_id" in bad.stderr

    unsigned = requests.get(f"{local.base_url.rstrip('/')}/admin/connections", timeout=15)
    assert unsigned.status_code == 403


def test_credentials_set_reads_the_secret_from_stdin(local: Any) -> None:
    from tests.fixtures.aws import TEST_CLIENT_ID, TEST_CLIENT_SECRET

    client_id, secret = TEST_CLIENT_ID, TEST_CLIENT_SECRET  # the client local mode registers at the emulator
    run = cli(local, "credentials", "set", "--client-id", client_id, "--check", stdin=secret + "\n")
    assert run.returncode == 0, run.stderr
    assert secret not in run.stdout + run.stderr
