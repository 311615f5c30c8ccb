"""In-memory ports for the admin (operator) tests: store, vault, LWA, events, flows.

They follow the port contracts in ``logic/ports.py`` closely enough that the admin logic cannot
tell them from the adapters: leases expire, conditional writes check the grant version, a
listing pages with an opaque token.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ads_connect.logic.ports import (
    ClientCredentials,
    ClientCredentialsMissingError,
    ClientKeyring,
    ConnectionStore,
    InvalidClientError,
    InvalidGrantError,
    Lease,
    LeaseHeldError,
    OperatorPause,
    Page,
    PublishedAccessToken,
    StaleGrantError,
    StoredRefreshToken,
    TokenGrant,
)
from ads_connect.models.admin_api import ConnectSessionCreated, ConnectSessionRequest
from ads_connect.models.records import (
    Connection,
    ConnectionStatus,
    ProfileMapping,
    RefreshAttempt,
    RefreshOutcome,
)
from ads_connect.regions import Region

from tests.fakes.clock import FakeClock


class MemoryStore:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.connections: dict[tuple[str, Region], Connection] = {}
        self.profiles: dict[tuple[str, Region, str], ProfileMapping] = {}
        self.attempts: list[RefreshAttempt] = []
        self.audit: list[tuple[str, str, dict[str, Any]]] = []
        self.leases: dict[tuple[str, Region], Lease] = {}
        self.pauses: dict[str, OperatorPause] = {}
        self.status_queries: list[tuple[ConnectionStatus, int, str | None]] = []
        self.revocation_notes: list[tuple[datetime, str, Region]] = []

    def get_connection(self, tenant_id: str, region: Region) -> Connection | None:
        return self.connections.get((tenant_id, region))

    def list_connections(self, tenant_id: str) -> Sequence[Connection]:
        return [c for (t, _), c in self.connections.items() if t == tenant_id]

    def acquire_lease(self, tenant_id: str, region: Region, *, owner: str, seconds: int) -> Lease:
        held = self.leases.get((tenant_id, region))
        if held is not None and held.owner != owner and held.expires_at > self.clock.now():
            raise LeaseHeldError(f"{tenant_id}/{region.value}")
        lease = Lease(tenant_id, region, owner, self.clock.now() + timedelta(seconds=seconds))
        self.leases[(tenant_id, region)] = lease
        return lease

    def acquire_lease_and_read(
        self, tenant_id: str, region: Region, *, owner: str, seconds: int
    ) -> tuple[Lease, Connection | None]:
        return self.acquire_lease(tenant_id, region, owner=owner, seconds=seconds), self.get_connection(
            tenant_id, region
        )

    def iter_due_pages(self, *, now: datetime, page_size: int = 1000) -> Iterator[list[tuple[str, Region]]]:
        due = list(self.due_connections(now=now))
        for start in range(0, len(due), page_size):
            yield due[start : start + page_size]

    def oldest_due_at(self) -> datetime | None:
        times = [
            c.refresh_due_at
            for c in self.connections.values()
            if c.status is ConnectionStatus.ACTIVE and c.refresh_due_at is not None
        ]
        return min(times) if times else None

    def release_lease(self, lease: Lease) -> None:
        if self.leases.get((lease.tenant_id, lease.region)) == lease:
            del self.leases[(lease.tenant_id, lease.region)]

    def save_connection(
        self, connection: Connection, *, expected_grant_version: int | None, lease: Lease | None = None
    ) -> None:
        key = (connection.tenant_id, connection.region)
        current = self.connections.get(key)
        if expected_grant_version is not None and (
            current is None or current.grant_version != expected_grant_version
        ):
            raise StaleGrantError(f"{key}")
        held = self.leases.get(key)
        if lease is not None and (held is None or held.owner != lease.owner):
            raise StaleGrantError(f"{key}: lease lost")
        self.connections[key] = connection

    def record_refresh(self, connection: Connection, attempt: RefreshAttempt, *, lease: Lease | None) -> None:
        self.connections[(connection.tenant_id, connection.region)] = connection
        self.attempts.append(attempt)
        if lease is not None:
            self.release_lease(lease)

    def list_profiles(self, tenant_id: str, region: Region | None = None) -> Sequence[ProfileMapping]:
        return [
            p for (t, r, _), p in self.profiles.items() if t == tenant_id and (region is None or r == region)
        ]

    def save_profiles(self, tenant_id: str, region: Region, profiles: Sequence[ProfileMapping]) -> None:
        keep = {p.profile_id for p in profiles}
        for key, existing in list(self.profiles.items()):
            if key[0] == tenant_id and key[1] == region and key[2] not in keep:
                self.profiles[key] = existing.replace(gone=True)
        for profile in profiles:
            self.profiles[(tenant_id, region, profile.profile_id)] = profile

    def find_tenants_by_profile(self, profile_id: str) -> Sequence[tuple[str, Region]]:
        return [(t, r) for (t, r, pid), p in self.profiles.items() if pid == profile_id and not p.gone]

    def list_refresh_attempts(self, tenant_id: str, *, limit: int) -> Sequence[RefreshAttempt]:
        mine = [a for a in self.attempts if a.tenant_id == tenant_id]
        return sorted(mine, key=lambda a: a.attempted_at, reverse=True)[:limit]

    def due_connections(self, *, now: datetime, limit: int | None = None) -> Sequence[tuple[str, Region]]:
        due = [
            k
            for k, c in self.connections.items()
            if c.status is ConnectionStatus.ACTIVE
            and c.refresh_due_at is not None
            and c.refresh_due_at <= now
        ]
        return due[:limit] if limit else due

    def profile_sync_due(self, *, now: datetime, limit: int | None = None) -> Sequence[tuple[str, Region]]:
        return []

    def list_connections_by_status(
        self, status: ConnectionStatus, *, limit: int, next_token: str | None
    ) -> Page:
        self.status_queries.append((status, limit, next_token))
        ordered = sorted(
            (c for c in self.connections.values() if c.status is status),
            key=lambda c: f"{c.tenant_id}#{c.region.value}",
        )
        start = int(json.loads(next_token)["offset"]) if next_token else 0
        chunk = ordered[start : start + limit]
        more = start + limit < len(ordered)
        return Page(items=chunk, next_token=json.dumps({"offset": start + limit}) if more else None)

    def append_audit(self, tenant_id: str, action: str, detail: dict[str, Any]) -> None:
        self.audit.append((tenant_id, action, detail))

    def get_operator_pause(self, name: str) -> OperatorPause | None:
        return self.pauses.get(name)

    def set_operator_pause(self, pause: OperatorPause) -> bool:
        # Like the conditional put: the first pause is kept; True only when this call created it.
        if pause.name in self.pauses:
            return False
        self.pauses[pause.name] = pause
        return True

    def clear_operator_pause(self, name: str) -> bool:
        return self.pauses.pop(name, None) is not None

    def note_revocation(self, tenant_id: str, region: Region, *, at: datetime, window: timedelta) -> int:
        self.revocation_notes.append((at, tenant_id, region))
        return len({(t, r) for when, t, r in self.revocation_notes if at - window <= when <= at})

    def count_active_connections(self) -> int:
        return sum(1 for c in self.connections.values() if c.status is ConnectionStatus.ACTIVE)

    def list_revocation_held(self) -> Sequence[Connection]:
        return [
            c
            for c in self.connections.values()
            if c.status is ConnectionStatus.ACTIVE and c.revocation_held_at is not None
        ]

    def count_grants_by_client(self) -> dict[str | None, int]:
        return self._count_by_client(ConnectionStatus.ACTIVE)

    def count_reauthorization_grants_by_client(self) -> dict[str | None, int]:
        return self._count_by_client(ConnectionStatus.REAUTHORIZATION_REQUIRED)

    def _count_by_client(self, status: ConnectionStatus) -> dict[str | None, int]:
        counts: dict[str | None, int] = {}
        for connection in self.connections.values():
            if connection.status is status:
                counts[connection.client_id] = counts.get(connection.client_id, 0) + 1
        return counts


class MemoryVault:
    def __init__(self, credentials: ClientCredentials | None = None) -> None:
        self.credentials = credentials
        # The other stored clients (kept for their grants) and the owner of unrecorded grants.
        self.previous: tuple[ClientCredentials, ...] = ()
        self.unrecorded_grants_client_id: str | None = None
        # What a warm container's five-minute cache still holds after another container wrote
        # new credentials: handed out by a cached read, replaced by a fresh one.
        self.stale_cache: ClientCredentials | None = None
        self.credential_reads: list[bool] = []  # the ``fresh`` flag of every read
        self.refresh_tokens: dict[tuple[str, Region], StoredRefreshToken] = {}
        self.deleted: list[tuple[str, Region, int]] = []
        self.access_tokens: dict[tuple[str, Region], PublishedAccessToken] = {}

    def read_client_credentials(self, *, fresh: bool = False) -> ClientCredentials:
        return self.read_client_keyring(fresh=fresh).current

    def read_client_keyring(self, *, fresh: bool = False) -> ClientKeyring:
        self.credential_reads.append(fresh)
        if self.stale_cache is not None and not fresh:
            return ClientKeyring(self.stale_cache, self.previous, self.unrecorded_grants_client_id)
        self.stale_cache = None
        if self.credentials is None:
            raise ClientCredentialsMissingError("client credentials not set")
        return ClientKeyring(self.credentials, self.previous, self.unrecorded_grants_client_id)

    def write_client_keyring(self, keyring: ClientKeyring) -> None:
        self.credentials = keyring.current
        self.previous = keyring.previous
        self.unrecorded_grants_client_id = keyring.unrecorded_grants_client_id
        self.stale_cache = None

    def read_client_id(self) -> str:
        return self.read_client_credentials().client_id

    def read_refresh_token(self, tenant_id: str, region: Region) -> StoredRefreshToken | None:
        return self.refresh_tokens.get((tenant_id, region))

    def write_refresh_token(
        self,
        tenant_id: str,
        region: Region,
        *,
        refresh_token: str,
        grant_version: int,
        client_id: str | None = None,
    ) -> None:
        self.refresh_tokens[(tenant_id, region)] = StoredRefreshToken(
            refresh_token, grant_version, datetime.now(), client_id
        )

    def publish_access_token(self, token: PublishedAccessToken) -> None:
        self.access_tokens[(token.tenant_id, token.region)] = token

    def read_access_token(self, tenant_id: str, region: Region) -> PublishedAccessToken | None:
        return self.access_tokens.get((tenant_id, region))

    def delete_connection_secrets(self, tenant_id: str, region: Region, *, recovery_window_days: int) -> None:
        self.refresh_tokens.pop((tenant_id, region), None)
        self.access_tokens.pop((tenant_id, region), None)
        self.deleted.append((tenant_id, region, recovery_window_days))


class ScriptedLwa:
    """Answers ``refresh`` with the next scripted exception (or a grant); records the calls."""

    def __init__(self) -> None:
        self.errors: list[Exception] = []
        self.calls: list[tuple[Region, str, str]] = []
        self.secrets_used: list[str] = []  # the client secret of each call (fake values only)
        # Runs inside each ``refresh`` call, before it answers (e.g. a concurrent write).
        self.during_call: Callable[[], None] | None = None
        # When set, LWA's client authentication: a secret outside it gets ``invalid_client``, one
        # inside it gets ``invalid_grant`` for the credentials check's made-up refresh token.
        self.valid_secrets: set[str] | None = None

    def exchange_code(
        self,
        region: Region,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
        credentials: ClientCredentials,
    ) -> TokenGrant:
        raise AssertionError("the admin flows never exchange a code")

    def refresh(self, region: Region, *, refresh_token: str, credentials: ClientCredentials) -> TokenGrant:
        self.calls.append((region, refresh_token, credentials.client_id))
        self.secrets_used.append(credentials.client_secret)
        if self.during_call is not None:
            self.during_call()
        if self.valid_secrets is not None:
            if credentials.client_secret not in self.valid_secrets:
                raise InvalidClientError(
                    "client authentication failed", error_code="invalid_client", status=401
                )
            raise InvalidGrantError("the refresh token is invalid", error_code="invalid_grant", status=400)
        if self.errors:
            raise self.errors.pop(0)
        return TokenGrant(access_token="fake-access", refresh_token=None, expires_in=3600)


class RecordingEvents:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.published.append((detail_type, detail))


@dataclass
class FakeFlows:
    """Stand-ins for the refresh, profile-sync and connect-session flows, scripted per test."""

    store: ConnectionStore
    clock: FakeClock
    refresh_outcome: RefreshOutcome = RefreshOutcome.SUCCEEDED
    refresh_error: Exception | None = None
    resync_error: Exception | None = None
    session_error: Exception | None = None
    refresh_calls: list[tuple[str, Region]] = field(default_factory=list)
    # What the reactivation's one refresh answers (the real flow: logic/refresh.py).
    reactivate_outcome: RefreshOutcome = RefreshOutcome.SUCCEEDED
    reactivate_calls: list[tuple[str, Region]] = field(default_factory=list)
    resync_calls: list[tuple[str, Region]] = field(default_factory=list)
    session_calls: list[tuple[str, ConnectSessionRequest]] = field(default_factory=list)

    def refresh_now(self, tenant_id: str, region: Region) -> RefreshAttempt:
        self.refresh_calls.append((tenant_id, region))
        if self.refresh_error is not None:
            raise self.refresh_error
        attempt = RefreshAttempt(
            tenant_id=tenant_id,
            region=region,
            attempted_at=self.clock.now(),
            outcome=self.refresh_outcome,
            error_code=None if self.refresh_outcome is RefreshOutcome.SUCCEEDED else "invalid_grant",
            latency_ms=42,
            trigger="admin",
        )
        connection = self.store.get_connection(tenant_id, region)
        assert connection is not None
        if self.refresh_outcome is RefreshOutcome.SUCCEEDED:
            connection = connection.replace(
                last_refresh_success_at=self.clock.now(),
                access_token_expires_at=self.clock.now() + timedelta(hours=1),
                consecutive_failures=0,
            )
        self.store.record_refresh(connection, attempt, lease=None)
        return attempt

    def reactivate_now(self, tenant_id: str, region: Region) -> RefreshAttempt:
        self.reactivate_calls.append((tenant_id, region))
        succeeded = self.reactivate_outcome is RefreshOutcome.SUCCEEDED
        attempt = RefreshAttempt(
            tenant_id=tenant_id,
            region=region,
            attempted_at=self.clock.now(),
            outcome=self.reactivate_outcome,
            error_code=None if succeeded else "invalid_grant",
            trigger="admin-reactivate",
        )
        connection = self.store.get_connection(tenant_id, region)
        assert connection is not None
        if succeeded:
            connection = connection.replace(status=ConnectionStatus.ACTIVE, reauthorization_required_at=None)
        self.store.record_refresh(connection, attempt, lease=None)
        return attempt

    def resync(self, connection: Connection) -> Connection:
        self.resync_calls.append((connection.tenant_id, connection.region))
        if self.resync_error is not None:
            raise self.resync_error
        updated = connection.replace(profiles_checked_at=self.clock.now())
        self.store.save_connection(updated, expected_grant_version=connection.grant_version)
        return updated

    def create_session(self, tenant_id: str, request: ConnectSessionRequest) -> ConnectSessionCreated:
        self.session_calls.append((tenant_id, request))
        if self.session_error is not None:
            raise self.session_error
        return ConnectSessionCreated(
            tenant_id=tenant_id,
            consent_url="https://connect.example.com/connect/fake-session-id",
            expires_at=self.clock.now() + timedelta(seconds=request.lifetime_seconds or 3600),
            region=request.region,
        )


def admin_service(
    store: Any, vault: Any, lwa: Any, events: Any, clock: FakeClock, flows: FakeFlows, sessions: Any = None
) -> Any:
    """The admin service over these ports, with the scripted flows (one place for its wiring)."""
    from ads_connect.logic.admin import AdminService

    from tests.fakes.consent import MemoryConsentStore

    return AdminService(
        store,
        vault,
        lwa,
        events,
        clock,
        flows.refresh_now,
        flows.resync,
        flows.create_session,
        flows.reactivate_now,
        sessions if sessions is not None else MemoryConsentStore(),
    )


def make_connection(
    tenant_id: str,
    region: Region = Region.NA,
    *,
    status: ConnectionStatus = ConnectionStatus.ACTIVE,
    clock: FakeClock | None = None,
    **updates: Any,
) -> Connection:
    now = (clock or FakeClock()).now()
    fields: dict[str, Any] = {
        "grant_version": 1,
        "connected_at": now - timedelta(days=1),
        "access_token_expires_at": now + timedelta(minutes=40),
        "refresh_due_at": now + timedelta(minutes=25),
        "profile_count": 1,
    }
    return Connection(tenant_id=tenant_id, region=region, status=status, **(fields | updates))


def make_profile(
    tenant_id: str, region: Region, profile_id: str, *, clock: FakeClock, **updates: Any
) -> ProfileMapping:
    return ProfileMapping(
        tenant_id=tenant_id,
        region=region,
        profile_id=profile_id,
        country_code="US",
        account_name="Fake Seller",
        account_type="seller",
        first_seen_at=clock.now(),
        last_seen_at=clock.now(),
        **updates,
    )
