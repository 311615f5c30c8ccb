"""The refresh worker handler (SQS batch in, partial batch response out) on in-memory ports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from ads_connect.handlers import refresh_worker
from ads_connect.logic.ports import (
    CLIENT_CREDENTIALS_PAUSE,
    PROBE_TRIGGER,
    ClientCredentials,
    InvalidClientError,
    OperatorPause,
    TokenGrant,
)
from ads_connect.models.records import RefreshOutcome
from ads_connect.regions import Region

from local.schedule import sqs_event
from tests.fakes.amazon import FakeAdsApi
from tests.fakes.http_api import FakeLambdaContext
from tests.unit.refresh.conftest import RefreshWorld

# An LWA call as slow as the worst case the HTTP client allows (3.05 s connect + 10 s read), and
# then some: after one such call plus the handler's safety margin, the next refresh cannot start.
SLOW_TOKEN_CALL_MS = 60_000


@dataclass
class CountdownContext(FakeLambdaContext):
    """A Lambda context whose remaining time the test spends (a slow token call)."""

    function_name: str = "ads-connect-refresh-worker"
    remaining_ms: int = 120_000  # a fresh worker invocation (stacks/refresh.py WORKER_TIMEOUT)

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


WORK_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:ads-connect-work"


def _record(
    message_id: str, tenant: str, *, trigger: str = "schedule", kind: str = "refresh"
) -> dict[str, Any]:
    body = {"kind": kind, "tenant_id": tenant, "region": "NA", "trigger": trigger}
    message = {"MessageId": message_id, "ReceiptHandle": f"receipt-{message_id}", "Body": json.dumps(body)}
    record: dict[str, Any] = sqs_event([message], WORK_QUEUE_ARN)["Records"][0]
    return record


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


def _count_pause_reads(world: RefreshWorld) -> list[str]:
    reads: list[str] = []
    real_read = world.store.get_operator_pause

    def counted_read(name: str) -> OperatorPause | None:
        reads.append(name)
        return real_read(name)

    world.store.get_operator_pause = counted_read  # type: ignore[method-assign]
    return reads


def _pause(world: RefreshWorld) -> None:
    world.store.set_operator_pause(
        OperatorPause(CLIENT_CREDENTIALS_PAUSE, world.clock.now() - timedelta(minutes=5), "invalid_client")
    )


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


def test_while_paused_the_worker_skips_queued_refreshes_but_runs_the_probe(world: RefreshWorld) -> None:
    # Given refreshes paused, three messages queued before the pause and the scheduler's probe;
    # the secret is still wrong, so the probe meets invalid_client again
    for tenant in ("acme", "globex", "initech", "umbrella"):
        world.connect(tenant, consecutive_failures=1)
    _pause(world)
    reads = _count_pause_reads(world)
    world.lwa.refresh_script = [
        InvalidClientError("client rejected", error_code="invalid_client", status=401)
    ]
    records = [
        _record("1", "acme"),
        _record("2", "globex"),
        _record("3", "initech", trigger=PROBE_TRIGGER),
        _record("4", "umbrella", trigger="sqs-redelivery"),
    ]
    # When the worker gets them in one batch
    response = refresh_worker.handler({"Records": records}, CountdownContext())
    # Then every message succeeds (skipped ones leave the queue), one pause read serves the batch
    assert _failed_ids(response) == []
    assert reads == [CLIENT_CREDENTIALS_PAUSE]
    # And only the probe called Amazon; nothing was charged to the skipped tenants
    assert len(world.lwa.refreshes) == 1
    assert [(a.tenant_id, a.outcome) for a in world.store.attempts] == [
        ("initech", RefreshOutcome.CLIENT_CREDENTIALS_INVALID)
    ]
    for tenant in ("acme", "globex", "umbrella"):
        assert world.connection(tenant).consecutive_failures == 1
        assert (tenant, Region.NA) in world.store.due_connections(now=world.clock.now())
    # And the pause that was already set is not announced again
    assert world.events.published == []


def test_once_the_probe_lifts_the_pause_the_rest_of_the_batch_and_the_next_one_refresh(
    world: RefreshWorld,
) -> None:
    # Given refreshes paused, the operator has fixed the secret, and the probe comes first
    for tenant in ("acme", "globex", "initech"):
        world.connect(tenant)
    _pause(world)
    reads = _count_pause_reads(world)
    batch = {"Records": [_record("1", "acme", trigger=PROBE_TRIGGER), _record("2", "globex")]}
    # When the worker runs the batch
    assert _failed_ids(refresh_worker.handler(batch, CountdownContext())) == []
    # Then the probe's success lifted the pause and the queued refresh after it went through
    assert world.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is None
    assert [a.outcome for a in world.store.attempts] == [RefreshOutcome.SUCCEEDED] * 2
    assert reads == [CLIENT_CREDENTIALS_PAUSE]
    # And the next invocation reads the pause afresh and refreshes normally
    assert (
        _failed_ids(refresh_worker.handler({"Records": [_record("3", "initech")]}, CountdownContext())) == []
    )
    assert [a.tenant_id for a in world.store.attempts] == ["acme", "globex", "initech"]
    assert len(reads) == 2


def test_a_batch_without_queued_refreshes_does_not_read_the_pause(world: RefreshWorld) -> None:
    world.connect("acme")
    _pause(world)
    reads = _count_pause_reads(world)
    batch = {
        "Records": [_record("1", "acme", trigger=PROBE_TRIGGER), _record("2", "nobody", kind="profile_sync")]
    }
    assert _failed_ids(refresh_worker.handler(batch, CountdownContext())) == []
    assert reads == []
