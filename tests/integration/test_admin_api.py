"""The admin handler in-process against moto (real adapters) and the Amazon emulator.

Runs the production composition (``build_service``): DynamoDB store, Secrets Manager vault,
EventBridge publisher, LWA client, and the refresh / profile-sync / connect-session flows.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest
import requests

# The sibling parts this test composes; a missing one is reported as a skip with its name.
for _module in (
    "ads_connect.adapters.connection_store",
    "ads_connect.adapters.secrets",
    "ads_connect.adapters.events",
    "ads_connect.adapters.lwa",
    "ads_connect.logic.refresh",
    "ads_connect.logic.profiles",
    "ads_connect.logic.connect_session",
    "emulator",
):
    pytest.importorskip(_module, reason=f"{_module} has not landed yet")

from ads_connect.handlers import admin  # noqa: E402
from ads_connect.logic.ports import CLIENT_CREDENTIALS_PAUSE, ClientCredentials, OperatorPause  # noqa: E402
from ads_connect.models.records import Connection, ConnectionStatus  # noqa: E402
from ads_connect.models.settings import AdminSettings  # noqa: E402
from ads_connect.regions import Region  # noqa: E402
from emulator import Emulator  # noqa: E402

from tests.fakes.http_api import FakeLambdaContext, http_event  # noqa: E402
from tests.fixtures.aws import TEST_CLIENT_ID, TEST_CLIENT_SECRET, AwsResources  # noqa: E402

REDIRECT_URI = "https://connect.example.com/callback"
PROFILE = {
    "profileId": 3141592653589793238,
    "countryCode": "US",
    "currencyCode": "USD",
    "timezone": "America/Los_Angeles",
    "accountInfo": {
        "marketplaceStringId": "ATVPDKIKX0DER",
        "id": "A3LUQZ2NBMFGO4",
        "type": "seller",
        "name": "Fixture Seller",
        "validPaymentMethod": True,
    },
}


@dataclass
class Stack:
    aws: AwsResources
    emu: Any
    service: Any

    def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        response = admin.handler(http_event(method, path, **kwargs), FakeLambdaContext())  # type: ignore[arg-type]
        for issued in self.emu.issued_secrets():
            assert issued not in response["body"], "a secret leaked into an admin response"
        return response["statusCode"], json.loads(response["body"])

    def connect(self, tenant: str, region: Region = Region.NA) -> None:
        """Give ``tenant`` a real grant: headless consent at the emulator, code exchange, store."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        endpoints = AdminSettings.from_environment().amazon_endpoints[region]
        query = {
            "client_id": TEST_CLIENT_ID,
            "scope": "advertising::campaign_management",
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "state": "integration-state",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        answer = requests.get(
            f"{endpoints.authorization_url}?{urlencode(query)}", allow_redirects=False, timeout=10
        )
        code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
        credentials = ClientCredentials(TEST_CLIENT_ID, TEST_CLIENT_SECRET)
        grant = self.service.lwa.exchange_code(
            region, code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier, credentials=credentials
        )
        self.service.vault.write_refresh_token(
            tenant, region, refresh_token=grant.refresh_token, grant_version=1
        )
        now = self.service.clock.now()
        self.service.store.save_connection(
            Connection(
                tenant_id=tenant,
                region=region,
                status=ConnectionStatus.ACTIVE,
                grant_version=1,
                connected_at=now,
                access_token_expires_at=now,
                refresh_due_at=now,
                profile_count=1,
            ),
            expected_grant_version=None,
        )


@pytest.fixture
def stack(aws: AwsResources, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    emu = Emulator(client_id=TEST_CLIENT_ID, client_secret=TEST_CLIENT_SECRET, redirect_uris=[REDIRECT_URI])
    server = emu.serve(host="127.0.0.1", port=0)
    try:
        monkeypatch.setenv("ADS_CONNECT_AMAZON_ENDPOINTS", emu.endpoints_json(server.base_url))
        monkeypatch.setenv("ADS_CONNECT_PUBLIC_BASE_URL", "https://connect.example.com")
        emu.add_user("advertiser-1", profiles={"NA": [PROFILE]})
        emu.sign_in("advertiser-1")
        emu.headless = "allow"
        service = admin.build_service()
        monkeypatch.setattr(admin, "_service", service)
        yield Stack(aws, emu, service)
    finally:
        server.stop()


def read_lwa_secret(aws: AwsResources) -> dict[str, str]:
    client = boto3.client("secretsmanager", region_name=aws.region)
    value: dict[str, str] = json.loads(client.get_secret_value(SecretId=aws.lwa_secret_id)["SecretString"])
    return value


# -- credentials ------------------------------------------------------------------------------


def test_put_credentials_writes_the_lwa_secret(stack: Stack) -> None:
    status, body = stack.call(
        "PUT",
        "/admin/client-credentials",
        body={"client_id": TEST_CLIENT_ID, "client_secret": "rotated-fake-secret"},
    )
    assert status == 200 and body["client_id"] == TEST_CLIENT_ID
    assert read_lwa_secret(stack.aws) == {"client_id": TEST_CLIENT_ID, "client_secret": "rotated-fake-secret"}
    assert "rotated-fake-secret" not in json.dumps(body)


def test_check_accepts_good_credentials_and_clears_the_pause(stack: Stack) -> None:
    stack.service.store.set_operator_pause(
        OperatorPause(CLIENT_CREDENTIALS_PAUSE, stack.service.clock.now(), "invalid_client")
    )
    status, body = stack.call("POST", "/admin/client-credentials/check")
    assert status == 200
    assert body["result"] == "accepted" and body["pause_cleared"] is True
    assert stack.service.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is None


def test_check_rejects_a_wrong_secret(stack: Stack) -> None:
    stack.call(
        "PUT", "/admin/client-credentials", body={"client_id": TEST_CLIENT_ID, "client_secret": "wrong-fake"}
    )
    status, body = stack.call("POST", "/admin/client-credentials/check")
    assert status == 200
    assert body["result"] == "rejected" and body["amazon_error_code"] == "invalid_client"


def test_check_when_amazon_is_down_is_503(stack: Stack) -> None:
    stack.emu.faults.add(endpoint="token", status=503, count=10)
    status, body = stack.call("POST", "/admin/client-credentials/check")
    assert status == 503 and body["error"]["code"] == "amazon_unavailable"


# -- sessions, listing, tenant ------------------------------------------------------------------


def test_create_connect_session_returns_a_consent_url(stack: Stack) -> None:
    status, body = stack.call("POST", "/admin/tenants/acme/connect-sessions", body={"region": "NA"})
    assert status == 201
    assert body["consent_url"].startswith("https://connect.example.com/")


def test_listing_pages_through_the_status_index(stack: Stack) -> None:
    for i in range(5):
        stack.connect(f"tenant-{i}")
    seen: list[str] = []
    token = None
    while True:
        query = {"limit": "2", **({"next_token": token} if token else {})}
        status, body = stack.call("GET", "/admin/connections", query=query)
        assert status == 200 and len(body["items"]) <= 2
        seen += [c["tenant_id"] for c in body["items"]]
        token = body["next_token"]
        if not token:
            break
    assert sorted(seen) == [f"tenant-{i}" for i in range(5)]

    status, body = stack.call("GET", "/admin/connections", query={"status": "reauthorization_required"})
    assert status == 200 and body["items"] == []


def test_refresh_resync_show_and_disconnect(stack: Stack) -> None:
    stack.connect("acme")

    status, body = stack.call("POST", "/admin/tenants/acme/connections/NA/refresh")
    assert status == 200 and body["attempt"]["outcome"] == "succeeded"

    status, body = stack.call("POST", "/admin/tenants/acme/connections/NA/resync-profiles")
    assert status == 200
    assert [p["profile_id"] for p in body["profiles"]] == [str(PROFILE["profileId"])]

    status, body = stack.call("GET", "/admin/tenants/acme")
    assert status == 200
    assert body["refresh_attempts"][0]["trigger"] == "admin"

    # A refresh holding the lease makes the operator's refresh a 409
    lease = stack.service.store.acquire_lease("acme", Region.NA, owner="worker-x", seconds=300)
    status, body = stack.call("POST", "/admin/tenants/acme/connections/NA/refresh")
    assert status == 409 and body["error"]["code"] == "refresh_in_progress"
    stack.service.store.release_lease(lease)

    status, body = stack.call("DELETE", "/admin/tenants/acme/connections/NA", query={"recovery_days": "7"})
    assert status == 200 and body["status"] == "disconnected"
    assert stack.service.store.due_connections(now=stack.service.clock.now()) == []
    sm = boto3.client("secretsmanager", region_name=stack.aws.region)
    names = {s["Name"]: s for s in sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]}
    private = f"{stack.aws.secret_prefix}/refresh/acme/NA"
    assert "DeletedDate" in names[private]
    assert any(e["detail-type"] == "Connection Disconnected" for e in stack.aws.lifecycle_events())

    status, body = stack.call("POST", "/admin/tenants/acme/connections/NA/refresh")
    assert status == 409 and body["error"]["code"] == "connection_disconnected"


def test_unknown_tenant_and_connection(stack: Stack) -> None:
    assert stack.call("GET", "/admin/tenants/nobody")[0] == 404
    assert stack.call("DELETE", "/admin/tenants/nobody/connections/EU")[0] == 404
