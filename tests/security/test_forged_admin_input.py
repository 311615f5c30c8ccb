"""Threat T7 (docs/security.md): forged input to the admin API. A ``next_token`` is opaque to
the caller but readable base64 JSON, so a caller (a script with a stale token, a compromised
consumer with execute-api access, an operator pasting the wrong token) can hand back anything.
A token that was not issued for that listing and status is a 400 with a JSON error, decided
before DynamoDB sees it: never a 503 with an error log, never a scan from a foreign start key."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from ads_connect import table_schema as schema
from ads_connect.models.records import ConnectionStatus
from ads_connect.regions import Region

from tests.integration.test_admin_api import Moto, moto_api

__all__ = ["moto_api"]


def token(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def store_token(**key: str) -> str:
    """The store's token for connection t1/NA of the active listing, with ``key`` changed."""
    base = {
        **schema.connection_key("t1", Region.NA),
        "connection_status": "active",
        "tenant_region": schema.tenant_region("t1", Region.NA),
    }
    return token({"s": "active", "k": {**base, **key}})


LONG = "a" * 900


def wrapped(inner: str) -> str:
    """The admin listing's token around a store token, as the connections listing issues it."""
    return token({"k": "connections", "s": "active", "t": inner})


FORGED = {
    "another status inside": lambda: wrapped(store_token(connection_status="disconnected")),
    "key of another family": lambda: wrapped(
        store_token(**schema.operator_key("client-credentials-invalid"))
    ),
    "tenant and key disagree": lambda: wrapped(store_token(pk=schema.tenant_pk("t2"))),
    "empty key values": lambda: wrapped(store_token(pk="", sk="", tenant_region="")),
    "unknown region": lambda: wrapped(
        store_token(sk=schema.connection_sk("XX"), tenant_region=schema.tenant_region("t1", "XX"))
    ),
    "oversized tenant": lambda: wrapped(
        store_token(
            **schema.connection_key(LONG, Region.NA), tenant_region=schema.tenant_region(LONG, Region.NA)
        )
    ),
    "tenants listing's token": lambda: token({"k": "tenants", "s": "active", "t": None, "l": "t1"}),
    "no listing named": lambda: token({"s": "active", "t": None}),
    "not base64 JSON": lambda: "%%%not-a-token",
}


@pytest.fixture
def listed(moto_api: Moto) -> Moto:
    for i in range(3):
        moto_api.connect(f"t{i}", Region.NA)
    moto_api.connect("gone", Region.EU, status=ConnectionStatus.DISCONNECTED)
    return moto_api


@pytest.mark.parametrize("forged", list(FORGED))
def test_a_forged_connections_token_is_a_400_before_dynamodb_sees_it(
    listed: Moto, forged: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries: list[dict[str, Any]] = []
    original = listed.store._table.query

    def watched(**kwargs: Any) -> Any:
        queries.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(listed.store._table, "query", watched)
    # When a listing is asked to continue from a forged token
    status, body = listed.call(
        "GET", "/admin/connections", query={"status": "active", "next_token": FORGED[forged]()}
    )
    # Then a JSON 400, and no DynamoDB query started from the forged key
    assert status == 400 and body["error"]["code"] == "invalid_request", body
    assert not any("ExclusiveStartKey" in q for q in queries)


def test_a_connections_token_is_refused_by_the_tenants_listing_and_back(listed: Moto) -> None:
    status, connections = listed.call("GET", "/admin/connections", query={"status": "active", "limit": "1"})
    assert status == 200 and connections["next_token"]
    status, tenants = listed.call("GET", "/admin/tenants", query={"status": "active", "limit": "1"})
    assert status == 200 and tenants["next_token"]
    crossed = [
        ("/admin/tenants", connections["next_token"]),
        ("/admin/connections", tenants["next_token"]),
    ]
    for path, next_token in crossed:
        status, body = listed.call("GET", path, query={"status": "active", "next_token": next_token})
        assert status == 400 and body["error"]["code"] == "invalid_request", (path, body)


def test_issued_tokens_still_page_through_every_connection(listed: Moto) -> None:
    seen: list[str] = []
    next_token = None
    for _ in range(10):
        query = {"limit": "1", **({"next_token": next_token} if next_token else {})}
        status, body = listed.call("GET", "/admin/connections", query=query)
        assert status == 200, body
        seen += [c["tenant_id"] for c in body["items"]]
        next_token = body["next_token"]
        if not next_token:
            break
    assert sorted(seen) == ["gone", "t0", "t1", "t2"]
    assert boto3.client("dynamodb", region_name=listed.aws.region)  # moto stayed up throughout
