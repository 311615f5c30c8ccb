"""DynamoConnectionStore on moto: keys, sparse indexes, conditional writes, leases, paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from ads_connect.adapters.connection_store import DynamoConnectionStore
from ads_connect.logic.ports import InvalidPageTokenError, LeaseHeldError, OperatorPause, StaleGrantError
from ads_connect.models.records import (
    AccessLevel,
    Connection,
    ConnectionStatus,
    ProfileMapping,
    ProfilesState,
    RefreshAttempt,
    RefreshOutcome,
)
from ads_connect.regions import Region
from ads_connect.table_schema import ATTEMPT_PREFIX, connection_key, tenant_pk
from botocore.exceptions import ClientError

from tests.fakes.clock import FakeClock
from tests.fixtures.aws import AwsResources

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _connection(tenant: str = "acme", region: Region = Region.NA, **overrides: object) -> Connection:
    data: dict[str, object] = {
        "tenant_id": tenant,
        "region": region,
        "status": ConnectionStatus.ACTIVE,
        "grant_version": 1,
        "connected_at": NOW,
        "access_token_expires_at": NOW + timedelta(hours=1),
        "refresh_due_at": NOW + timedelta(minutes=45),
    }
    data.update(overrides)
    return Connection.from_mapping(data)


def _profile(profile_id: str, tenant: str = "acme", region: Region = Region.NA) -> ProfileMapping:
    return ProfileMapping(
        tenant_id=tenant,
        region=region,
        profile_id=profile_id,
        country_code="US",
        account_type="seller",
        access_level=AccessLevel.EDIT,
        first_seen_at=NOW,
        last_seen_at=NOW,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def store(aws: AwsResources, clock: FakeClock) -> DynamoConnectionStore:
    return DynamoConnectionStore(aws.table_name, clock=clock)


def _raw_item(aws: AwsResources, tenant: str, region: Region) -> dict[str, object]:
    table = boto3.resource("dynamodb", region_name=aws.region).Table(aws.table_name)
    return table.get_item(Key=connection_key(tenant, region))["Item"]


def test_saved_connection_round_trips_and_carries_sparse_index_keys(
    store: DynamoConnectionStore, aws: AwsResources
) -> None:
    # Given an active connection
    store.save_connection(_connection(), expected_grant_version=None)
    # Then it reads back equal, and sits in the due and status indexes
    assert store.get_connection("acme", Region.NA) == _connection()
    item = _raw_item(aws, "acme", Region.NA)
    assert item["due_bucket"] == "DUE"
    assert item["refresh_due_at"] == int((NOW + timedelta(minutes=45)).timestamp())
    assert item["connection_status"] == "active"
    assert item["tenant_region"] == "acme#NA"


def test_creating_an_existing_connection_or_writing_a_stale_version_is_refused(
    store: DynamoConnectionStore,
) -> None:
    store.save_connection(_connection(), expected_grant_version=None)
    with pytest.raises(StaleGrantError):
        store.save_connection(_connection(), expected_grant_version=None)
    store.save_connection(_connection(grant_version=2), expected_grant_version=1)
    with pytest.raises(StaleGrantError):
        store.save_connection(_connection(grant_version=3), expected_grant_version=1)
    stored = store.get_connection("acme", Region.NA)
    assert stored is not None and stored.grant_version == 2


def test_leaving_active_removes_the_connection_from_the_due_index(
    store: DynamoConnectionStore, aws: AwsResources
) -> None:
    store.save_connection(_connection(), expected_grant_version=None)
    assert store.due_connections(now=NOW + timedelta(hours=1)) == [("acme", Region.NA)]
    revoked = _connection(status=ConnectionStatus.REAUTHORIZATION_REQUIRED, reauthorization_required_at=NOW)
    store.save_connection(revoked, expected_grant_version=1)
    assert store.due_connections(now=NOW + timedelta(hours=1)) == []
    item = _raw_item(aws, "acme", Region.NA)
    assert "due_bucket" not in item
    assert item["connection_status"] == "reauthorization_required"


def test_due_query_includes_the_exact_boundary_and_excludes_later(store: DynamoConnectionStore) -> None:
    store.save_connection(_connection("a", refresh_due_at=NOW), expected_grant_version=None)
    store.save_connection(
        _connection("b", refresh_due_at=NOW + timedelta(seconds=1)), expected_grant_version=None
    )
    assert store.due_connections(now=NOW) == [("a", Region.NA)]
    assert sorted(store.due_connections(now=NOW + timedelta(seconds=1))) == [
        ("a", Region.NA),
        ("b", Region.NA),
    ]
    assert len(store.due_connections(now=NOW + timedelta(seconds=1), limit=1)) == 1


def test_lease_is_exclusive_until_it_expires_and_release_frees_it(
    store: DynamoConnectionStore, clock: FakeClock
) -> None:
    store.save_connection(_connection(), expected_grant_version=None)
    lease = store.acquire_lease("acme", Region.NA, owner="worker-1", seconds=120)
    with pytest.raises(LeaseHeldError):
        store.acquire_lease("acme", Region.NA, owner="worker-2", seconds=120)
    clock.advance(seconds=121)
    taken = store.acquire_lease("acme", Region.NA, owner="worker-2", seconds=120)
    # The first owner's late release must not free the second owner's lease.
    store.release_lease(lease)
    with pytest.raises(LeaseHeldError):
        store.acquire_lease("acme", Region.NA, owner="worker-3", seconds=120)
    store.release_lease(taken)
    store.acquire_lease("acme", Region.NA, owner="worker-3", seconds=120)


def test_lease_on_a_connection_that_does_not_exist_yet_is_invisible_to_readers(
    store: DynamoConnectionStore,
) -> None:
    # A first consent takes the lease before the connection exists.
    lease = store.acquire_lease("newco", Region.EU, owner="callback", seconds=60)
    assert store.get_connection("newco", Region.EU) is None
    store.save_connection(_connection("newco", Region.EU), expected_grant_version=None)
    store.release_lease(lease)
    assert store.get_connection("newco", Region.EU) is not None


def test_record_refresh_writes_state_and_attempt_and_releases_lease(
    store: DynamoConnectionStore, aws: AwsResources
) -> None:
    store.save_connection(_connection(), expected_grant_version=None)
    lease = store.acquire_lease("acme", Region.NA, owner="w", seconds=120)
    refreshed = _connection(last_refresh_success_at=NOW, refresh_due_at=NOW + timedelta(minutes=105))
    attempt = RefreshAttempt(
        tenant_id="acme", region=Region.NA, attempted_at=NOW, outcome=RefreshOutcome.SUCCEEDED, latency_ms=42
    )
    store.record_refresh(refreshed, attempt, lease=lease)
    assert store.get_connection("acme", Region.NA) == refreshed
    assert store.list_refresh_attempts("acme", limit=5) == [attempt]
    assert "lease_owner" not in _raw_item(aws, "acme", Region.NA)
    # A writer whose lease was taken over cannot record.
    with pytest.raises(StaleGrantError):
        store.record_refresh(refreshed, attempt, lease=lease)


def test_save_connection_under_a_lease_needs_that_lease_still_held(
    store: DynamoConnectionStore, clock: FakeClock, aws: AwsResources
) -> None:
    # Given a profile re-sync holding the lease, a save under it succeeds and keeps the lease
    store.save_connection(_connection(), expected_grant_version=None)
    resync = store.acquire_lease("acme", Region.NA, owner="resync-1", seconds=60)
    checked = _connection(profiles_state=ProfilesState.OK, profile_count=2)
    store.save_connection(checked, expected_grant_version=1, lease=resync)
    assert store.get_connection("acme", Region.NA) == checked
    assert _raw_item(aws, "acme", Region.NA)["lease_owner"] == "resync-1"
    # When its lease expires and a refresh takes it over, the re-sync's save is refused
    clock.advance(seconds=61)
    refresh = store.acquire_lease("acme", Region.NA, owner="refresh-1", seconds=180)
    with pytest.raises(StaleGrantError):
        store.save_connection(_connection(profile_count=3), expected_grant_version=1, lease=resync)
    # And still refused once the taker has released it (owners are never reused)
    store.release_lease(refresh)
    with pytest.raises(StaleGrantError):
        store.save_connection(_connection(profile_count=3), expected_grant_version=1, lease=resync)
    assert store.get_connection("acme", Region.NA) == checked
    # And the right lease with a stale grant version is refused too
    again = store.acquire_lease("acme", Region.NA, owner="resync-2", seconds=60)
    with pytest.raises(StaleGrantError):
        store.save_connection(_connection(grant_version=5), expected_grant_version=4, lease=again)


def test_attempts_list_newest_first_across_regions_with_a_ttl(
    store: DynamoConnectionStore, aws: AwsResources
) -> None:
    store.save_connection(_connection(region=Region.NA), expected_grant_version=None)
    store.save_connection(_connection(region=Region.EU), expected_grant_version=None)
    for minutes, region in ((0, Region.NA), (5, Region.EU), (10, Region.NA)):
        attempt = RefreshAttempt(
            tenant_id="acme",
            region=region,
            attempted_at=NOW + timedelta(minutes=minutes),
            outcome=RefreshOutcome.TRANSIENT_FAILURE,
            error_code="server_error",
        )
        store.record_refresh(_connection(region=region), attempt, lease=None)
    attempts = store.list_refresh_attempts("acme", limit=2)
    assert [(a.attempted_at, a.region) for a in attempts] == [
        (NOW + timedelta(minutes=10), Region.NA),
        (NOW + timedelta(minutes=5), Region.EU),
    ]
    table = boto3.resource("dynamodb", region_name=aws.region).Table(aws.table_name)
    items = table.query(
        KeyConditionExpression="pk = :p AND begins_with(sk, :a)",
        ExpressionAttributeValues={":p": tenant_pk("acme"), ":a": ATTEMPT_PREFIX},
    )["Items"]
    assert all(int(i["expires_at_ttl"]) > NOW.timestamp() + 29 * 86400 for i in items)


def test_profiles_reconcile_marks_missing_as_gone_and_keeps_huge_ids_exact(
    store: DynamoConnectionStore,
) -> None:
    huge = str(2**53 + 7)
    store.save_profiles("acme", Region.NA, [_profile("111"), _profile(huge)])
    store.save_profiles("acme", Region.NA, [_profile(huge)])
    profiles = {p.profile_id: p for p in store.list_profiles("acme", Region.NA)}
    assert set(profiles) == {"111", huge}
    assert profiles["111"].gone and not profiles[huge].gone
    assert store.find_tenants_by_profile(huge) == [("acme", Region.NA)]
    assert store.find_tenants_by_profile("111") == []


def test_status_listing_pages_with_opaque_tokens_bound_to_the_filter(store: DynamoConnectionStore) -> None:
    for index in range(5):
        store.save_connection(_connection(f"t{index}"), expected_grant_version=None)
    first = store.list_connections_by_status(ConnectionStatus.ACTIVE, limit=2, next_token=None)
    assert len(first.items) == 2 and first.next_token
    seen = [c.tenant_id for c in first.items]
    token = first.next_token
    while token:
        page = store.list_connections_by_status(ConnectionStatus.ACTIVE, limit=2, next_token=token)
        seen += [c.tenant_id for c in page.items]
        token = page.next_token
    assert sorted(seen) == [f"t{i}" for i in range(5)]
    with pytest.raises(InvalidPageTokenError):
        store.list_connections_by_status(ConnectionStatus.DISCONNECTED, limit=2, next_token=first.next_token)
    with pytest.raises(InvalidPageTokenError):
        store.list_connections_by_status(ConnectionStatus.ACTIVE, limit=2, next_token="not-a-token!")


def test_operator_pause_keeps_its_first_time_and_clears_once(store: DynamoConnectionStore) -> None:
    assert store.get_operator_pause("client-credentials-invalid") is None
    store.set_operator_pause(OperatorPause("client-credentials-invalid", NOW, "invalid_client"))
    store.set_operator_pause(
        OperatorPause("client-credentials-invalid", NOW + timedelta(hours=1), "invalid_client")
    )
    pause = store.get_operator_pause("client-credentials-invalid")
    assert pause == OperatorPause("client-credentials-invalid", NOW, "invalid_client")
    assert store.clear_operator_pause("client-credentials-invalid") is True
    assert store.clear_operator_pause("client-credentials-invalid") is False


def test_only_the_call_that_creates_the_operator_pause_reports_it(store: DynamoConnectionStore) -> None:
    # Two workers failing on invalid_client at once: the conditional put lets exactly one of them
    # announce the pause.
    first = OperatorPause("client-credentials-invalid", NOW, "invalid_client")
    second = OperatorPause("client-credentials-invalid", NOW + timedelta(seconds=1), "unauthorized_client")
    assert store.set_operator_pause(first) is True
    assert store.set_operator_pause(second) is False
    assert store.get_operator_pause("client-credentials-invalid") == first
    # Once cleared, the next failure creates (and reports) a new pause
    assert store.clear_operator_pause("client-credentials-invalid") is True
    assert store.set_operator_pause(second) is True


def test_aws_failures_other_than_conditions_propagate(
    store: DynamoConnectionStore, aws: AwsResources
) -> None:
    boto3.client("dynamodb", region_name=aws.region).delete_table(TableName=aws.table_name)
    with pytest.raises(ClientError):
        store.get_connection("acme", Region.NA)
