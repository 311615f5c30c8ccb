"""Issue 11 end to end: local mode + the operator CLI as a new operator would try it. No operator
mistake costs a tenant its grant: the client swap, reactivate, and a disconnect with a link still
out."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import requests
from ads_connect.table_schema import connection_key

from tests.e2e.test_cli_local import PROFILE, cli, cli_json, walk_consent
from tests.fixtures.aws import TEST_CLIENT_ID, TEST_CLIENT_SECRET

pytestmark = pytest.mark.e2e

DEV_CLIENT_ID = "amzn1.application-oa2-client.e2e-dev"
DEV_CLIENT_SECRET = "e2e-dev-fake-client-secret"


def _connect(local: Any, tenant: str, user: str) -> None:
    emu = local.emulator
    emu.add_user(user, profiles={"NA": [PROFILE]})
    emu.sign_in(user)
    emu.headless = "allow"
    created = cli_json(local, "sessions", "create", tenant, "--region", "NA")
    assert walk_consent(created["consent_url"]).status_code == 200


def _mine(local: Any, tenants: set[str]) -> list[dict[str, Any]]:
    listing = cli_json(local, "connections", "list", "--all")
    return [c for c in listing["items"] if c["tenant_id"] in tenants]


def test_swapping_in_another_valid_client_loses_no_tenant(local: Any) -> None:
    tenants = {"e2e-swap-a", "e2e-swap-b"}
    for tenant in sorted(tenants):
        _connect(local, tenant, f"user-{tenant}")
    if DEV_CLIENT_ID not in local.emulator.clients:
        local.emulator.add_client(DEV_CLIENT_ID, DEV_CLIENT_SECRET, tuple(local.emulator.redirect_uris))
    # The operator pastes the dev Security Profile: refused, with the counts and what to do
    refused = cli(local, "credentials", "set", "--client-id", DEV_CLIENT_ID, stdin=DEV_CLIENT_SECRET + "\n")
    assert refused.returncode == 6 and "holds none of the active grants" in refused.stderr
    # Forced anyway: the check says Amazon accepts it but it covers no grant
    forced = cli(
        local,
        "credentials",
        "set",
        "--client-id",
        DEV_CLIENT_ID,
        "--replace-client",
        stdin=DEV_CLIENT_SECRET + "\n",
    )
    assert forced.returncode == 0, forced.stderr
    check = cli(local, "credentials", "check")
    assert check.returncode == 1 and "have no stored client" in check.stdout
    try:
        # The schedule runs past the credential cache and the tokens' due time: nothing is lost
        local.advance_clock(3600)
        local.run_schedule()
        mine = _mine(local, tenants)
        assert [c["status"] for c in mine] == ["active", "active"]
        assert {c["last_refresh_error_code"] for c in mine} == {"client_mismatch"}
    finally:
        # The operator stores the right client again: every connection refreshes
        restored = cli(
            local,
            "credentials",
            "set",
            "--client-id",
            TEST_CLIENT_ID,
            "--check",
            stdin=TEST_CLIENT_SECRET + "\n",
        )
        assert restored.returncode == 0, restored.stdout + restored.stderr
    local.advance_clock(3600)
    local.run_schedule()
    mine = _mine(local, tenants)
    assert [c["status"] for c in mine] == ["active", "active"]
    assert {c["last_refresh_error_code"] for c in mine} == {None}


def test_reactivate_brings_back_a_tenant_whose_grant_still_works(local: Any) -> None:
    _connect(local, "e2e-reactivate", "user-e2e-reactivate")
    table = local.client("dynamodb")
    table.update_item(
        TableName=local.table_name,
        Key={name: {"S": value} for name, value in connection_key("e2e-reactivate", "NA").items()},
        UpdateExpression="SET #s = :r, connection_status = :r REMOVE due_bucket",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":r": {"S": "reauthorization_required"}},
    )
    answer = cli_json(local, "connections", "reactivate", "e2e-reactivate", "NA")
    assert answer["reactivated"] is True and answer["connection"]["status"] == "active"
    again = cli_json(local, "connections", "reactivate", "e2e-reactivate", "NA")
    assert again["outcome"] == "already_active"


def test_a_link_sent_before_a_disconnect_no_longer_connects(local: Any) -> None:
    _connect(local, "e2e-final", "user-e2e-final")
    outstanding = cli_json(local, "sessions", "create", "e2e-final")["consent_url"]
    gone = cli_json(local, "connections", "disconnect", "e2e-final", "NA", "--yes")
    assert gone["sessions_revoked"] == 1
    assert requests.get(outstanding, timeout=30).status_code == 410
    listed = cli_json(local, "sessions", "list", "e2e-final")
    ref = hashlib.sha256(outstanding.rsplit("/", 1)[1].encode()).hexdigest()
    assert {s["session_ref"]: s["state"] for s in listed["items"]}[ref] == "revoked"
    connection = [c for c in _mine(local, {"e2e-final"})]
    assert connection[0]["status"] == "disconnected"
    # A link withdrawn by hand, from the URL in the e-mail
    second = cli_json(local, "sessions", "create", "e2e-final")["consent_url"]
    withdrawn = cli(local, "sessions", "revoke", second)
    assert withdrawn.returncode == 0 and "Withdrew" in withdrawn.stdout
    assert requests.get(second, timeout=30).status_code == 410
