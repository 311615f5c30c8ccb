"""Operator use cases (logic/admin.py) over in-memory ports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from ads_connect.logic.admin import (
    CREDENTIALS_PROBE_REFRESH_TOKEN,
    DISCONNECT_TRIGGER,
    EVENT_DISCONNECTED,
    AdminService,
    ConnectionBusyError,
)
from ads_connect.logic.clients import ClientChangeRefusedError
from ads_connect.logic.ports import (
    CLIENT_CREDENTIALS_PAUSE,
    CLIENT_MISMATCH_PAUSE,
    AmazonRequestRejectedError,
    ClientCredentials,
    ClientCredentialsMissingError,
    ClientKeyring,
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
    UnauthorizedClientError,
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
    admin_service,
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
    service = admin_service(store, vault, lwa, events, clock, flows)
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
    ("error", "expected"),
    [
        (
            UnauthorizedClientError("no", error_code="unauthorized_client", status=400),
            CredentialsCheckResult.REJECTED,
        ),
        (
            AmazonRequestRejectedError("no", error_code="invalid_request", status=400),
            CredentialsCheckResult.INCONCLUSIVE,
        ),
    ],
)
def test_check_other_rejections(world: World, error: Exception, expected: CredentialsCheckResult) -> None:
    world.lwa.errors.append(error)

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


RIGHT = ClientCredentials("amzn1.application-oa2-client.fake", "fake-right-secret")
WRONG = ClientCredentials("amzn1.application-oa2-client.fake", "fake-wrong-secret")


def _pause(world: World) -> None:
    world.store.set_operator_pause(
        OperatorPause(CLIENT_CREDENTIALS_PAUSE, world.clock.now(), "invalid_client")
    )


def test_check_after_a_wrong_secret_was_set_elsewhere_rejects_it_and_keeps_the_pause(world: World) -> None:
    # Given this container still caches the right secret, and `credentials set` (served by
    # another container) just stored a wrong one
    _pause(world)
    world.lwa.valid_secrets = {RIGHT.client_secret}
    world.vault.stale_cache, world.vault.credentials = RIGHT, WRONG

    check = world.service.check_client_credentials()

    # Then the stored (wrong) secret is what was probed: rejected, refreshes stay paused
    assert world.lwa.secrets_used == [WRONG.client_secret]
    assert check.result is CredentialsCheckResult.REJECTED and not check.valid
    assert not check.pause_cleared
    assert world.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is not None
    # And the container's cache now holds what is stored
    assert world.vault.stale_cache is None and world.vault.read_client_credentials() == WRONG


def test_check_after_the_right_secret_was_set_elsewhere_accepts_it_and_lifts_the_pause(world: World) -> None:
    _pause(world)
    world.lwa.valid_secrets = {RIGHT.client_secret}
    world.vault.stale_cache, world.vault.credentials = WRONG, RIGHT

    check = world.service.check_client_credentials()

    assert world.lwa.secrets_used == [RIGHT.client_secret]
    assert check.result is CredentialsCheckResult.ACCEPTED and check.pause_cleared
    assert world.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is None


@pytest.mark.parametrize("written", [WRONG, RIGHT])
def test_a_secret_written_while_the_check_runs_voids_its_verdict(
    world: World, written: ClientCredentials
) -> None:
    # Given the right secret is probed, and while Amazon answers another `credentials set` lands
    _pause(world)
    world.lwa.valid_secrets = {RIGHT.client_secret}
    world.vault.credentials = RIGHT if written is WRONG else WRONG

    def concurrent_set() -> None:
        world.vault.write_client_keyring(ClientKeyring(written))

    world.lwa.during_call = concurrent_set

    check = world.service.check_client_credentials()

    # Then the verdict concerns a secret no longer stored: nothing is concluded or lifted
    assert check.result is CredentialsCheckResult.INCONCLUSIVE and not check.valid
    assert not check.pause_cleared
    assert world.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is not None
    assert "changed" in check.message and "again" in check.message


def test_check_reads_the_credentials_fresh_every_time(world: World) -> None:
    world.lwa.errors.append(InvalidGrantError("dead", error_code="invalid_grant", status=400))
    world.service.check_client_credentials()
    assert world.vault.credential_reads and all(world.vault.credential_reads)


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


# -- tenants listing ----------------------------------------------------------------------------


def _walk_tenants(world: World, *, status: ConnectionStatus | None, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    token = None
    for _ in range(100):
        page = world.service.list_tenants(status=status, limit=limit, next_token=token)
        assert len(page.items) <= limit
        pages.append([t.tenant_id for t in page.items])
        token = page.next_token
        if token is None:
            return pages
    raise AssertionError("the tenants listing never ended")


def _tenants_world(world: World) -> None:
    world.add("acme", Region.NA, profile_count=2)
    world.add("acme", Region.EU, status=ConnectionStatus.REAUTHORIZATION_REQUIRED, consecutive_failures=3)
    world.add("beta", Region.NA)
    for region in (Region.EU, Region.FE, Region.NA):
        world.add("delta", region)
    world.add("gamma", Region.EU, status=ConnectionStatus.DISCONNECTED)
    world.add("gamma", Region.NA, status=ConnectionStatus.DISCONNECTED)


@pytest.mark.parametrize("limit", [1, 2, 3, 50])
def test_tenants_are_listed_once_under_their_most_urgent_status(world: World, limit: int) -> None:
    _tenants_world(world)

    pages = _walk_tenants(world, status=None, limit=limit)

    assert [t for page in pages for t in page] == ["acme", "beta", "delta", "gamma"]
    # Only the status index and per-tenant reads: never a scan
    assert {q[0] for q in world.store.status_queries} == set(ConnectionStatus)
    # No index page asked for more connections than there were tenant slots left
    assert all(q[1] <= limit for q in world.store.status_queries)


def test_a_tenant_split_across_index_pages_is_listed_once_with_every_connection(world: World) -> None:
    _tenants_world(world)

    pages = _walk_tenants(world, status=ConnectionStatus.ACTIVE, limit=1)

    assert [t for page in pages for t in page] == ["acme", "beta", "delta"]
    first = world.service.list_tenants(status=ConnectionStatus.ACTIVE, limit=3, next_token=None)
    delta = next(t for t in first.items if t.tenant_id == "delta")
    assert [c.region for c in delta.connections] == [Region.EU, Region.FE, Region.NA]
    # With a filter, a tenant with a connection in it shows all its connections
    acme = first.items[0]
    assert [(c.region, c.status) for c in acme.connections] == [
        (Region.EU, ConnectionStatus.REAUTHORIZATION_REQUIRED),
        (Region.NA, ConnectionStatus.ACTIVE),
    ]


def test_a_tenant_summary_has_the_figures_an_operator_scans_for(world: World) -> None:
    now = world.clock.now()
    world.add(
        "acme",
        Region.NA,
        profile_count=2,
        consecutive_failures=1,
        access_token_expires_at=now + timedelta(minutes=30),
        last_refresh_success_at=now - timedelta(minutes=10),
    )
    world.add(
        "acme",
        Region.FE,
        profile_count=4,
        access_token_expires_at=now + timedelta(minutes=50),
        last_refresh_success_at=now - timedelta(minutes=40),
    )
    world.add(
        "acme",
        Region.EU,
        status=ConnectionStatus.REAUTHORIZATION_REQUIRED,
        profile_count=1,
        consecutive_failures=5,
        access_token_expires_at=now - timedelta(hours=3),  # dead: not the soonest live expiry
        last_refresh_success_at=now - timedelta(days=2),
    )

    (acme,) = world.service.list_tenants(status=None, limit=10, next_token=None).items

    assert acme.status is ConnectionStatus.REAUTHORIZATION_REQUIRED
    assert acme.profile_count == 7 and acme.consecutive_failures == 5
    assert acme.soonest_access_token_expires_at == now + timedelta(minutes=30)
    assert acme.stalest_refresh_success_at == now - timedelta(minutes=40)
    assert [c.region for c in acme.connections] == [Region.EU, Region.FE, Region.NA]


def test_a_tenants_page_that_skips_many_stops_early_within_its_read_budget(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ads_connect.logic import admin as admin_logic

    # Given many tenants listed under reauthorization_required that also have active connections
    for i in range(12):
        world.add(f"t{i:02}", Region.EU, status=ConnectionStatus.REAUTHORIZATION_REQUIRED)
        world.add(f"t{i:02}", Region.NA)
    world.add("zeta", Region.NA)
    monkeypatch.setattr(admin_logic, "TENANT_LISTING_MAX_READS", 8)
    reads: list[str] = []
    list_connections = world.store.list_connections

    def counting(tenant_id: str):  # type: ignore[no-untyped-def]
        reads.append(tenant_id)
        return list_connections(tenant_id)

    monkeypatch.setattr(world.store, "list_connections", counting)

    token, seen, short_pages_with_more = None, [], 0
    for _ in range(100):
        queries_before, reads_before = len(world.store.status_queries), len(reads)
        page = world.service.list_tenants(status=None, limit=3, next_token=token)
        # Then no call spends more than its budget of store reads
        spent = len(world.store.status_queries) - queries_before + len(reads) - reads_before
        assert spent <= 8
        seen += [t.tenant_id for t in page.items]
        token = page.next_token
        if token is None:
            break
        short_pages_with_more += len(page.items) < 3
    # And every tenant is listed exactly once, the skipped ones under their urgent status
    assert seen == [f"t{i:02}" for i in range(12)] + ["zeta"]
    assert short_pages_with_more > 0


@pytest.mark.parametrize(
    "token",
    [
        "not base64 !",
        "eyJzIjoiYWN0aXZlIiwidCI6bnVsbCwibCI6NX0",  # {"s":"active","t":null,"l":5}
    ],
)
def test_forged_tenant_page_tokens_are_rejected(world: World, token: str) -> None:
    with pytest.raises(InvalidPageTokenError):
        world.service.list_tenants(status=None, limit=10, next_token=token)


def test_a_tenants_token_of_another_filter_is_rejected(world: World) -> None:
    world.add("a1")
    world.add("a2")
    page = world.service.list_tenants(status=ConnectionStatus.ACTIVE, limit=1, next_token=None)
    assert page.next_token is not None
    with pytest.raises(InvalidPageTokenError):
        world.service.list_tenants(status=ConnectionStatus.DISCONNECTED, limit=1, next_token=page.next_token)


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
    first = world.service.disconnect("t1", Region.NA)
    world.clock.advance(minutes=5)
    after_first = world.store.get_connection("t1", Region.NA)

    again = world.service.disconnect("t1", Region.NA)

    assert again.already_disconnected and again.disconnected_at == first.disconnected_at
    assert world.store.get_connection("t1", Region.NA) == after_first
    assert len(world.events.published) == 1 and len(world.store.audit) == 1
    assert len(world.vault.deleted) == 1  # a complete disconnect has nothing left to do
    assert world.store.leases == {}


@pytest.mark.parametrize("holder", ["refresh-0123456789ab", "callback-0123456789ab", DISCONNECT_TRIGGER])
def test_disconnect_while_another_flow_holds_the_lease_is_busy_and_changes_nothing(
    world: World, holder: str
) -> None:
    world.add("t1")
    world.vault.write_refresh_token("t1", Region.NA, refresh_token="Atzr|fake", grant_version=1)
    world.store.save_profiles("t1", Region.NA, [make_profile("t1", Region.NA, "5", clock=world.clock)])
    before = world.store.get_connection("t1", Region.NA)
    # Another flow's lease; the old fixed disconnect owner is another holder too
    held = world.store.acquire_lease("t1", Region.NA, owner=holder, seconds=300)

    with pytest.raises(ConnectionBusyError):
        world.service.disconnect("t1", Region.NA)

    assert world.store.get_connection("t1", Region.NA) == before
    assert [p.gone for p in world.store.list_profiles("t1")] == [False]
    assert world.vault.read_refresh_token("t1", Region.NA) is not None and world.vault.deleted == []
    assert world.store.audit == [] and world.events.published == []
    assert world.store.leases == {("t1", Region.NA): held}  # still the holder's


def test_disconnect_does_every_step_under_its_own_lease_in_order(world: World) -> None:
    world.add("t1")
    steps: list[tuple[str, str | None]] = []

    def record(owner: Any, name: str, describe: Any = None) -> None:
        original = getattr(owner, name)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            lease = world.store.leases.get(("t1", Region.NA))
            steps.append((describe(*args) if describe else name, lease.owner if lease else None))
            return result

        setattr(owner, name, recorded)

    def connection_write(connection: Any, *_: Any) -> str:
        return "save_connection:" + ("complete" if connection.disconnected_at else "stopped")

    record(world.store, "save_connection", connection_write)
    record(world.store, "save_profiles")
    record(world.vault, "delete_connection_secrets")
    record(world.store, "append_audit")
    record(world.events, "publish")

    world.service.disconnect("t1", Region.NA)

    assert [name for name, _ in steps] == [
        "save_connection:stopped",  # status disconnected, version + 1: refreshes stop here
        "save_profiles",
        "delete_connection_secrets",
        "append_audit",
        "publish",
        "save_connection:complete",  # disconnected_at: nothing left to do
    ]
    owners = {owner for _, owner in steps}
    (owner,) = owners
    assert owner is not None and owner.startswith(f"{DISCONNECT_TRIGGER}-") and owner != DISCONNECT_TRIGGER
    assert world.store.leases == {}


def _fail_call(target: Any, name: str, *, on_call: int = 1) -> None:
    """Make ``target.name`` raise on its ``on_call``-th call (a crash at that step), once."""
    original = getattr(target, name)
    calls = 0

    def failing(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == on_call:
            raise RuntimeError(f"{name} failed")
        return original(*args, **kwargs)

    setattr(target, name, failing)


@pytest.mark.parametrize(
    ("part", "name", "on_call"),
    [
        ("store", "save_connection", 1),
        ("store", "save_profiles", 1),
        ("vault", "delete_connection_secrets", 1),
        ("store", "append_audit", 1),
        ("events", "publish", 1),
        ("store", "save_connection", 2),
    ],
)
def test_a_disconnect_that_failed_at_any_step_is_completed_by_the_retry(
    world: World, part: str, name: str, on_call: int
) -> None:
    world.add("t1")
    world.vault.write_refresh_token("t1", Region.NA, refresh_token="Atzr|fake", grant_version=1)
    world.store.save_profiles("t1", Region.NA, [make_profile("t1", Region.NA, "5", clock=world.clock)])
    _fail_call(getattr(world, part), name, on_call=on_call)

    with pytest.raises(RuntimeError):
        world.service.disconnect("t1", Region.NA, recovery_window_days=10)

    # The lease is free for the retry; a failure after the first write already stopped refreshes
    assert world.store.leases == {}
    halfway = world.store.get_connection("t1", Region.NA)
    assert halfway is not None and halfway.disconnected_at is None
    if halfway.status is ConnectionStatus.DISCONNECTED:
        assert world.store.due_connections(now=world.clock.now() + timedelta(days=1)) == []

    world.clock.advance(minutes=1)
    retried = world.service.disconnect("t1", Region.NA, recovery_window_days=10)

    assert not retried.already_disconnected
    connection = world.store.get_connection("t1", Region.NA)
    assert connection is not None and connection.status is ConnectionStatus.DISCONNECTED
    assert connection.disconnected_at == world.clock.now() and connection.grant_version == 2
    assert [p.gone for p in world.store.list_profiles("t1")] == [True]
    assert world.vault.read_refresh_token("t1", Region.NA) is None
    assert world.vault.deleted[-1] == ("t1", Region.NA, 10)
    # Audit and event: at least once (repeated only when the failure came after them)
    assert world.store.audit and world.store.audit[-1][2]["resumed"] is (halfway.grant_version == 2)
    assert [e[0] for e in world.events.published][-1] == EVENT_DISCONNECTED
    assert world.service.disconnect("t1", Region.NA).already_disconnected


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


# -- reactivate -------------------------------------------------------------------------------


def test_reactivate_brings_a_working_grant_back_with_an_event_and_an_audit(world: World) -> None:
    world.add("t1", status=ConnectionStatus.REAUTHORIZATION_REQUIRED)
    world.vault.write_refresh_token("t1", Region.NA, refresh_token="Atzr|fake", grant_version=1)
    result = world.service.reactivate("t1", Region.NA)
    assert result.reactivated and result.outcome == "succeeded"
    assert result.connection is not None and result.connection.status is ConnectionStatus.ACTIVE
    assert [t for t, _ in world.events.published] == ["Connection Reactivated"]
    assert [a for _, a, _ in world.store.audit] == ["connection_reactivated"]


def test_reactivate_says_when_the_grant_is_really_dead(world: World) -> None:
    world.add("t1", status=ConnectionStatus.REAUTHORIZATION_REQUIRED)
    world.vault.write_refresh_token("t1", Region.NA, refresh_token="Atzr|fake", grant_version=1)
    world.flows.reactivate_outcome = RefreshOutcome.REAUTHORIZATION_REQUIRED
    result = world.service.reactivate("t1", Region.NA)
    assert not result.reactivated and result.outcome == "reauthorization_required"
    assert "invalid_grant" in result.message and "sessions create" in result.message
    assert world.events.published == [] and world.store.audit == []


def test_reactivate_without_a_stored_token_or_of_an_active_one_calls_nothing(world: World) -> None:
    world.add("t1", status=ConnectionStatus.REAUTHORIZATION_REQUIRED)
    world.add("t2")
    assert world.service.reactivate("t1", Region.NA).outcome == "no_refresh_token"
    assert world.service.reactivate("t2", Region.NA).outcome == "already_active"
    assert world.flows.reactivate_calls == []


def test_reactivate_refuses_a_disconnected_or_unknown_connection(world: World) -> None:
    world.add("t1", status=ConnectionStatus.DISCONNECTED)
    with pytest.raises(ConnectionDisconnectedError):
        world.service.reactivate("t1", Region.NA)
    with pytest.raises(ConnectionNotFoundError):
        world.service.reactivate("nobody", Region.NA)


# -- client credentials: several clients ---------------------------------------------------------


def test_storing_a_client_that_holds_none_of_the_grants_is_refused_and_nothing_is_written(
    world: World,
) -> None:
    world.add("t1", client_id="amzn1.application-oa2-client.fake")
    with pytest.raises(ClientChangeRefusedError):
        world.service.write_client_credentials("amzn1.application-oa2-client.dev", "dev-fake-secret")
    assert world.vault.credentials == ClientCredentials("amzn1.application-oa2-client.fake", "fake-secret")


def test_storing_the_grants_client_again_lifts_the_mismatch_pause(world: World) -> None:
    world.add("t1", client_id="amzn1.application-oa2-client.fake")
    world.vault.credentials = ClientCredentials("amzn1.application-oa2-client.dev", "dev-fake-secret")
    world.store.set_operator_pause(OperatorPause(CLIENT_MISMATCH_PAUSE, world.clock.now(), "client_mismatch"))
    written = world.service.write_client_credentials("amzn1.application-oa2-client.fake", "fake-secret")
    assert written.uncovered_grants == {} and written.mismatch_pause_cleared
    assert CLIENT_MISMATCH_PAUSE not in world.store.pauses
    assert written.stored_client_ids == [
        "amzn1.application-oa2-client.fake",
        "amzn1.application-oa2-client.dev",
    ]


def test_replace_client_counts_the_reauthorization_required_grants_and_says_so(world: World) -> None:
    # Given the only grant of the stored client is reauthorization_required (reactivatable)
    world.add(
        "t1", client_id="amzn1.application-oa2-client.fake", status=ConnectionStatus.REAUTHORIZATION_REQUIRED
    )
    # Then storing another client without a flag is refused
    with pytest.raises(ClientChangeRefusedError) as refused:
        world.service.write_client_credentials("amzn1.application-oa2-client.dev", "dev-fake-secret")
    assert refused.value.grants_by_client == {"amzn1.application-oa2-client.fake": 1}
    assert "reauthorization_required" in str(refused.value)
    # And --replace-client says the grant can no longer be reactivated
    written = world.service.write_client_credentials(
        "amzn1.application-oa2-client.dev", "dev-fake-secret", replace_client=True
    )
    assert "1 reauthorization_required grant(s) belong to clients no longer stored" in written.message


def test_an_unreadable_stored_client_with_grants_refuses_another_client(world: World) -> None:
    # Given the stored secret is unreadable (placeholder or malformed) and a grant has no client
    world.vault.credentials = None
    world.add("t1", client_id=None)
    with pytest.raises(ClientChangeRefusedError, match="no readable client stored"):
        world.service.write_client_credentials("amzn1.application-oa2-client.dev", "dev-fake-secret")
    assert world.vault.credentials is None
    # When the operator confirms, the grant stays without a stored client (it pauses)
    written = world.service.write_client_credentials(
        "amzn1.application-oa2-client.dev", "dev-fake-secret", add_client=True
    )
    assert written.uncovered_grants == {"unrecorded": 1}
    assert world.vault.unrecorded_grants_client_id != "amzn1.application-oa2-client.dev"
