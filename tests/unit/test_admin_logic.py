"""Operator use cases (logic/admin.py) over in-memory ports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from ads_connect.logic.admin import (
    CREDENTIALS_PROBE_REFRESH_TOKEN,
    EVENT_DISCONNECTED,
    AdminService,
)
from ads_connect.logic.ports import (
    CLIENT_CREDENTIALS_PAUSE,
    AmazonRequestRejectedError,
    ClientCredentials,
    ClientCredentialsMissingError,
    ConnectionDisconnectedError,
    ConnectionNeedsReauthorizationError,
    ConnectionNotFoundError,
    InvalidClientError,
    InvalidGrantError,
    InvalidPageTokenError,
    LeaseHeldError,
    OperatorPause,
    TenantNotFoundError,
    TransientAmazonError,
)
from ads_connect.models.admin_api import ConnectSessionRequest, CredentialsCheckResult
from ads_connect.models.records import ConnectionStatus, RefreshAttempt, RefreshOutcome
from ads_connect.regions import Region

from tests.fakes.clock import FakeClock
from tests.fakes.operator import (
    FakeFlows,
    MemoryStore,
    MemoryVault,
    RecordingEvents,
    ScriptedLwa,
    make_connection,
    make_profile,
)


@dataclass
class World:
    clock: FakeClock
    store: MemoryStore
    vault: MemoryVault
    lwa: ScriptedLwa
    events: RecordingEvents
    flows: FakeFlows
    service: AdminService

    def add(self, tenant: str, region: Region = Region.NA, **kw: object) -> None:
        self.store.save_connection(
            make_connection(tenant, region, clock=self.clock, **kw),  # type: ignore[arg-type]
            expected_grant_version=None,
        )


@pytest.fixture
def world() -> World:
    clock = FakeClock()
    store = MemoryStore(clock)
    vault = MemoryVault(ClientCredentials("amzn1.application-oa2-client.fake", "fake-secret"))
    lwa = ScriptedLwa()
    events = RecordingEvents()
    flows = FakeFlows(store, clock)
    service = AdminService(
        store, vault, lwa, events, clock, flows.refresh_now, flows.resync, flows.create_session
    )
    return World(clock, store, vault, lwa, events, flows, service)


# -- credentials ----------------------------------------------------------------------------


def test_write_credentials_stores_them_and_answers_without_the_secret(world: World) -> None:
    written = world.service.write_client_credentials("amzn1.application-oa2-client.new", "new-fake-secret")

    assert world.vault.credentials == ClientCredentials("amzn1.application-oa2-client.new", "new-fake-secret")
    assert "new-fake-secret" not in written.model_dump_json()


def test_check_accepted_when_amazon_answers_invalid_grant_and_clears_the_pause(world: World) -> None:
    # Given the operator pause from an earlier invalid_client
    world.store.set_operator_pause(
        OperatorPause(CLIENT_CREDENTIALS_PAUSE, world.clock.now(), "invalid_client")
    )
    world.lwa.errors.append(InvalidGrantError("dead", error_code="invalid_grant", status=400))

    check = world.service.check_client_credentials()

    assert check.result is CredentialsCheckResult.ACCEPTED and check.valid
    assert check.pause_cleared
    assert world.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is None
    # The probe went to NA with the deliberately invalid token
    assert world.lwa.calls == [
        (Region.NA, CREDENTIALS_PROBE_REFRESH_TOKEN, "amzn1.application-oa2-client.fake")
    ]


def test_check_rejected_on_invalid_client_keeps_the_pause(world: World) -> None:
    world.store.set_operator_pause(
        OperatorPause(CLIENT_CREDENTIALS_PAUSE, world.clock.now(), "invalid_client")
    )
    world.lwa.errors.append(InvalidClientError("bad client", error_code="invalid_client", status=401))

    check = world.service.check_client_credentials()

    assert check.result is CredentialsCheckResult.REJECTED and not check.valid
    assert check.amazon_error_code == "invalid_client"
    assert not check.pause_cleared
    assert world.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is not None


@pytest.mark.parametrize(
    ("error_code", "expected"),
    [
        ("unauthorized_client", CredentialsCheckResult.REJECTED),
        ("invalid_request", CredentialsCheckResult.INCONCLUSIVE),
    ],
)
def test_check_other_rejections(world: World, error_code: str, expected: CredentialsCheckResult) -> None:
    world.lwa.errors.append(AmazonRequestRejectedError("no", error_code=error_code, status=400))

    check = world.service.check_client_credentials()

    assert check.result is expected and not check.valid


def test_check_without_credentials_raises_missing(world: World) -> None:
    world.vault.credentials = None
    with pytest.raises(ClientCredentialsMissingError):
        world.service.check_client_credentials()


def test_check_transient_failure_propagates_and_concludes_nothing(world: World) -> None:
    world.store.set_operator_pause(
        OperatorPause(CLIENT_CREDENTIALS_PAUSE, world.clock.now(), "invalid_client")
    )
    world.lwa.errors.append(TransientAmazonError("503", error_code="server_error", status=503))

    with pytest.raises(TransientAmazonError):
        world.service.check_client_credentials()
    assert world.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is not None


# -- listing ----------------------------------------------------------------------------------


def test_unfiltered_listing_pages_across_statuses_problems_first(world: World) -> None:
    # Given 3 active, 2 reauthorization_required, 1 disconnected
    for name in ("a1", "a2", "a3"):
        world.add(name)
    for name in ("r1", "r2"):
        world.add(name, status=ConnectionStatus.REAUTHORIZATION_REQUIRED)
    world.add("d1", status=ConnectionStatus.DISCONNECTED)

    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = world.service.list_connections(status=None, limit=4, next_token=token)
        pages += 1
        assert len(page.items) <= 4
        seen += [c.tenant_id for c in page.items]
        token = page.next_token
        if token is None:
            break

    assert seen == ["r1", "r2", "a1", "a2", "a3", "d1"]
    assert pages == 2
    # Only the status index was read (never a scan)
    assert {q[0] for q in world.store.status_queries} == set(ConnectionStatus)


def test_filtered_listing_uses_one_status_and_paginates(world: World) -> None:
    for i in range(5):
        world.add(f"r{i}", status=ConnectionStatus.REAUTHORIZATION_REQUIRED)
    world.add("a1")

    first = world.service.list_connections(
        status=ConnectionStatus.REAUTHORIZATION_REQUIRED, limit=3, next_token=None
    )
    second = world.service.list_connections(
        status=ConnectionStatus.REAUTHORIZATION_REQUIRED, limit=3, next_token=first.next_token
    )

    assert [c.tenant_id for c in first.items] == ["r0", "r1", "r2"]
    assert [c.tenant_id for c in second.items] == ["r3", "r4"]
    assert second.next_token is None
    assert all(q[0] is ConnectionStatus.REAUTHORIZATION_REQUIRED for q in world.store.status_queries)


def test_page_token_of_another_filter_is_rejected(world: World) -> None:
    for i in range(3):
        world.add(f"a{i}")
    page = world.service.list_connections(status=ConnectionStatus.ACTIVE, limit=1, next_token=None)
    assert page.next_token is not None

    with pytest.raises(InvalidPageTokenError):
        world.service.list_connections(
            status=ConnectionStatus.DISCONNECTED, limit=1, next_token=page.next_token
        )


@pytest.mark.parametrize("token", ["not base64 !", "bm90IGpzb24", "WzFd", "eyJzIjoibm9wZSIsInQiOm51bGx9"])
def test_forged_page_tokens_are_rejected(world: World, token: str) -> None:
    with pytest.raises(InvalidPageTokenError):
        world.service.list_connections(status=None, limit=10, next_token=token)


# -- tenant detail ------------------------------------------------------------------------------


def test_tenant_detail_lists_connections_profiles_and_latest_attempts_first(world: World) -> None:
    world.add("t1", Region.EU)
    world.add("t1", Region.NA)
    world.store.save_profiles(
        "t1",
        Region.NA,
        [
            make_profile("t1", Region.NA, "2", clock=world.clock),
            make_profile("t1", Region.NA, "1", clock=world.clock),
        ],
    )
    world.store.save_profiles(
        "t1", Region.NA, [make_profile("t1", Region.NA, "1", clock=world.clock)]
    )  # "2" gone
    for minutes, outcome in ((1, RefreshOutcome.SUCCEEDED), (2, RefreshOutcome.TRANSIENT_FAILURE)):
        world.store.attempts.append(
            RefreshAttempt(
                tenant_id="t1",
                region=Region.NA,
                attempted_at=world.clock.now() + timedelta(minutes=minutes),
                outcome=outcome,
                error_code=None if outcome is RefreshOutcome.SUCCEEDED else "server_error",
                latency_ms=100,
            )
        )

    detail = world.service.tenant_detail("t1")

    assert [c.region for c in detail.connections] == [Region.EU, Region.NA]
    assert [(p.profile_id, p.gone) for p in detail.profiles] == [("1", False), ("2", True)]
    assert [a.error_code for a in detail.refresh_attempts] == ["server_error", None]


def test_unknown_tenant_raises(world: World) -> None:
    with pytest.raises(TenantNotFoundError):
        world.service.tenant_detail("nobody")


# -- refresh / resync ---------------------------------------------------------------------------


def test_refresh_runs_the_refresh_flow_and_returns_the_new_state(world: World) -> None:
    world.add("t1")

    result = world.service.refresh_connection("t1", Region.NA)

    assert world.flows.refresh_calls == [("t1", Region.NA)]
    assert result.attempt.outcome is RefreshOutcome.SUCCEEDED
    assert result.connection is not None and result.connection.last_refresh_success_at == world.clock.now()


def test_refresh_lease_held_is_a_conflict(world: World) -> None:
    world.add("t1")
    world.flows.refresh_outcome = RefreshOutcome.SKIPPED_LEASE_HELD
    with pytest.raises(LeaseHeldError):
        world.service.refresh_connection("t1", Region.NA)

    world.flows.refresh_error = LeaseHeldError("held")
    with pytest.raises(LeaseHeldError):
        world.service.refresh_connection("t1", Region.NA)


def test_refresh_of_missing_or_disconnected_connection_is_refused(world: World) -> None:
    world.add("t1", status=ConnectionStatus.DISCONNECTED)
    with pytest.raises(ConnectionNotFoundError):
        world.service.refresh_connection("t1", Region.EU)
    with pytest.raises(ConnectionDisconnectedError):
        world.service.refresh_connection("t1", Region.NA)
    with pytest.raises(ConnectionDisconnectedError):
        world.service.resync_profiles("t1", Region.NA)
    assert world.flows.refresh_calls == [] and world.flows.resync_calls == []


def test_resync_runs_profile_sync_and_lists_the_region_profiles(world: World) -> None:
    world.add("t1")
    world.store.save_profiles("t1", Region.NA, [make_profile("t1", Region.NA, "77", clock=world.clock)])

    result = world.service.resync_profiles("t1", Region.NA)

    assert world.flows.resync_calls == [("t1", Region.NA)]
    assert [p.profile_id for p in result.profiles] == ["77"]
    assert result.connection.tenant_id == "t1"


def test_connect_session_is_delegated_to_the_connect_flow(world: World) -> None:
    request = ConnectSessionRequest(region=Region.EU, lifetime_seconds=600)

    created = world.service.start_connect_session("t9", request)

    assert world.flows.session_calls == [("t9", request)]
    assert created.expires_at == world.clock.now() + timedelta(seconds=600)


# -- disconnect ---------------------------------------------------------------------------------


def test_disconnect_stops_refreshing_deletes_secrets_audits_and_emits(world: World) -> None:
    world.add("t1")
    world.store.save_profiles("t1", Region.NA, [make_profile("t1", Region.NA, "5", clock=world.clock)])

    result = world.service.disconnect(
        "t1", Region.NA, recovery_window_days=10, actor="arn:aws:iam::1:user/op"
    )

    connection = world.store.get_connection("t1", Region.NA)
    assert connection is not None
    assert connection.status is ConnectionStatus.DISCONNECTED
    assert connection.refresh_due_at is None and connection.disconnected_at == world.clock.now()
    assert connection.grant_version == 2  # any writer holding version 1 now loses
    assert world.store.due_connections(now=world.clock.now() + timedelta(days=1)) == []
    assert [p.gone for p in world.store.list_profiles("t1")] == [True]
    assert world.vault.deleted == [("t1", Region.NA, 10)]
    assert world.store.audit[0][0:2] == ("t1", "connection_disconnected")
    assert world.store.audit[0][2]["actor"] == "arn:aws:iam::1:user/op"
    assert [e[0] for e in world.events.published] == [EVENT_DISCONNECTED]
    assert (
        world.events.published[0][1]["tenant_id"] == "t1" and world.events.published[0][1]["region"] == "NA"
    )
    assert world.store.leases == {}
    assert not result.already_disconnected and result.recovery_window_days == 10


def test_disconnect_twice_is_idempotent_without_a_second_event(world: World) -> None:
    world.add("t1")
    world.service.disconnect("t1", Region.NA)
    world.clock.advance(minutes=5)

    again = world.service.disconnect("t1", Region.NA)

    assert again.already_disconnected
    assert len(world.events.published) == 1 and len(world.store.audit) == 1
    assert len(world.vault.deleted) == 2  # the secret deletion is retried in case it failed first


def test_disconnect_while_a_refresh_holds_the_lease_changes_nothing(world: World) -> None:
    world.add("t1")
    world.store.acquire_lease("t1", Region.NA, owner="worker-1", seconds=300)

    with pytest.raises(LeaseHeldError):
        world.service.disconnect("t1", Region.NA)

    connection = world.store.get_connection("t1", Region.NA)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE
    assert world.vault.deleted == [] and world.events.published == []


def test_disconnect_unknown_connection(world: World) -> None:
    with pytest.raises(ConnectionNotFoundError):
        world.service.disconnect("t1", Region.FE)


def test_refresh_and_resync_of_a_dead_grant_ask_for_a_new_consent(world: World) -> None:
    world.add("t1", status=ConnectionStatus.REAUTHORIZATION_REQUIRED)
    with pytest.raises(ConnectionNeedsReauthorizationError):
        world.service.refresh_connection("t1", Region.NA)
    with pytest.raises(ConnectionNeedsReauthorizationError):
        world.service.resync_profiles("t1", Region.NA)
    assert world.flows.refresh_calls == [] and world.flows.resync_calls == []
    # Disconnecting it is still allowed
    assert world.service.disconnect("t1", Region.NA).status is ConnectionStatus.DISCONNECTED
