"""In-memory ConnectionStore / TokenVault / EventPublisher for the refresh flow's unit tests.

Built on the admin helper's fakes (``tests/fakes/operator.py``) and stricter where the refresh
flow's promises live: ``record_refresh`` is conditional on the lease (like the DynamoDB
transaction), a successful refresh can lift an operator pause in the same write, the profile
re-sync index is real, and every write can be made to fail to exercise the failure paths.
Calls are counted so a test can assert "exactly one secret write".
"""

from __future__ import annotations

import collections
from collections.abc import Iterator, Sequence
from datetime import datetime

from ads_connect.logic.ports import (
    Lease,
    NotDueError,
    PublishedAccessToken,
    StaleGrantError,
    StoredRefreshToken,
)
from ads_connect.models.records import Connection, ConnectionStatus, RefreshAttempt
from ads_connect.regions import Region

from tests.fakes.clock import FakeClock
from tests.fakes.operator import MemoryStore, MemoryVault, RecordingEvents


class MemoryConnectionStore(MemoryStore):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.calls: collections.Counter[str] = collections.Counter()
        # method name -> exceptions raised by the next calls (consumed in order)
        self.failures: dict[str, list[Exception]] = collections.defaultdict(list)

    def _fail_if_scripted(self, method: str) -> None:
        self.calls[method] += 1
        if self.failures[method]:
            raise self.failures[method].pop(0)

    def acquire_lease_and_read(
        self, tenant_id: str, region: Region, *, owner: str, seconds: int, due_by: datetime | None = None
    ) -> tuple[Lease, Connection | None]:
        self._fail_if_scripted("acquire_lease_and_read")
        if due_by is not None:
            # Like the DynamoDB condition: active (on the due index) and due, before the lease.
            current = self.connections.get((tenant_id, region))
            if (
                current is None
                or current.status is not ConnectionStatus.ACTIVE
                or current.refresh_due_at is None
                or current.refresh_due_at > due_by
            ):
                raise NotDueError(f"{tenant_id}/{region.value}", connection=current)
        return super().acquire_lease_and_read(tenant_id, region, owner=owner, seconds=seconds)

    def release_lease(self, lease: Lease) -> None:
        self._fail_if_scripted("release_lease")
        super().release_lease(lease)

    def record_refresh(
        self,
        connection: Connection,
        attempt: RefreshAttempt,
        *,
        lease: Lease | None,
        clear_operator_pause: str | tuple[str, ...] | None = None,
    ) -> None:
        self._fail_if_scripted("record_refresh")
        key = (connection.tenant_id, connection.region)
        if lease is not None and self.leases.get(key) != lease:
            raise StaleGrantError(f"{key}: lease lost")
        if lease is None:
            current = self.connections.get(key)
            if current is not None and current.grant_version != connection.grant_version:
                raise StaleGrantError(f"{key}: grant version moved")
        self.connections[key] = connection
        self.attempts.append(attempt)
        if lease is not None:
            del self.leases[key]
        if clear_operator_pause is not None:
            names = (clear_operator_pause,) if isinstance(clear_operator_pause, str) else clear_operator_pause
            for name in names:
                self.pauses.pop(name, None)

    def iter_due_pages(self, *, now: datetime, page_size: int = 1000) -> Iterator[list[tuple[str, Region]]]:
        # Oldest due first, as the due index sorts them.
        due = sorted(self.due_connections(now=now), key=lambda k: self.connections[k].refresh_due_at or now)
        for start in range(0, len(due), page_size):
            yield due[start : start + page_size]

    def profile_sync_due(self, *, now: datetime, limit: int | None = None) -> Sequence[tuple[str, Region]]:
        due = [
            k
            for k, c in self.connections.items()
            if c.status is ConnectionStatus.ACTIVE
            and c.profile_sync_due_at is not None
            and c.profile_sync_due_at <= now
        ]
        return due[:limit] if limit else due


class MemoryTokenVault(MemoryVault):
    def __init__(self, clock: FakeClock, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self.calls: collections.Counter[str] = collections.Counter()
        self.failures: dict[str, list[Exception]] = collections.defaultdict(list)
        self.forgotten = 0

    def _fail_if_scripted(self, method: str) -> None:
        self.calls[method] += 1
        if self.failures[method]:
            raise self.failures[method].pop(0)

    @property
    def secret_writes(self) -> int:
        return self.calls["write_refresh_token"] + self.calls["publish_access_token"]

    def read_refresh_token(self, tenant_id: str, region: Region) -> StoredRefreshToken | None:
        self._fail_if_scripted("read_refresh_token")
        return super().read_refresh_token(tenant_id, region)

    def write_refresh_token(
        self,
        tenant_id: str,
        region: Region,
        *,
        refresh_token: str,
        grant_version: int,
        client_id: str | None = None,
    ) -> None:
        self._fail_if_scripted("write_refresh_token")
        self.refresh_tokens[(tenant_id, region)] = StoredRefreshToken(
            refresh_token, grant_version, self.clock.now(), client_id
        )

    def publish_access_token(self, token: PublishedAccessToken) -> None:
        self._fail_if_scripted("publish_access_token")
        super().publish_access_token(token)

    def forget_client_credentials(self) -> None:
        self.forgotten += 1


class RecordingEventPublisher(RecordingEvents):
    def types(self) -> list[str]:
        return [detail_type for detail_type, _ in self.published]
