"""The admin handler in-process against moto (real adapters) and the Amazon emulator.

Runs the production composition (``build_service``): DynamoDB store, Secrets Manager vault,
EventBridge publisher, LWA client, and the refresh / profile-sync / connect-session flows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

import boto3
import pytest
import requests
from ads_connect.handlers import admin
from ads_connect.logic.ports import (
    CLIENT_CREDENTIALS_PAUSE,
    ClientCredentials,
    InvalidGrantError,
    LeaseHeldError,
    OperatorPause,
)
from ads_connect.models.records import Connection, ConnectionStatus
from ads_connect.models.settings import AdminSettings
from ads_connect.regions import Region
from ads_connect.table_schema import AUDIT_PREFIX, tenant_pk
from boto3.dynamodb.conditions import Key
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from cli.main import Io
from cli.main import main as cli_main
from tests.fakes.clock import FakeClock
from tests.fakes.http_api import FakeLambdaContext, http_event
from tests.fakes.operator import (
    FakeFlows,
    MemoryStore,
    MemoryVault,
    RecordingEvents,
    ScriptedLwa,
    admin_service,
    make_connection,
    make_profile,
)
from tests.fixtures.amazon import TEST_REDIRECT_URI, RunningEmulator
from tests.fixtures.aws import TEST_CLIENT_ID, TEST_CLIENT_SECRET, AwsResources
from tests.fixtures.leak_guard import record_response

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
        response = record_response(admin.handler(http_event(method, path, **kwargs), FakeLambdaContext()))  # type: ignore[arg-type]
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
            "redirect_uri": TEST_REDIRECT_URI,
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
            region, code=code, redirect_uri=TEST_REDIRECT_URI, code_verifier=verifier, credentials=credentials
        )
        self.service.vault.write_refresh_token(
            tenant, region, refresh_token=grant.refresh_token, grant_version=1, client_id=TEST_CLIENT_ID
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
def stack(
    aws: AwsResources, monkeypatch: pytest.MonkeyPatch, amazon_emulator: RunningEmulator
) -> Iterator[Stack]:
    # The shared emulator fixture: the leak guard then searches logs and responses for every
    # secret it issued.
    running = amazon_emulator
    monkeypatch.setenv("ADS_CONNECT_AMAZON_ENDPOINTS", running.endpoints_json)
    monkeypatch.setenv("ADS_CONNECT_PUBLIC_BASE_URL", "https://connect.example.com")
    running.emu.add_user("advertiser-1", profiles={"NA": [PROFILE]})
    running.emu.sign_in("advertiser-1")
    running.emu.headless = "allow"
    service = admin.build_service()
    monkeypatch.setattr(admin, "_service", service)
    yield Stack(aws, running.emu, service)


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
    assert read_lwa_secret(stack.aws) == {
        "client_id": TEST_CLIENT_ID,
        "client_secret": "rotated-fake-secret",
        "previous_clients": [],
        "unrecorded_grants_client_id": TEST_CLIENT_ID,
    }
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


def test_connect_session_rejections_from_the_connect_flow(stack: Stack) -> None:
    status, body = stack.call(
        "POST",
        "/admin/tenants/acme/connect-sessions",
        body={"return_url": "https://not-allowed.example.com/x"},
    )
    assert status == 400 and body["error"]["code"] == "invalid_connect_session"
    assert "not-allowed.example.com" not in json.dumps(body)

    status, body = stack.call(
        "POST",
        "/admin/tenants/acme/connect-sessions",
        body={"return_url": "https://app.example.com/amazon/connected", "display_name": "Acme"},
    )
    assert status == 201


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


def test_refresh_now_keeps_to_the_admin_functions_deadline(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack.connect("acme")
    calls_before = stack.emu.token_calls("NA")
    # 60 s left of the invocation: after the 5 s margin, less than one safe refresh needs (59 s:
    # the token call and a whole rotated-token write)
    monkeypatch.setattr(FakeLambdaContext, "get_remaining_time_in_millis", lambda _self: 60_000)

    status, body = stack.call("POST", "/admin/tenants/acme/connections/NA/refresh")

    assert status == 503 and body["error"]["code"] == "not_enough_time"
    assert stack.emu.token_calls("NA") == calls_before  # Amazon was not called
    assert stack.service.store.list_refresh_attempts("acme", limit=5) == []
    # Nothing held: with a fresh invocation's time (90 s) the retry runs at once
    monkeypatch.setattr(FakeLambdaContext, "get_remaining_time_in_millis", lambda _self: 90_000)
    status, body = stack.call("POST", "/admin/tenants/acme/connections/NA/refresh")
    assert status == 200 and body["attempt"]["outcome"] == "succeeded"


def test_unknown_tenant_and_connection(stack: Stack) -> None:
    assert stack.call("GET", "/admin/tenants/nobody")[0] == 404
    assert stack.call("DELETE", "/admin/tenants/nobody/connections/EU")[0] == 404


# ---------------------------------------------------------------------------------------------
# CLI <-> handler contract over real HTTP: the CLI signs, a gateway stand-in verifies SigV4 the
# way API Gateway's IAM authorization does, builds the payload-2.0 event and calls the handler
# (backed by in-memory ports). Proves the two agree on paths, queries, bodies and JSON shapes.
# ---------------------------------------------------------------------------------------------

GATEWAY_ACCESS_KEY = "AKIAFAKEGATEWAYKEY01"
GATEWAY_SECRET_KEY = "fake-gateway-secret-key"


class _SigV4Gateway(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        return

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = f"http://{self.headers['Host']}{self.path}"
        if not _signature_valid(self.command, url, body, dict(self.headers.items())):
            self._answer(403, {"Content-Type": "application/json"}, json.dumps({"message": "Forbidden"}))
            return
        parts = urlsplit(self.path)
        event = http_event(
            self.command,
            unquote(parts.path),
            raw_body=body.decode() if body else None,
            query=dict(parse_qsl(parts.query)),
        )
        result = admin.handler(event, FakeLambdaContext())  # type: ignore[arg-type]
        self._answer(result["statusCode"], result.get("headers", {}), result["body"])

    def _answer(self, status: int, headers: dict[str, str], body: str) -> None:
        data = body.encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = _serve


def _signature_valid(method: str, url: str, body: bytes, headers: dict[str, str]) -> bool:
    authorization = headers.get("Authorization", "")
    if f"Credential={GATEWAY_ACCESS_KEY}/" not in authorization or "X-Amz-Date" not in headers:
        return False
    signed_names = authorization.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
    signed = {k: v for k, v in headers.items() if k.lower() in signed_names}
    request = AWSRequest(method=method, url=url, data=body or None, headers=signed)
    request.context["timestamp"] = headers["X-Amz-Date"]
    region = authorization.split("Credential=", 1)[1].split("/")[2]
    auth = SigV4Auth(ReadOnlyCredentials(GATEWAY_ACCESS_KEY, GATEWAY_SECRET_KEY, None), "execute-api", region)
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    return hmac.compare_digest(expected, authorization.rsplit("Signature=", 1)[1])


@dataclass
class Gateway:
    url: str
    store: MemoryStore
    vault: MemoryVault
    flows: FakeFlows
    clock: FakeClock

    def cli(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        streams = Io(stdin=io.StringIO(stdin), stdout=out, stderr=err, environ={})
        code = cli_main(["--api-url", self.url, *argv], io=streams)
        return code, out.getvalue(), err.getvalue()


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[Gateway]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", GATEWAY_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", GATEWAY_SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    clock = FakeClock()
    store = MemoryStore(clock)
    vault = MemoryVault(ClientCredentials(TEST_CLIENT_ID, TEST_CLIENT_SECRET))
    lwa = ScriptedLwa()
    flows = FakeFlows(store, clock)
    service = admin_service(store, vault, lwa, RecordingEvents(), clock, flows)
    monkeypatch.setattr(admin, "_service", service)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SigV4Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Gateway(f"http://127.0.0.1:{server.server_address[1]}", store, vault, flows, clock)
    finally:
        server.shutdown()
        server.server_close()


def test_cli_and_handler_agree_end_to_end(gateway: Gateway) -> None:
    # Given connections in two statuses
    for i in range(3):
        gateway.store.save_connection(
            make_connection(f"tenant-{i}", clock=gateway.clock), expected_grant_version=None
        )
    gateway.store.save_connection(
        make_connection("broken", status=ConnectionStatus.REAUTHORIZATION_REQUIRED, clock=gateway.clock),
        expected_grant_version=None,
    )

    code, out, err = gateway.cli(
        "credentials", "set", "--client-id", TEST_CLIENT_ID, stdin="rotated-fake-secret\n"
    )
    assert code == 0, err
    assert gateway.vault.credentials == ClientCredentials(TEST_CLIENT_ID, "rotated-fake-secret")

    code, out, _ = gateway.cli(
        "--json", "sessions", "create", "new-tenant", "--region", "EU", "--lifetime", "600"
    )
    assert code == 0 and json.loads(out)["consent_url"].startswith("https://")
    assert gateway.flows.session_calls[0][1].lifetime_seconds == 600

    code, out, _ = gateway.cli("--json", "connections", "list", "--limit", "1", "--all")
    assert code == 0
    assert [c["tenant_id"] for c in json.loads(out)["items"]] == [
        "broken",
        "tenant-0",
        "tenant-1",
        "tenant-2",
    ]

    code, out, _ = gateway.cli("connections", "list", "--status", "reauthorization_required")
    assert code == 0 and "broken" in out and "tenant-0" not in out

    code, out, err = gateway.cli("tenants", "list", "--limit", "2")
    assert code == 0 and "--next-token" in err
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["broken", "tenant-0"]
    code, out, _ = gateway.cli("--json", "tenants", "list", "--limit", "1", "--all")
    tenants = json.loads(out)["items"]
    assert [t["tenant_id"] for t in tenants] == ["broken", "tenant-0", "tenant-1", "tenant-2"]
    assert tenants[0]["status"] == "reauthorization_required"

    code, out, _ = gateway.cli("sessions", "create", "tenant-0", "--url-only")
    assert code == 0 and out.strip().startswith("https://") and len(out.splitlines()) == 1

    code, out, _ = gateway.cli("connections", "refresh", "tenant-1", "na")
    assert code == 0 and "succeeded" in out
    code, out, _ = gateway.cli("--json", "tenants", "show", "tenant-1")
    assert json.loads(out)["refresh_attempts"][0]["trigger"] == "admin"

    code, out, _ = gateway.cli("connections", "resync", "tenant-1", "NA")
    assert code == 0 and gateway.flows.resync_calls == [("tenant-1", Region.NA)]

    code, out, _ = gateway.cli(
        "connections", "disconnect", "tenant-2", "NA", "--recovery-days", "30", "--yes"
    )
    assert code == 0 and gateway.vault.deleted == [("tenant-2", Region.NA, 30)]

    # Errors keep their exit codes across the wire
    assert gateway.cli("tenants", "show", "nobody")[0] == 3
    assert gateway.cli("connections", "refresh", "tenant-2", "NA")[0] == 6
    gateway.flows.refresh_error = LeaseHeldError("held")
    assert gateway.cli("connections", "refresh", "tenant-1", "NA")[0] == 6
    assert gateway.cli("tenants", "show", "bad!id")[0] == 2


def test_a_wrong_aws_secret_fails_signature_verification(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-right-secret")
    code, _, err = gateway.cli("connections", "list")
    assert code == 4 and "execute-api:Invoke" in err


def test_unsigned_requests_never_reach_the_handler(gateway: Gateway) -> None:
    answer = requests.get(f"{gateway.url}/admin/connections", timeout=5)
    assert answer.status_code == 403
    assert gateway.store.status_queries == []


# ---------------------------------------------------------------------------------------------
# Every route on moto with the real persistence adapters (store, vault, events); LWA scripted
# and the refresh / profile / session flows stood in by fakes that write through the same ports.
# ---------------------------------------------------------------------------------------------


@dataclass
class Moto:
    aws: AwsResources
    store: Any
    vault: Any
    lwa: ScriptedLwa
    flows: FakeFlows
    clock: FakeClock

    def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        response = admin.handler(http_event(method, path, **kwargs), FakeLambdaContext())  # type: ignore[arg-type]
        assert TEST_CLIENT_SECRET not in response["body"]
        return response["statusCode"], json.loads(response["body"])

    def connect(self, tenant: str, region: Region = Region.NA, **updates: Any) -> Connection:
        connection = make_connection(tenant, region, clock=self.clock, **updates)
        self.store.save_connection(connection, expected_grant_version=None)
        self.vault.write_refresh_token(
            tenant, region, refresh_token=f"Atzr|fake-{tenant}", grant_version=1, client_id=TEST_CLIENT_ID
        )
        return connection


@pytest.fixture
def moto_api(aws: AwsResources, monkeypatch: pytest.MonkeyPatch) -> Iterator[Moto]:
    from ads_connect.adapters.connection_store import DynamoConnectionStore
    from ads_connect.adapters.events import EventBridgePublisher
    from ads_connect.adapters.secrets import SecretsManagerVault

    settings = AdminSettings.from_environment()
    clock = FakeClock()
    store = DynamoConnectionStore(settings.table_name, clock=clock)
    vault = SecretsManagerVault(settings)
    lwa = ScriptedLwa()
    flows = FakeFlows(store, clock)
    events = EventBridgePublisher(settings.event_bus_name, clock=clock)
    service = admin_service(store, vault, lwa, events, clock, flows)
    monkeypatch.setattr(admin, "_service", service)
    yield Moto(aws, store, vault, lwa, flows, clock)


def test_moto_credentials_write_and_check_clear_the_stored_pause(moto_api: Moto) -> None:
    status, body = moto_api.call(
        "PUT",
        "/admin/client-credentials",
        body={"client_id": TEST_CLIENT_ID, "client_secret": "rotated-fake"},
    )
    assert status == 200 and "rotated-fake" not in json.dumps(body)
    assert (
        read_lwa_secret(moto_api.aws).items()
        >= {"client_id": TEST_CLIENT_ID, "client_secret": "rotated-fake"}.items()
    )

    moto_api.store.set_operator_pause(
        OperatorPause(CLIENT_CREDENTIALS_PAUSE, moto_api.clock.now(), "invalid_client")
    )
    moto_api.lwa.errors.append(InvalidGrantError("probe", error_code="invalid_grant", status=400))
    status, body = moto_api.call("POST", "/admin/client-credentials/check")
    assert status == 200 and body["valid"] is True and body["pause_cleared"] is True
    assert moto_api.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is None
    # The probe used the credentials just written, not a cached copy
    assert moto_api.lwa.calls[0][2] == TEST_CLIENT_ID


def test_moto_set_then_check_on_another_warm_container_checks_the_new_secret(
    moto_api: Moto, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ads_connect.adapters.secrets import SecretsManagerVault

    # Given two warm containers: A (moto_api's service) cached the right secret minutes ago
    container_a = admin._service
    assert moto_api.vault.read_client_credentials().client_secret == TEST_CLIENT_SECRET
    moto_api.store.set_operator_pause(
        OperatorPause(CLIENT_CREDENTIALS_PAUSE, moto_api.clock.now(), "invalid_client")
    )
    moto_api.lwa.valid_secrets = {TEST_CLIENT_SECRET}
    # When `credentials set` lands on container B with a wrong secret...
    container_b = admin_service(
        moto_api.store,
        SecretsManagerVault(AdminSettings.from_environment()),
        moto_api.lwa,
        RecordingEvents(),
        moto_api.clock,
        moto_api.flows,
    )
    monkeypatch.setattr(admin, "_service", container_b)
    status, _ = moto_api.call(
        "PUT", "/admin/client-credentials", body={"client_id": TEST_CLIENT_ID, "client_secret": "wrong-fake"}
    )
    assert status == 200
    # ...and `credentials check` on container A
    monkeypatch.setattr(admin, "_service", container_a)
    status, body = moto_api.call("POST", "/admin/client-credentials/check")

    # Then A probed the secret now stored, not its cached copy: rejected, still paused
    assert status == 200 and body["result"] == "rejected" and body["pause_cleared"] is False
    assert moto_api.lwa.secrets_used == ["wrong-fake"]
    assert moto_api.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is not None
    # And A's refreshes use the new secret from now on, not the one cached before
    assert moto_api.vault.read_client_credentials().client_secret == "wrong-fake"


def test_moto_check_without_a_stored_secret_is_409(moto_api: Moto) -> None:
    boto3.client("secretsmanager", region_name=moto_api.aws.region).delete_secret(
        SecretId=moto_api.aws.lwa_secret_id, ForceDeleteWithoutRecovery=True
    )
    status, body = moto_api.call("POST", "/admin/client-credentials/check")
    assert status == 409 and body["error"]["code"] == "client_credentials_missing"


def test_moto_listing_pages_across_statuses_with_the_status_index(moto_api: Moto) -> None:
    for i in range(4):
        moto_api.connect(f"tenant-{i}")
    moto_api.connect("broken", status=ConnectionStatus.REAUTHORIZATION_REQUIRED, consecutive_failures=3)

    seen: list[str] = []
    token = None
    for _ in range(10):
        status, body = moto_api.call(
            "GET", "/admin/connections", query={"limit": "2", **({"next_token": token} if token else {})}
        )
        assert status == 200 and len(body["items"]) <= 2
        seen += [c["tenant_id"] for c in body["items"]]
        token = body["next_token"]
        if not token:
            break
    assert seen[0] == "broken" and sorted(seen[1:]) == [f"tenant-{i}" for i in range(4)]

    status, body = moto_api.call("GET", "/admin/connections", query={"status": "reauthorization_required"})
    assert [c["consecutive_failures"] for c in body["items"]] == [3]

    # A token from the active listing is refused for another filter, by the API and the store
    status, first = moto_api.call("GET", "/admin/connections", query={"status": "active", "limit": "1"})
    status, body = moto_api.call(
        "GET", "/admin/connections", query={"status": "disconnected", "next_token": first["next_token"]}
    )
    assert status == 400 and body["error"]["code"] == "invalid_request"


def test_moto_tenants_listing_reads_the_status_index_and_lists_each_tenant_once(moto_api: Moto) -> None:
    # Given tenants with connections in several regions and statuses
    for region in Region:
        moto_api.connect("multi", region, profile_count=2)
    moto_api.connect("mixed", Region.NA)
    moto_api.connect(
        "mixed", Region.EU, status=ConnectionStatus.REAUTHORIZATION_REQUIRED, consecutive_failures=2
    )
    moto_api.connect("solo", Region.NA)
    moto_api.connect("gone", Region.NA, status=ConnectionStatus.DISCONNECTED)

    # When the operator pages through one tenant at a time
    seen: list[dict[str, Any]] = []
    token = None
    for _ in range(20):
        status, body = moto_api.call(
            "GET", "/admin/tenants", query={"limit": "1", **({"next_token": token} if token else {})}
        )
        assert status == 200 and len(body["items"]) <= 1
        seen += body["items"]
        token = body["next_token"]
        if not token:
            break

    # Then each tenant comes once, problems first, with all its connections
    assert [t["tenant_id"] for t in seen] == ["mixed", "multi", "solo", "gone"]
    multi = seen[1]
    assert [c["region"] for c in multi["connections"]] == sorted(Region)
    assert multi["profile_count"] == 2 * len(Region)
    assert seen[0]["status"] == "reauthorization_required" and seen[0]["consecutive_failures"] == 2

    status, body = moto_api.call("GET", "/admin/tenants", query={"status": "active", "limit": "2"})
    assert [t["tenant_id"] for t in body["items"]] == ["mixed", "multi"]
    status, body = moto_api.call(
        "GET", "/admin/tenants", query={"status": "active", "limit": "2", "next_token": body["next_token"]}
    )
    assert [t["tenant_id"] for t in body["items"]] == ["solo"]


def test_moto_tenant_detail_refresh_and_lease(moto_api: Moto) -> None:
    moto_api.connect("acme")
    moto_api.store.save_profiles(
        "acme", Region.NA, [make_profile("acme", Region.NA, "9007199254740993", clock=moto_api.clock)]
    )

    status, body = moto_api.call("POST", "/admin/tenants/acme/connections/NA/refresh")
    assert status == 200 and body["attempt"]["outcome"] == "succeeded"

    status, body = moto_api.call("GET", "/admin/tenants/acme")
    assert status == 200
    assert [p["profile_id"] for p in body["profiles"]] == ["9007199254740993"]  # beyond 2^53, exact
    assert body["refresh_attempts"][0]["trigger"] == "admin"
    assert body["connections"][0]["last_refresh_success_at"] is not None

    before = moto_api.store.get_connection("acme", Region.NA)
    lease = moto_api.store.acquire_lease("acme", Region.NA, owner="worker-1", seconds=300)
    status, body = moto_api.call("DELETE", "/admin/tenants/acme/connections/NA")
    assert status == 409 and body["error"]["code"] == "connection_busy"
    assert moto_api.store.get_connection("acme", Region.NA) == before  # nothing changed
    assert moto_api.vault.read_refresh_token("acme", Region.NA) is not None
    assert moto_api.aws.lifecycle_events() == []
    moto_api.store.release_lease(lease)

    status, body = moto_api.call("POST", "/admin/tenants/acme/connections/NA/resync-profiles")
    assert status == 200 and body["profiles"][0]["profile_id"] == "9007199254740993"

    assert moto_api.call("GET", "/admin/tenants/nobody")[0] == 404
    assert moto_api.call("POST", "/admin/tenants/acme/connections/EU/refresh")[0] == 404


def test_moto_disconnect_end_state(moto_api: Moto) -> None:
    moto_api.connect("acme")
    moto_api.store.save_profiles(
        "acme", Region.NA, [make_profile("acme", Region.NA, "42", clock=moto_api.clock)]
    )
    later = moto_api.clock.now() + timedelta(days=1)
    assert ("acme", Region.NA) in moto_api.store.due_connections(now=later)

    status, body = moto_api.call("DELETE", "/admin/tenants/acme/connections/NA", query={"recovery_days": "7"})

    assert status == 200 and body["status"] == "disconnected" and body["already_disconnected"] is False
    connection = moto_api.store.get_connection("acme", Region.NA)
    assert connection.status is ConnectionStatus.DISCONNECTED and connection.grant_version == 2
    assert ("acme", Region.NA) not in moto_api.store.due_connections(now=later)
    assert [p.gone for p in moto_api.store.list_profiles("acme")] == [True]
    secrets_client = boto3.client("secretsmanager", region_name=moto_api.aws.region)
    listed = secrets_client.list_secrets(IncludePlannedDeletion=True)["SecretList"]
    private = next(s for s in listed if s["Name"] == f"{moto_api.aws.secret_prefix}/refresh/acme/NA")
    assert "DeletedDate" in private
    table = boto3.resource("dynamodb", region_name=moto_api.aws.region).Table(moto_api.aws.table_name)
    audit = table.query(
        KeyConditionExpression=Key("pk").eq(tenant_pk("acme")) & Key("sk").begins_with(AUDIT_PREFIX)
    )["Items"]
    assert len(audit) == 1 and audit[0]["action"] == "connection_disconnected"
    assert json.loads(str(audit[0]["detail"]))["actor"] == "arn:aws:iam::123456789012:user/operator"
    events = moto_api.aws.lifecycle_events()
    assert [e["detail-type"] for e in events] == ["Connection Disconnected"]
    assert events[0]["detail"]["tenant_id"] == "acme" and events[0]["detail"]["region"] == "NA"

    # Again: idempotent, no second event; refresh refused
    status, body = moto_api.call("DELETE", "/admin/tenants/acme/connections/NA")
    assert status == 200 and body["already_disconnected"] is True
    assert moto_api.aws.lifecycle_events() == []
    status, body = moto_api.call("POST", "/admin/tenants/acme/connections/NA/refresh")
    assert status == 409 and body["error"]["code"] == "connection_disconnected"


def test_moto_disconnect_interrupted_after_the_status_write_is_completed_by_the_retry(
    moto_api: Moto, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_api.connect("acme")
    moto_api.store.save_profiles(
        "acme", Region.NA, [make_profile("acme", Region.NA, "42", clock=moto_api.clock)]
    )

    def secrets_manager_down(*_: Any, **__: Any) -> None:
        raise RuntimeError("Secrets Manager did not answer")

    working = moto_api.vault.delete_connection_secrets
    monkeypatch.setattr(moto_api.vault, "delete_connection_secrets", secrets_manager_down)
    status, body = moto_api.call("DELETE", "/admin/tenants/acme/connections/NA")
    assert status == 500 and body["error"]["code"] == "internal_error"
    # Refreshes stopped, the disconnect is not complete, the lease is free for the retry
    halfway = moto_api.store.get_connection("acme", Region.NA)
    assert halfway.status is ConnectionStatus.DISCONNECTED and halfway.disconnected_at is None
    assert moto_api.store.due_connections(now=moto_api.clock.now() + timedelta(days=1)) == []
    assert moto_api.aws.lifecycle_events() == []

    monkeypatch.setattr(moto_api.vault, "delete_connection_secrets", working)
    status, body = moto_api.call("DELETE", "/admin/tenants/acme/connections/NA")
    assert status == 200 and body["already_disconnected"] is False
    connection = moto_api.store.get_connection("acme", Region.NA)
    assert connection.disconnected_at is not None and connection.grant_version == 2
    assert [p.gone for p in moto_api.store.list_profiles("acme")] == [True]
    secrets_client = boto3.client("secretsmanager", region_name=moto_api.aws.region)
    listed = secrets_client.list_secrets(IncludePlannedDeletion=True)["SecretList"]
    private = next(s for s in listed if s["Name"] == f"{moto_api.aws.secret_prefix}/refresh/acme/NA")
    assert "DeletedDate" in private
    assert [e["detail-type"] for e in moto_api.aws.lifecycle_events()] == ["Connection Disconnected"]
    status, body = moto_api.call("DELETE", "/admin/tenants/acme/connections/NA")
    assert status == 200 and body["already_disconnected"] is True
