"""The admin handler: routing, validation, the IAM guard and the error map (in-memory ports)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from ads_connect.handlers import admin
from ads_connect.logic.ports import (
    AmazonRequestRejectedError,
    ClientCredentials,
    InvalidGrantError,
    LeaseHeldError,
    StaleGrantError,
    TransientAmazonError,
)
from ads_connect.logic.refresh import DeadlineTooCloseError
from ads_connect.models.records import ConnectionStatus
from ads_connect.regions import Region
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError

from tests.fakes.clock import FakeClock
from tests.fakes.http_api import CALLER_ARN, FakeLambdaContext, http_event
from tests.fakes.operator import (
    FakeFlows,
    MemoryStore,
    MemoryVault,
    RecordingEvents,
    ScriptedLwa,
    admin_service,
    make_connection,
)

FAKE_SECRET = "fake-secret-value-for-handler-tests"


@dataclass
class Api:
    store: MemoryStore
    vault: MemoryVault
    lwa: ScriptedLwa
    events: RecordingEvents
    flows: FakeFlows
    clock: FakeClock

    def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        response = admin.handler(http_event(method, path, **kwargs), FakeLambdaContext())  # type: ignore[arg-type]
        assert FAKE_SECRET not in response["body"]
        assert "Traceback" not in response["body"]
        return response["statusCode"], json.loads(response["body"]), response.get("headers", {})

    def add(self, tenant: str, region: Region = Region.NA, **kw: Any) -> None:
        self.store.save_connection(
            make_connection(tenant, region, clock=self.clock, **kw), expected_grant_version=None
        )


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    clock = FakeClock()
    store = MemoryStore(clock)
    vault = MemoryVault(ClientCredentials("amzn1.application-oa2-client.fake", FAKE_SECRET))
    lwa = ScriptedLwa()
    events = RecordingEvents()
    flows = FakeFlows(store, clock)
    service = admin_service(store, vault, lwa, events, clock, flows)
    monkeypatch.setattr(admin, "_service", service)
    yield Api(store, vault, lwa, events, flows, clock)


def assert_error(body: dict[str, Any], code: str) -> None:
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert len(body["error"]["reference"]) == 16


# -- the IAM guard ------------------------------------------------------------------------------


EVERY_ROUTE = [
    ("PUT", "/admin/client-credentials"),
    ("POST", "/admin/client-credentials/check"),
    ("POST", "/admin/tenants/acme/connect-sessions"),
    ("GET", "/admin/connections"),
    ("GET", "/admin/tenants"),
    ("GET", "/admin/tenants/acme"),
    ("POST", "/admin/tenants/acme/connections/NA/refresh"),
    ("POST", "/admin/tenants/acme/connections/NA/resync-profiles"),
    ("DELETE", "/admin/tenants/acme/connections/NA"),
]


@pytest.mark.parametrize(("method", "path"), [*EVERY_ROUTE, ("GET", "/admin/unknown")])
def test_requests_without_iam_context_are_forbidden(api: Api, method: str, path: str) -> None:
    api.add("acme")
    before = api.store.get_connection("acme", Region.NA)
    status, body, _ = api.call(method, path, iam=False, body={"client_id": "x", "client_secret": FAKE_SECRET})
    assert status == 403
    assert_error(body, "forbidden")
    # Nothing ran: no write, no flow, no probe, no read of the store
    assert api.vault.credentials is not None and api.vault.credentials.client_id != "x"
    assert api.vault.credential_reads == [] and api.lwa.calls == [] and api.store.status_queries == []
    assert not (api.flows.refresh_calls or api.flows.resync_calls or api.flows.session_calls)
    assert api.store.get_connection("acme", Region.NA) == before and api.vault.deleted == []


def test_empty_iam_context_is_forbidden(api: Api) -> None:
    event = http_event("GET", "/admin/connections")
    event["requestContext"]["authorizer"]["iam"] = {}
    response = admin.handler(event, FakeLambdaContext())  # type: ignore[arg-type]
    assert response["statusCode"] == 403


# -- client credentials -------------------------------------------------------------------------


def test_put_client_credentials_writes_and_never_echoes_the_secret(api: Api) -> None:
    status, body, _ = api.call(
        "PUT",
        "/admin/client-credentials",
        body={"client_id": "amzn1.application-oa2-client.new", "client_secret": FAKE_SECRET},
    )
    assert status == 200
    assert body["client_id"] == "amzn1.application-oa2-client.new"
    assert api.vault.credentials == ClientCredentials("amzn1.application-oa2-client.new", FAKE_SECRET)


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"client_id": "x"}, "body.client_secret"),
        ({"client_secret": FAKE_SECRET}, "body.client_id"),
        ({"client_id": "x", "client_secret": FAKE_SECRET + " \n"}, "whitespace"),
        ({"client_id": "x y", "client_secret": FAKE_SECRET}, "body.client_id"),
        ({"client_id": "x", "client_secret": FAKE_SECRET, "extra": 1}, "body.extra"),
        ({"client_id": "x", "client_secret": ""}, "body.client_secret"),
        ({"client_id": "x", "client_secret": "s" * 513}, "body.client_secret"),
        ({"client_id": "x" * 257, "client_secret": FAKE_SECRET}, "body.client_id"),
        ({"client_id": "", "client_secret": FAKE_SECRET}, "body.client_id"),
        ({"client_id": 5, "client_secret": FAKE_SECRET}, "body.client_id"),
        ([1, 2], "body"),
        (
            {"client_id": "x", "client_secret": FAKE_SECRET, "add_client": True, "replace_client": True},
            "choose one of add_client and replace_client",
        ),
    ],
)
def test_put_client_credentials_validation(api: Api, payload: Any, fragment: str) -> None:
    status, body, _ = api.call("PUT", "/admin/client-credentials", body=payload)
    assert status == 400
    assert_error(body, "invalid_request")
    assert fragment in body["error"]["message"]
    assert api.vault.credentials is not None and api.vault.credentials.client_secret == FAKE_SECRET


@pytest.mark.parametrize("raw", ["{not json", "", "null"])
def test_put_client_credentials_bad_or_missing_body(api: Api, raw: str) -> None:
    status, body, _ = api.call("PUT", "/admin/client-credentials", raw_body=raw)
    assert status == 400
    assert body["error"]["code"] in {"invalid_json", "invalid_request"}


def test_bad_json_is_named(api: Api) -> None:
    status, body, _ = api.call("PUT", "/admin/client-credentials", raw_body="{not json")
    assert status == 400
    assert_error(body, "invalid_json")


def test_check_credentials_accepted(api: Api) -> None:
    api.lwa.errors.append(InvalidGrantError("dead", error_code="invalid_grant", status=400))
    status, body, _ = api.call("POST", "/admin/client-credentials/check")
    assert status == 200
    assert body["valid"] is True and body["result"] == "accepted"


def test_check_credentials_missing_is_a_conflict(api: Api) -> None:
    api.vault.credentials = None
    status, body, _ = api.call("POST", "/admin/client-credentials/check")
    assert status == 409
    assert_error(body, "client_credentials_missing")


def test_check_credentials_amazon_down_is_503(api: Api) -> None:
    api.lwa.errors.append(TransientAmazonError("down", error_code="server_error", status=503))
    status, body, _ = api.call("POST", "/admin/client-credentials/check")
    assert status == 503
    assert_error(body, "amazon_unavailable")


# -- connect sessions ---------------------------------------------------------------------------


def test_create_connect_session_with_and_without_body(api: Api) -> None:
    status, body, _ = api.call(
        "POST",
        "/admin/tenants/acme-1/connect-sessions",
        body={"region": "EU", "display_name": "Acme", "lifetime_seconds": 900},
    )
    assert status == 201
    assert body["consent_url"].startswith("https://") and body["tenant_id"] == "acme-1"
    assert api.flows.session_calls[0][1].region is Region.EU

    status, body, _ = api.call("POST", "/admin/tenants/acme-2/connect-sessions")
    assert status == 201
    assert api.flows.session_calls[1][1].region is None


@pytest.mark.parametrize(
    "payload",
    [
        {"region": "XX"},
        {"lifetime_seconds": 10},
        {"lifetime_seconds": 8 * 24 * 3600},
        {"display_name": ""},
        {"display_name": "x" * 81},
        {"return_url": ""},
        {"return_url": "https://app.example.com/" + "x" * 2048},
        {"lifetime_seconds": "an hour"},
        {"region": "na"},
        {"unknown": 1},
        [1],
    ],
)
def test_create_connect_session_validation(api: Api, payload: Any) -> None:
    status, body, _ = api.call("POST", "/admin/tenants/acme/connect-sessions", body=payload)
    assert status == 400
    assert_error(body, "invalid_request")
    assert api.flows.session_calls == []


def test_create_connect_session_with_a_body_that_is_not_json(api: Api) -> None:
    status, body, _ = api.call("POST", "/admin/tenants/acme/connect-sessions", raw_body="{region: EU")
    assert status == 400
    assert_error(body, "invalid_json")
    assert api.flows.session_calls == []


TENANT_ROUTES = [
    ("POST", "/admin/tenants/{}/connect-sessions"),
    ("GET", "/admin/tenants/{}"),
    ("POST", "/admin/tenants/{}/connections/NA/refresh"),
    ("POST", "/admin/tenants/{}/connections/NA/resync-profiles"),
    ("DELETE", "/admin/tenants/{}/connections/NA"),
]


@pytest.mark.parametrize(("method", "route"), TENANT_ROUTES)
@pytest.mark.parametrize("tenant", ["bad!id", "-leading-dash", "x" * 65, "%3Cscript%3E"])
def test_bad_tenant_ids_are_rejected_without_reflection(
    api: Api, method: str, route: str, tenant: str
) -> None:
    status, body, _ = api.call(method, route.format(tenant))
    assert status == 400
    assert_error(body, "invalid_tenant_id")
    assert tenant not in body["error"]["message"]
    assert not (api.flows.refresh_calls or api.flows.resync_calls or api.flows.session_calls)


# -- listing ------------------------------------------------------------------------------------


def test_list_connections_pages_with_opaque_tokens(api: Api) -> None:
    for i in range(3):
        api.add(f"t{i}", consecutive_failures=i, last_refresh_error_code="server_error" if i else None)
    api.add("r1", status=ConnectionStatus.REAUTHORIZATION_REQUIRED)

    status, first, _ = api.call("GET", "/admin/connections", query={"limit": "2"})
    assert status == 200
    assert [c["tenant_id"] for c in first["items"]] == ["r1", "t0"]
    status, second, _ = api.call(
        "GET", "/admin/connections", query={"limit": "2", "next_token": first["next_token"]}
    )
    assert [c["tenant_id"] for c in second["items"]] == ["t1", "t2"]
    assert second["next_token"] is not None  # the disconnected status is still to be read
    status, third, _ = api.call(
        "GET", "/admin/connections", query={"limit": "2", "next_token": second["next_token"]}
    )
    assert third == {"items": [], "next_token": None}
    shown = second["items"][1]
    assert shown["consecutive_failures"] == 2 and shown["last_refresh_error_code"] == "server_error"
    assert {"region", "status", "profile_count", "access_token_expires_at", "last_refresh_success_at"} <= set(
        shown
    )


def test_list_connections_by_status(api: Api) -> None:
    api.add("a1")
    api.add("r1", status=ConnectionStatus.REAUTHORIZATION_REQUIRED)
    status, body, _ = api.call("GET", "/admin/connections", query={"status": "reauthorization_required"})
    assert status == 200
    assert [c["tenant_id"] for c in body["items"]] == ["r1"]


@pytest.mark.parametrize("path", ["/admin/connections", "/admin/tenants"])
@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"status": "bogus"}, "invalid_request"),
        ({"limit": "0"}, "invalid_request"),
        ({"limit": "101"}, "invalid_request"),
        ({"limit": "ten"}, "invalid_request"),
        ({"next_token": ""}, "invalid_request"),
        ({"next_token": "x" * 4097}, "invalid_request"),
        ({"next_token": "garbage!"}, "invalid_request"),
    ],
)
def test_listing_validation(api: Api, path: str, query: dict[str, str], code: str) -> None:
    status, body, _ = api.call("GET", path, query=query)
    assert status == 400
    assert_error(body, code)
    assert api.store.status_queries == []  # refused before any read


def test_list_tenants_pages_with_every_connection_of_each_tenant(api: Api) -> None:
    api.add("acme", Region.NA, profile_count=2)
    api.add("acme", Region.EU, status=ConnectionStatus.REAUTHORIZATION_REQUIRED, consecutive_failures=2)
    api.add("beta")
    api.add("gamma", status=ConnectionStatus.DISCONNECTED)

    status, first, _ = api.call("GET", "/admin/tenants", query={"limit": "2"})
    assert status == 200
    assert [t["tenant_id"] for t in first["items"]] == ["acme", "beta"]
    acme = first["items"][0]
    assert acme["status"] == "reauthorization_required"
    assert [(c["region"], c["status"]) for c in acme["connections"]] == [
        ("EU", "reauthorization_required"),
        ("NA", "active"),
    ]
    assert acme["profile_count"] == 3 and acme["consecutive_failures"] == 2
    assert {"soonest_access_token_expires_at", "stalest_refresh_success_at"} <= set(acme)
    assert {"access_token_expires_at", "last_refresh_success_at", "profile_count"} <= set(
        acme["connections"][0]
    )
    status, second, _ = api.call(
        "GET", "/admin/tenants", query={"limit": "2", "next_token": first["next_token"]}
    )
    assert status == 200 and [t["tenant_id"] for t in second["items"]] == ["gamma"]

    status, body, _ = api.call("GET", "/admin/tenants", query={"status": "active"})
    assert [t["tenant_id"] for t in body["items"]] == ["acme", "beta"] and body["next_token"] is None


# -- tenant detail ------------------------------------------------------------------------------


def test_show_tenant_and_unknown_tenant(api: Api) -> None:
    api.add("acme")
    status, body, _ = api.call("GET", "/admin/tenants/acme")
    assert status == 200
    assert body["tenant_id"] == "acme" and [c["region"] for c in body["connections"]] == ["NA"]
    assert body["profiles"] == [] and body["refresh_attempts"] == []

    status, body, _ = api.call("GET", "/admin/tenants/nobody")
    assert status == 404
    assert_error(body, "tenant_not_found")


# -- refresh / resync ---------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["NA", "na"])
def test_refresh_now(api: Api, region: str) -> None:
    api.add("acme")
    status, body, _ = api.call("POST", f"/admin/tenants/acme/connections/{region}/refresh")
    assert status == 200
    assert body["attempt"]["outcome"] == "succeeded" and body["attempt"]["trigger"] == "admin"
    assert api.flows.refresh_calls == [("acme", Region.NA)]


def test_refresh_conflicts_and_not_found(api: Api) -> None:
    api.add("acme")
    api.flows.refresh_error = LeaseHeldError("held")
    status, body, _ = api.call("POST", "/admin/tenants/acme/connections/NA/refresh")
    assert status == 409
    assert_error(body, "refresh_in_progress")

    status, body, _ = api.call("POST", "/admin/tenants/acme/connections/EU/refresh")
    assert status == 404
    assert_error(body, "connection_not_found")

    api.add("gone", status=ConnectionStatus.DISCONNECTED)
    status, body, _ = api.call("POST", "/admin/tenants/gone/connections/NA/refresh")
    assert status == 409
    assert_error(body, "connection_disconnected")

    api.flows.refresh_error = StaleGrantError("raced")
    status, body, _ = api.call("POST", "/admin/tenants/acme/connections/NA/refresh")
    assert status == 409
    assert_error(body, "concurrent_change")


def test_refresh_without_enough_time_left_is_a_503_to_retry(api: Api) -> None:
    api.add("acme")
    before = api.store.get_connection("acme", Region.NA)
    api.flows.refresh_error = DeadlineTooCloseError("acme/NA: 3.0 s left")
    status, body, _ = api.call("POST", "/admin/tenants/acme/connections/NA/refresh")
    assert status == 503
    assert_error(body, "not_enough_time")
    assert "retry" in body["error"]["message"].lower() and "3.0 s" not in body["error"]["message"]
    assert api.store.get_connection("acme", Region.NA) == before


@pytest.mark.parametrize("path_region", ["XX", "us-east-1"])
def test_unknown_region(api: Api, path_region: str) -> None:
    api.add("acme")
    for method, suffix in (("POST", "/refresh"), ("POST", "/resync-profiles"), ("DELETE", "")):
        status, body, _ = api.call(method, f"/admin/tenants/acme/connections/{path_region}{suffix}")
        assert status == 400
        assert_error(body, "unknown_region")
        # The CLI keeps no region list: this message is where an operator learns the codes.
        assert all(region.value in body["error"]["message"] for region in Region)


def test_resync_profiles(api: Api) -> None:
    api.add("acme", Region.FE)
    status, body, _ = api.call("POST", "/admin/tenants/acme/connections/FE/resync-profiles")
    assert status == 200
    assert body["region"] == "FE" and body["connection"]["tenant_id"] == "acme"
    assert api.flows.resync_calls == [("acme", Region.FE)]


# -- disconnect ---------------------------------------------------------------------------------


def test_disconnect_with_recovery_window_and_actor(api: Api) -> None:
    api.add("acme")
    status, body, _ = api.call("DELETE", "/admin/tenants/acme/connections/NA", query={"recovery_days": "14"})
    assert status == 200
    assert body["status"] == "disconnected" and body["recovery_window_days"] == 14
    assert api.vault.deleted == [("acme", Region.NA, 14)]
    assert api.store.audit[0][2]["actor"] == CALLER_ARN
    assert api.events.published[0][0] == "Connection Disconnected"


@pytest.mark.parametrize("days", ["6", "31", "seven"])
def test_disconnect_recovery_window_validation(api: Api, days: str) -> None:
    api.add("acme")
    status, body, _ = api.call("DELETE", "/admin/tenants/acme/connections/NA", query={"recovery_days": days})
    assert status == 400
    assert_error(body, "invalid_request")
    assert api.vault.deleted == []


def test_disconnect_while_a_refresh_holds_the_lease_is_a_409_busy(api: Api) -> None:
    api.add("acme")
    before = api.store.get_connection("acme", Region.NA)
    api.store.acquire_lease("acme", Region.NA, owner="refresh-0123456789ab", seconds=300)
    status, body, _ = api.call("DELETE", "/admin/tenants/acme/connections/NA")
    assert status == 409
    assert_error(body, "connection_busy")
    assert "retry" in body["error"]["message"].lower()
    assert api.store.get_connection("acme", Region.NA) == before
    assert api.vault.deleted == [] and api.events.published == [] and api.store.audit == []


def test_disconnect_unknown_connection(api: Api) -> None:
    status, body, _ = api.call("DELETE", "/admin/tenants/acme/connections/NA")
    assert status == 404
    assert_error(body, "connection_not_found")


# -- routing and unexpected failures ------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/admin/nothing", "/admin/tenants/a/connections", "/admin/tenants/a/b/c/d/e", "/admin", "/other"]
)
def test_unknown_route(api: Api, path: str) -> None:
    status, body, _ = api.call("GET", path)
    assert status == 404
    assert_error(body, "unknown_route")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/admin/client-credentials", "PUT"),
        ("DELETE", "/admin/connections", "GET"),
        ("POST", "/admin/tenants", "GET"),
        ("DELETE", "/admin/tenants/acme", "GET"),
        ("GET", "/admin/client-credentials/check", "POST"),
        ("PUT", "/admin/tenants/acme/connect-sessions", "GET, POST"),
        ("GET", "/admin/connect-sessions/abc", "DELETE"),
        ("GET", "/admin/tenants/acme/connections/NA/reactivate", "POST"),
        ("GET", "/admin/tenants/acme/connections/NA/resync-profiles", "POST"),
        ("GET", "/admin/tenants/acme/connections/NA/refresh", "POST"),
        ("PUT", "/admin/tenants/acme/connections/NA", "DELETE"),
    ],
)
def test_wrong_method(api: Api, method: str, path: str, allowed: str) -> None:
    status, body, headers = api.call(method, path)
    assert status == 405
    assert_error(body, "method_not_allowed")
    assert headers["Allow"] == allowed


def test_aws_failure_is_503_without_details(api: Api) -> None:
    api.flows.session_error = ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "PutItem"
    )
    status, body, _ = api.call("POST", "/admin/tenants/acme/connect-sessions")
    assert status == 503
    assert_error(body, "aws_unavailable")
    assert "Rate exceeded" not in body["error"]["message"]


def test_unexpected_error_is_a_json_500_with_a_reference_only(api: Api) -> None:
    api.flows.session_error = RuntimeError(f"boom {FAKE_SECRET}")
    status, body, _ = api.call("POST", "/admin/tenants/acme/connect-sessions")
    assert status == 500
    assert_error(body, "internal_error")
    assert "boom" not in json.dumps(body)


# -- the reference in an error answer finds its cause in the logs ----------------------------------

LEAKY = "fake-leaky-parameter-value"


def _log_line(caplog: pytest.LogCaptureFixture, reference: str) -> dict[str, Any]:
    lines = [r.__dict__ for r in caplog.records if getattr(r, "reference", None) == reference]
    assert len(lines) == 1, "exactly one log line carries the answer's reference"
    return lines[0]


@pytest.mark.parametrize(
    ("failure", "status", "code", "cause"),
    [
        (
            ClientError(
                {
                    "Error": {"Code": "ThrottlingException", "Message": f"Rate exceeded for {LEAKY}"},
                    "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": "req-0001"},
                },
                "PutItem",
            ),
            503,
            "aws_unavailable",
            {
                "error_type": "ClientError",
                "aws_operation": "PutItem",
                "aws_error_code": "ThrottlingException",
                "aws_http_status": 400,
                "aws_request_id": "req-0001",
            },
        ),
        (
            ParamValidationError(report=f"Invalid type for parameter SecretString, value: {LEAKY}"),
            503,
            "aws_unavailable",
            {"error_type": "ParamValidationError"},
        ),
        (
            EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
            503,
            "aws_unavailable",
            {"error_type": "EndpointConnectionError"},
        ),
        (
            AmazonRequestRejectedError(f"Amazon said {LEAKY}", error_code="invalid_scope", status=400),
            502,
            "amazon_error",
            {
                "error_type": "AmazonRequestRejectedError",
                "amazon_error_code": "invalid_scope",
                "amazon_status": 400,
            },
        ),
        (
            TransientAmazonError(f"timeout {LEAKY}", error_code="server_error", status=503),
            503,
            "amazon_unavailable",
            {"error_type": "TransientAmazonError", "amazon_error_code": "server_error", "amazon_status": 503},
        ),
        (
            LeaseHeldError(f"held by {LEAKY}"),
            409,
            "refresh_in_progress",
            {"error_type": "LeaseHeldError"},
        ),
    ],
)
def test_the_reference_of_an_error_answer_is_logged_with_its_cause_and_no_message(
    api: Api,
    caplog: pytest.LogCaptureFixture,
    failure: Exception,
    status: int,
    code: str,
    cause: dict[str, Any],
) -> None:
    caplog.set_level("DEBUG")
    api.add("acme")
    api.flows.refresh_error = failure

    answered, body, _ = api.call("POST", "/admin/tenants/acme/connections/NA/refresh")

    assert answered == status
    assert_error(body, code)
    line = _log_line(caplog, body["error"]["reference"])
    assert line["status"] == status and line["code"] == code
    assert {key: line.get(key) for key in cause} == cause
    everything = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert LEAKY not in everything and LEAKY not in json.dumps(body)


def test_an_unexpected_error_logs_its_type_and_stack_under_the_reference_without_its_message(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    api.flows.session_error = RuntimeError(f"boom {FAKE_SECRET}")

    status, body, _ = api.call("POST", "/admin/tenants/acme/connect-sessions")

    assert status == 500
    line = _log_line(caplog, body["error"]["reference"])
    assert line["error_type"] == "RuntimeError" and line["levelname"] == "ERROR"
    assert any("create_session" in frame for frame in line["stack"])  # where it was raised
    everything = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert FAKE_SECRET not in everything and "boom" not in everything


# -- every action that changes something is attributed to the caller -------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "action", "region"),
    [
        (
            "PUT",
            "/admin/client-credentials",
            {"client_id": "cid", "client_secret": FAKE_SECRET, "add_client": True},
            "write_client_credentials",
            None,
        ),
        ("POST", "/admin/client-credentials/check", None, "check_client_credentials", None),
        ("POST", "/admin/tenants/acme/connect-sessions", None, "create_connect_session", None),
        ("POST", "/admin/tenants/acme/connections/na/refresh", None, "refresh_connection", "NA"),
        ("POST", "/admin/tenants/acme/connections/NA/resync-profiles", None, "resync_profiles", "NA"),
        ("DELETE", "/admin/tenants/acme/connections/NA", None, "disconnect", "NA"),
    ],
)
def test_changing_actions_log_the_callers_iam_arn(
    api: Api,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    body: dict[str, str] | None,
    action: str,
    region: str | None,
) -> None:
    caplog.set_level("INFO")
    api.add("acme")
    api.lwa.errors.append(InvalidGrantError("dead", error_code="invalid_grant", status=400))

    status, _, _ = api.call(method, path, **({"body": body} if body else {}))

    assert status in (200, 201)
    (line,) = [r.__dict__ for r in caplog.records if r.getMessage() == "admin action"]
    assert line["action"] == action and line["actor"] == CALLER_ARN
    assert line.get("region") == region
    assert line.get("tenant_id") == (None if "tenants" not in path else "acme")


def test_reads_are_not_logged_as_actions(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    api.add("acme")
    for path in ("/admin/connections", "/admin/tenants", "/admin/tenants/acme"):
        assert api.call("GET", path)[0] == 200
    assert [r for r in caplog.records if r.getMessage() == "admin action"] == []


# -- no secret in a log line --------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {"client_id": "amzn1.application-oa2-client.new", "client_secret": FAKE_SECRET},
        {"client_id": "bad id", "client_secret": FAKE_SECRET},  # rejected: validation path
        {"client_id": "x", "client_secret": FAKE_SECRET + " tail"},  # rejected by the secret's own rule
    ],
)
def test_the_client_secret_never_reaches_the_logs(
    api: Api, payload: dict[str, str], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    api.call("PUT", "/admin/client-credentials", body=payload)
    captured = capsys.readouterr()
    logs = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    # Something was logged (the write, or the rejection), and none of it holds the secret
    assert "client credentials written" in logs or "admin request failed" in logs
    assert FAKE_SECRET not in captured.out + captured.err + logs


# -- errors of the sibling flows ----------------------------------------------------------------


def test_connect_session_rejections_are_400_with_the_flow_message(api: Api) -> None:
    from ads_connect.logic.connect_session import ConnectSessionRequestError

    api.flows.session_error = ConnectSessionRequestError(
        "return_url is not in the stack's allowed return URLs"
    )
    status, body, _ = api.call(
        "POST", "/admin/tenants/acme/connect-sessions", body={"return_url": "https://evil.example.com/x"}
    )
    assert status == 400
    assert_error(body, "invalid_connect_session")
    assert "allowed return URLs" in body["error"]["message"]
    assert "evil.example.com" not in json.dumps(body)


def test_rotated_token_not_persisted_is_503(api: Api) -> None:
    from ads_connect.logic.refresh import RotatedTokenNotPersistedError

    api.add("acme")
    api.flows.refresh_error = RotatedTokenNotPersistedError("acme/NA")
    status, body, _ = api.call("POST", "/admin/tenants/acme/connections/NA/refresh")
    assert status == 503
    assert_error(body, "token_not_persisted")


def test_refresh_of_a_dead_grant_is_409_reauthorization_required(api: Api) -> None:
    api.add("acme", status=ConnectionStatus.REAUTHORIZATION_REQUIRED)
    for suffix in ("refresh", "resync-profiles"):
        status, body, _ = api.call("POST", f"/admin/tenants/acme/connections/NA/{suffix}")
        assert status == 409
        assert_error(body, "reauthorization_required")
