"""Keep connections alive: scheduler + worker + refresh logic on moto against the emulator."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import boto3
import botocore.client
import pytest
from ads_connect.adapters.connection_store import DynamoConnectionStore
from ads_connect.adapters.events import EventBridgePublisher
from ads_connect.adapters.lwa import HttpLwaClient
from ads_connect.adapters.work_queue import SqsWorkQueue
from ads_connect.clock import SystemClock
from ads_connect.handlers import refresh_scheduler, refresh_worker
from ads_connect.logic.ports import CLIENT_CREDENTIALS_PAUSE, PROBE_TRIGGER, LeaseHeldError, NotDueError
from ads_connect.logic.refresh import (
    ESCALATE_AFTER_FAILURES,
    LEASE_SECONDS,
    RotatedTokenNotPersistedError,
    refresh_connection,
)
from ads_connect.logic.scheduler import run_schedule
from ads_connect.models.records import ConnectionStatus, RefreshOutcome
from ads_connect.models.settings import ENV_MAX_REFRESHES_PER_RUN, RefreshSettings
from ads_connect.models.work import WorkKind, WorkMessage
from ads_connect.regions import REGIONS, Region
from ads_connect.table_schema import connection_key
from botocore.exceptions import ClientError

from emulator import seller_profile
from local.schedule import sqs_event
from tests.fakes.browser import Browser
from tests.fakes.clock import FakeClock
from tests.fakes.http_api import FakeLambdaContext
from tests.fixtures.aws import TEST_CLIENT_ID
from tests.integration.conftest import Product

WORK_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:ads-connect-work"


@pytest.fixture
def connected(product: Product) -> Product:
    product.amazon.emu.add_user(
        "adv",
        profiles={
            region.value: [seller_profile(100 + i, info.marketplaces[0])]
            for i, (region, info) in enumerate(REGIONS.items())
        },
    )
    for tenant in ("acme", "globex"):
        for region in Region:
            assert Browser().connect(product.session(tenant), region)["statusCode"] == 200
    product.aws.lifecycle_events()  # drain the connected events
    return product


def _refresh(
    product: Product, tenant: str, region: Region, *, force: bool = True, clock: Any = None, **overrides: Any
):  # type: ignore[no-untyped-def]
    settings = RefreshSettings.from_environment()
    deps: dict[str, Any] = {
        "store": product.store,
        "vault": product.vault,
        "lwa": HttpLwaClient(settings.amazon_endpoints),
        "events": EventBridgePublisher(settings.event_bus_name, clock=clock or product.store._clock),
        "clock": clock or product.store._clock,
        "settings": settings,
        "sleep": lambda _s: None,
    }
    deps.update(overrides)
    return refresh_connection(tenant, region, force=force, trigger="test", **deps)


def _consumer_token(product: Product, tenant: str, region: str) -> str:
    client = boto3.client("secretsmanager", region_name=product.aws.region)
    secret = json.loads(
        client.get_secret_value(SecretId=f"ads-connect/access/{tenant}/{region}")["SecretString"]
    )
    return str(secret["access_token"])


def _make_due(product: Product, tenant: str, region: Region) -> None:
    connection = product.store.get_connection(tenant, region)
    assert connection is not None
    product.store.save_connection(
        connection.replace(refresh_due_at=connection.connected_at - timedelta(seconds=1)),
        expected_grant_version=connection.grant_version,
    )


def _drain_queue(product: Product) -> list[dict[str, Any]]:
    """Every message on the work queue, as the SQS event records the worker receives."""
    sqs = boto3.client("sqs", region_name=product.aws.region)
    records: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=product.aws.work_queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            return records
        records += sqs_event(messages, WORK_QUEUE_ARN)["Records"]


def test_scheduler_enqueues_only_due_connections_and_the_worker_refreshes_them(connected: Product) -> None:
    # Given six connections, none due yet
    refresh_worker.reset()
    refresh_scheduler.reset()
    assert refresh_scheduler.handler({}, FakeLambdaContext())["refreshes_enqueued"] == 0
    # When two become due
    for tenant, region in (("acme", Region.NA), ("globex", Region.FE)):
        connection = connected.store.get_connection(tenant, region)
        assert connection is not None
        connected.store.save_connection(
            connection.replace(refresh_due_at=connection.connected_at - timedelta(seconds=1)),
            expected_grant_version=connection.grant_version,
        )
    old_token = _consumer_token(connected, "acme", "NA")
    summary = refresh_scheduler.handler({}, FakeLambdaContext())
    assert summary["refreshes_enqueued"] == 2
    # Then the worker refreshes exactly those, from SQS, with no failures
    sqs = boto3.client("sqs", region_name=connected.aws.region)
    messages = sqs.receive_message(QueueUrl=connected.aws.work_queue_url, MaxNumberOfMessages=10)["Messages"]
    event = {"Records": sqs_event(messages, WORK_QUEUE_ARN)["Records"]}
    assert refresh_worker.handler(event, FakeLambdaContext()) == {"batchItemFailures": []}
    assert _consumer_token(connected, "acme", "NA") != old_token
    assert connected.amazon.emu.token_calls(grant_type="refresh_token") == 2
    # And a redelivery of the same messages is a no-op (idempotent)
    assert refresh_worker.handler(event, FakeLambdaContext()) == {"batchItemFailures": []}
    assert connected.amazon.emu.token_calls(grant_type="refresh_token") == 2
    attempts = connected.store.list_refresh_attempts("acme", limit=5)
    assert attempts[0].outcome is RefreshOutcome.SUCCEEDED and attempts[0].latency_ms >= 0


def _count_aws_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every AWS call made from now on, as ``service:Operation``."""
    calls: list[str] = []
    current = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation_name: str, api_params: Any) -> Any:
        calls.append(f"{self.meta.service_model.service_name}:{operation_name}")
        return current(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return calls


def _work_record(tenant: str, region: Region, message_id: str = "1") -> dict[str, Any]:
    body = {"kind": "refresh", "tenant_id": tenant, "region": region.value, "trigger": "schedule"}
    message = {"MessageId": message_id, "ReceiptHandle": f"r{message_id}", "Body": json.dumps(body)}
    record: dict[str, Any] = sqs_event([message], WORK_QUEUE_ARN)["Records"][0]
    return record


def test_a_duplicate_message_for_a_refreshed_connection_costs_one_refused_write(
    connected: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a due connection the worker has just refreshed
    refresh_worker.reset()
    _make_due(connected, "acme", Region.NA)
    event = {"Records": [_work_record("acme", Region.NA)]}
    assert refresh_worker.handler(event, FakeLambdaContext()) == {"batchItemFailures": []}
    token_calls = connected.amazon.emu.token_calls(grant_type="refresh_token")
    # When a duplicate of its message arrives (a later schedule run, an SQS redelivery)
    calls = _count_aws_calls(monkeypatch)
    assert refresh_worker.handler(event, FakeLambdaContext()) == {"batchItemFailures": []}
    # Then it costs the invocation's pause read and one refused conditional write: no lease
    # taken and released, no secret read, no token call
    assert calls == ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    assert connected.amazon.emu.token_calls(grant_type="refresh_token") == token_calls


def test_the_due_condition_tells_not_due_from_lease_held_and_creates_no_item(connected: Product) -> None:
    store = connected.store
    now = SystemClock().now()
    # Not due yet: refused, whoever holds the lease, and the stored connection comes back
    stored = store.get_connection("acme", Region.NA)
    with pytest.raises(NotDueError) as not_due:
        store.acquire_lease_and_read("acme", Region.NA, owner="w1", seconds=180, due_by=now)
    assert not_due.value.connection == stored
    # Due: the first owner gets it, a second one is told the lease is held
    _make_due(connected, "acme", Region.NA)
    lease, connection = store.acquire_lease_and_read("acme", Region.NA, owner="w1", seconds=180, due_by=now)
    assert (
        connection is not None and connection.refresh_due_at is not None and connection.refresh_due_at <= now
    )
    with pytest.raises(LeaseHeldError):
        store.acquire_lease_and_read("acme", Region.NA, owner="w2", seconds=180, due_by=now)
    store.release_lease(lease)
    # Not active (out of the due index): not due, even with a due time in the past
    revoked = store.get_connection("globex", Region.EU)
    assert revoked is not None
    store.save_connection(
        revoked.replace(
            status=ConnectionStatus.REAUTHORIZATION_REQUIRED,
            refresh_due_at=now - timedelta(hours=1),
        ),
        expected_grant_version=revoked.grant_version,
    )
    with pytest.raises(NotDueError) as inactive:
        store.acquire_lease_and_read("globex", Region.EU, owner="w3", seconds=180, due_by=now)
    assert inactive.value.connection is not None
    assert inactive.value.connection.status is ConnectionStatus.REAUTHORIZATION_REQUIRED
    # An unknown key: not due, and the refused write leaves no item behind
    with pytest.raises(NotDueError) as unknown:
        store.acquire_lease_and_read("nobody", Region.NA, owner="w4", seconds=180, due_by=now)
    assert unknown.value.connection is None
    table = boto3.resource("dynamodb", region_name=connected.aws.region).Table(connected.aws.table_name)
    assert "Item" not in table.get_item(Key=connection_key("nobody", Region.NA))


def test_a_capped_schedule_run_sends_the_oldest_due_first_and_reports_the_backlog(
    connected: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given all six connections due, each one minute more overdue than the last
    keys = [(tenant, region) for tenant in ("acme", "globex") for region in (Region.NA, Region.EU, Region.FE)]
    for minutes, (tenant, region) in enumerate(keys, start=1):
        connection = connected.store.get_connection(tenant, region)
        assert connection is not None
        connected.store.save_connection(
            connection.replace(refresh_due_at=connection.connected_at - timedelta(minutes=minutes)),
            expected_grant_version=connection.grant_version,
        )
    # And a scheduler whose workers drain four refreshes per interval
    monkeypatch.setenv(ENV_MAX_REFRESHES_PER_RUN, "4")
    refresh_scheduler.reset()
    # When it runs
    summary = refresh_scheduler.handler({}, FakeLambdaContext())
    # Then it enqueued the four most overdue and reported the other two as backlog
    assert summary["refreshes_enqueued"] == 4 and summary["refreshes_backlog"] == 2
    sent = {
        (json.loads(r["body"])["tenant_id"], Region(json.loads(r["body"])["region"]))
        for r in _drain_queue(connected)
    }
    assert sent == set(keys[2:])
    refresh_scheduler.reset()


def test_a_malformed_work_message_fails_alone(connected: Product) -> None:
    refresh_worker.reset()
    good = {"kind": "refresh", "tenant_id": "acme", "region": "NA", "trigger": "test"}
    messages = [
        {"MessageId": "1", "ReceiptHandle": "r1", "Body": "not json"},
        {"MessageId": "2", "ReceiptHandle": "r2", "Body": json.dumps(good)},
    ]
    records = sqs_event(messages, WORK_QUEUE_ARN)["Records"]
    assert refresh_worker.handler({"Records": records}, FakeLambdaContext()) == {
        "batchItemFailures": [{"itemIdentifier": "1"}]
    }


@pytest.mark.parametrize("mode", ["never", "rotate_grace", "rotate_strict", "rotate_reuse_detection"])
def test_every_rotation_mode_keeps_the_connection_alive_over_many_refreshes(
    connected: Product, mode: str
) -> None:
    connected.amazon.emu.rotation = mode  # type: ignore[assignment]
    for _ in range(4):
        attempt = _refresh(connected, "acme", Region.EU)
        assert attempt.outcome is RefreshOutcome.SUCCEEDED
        assert attempt.rotated == (mode != "never")
    stored = connected.vault.read_refresh_token("acme", Region.EU)
    connection = connected.store.get_connection("acme", Region.EU)
    assert stored is not None and connection is not None
    assert stored.grant_version == connection.grant_version == (1 if mode == "never" else 5)


def test_a_rotated_token_survives_a_failing_first_secret_write(connected: Product) -> None:
    connected.amazon.emu.rotation = "rotate_strict"
    vault = connected.vault
    real_write = vault.write_refresh_token
    calls = {"n": 0}

    def flaky_write(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated Secrets Manager outage")
        real_write(*args, **kwargs)

    vault.write_refresh_token = flaky_write  # type: ignore[method-assign]
    assert _refresh(connected, "acme", Region.NA).outcome is RefreshOutcome.SUCCEEDED
    vault.write_refresh_token = real_write  # type: ignore[method-assign]
    # The strict mode killed the old token: only the persisted new one can refresh now.
    assert _refresh(connected, "acme", Region.NA).outcome is RefreshOutcome.SUCCEEDED


def test_when_the_rotated_token_cannot_be_stored_nothing_is_published(connected: Product) -> None:
    connected.amazon.emu.rotation = "rotate_grace"
    before = _consumer_token(connected, "acme", "NA")

    def always_fails(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("simulated outage")

    connected.vault.write_refresh_token = always_fails  # type: ignore[method-assign]
    with pytest.raises(RotatedTokenNotPersistedError):
        _refresh(connected, "acme", Region.NA)
    assert _consumer_token(connected, "acme", "NA") == before
    # The attempt is logged and counted, and the lease is still held (by a write that kept it)
    [attempt] = connected.store.list_refresh_attempts("acme", limit=1)
    assert attempt.error_code == "rotated_token_not_persisted"
    connection = connected.store.get_connection("acme", Region.NA)
    assert connection is not None and connection.consecutive_failures == 1
    with pytest.raises(LeaseHeldError):
        connected.store.acquire_lease("acme", Region.NA, owner="another-worker", seconds=60)


def test_two_queued_refreshes_and_a_forced_one_race_to_one_token_call(
    connected: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given reuse detection (a second use of a rotated-away refresh token revokes the whole
    # grant) and a due connection
    connected.amazon.emu.rotation = "rotate_reuse_detection"
    _make_due(connected, "globex", Region.NA)
    refresh_worker.reset()
    refresh_worker._dependencies()  # the worker's cold start, before the race
    calls_before = connected.amazon.emu.token_calls(grant_type="refresh_token")
    # And a token endpoint that holds whichever refresh reaches it until the other two have
    # finished: the race is decided by the lease alone, not by timing
    finished = threading.Condition()
    done: list[str] = []
    real_refresh = HttpLwaClient.refresh

    def refresh_after_the_others(self: HttpLwaClient, region: Region, **kwargs: Any) -> Any:
        with finished:
            finished.wait_for(lambda: len(done) >= 2, timeout=10)
        return real_refresh(self, region, **kwargs)

    monkeypatch.setattr(HttpLwaClient, "refresh", refresh_after_the_others)
    start = threading.Barrier(3, timeout=10)
    results: dict[str, Any] = {}

    def racer(name: str, run: Any) -> None:
        start.wait()
        try:
            results[name] = run()
        finally:
            with finished:
                done.append(name)
                finished.notify_all()

    def worker(message_id: str) -> Any:
        event = {"Records": [_work_record("globex", Region.NA, message_id)]}
        return refresh_worker.handler(event, FakeLambdaContext())

    threads = [
        threading.Thread(target=racer, args=("worker-1", lambda: worker("1"))),
        threading.Thread(target=racer, args=("worker-2", lambda: worker("2"))),
        threading.Thread(
            target=racer, args=("admin", lambda: _refresh(connected, "globex", Region.NA).outcome)
        ),
    ]
    # When two workers (the scheduled, non-forced path) and an admin refresh-now start at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Then every message succeeded, Amazon was asked exactly once, and one refresh was recorded
    assert sorted(done) == ["admin", "worker-1", "worker-2"]
    assert results["worker-1"] == results["worker-2"] == {"batchItemFailures": []}
    assert results["admin"] in (RefreshOutcome.SUCCEEDED, RefreshOutcome.SKIPPED_LEASE_HELD)
    assert connected.amazon.emu.token_calls(grant_type="refresh_token") == calls_before + 1
    attempts = [a for a in connected.store.list_refresh_attempts("globex", limit=10) if a.region is Region.NA]
    assert [a.outcome for a in attempts] == [RefreshOutcome.SUCCEEDED]
    # And the grant survived: the old token was never replayed, the rotated one works
    connection = connected.store.get_connection("globex", Region.NA)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE
    assert connection.grant_version == 2
    monkeypatch.setattr(HttpLwaClient, "refresh", real_refresh)
    assert _refresh(connected, "globex", Region.NA).outcome is RefreshOutcome.SUCCEEDED


def test_a_rotated_token_lost_to_failed_writes_is_recovered_after_the_lease_under_grace_rotation(
    connected: Product,
) -> None:
    # Given grace-period rotation (a rotated-away token keeps working for 300 s), one clock for
    # the product and Amazon, and a due connection
    connected.amazon.emu.rotation = "rotate_grace"
    clock = FakeClock(SystemClock().now())
    connected.amazon.emu.clock = lambda: clock.now().timestamp()
    store = DynamoConnectionStore(connected.aws.table_name, clock=clock)
    _make_due(connected, "acme", Region.NA)
    old = connected.vault.read_refresh_token("acme", Region.NA)
    assert old is not None
    real_write = connected.vault.write_refresh_token

    def throttled(*_a: Any, **_k: Any) -> None:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "PutSecretValue")

    # When Amazon rotates and every write of the new refresh token fails
    connected.vault.write_refresh_token = throttled  # type: ignore[method-assign]
    with pytest.raises(RotatedTokenNotPersistedError):
        _refresh(connected, "acme", Region.NA, force=False, clock=clock, store=store)
    connected.vault.write_refresh_token = real_write  # type: ignore[method-assign]
    # Then the stored token is still the old one, and a run while the lease holds does not use it
    stored = connected.vault.read_refresh_token("acme", Region.NA)
    assert stored is not None and stored.refresh_token == old.refresh_token
    clock.advance(seconds=60)
    assert (
        _refresh(connected, "acme", Region.NA, force=False, clock=clock, store=store).outcome
        is RefreshOutcome.SKIPPED_LEASE_HELD
    )
    # When the clock moves past the lease (still inside Amazon's grace period)
    clock.advance(seconds=LEASE_SECONDS)
    attempt = _refresh(connected, "acme", Region.NA, force=False, clock=clock, store=store)
    # Then the next run refreshes with the old token, stores the new rotation, and the tenant
    # never had to consent again
    assert attempt.outcome is RefreshOutcome.SUCCEEDED and attempt.rotated
    connection = store.get_connection("acme", Region.NA)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE
    assert connection.consecutive_failures == 0 and connection.grant_version == 2
    outcomes = [(a.outcome, a.error_code) for a in store.list_refresh_attempts("acme", limit=5)]
    assert outcomes[:2] == [
        (RefreshOutcome.SUCCEEDED, None),
        (RefreshOutcome.TRANSIENT_FAILURE, "rotated_token_not_persisted"),
    ]
    assert not [e for e in connected.aws.lifecycle_events() if "Reauthorization" in str(e["detail-type"])]
    # And the newly stored token is the live one: past the grace period it still refreshes
    clock.advance(seconds=3600)
    assert (
        _refresh(connected, "acme", Region.NA, clock=clock, store=store).outcome is RefreshOutcome.SUCCEEDED
    )


def test_revocation_marks_reauthorization_required_and_emits_an_event(connected: Product) -> None:
    connected.amazon.emu.revoke("adv")
    attempt = _refresh(connected, "acme", Region.FE)
    assert (
        attempt.outcome is RefreshOutcome.REAUTHORIZATION_REQUIRED and attempt.error_code == "invalid_grant"
    )
    connection = connected.store.get_connection("acme", Region.FE)
    assert connection is not None and connection.status is ConnectionStatus.REAUTHORIZATION_REQUIRED
    assert ("acme", Region.FE) not in connected.store.due_connections(
        now=connection.connected_at + timedelta(days=1)
    )
    assert connected.store.list_profiles("acme", Region.FE)  # profiles are kept
    events = [
        e
        for e in connected.aws.lifecycle_events()
        if e["detail-type"] == "Connection Reauthorization Required"
    ]
    assert events and events[0]["detail"]["tenant_id"] == "acme"
    # A new consent restores it in place
    connected.amazon.emu.add_user("adv2", profiles={"FE": [seller_profile(500, "JP")]})
    assert Browser().connect(connected.session("acme"), "FE")["statusCode"] == 200
    restored = connected.store.get_connection("acme", Region.FE)
    assert restored is not None and restored.status is ConnectionStatus.ACTIVE


def test_a_refresh_token_replaced_during_the_call_is_a_race_not_a_revocation(connected: Product) -> None:
    stored = connected.vault.read_refresh_token("acme", Region.NA)
    assert stored is not None
    connected.amazon.emu.revoke("adv")  # the old token dies ...
    connected.vault.write_refresh_token(
        "acme",
        Region.NA,
        refresh_token="Atzr|replaced-by-reconsent",
        grant_version=9,
        client_id=TEST_CLIENT_ID,
    )
    real_read = connected.vault.read_refresh_token
    reads = {"n": 0}

    def first_read_old(tenant: str, region: Region):  # type: ignore[no-untyped-def]
        reads["n"] += 1
        return stored if reads["n"] == 1 else real_read(tenant, region)

    connected.vault.read_refresh_token = first_read_old  # type: ignore[method-assign]
    attempt = _refresh(connected, "acme", Region.NA)
    assert (
        attempt.outcome is RefreshOutcome.TRANSIENT_FAILURE and attempt.error_code == "refresh_token_replaced"
    )
    connection = connected.store.get_connection("acme", Region.NA)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE


def test_invalid_client_marks_no_tenant_pauses_and_resumes(connected: Product) -> None:
    connected.amazon.emu.rotate_client_secret("rotated-by-operator")
    attempt = _refresh(connected, "acme", Region.NA)
    assert attempt.outcome is RefreshOutcome.CLIENT_CREDENTIALS_INVALID
    assert _refresh(connected, "globex", Region.NA).outcome is RefreshOutcome.CLIENT_CREDENTIALS_INVALID
    connection = connected.store.get_connection("acme", Region.NA)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE
    assert connection.consecutive_failures == 0
    assert connected.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is not None
    invalid_events = [
        e for e in connected.aws.lifecycle_events() if e["detail-type"] == "Client Credentials Invalid"
    ]
    assert len(invalid_events) == 1
    # While paused the scheduler sends one probe, not the whole due set
    clock = FakeClock(connection.connected_at + timedelta(hours=2))
    queue = SqsWorkQueue(connected.aws.work_queue_url)
    summary = run_schedule(
        store=connected.store, queue=queue, clock=clock, settings=RefreshSettings.from_environment()
    )
    assert summary.paused and summary.refreshes_enqueued == 1
    # The operator fixes the secret: refreshes succeed again
    boto3.client("secretsmanager", region_name=connected.aws.region).put_secret_value(
        SecretId=connected.aws.lwa_secret_id,
        SecretString=json.dumps(
            {"client_id": connected.amazon.emu.client_id, "client_secret": "rotated-by-operator"}
        ),
    )
    connected.vault.forget_client_credentials()
    assert _refresh(connected, "acme", Region.NA).outcome is RefreshOutcome.SUCCEEDED


@pytest.mark.parametrize(
    "fault", [{"status": 503, "count": 2}, {"status": 429, "count": 2, "retry_after": 1}]
)
def test_short_storms_are_ridden_out_with_backoff(connected: Product, fault: dict[str, Any]) -> None:
    sleeps: list[float] = []
    connected.amazon.emu.faults.add("token", **fault)
    attempt = _refresh(connected, "acme", Region.NA, sleep=sleeps.append)
    assert attempt.outcome is RefreshOutcome.SUCCEEDED and len(sleeps) == 2
    if "retry_after" in fault:
        assert sleeps == [1.0, 1.0]


def test_a_long_storm_is_recorded_and_retried_on_a_later_run(connected: Product) -> None:
    connected.amazon.emu.faults.add("token", status=500, count=None)
    attempt = _refresh(connected, "acme", Region.NA)
    assert attempt.outcome is RefreshOutcome.TRANSIENT_FAILURE
    connection = connected.store.get_connection("acme", Region.NA)
    assert (
        connection is not None
        and connection.consecutive_failures == 1
        and connection.status is ConnectionStatus.ACTIVE
    )
    assert connection.last_refresh_error_code == "server_error"
    connected.amazon.emu.faults.clear()
    assert _refresh(connected, "acme", Region.NA).outcome is RefreshOutcome.SUCCEEDED
    healed = connected.store.get_connection("acme", Region.NA)
    assert healed is not None and healed.consecutive_failures == 0


def test_a_connection_due_exactly_now_is_refreshed_and_one_second_early_is_not(connected: Product) -> None:
    connection = connected.store.get_connection("acme", Region.EU)
    assert connection is not None and connection.refresh_due_at is not None
    due = connection.refresh_due_at
    early = FakeClock(due - timedelta(seconds=1))
    assert (
        _refresh(connected, "acme", Region.EU, force=False, clock=early).outcome
        is RefreshOutcome.SKIPPED_NOT_DUE
    )
    assert ("acme", Region.EU) not in connected.store.due_connections(now=due - timedelta(seconds=1))
    exact = FakeClock(due)
    assert ("acme", Region.EU) in connected.store.due_connections(now=due)
    assert (
        _refresh(connected, "acme", Region.EU, force=False, clock=exact).outcome is RefreshOutcome.SUCCEEDED
    )


def test_a_failure_between_the_token_call_and_the_publish_loses_nothing(connected: Product) -> None:
    # Given strict rotation (the old refresh token dies the moment Amazon answers)
    connected.amazon.emu.rotation = "rotate_strict"
    before = _consumer_token(connected, "acme", "EU")
    real_publish = connected.vault.publish_access_token

    def publish_fails(*_a: Any, **_k: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalServiceError", "Message": "x"}}, "PutSecretValue")

    # When the publish fails after Amazon rotated the token
    connected.vault.publish_access_token = publish_fails  # type: ignore[method-assign]
    with pytest.raises(ClientError):
        _refresh(connected, "acme", Region.EU)
    connected.vault.publish_access_token = real_publish  # type: ignore[method-assign]
    # Then the rotated token was stored first, the attempt is logged, and the connection counts
    # from the stored token's version
    stored = connected.vault.read_refresh_token("acme", Region.EU)
    assert stored is not None and stored.grant_version == 2
    assert _consumer_token(connected, "acme", "EU") == before
    [failed] = connected.store.list_refresh_attempts("acme", limit=1)
    assert (
        failed.outcome is RefreshOutcome.TRANSIENT_FAILURE and failed.error_code == "aws_InternalServiceError"
    )
    recorded = connected.store.get_connection("acme", Region.EU)
    assert recorded is not None and recorded.grant_version == 2 and recorded.consecutive_failures == 1
    # And the lease is free, and the retry succeeds with the stored token
    attempt = _refresh(connected, "acme", Region.EU)
    assert attempt.outcome is RefreshOutcome.SUCCEEDED
    assert _consumer_token(connected, "acme", "EU") != before
    connection = connected.store.get_connection("acme", Region.EU)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE


def test_after_the_secret_is_fixed_the_probe_resumes_the_whole_due_set(connected: Product) -> None:
    # Given refreshes paused by invalid_client and four connections due
    connected.amazon.emu.rotate_client_secret("rotated-by-operator")
    assert _refresh(connected, "acme", Region.NA).outcome is RefreshOutcome.CLIENT_CREDENTIALS_INVALID
    connection = connected.store.get_connection("acme", Region.NA)
    assert connection is not None
    later = FakeClock(connection.connected_at + timedelta(hours=2))
    settings = RefreshSettings.from_environment()
    queue = SqsWorkQueue(connected.aws.work_queue_url)
    assert (
        run_schedule(store=connected.store, queue=queue, clock=later, settings=settings).refreshes_enqueued
        == 1
    )
    # When the operator fixes the secret and the probe refreshes successfully
    boto3.client("secretsmanager", region_name=connected.aws.region).put_secret_value(
        SecretId=connected.aws.lwa_secret_id,
        SecretString=json.dumps(
            {"client_id": connected.amazon.emu.client_id, "client_secret": "rotated-by-operator"}
        ),
    )
    connected.vault.forget_client_credentials()
    assert _refresh(connected, "globex", Region.EU).outcome is RefreshOutcome.SUCCEEDED
    # Then the pause is lifted and the next run enqueues every due connection again
    assert connected.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is None
    summary = run_schedule(store=connected.store, queue=queue, clock=later, settings=settings)
    assert not summary.paused and summary.refreshes_enqueued == 2 * len(Region)  # two tenants


@pytest.mark.parametrize("status", [400, 403, 404])
def test_a_4xx_other_than_invalid_grant_never_revokes_a_tenant_however_long_it_lasts(
    connected: Product, status: int
) -> None:
    # Given the token endpoint answering every refresh with a 4xx that is not invalid_grant
    connected.amazon.emu.faults.add("token", status=status, count=None)
    # When the connection is retried past the escalation mark
    for _ in range(ESCALATE_AFTER_FAILURES + 1):
        assert _refresh(connected, "acme", Region.NA).outcome is RefreshOutcome.TRANSIENT_FAILURE
    # Then it is still active, every failure counted and logged, and it heals once Amazon does
    connection = connected.store.get_connection("acme", Region.NA)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE
    assert connection.consecutive_failures == ESCALATE_AFTER_FAILURES + 1
    assert connection.last_refresh_error_code == "invalid_request"
    attempts = connected.store.list_refresh_attempts("acme", limit=20)
    assert [a.outcome for a in attempts] == [RefreshOutcome.TRANSIENT_FAILURE] * (ESCALATE_AFTER_FAILURES + 1)
    connected.amazon.emu.faults.clear()
    assert _refresh(connected, "acme", Region.NA).outcome is RefreshOutcome.SUCCEEDED


def test_while_paused_only_the_probe_calls_amazon_and_queued_refreshes_leave_the_queue(
    connected: Product,
) -> None:
    refresh_worker.reset()
    refresh_scheduler.reset()
    # Given every connection due, two of them already queued, when LWA starts refusing the client
    for tenant in ("acme", "globex"):
        for region in (Region.NA, Region.EU, Region.FE):
            _make_due(connected, tenant, region)
    SqsWorkQueue(connected.aws.work_queue_url).send(
        [
            WorkMessage(kind=WorkKind.REFRESH, tenant_id="acme", region=Region.EU),
            WorkMessage(kind=WorkKind.REFRESH, tenant_id="globex", region=Region.EU),
        ]
    )
    connected.amazon.emu.rotate_client_secret("rotated-by-operator")
    assert _refresh(connected, "acme", Region.NA).outcome is RefreshOutcome.CLIENT_CREDENTIALS_INVALID
    calls_before = connected.amazon.emu.token_calls(grant_type="refresh_token")
    # When the scheduler runs (one probe, marked as such) and the worker gets all three messages
    assert refresh_scheduler.handler({}, FakeLambdaContext())["refreshes_enqueued"] == 1
    records = _drain_queue(connected)
    triggers = sorted(json.loads(r["body"])["trigger"] for r in records)
    assert triggers == [PROBE_TRIGGER, "schedule", "schedule"]
    # Then no message fails, and only the probe reached Amazon (still refused: the secret is wrong)
    assert refresh_worker.handler({"Records": records}, FakeLambdaContext()) == {"batchItemFailures": []}
    assert connected.amazon.emu.token_calls(grant_type="refresh_token") == calls_before + 1
    # And the pause was announced once, however many refreshes met it
    invalid_events = [
        e for e in connected.aws.lifecycle_events() if e["detail-type"] == "Client Credentials Invalid"
    ]
    assert len(invalid_events) == 1
    for tenant in ("acme", "globex"):
        connection = connected.store.get_connection(tenant, Region.EU)
        assert connection is not None and connection.consecutive_failures == 0
