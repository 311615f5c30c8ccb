"""The refresh worker handler (SQS batch in, partial batch response out) on in-memory ports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from ads_connect.handlers import refresh_worker
from ads_connect.logic.ports import ClientCredentials, TokenGrant
from ads_connect.regions import Region

from tests.fakes.amazon import FakeAdsApi
from tests.fakes.http_api import FakeLambdaContext
from tests.unit.refresh.conftest import RefreshWorld

# An LWA call as slow as the worst case the HTTP client allows (3.05 s connect + 10 s read), and
# then some: after one such call plus the handler's safety margin, the next refresh cannot start.
SLOW_TOKEN_CALL_MS = 40_000


@dataclass
class CountdownContext(FakeLambdaContext):
    """A Lambda context whose remaining time the test spends (a slow token call)."""

    function_name: str = "ads-connect-refresh-worker"
    remaining_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def _record(
    message_id: str, tenant: str, *, trigger: str = "schedule", kind: str = "refresh"
) -> dict[str, Any]:
    body = {"kind": kind, "tenant_id": tenant, "region": "NA", "trigger": trigger}
    return {
        "messageId": message_id,
        "receiptHandle": f"receipt-{message_id}",
        "body": json.dumps(body),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "x",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ads-connect-work",
        "awsRegion": "us-east-1",
    }


def _failed_ids(response: Any) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> RefreshWorld:
    world = RefreshWorld()
    deps = {
        "store": world.store,
        "vault": world.vault,
        "lwa": world.lwa,
        "ads_api": FakeAdsApi(profiles=[]),
        "events": world.events,
        "clock": world.clock,
        "settings": world.settings,
        "sleep": world.sleeps.append,
    }
    monkeypatch.setattr(refresh_worker, "_dependencies", lambda: deps)
    return world


def test_a_refresh_left_too_little_time_goes_back_to_the_queue(world: RefreshWorld) -> None:
    # Given two due connections, and a first token call that uses up most of the invocation
    world.connect("acme")
    world.connect("globex")
    context = CountdownContext()
    answer = world.lwa.refresh

    def slow_refresh(region: Region, *, refresh_token: str, credentials: ClientCredentials) -> TokenGrant:
        context.remaining_ms -= SLOW_TOKEN_CALL_MS
        return answer(region, refresh_token=refresh_token, credentials=credentials)

    world.lwa.refresh = slow_refresh  # type: ignore[method-assign]
    # When one batch carries both
    response = refresh_worker.handler({"Records": [_record("1", "acme"), _record("2", "globex")]}, context)
    # Then the first is refreshed and the second fails alone, untouched, to be delivered again
    assert _failed_ids(response) == ["2"]
    assert [a.tenant_id for a in world.store.attempts] == ["acme"]
    assert len(world.lwa.refreshes) == 1 and world.store.leases == {}
    assert ("globex", Region.NA) in world.store.due_connections(now=world.clock.now())
