"""A refresh-flow world of in-memory ports: store, vault, fake LWA, recorded events, a fake
clock, and a sleep that only records what it was asked to wait."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from ads_connect.logic.pacing import WritePacer
from ads_connect.logic.ports import ClientCredentials, StoredRefreshToken
from ads_connect.logic.refresh import refresh_connection
from ads_connect.models.records import Connection, ConnectionStatus, RefreshAttempt
from ads_connect.models.settings import CoreSettings
from ads_connect.observability import metrics
from ads_connect.regions import Region

from tests.fakes.amazon import FAKE_REFRESH_TOKEN, FakeLwa, fake_grant
from tests.fakes.clock import FakeClock
from tests.fakes.stores import MemoryConnectionStore, MemoryTokenVault, RecordingEventPublisher

CLIENT = ClientCredentials(client_id="amzn1.application-oa2-client.fake", client_secret="fake-client-secret")
STORED_TOKEN = "Atzr|fake-stored-refresh-token"  # obviously fake


def core_settings(**overrides: object) -> CoreSettings:
    values: dict[str, object] = {
        "table_name": "ads-connect-test",
        "secret_prefix": "ads-connect",
        "lwa_secret_id": "ads-connect/lwa-client",
        "event_bus_name": "ads-connect-test",
    }
    values.update(overrides)
    return CoreSettings.from_mapping(values)


@dataclass
class RefreshWorld:
    clock: FakeClock = field(default_factory=FakeClock)
    lwa: FakeLwa = field(default_factory=lambda: FakeLwa(default=fake_grant(refresh_token=None)))
    events: RecordingEventPublisher = field(default_factory=RecordingEventPublisher)
    settings: CoreSettings = field(default_factory=core_settings)
    sleeps: list[float] = field(default_factory=list)
    remaining: Callable[[], float] | None = None

    def __post_init__(self) -> None:
        self.store = MemoryConnectionStore(self.clock)
        self.vault = MemoryTokenVault(self.clock, credentials=CLIENT)

    def connect(
        self,
        tenant: str = "acme",
        region: Region = Region.NA,
        *,
        due_in: timedelta = timedelta(seconds=0),
        status: ConnectionStatus = ConnectionStatus.ACTIVE,
        token: str | None = STORED_TOKEN,
        **updates: Any,
    ) -> Connection:
        """A connection whose refresh is due ``due_in`` from now, with its refresh token stored."""
        now = self.clock.now()
        connection = Connection(
            tenant_id=tenant,
            region=region,
            status=status,
            grant_version=1,
            connected_at=now - timedelta(days=1),
            access_token_expires_at=now + due_in + timedelta(seconds=self.settings.refresh_lead_seconds),
            refresh_due_at=now + due_in,
            **updates,
        )
        self.store.connections[(tenant, region)] = connection
        if token is not None:
            self.vault.refresh_tokens[(tenant, region)] = StoredRefreshToken(token, 1, now)
        return connection

    def refresh(
        self,
        tenant: str = "acme",
        region: Region = Region.NA,
        *,
        force: bool = False,
        trigger: str = "schedule",
        refreshes_paused: Callable[[], bool] | None = None,
        secret_write_pacer: WritePacer | None = None,
    ) -> RefreshAttempt:
        """A refresh as the worker (or, with ``force``, the admin API) makes it; with a
        ``secret_write_pacer`` its secret writes go through it."""
        return refresh_connection(
            tenant,
            region,
            force=force,
            trigger=trigger,
            store=self.store,
            vault=self.vault,
            lwa=self.lwa,
            events=self.events,
            clock=self.clock,
            settings=self.settings,
            sleep=self.sleeps.append,
            remaining_seconds=self.remaining,
            refreshes_paused=refreshes_paused,
            secret_write_pacer=secret_write_pacer,
        )

    def connection(self, tenant: str = "acme", region: Region = Region.NA) -> Connection:
        connection = self.store.get_connection(tenant, region)
        assert connection is not None
        return connection


@pytest.fixture
def world() -> RefreshWorld:
    return RefreshWorld()


@pytest.fixture
def emitted_metrics(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the product metrics emitted during the test, in order."""
    names: list[str] = []

    def record(*, name: str, **_kwargs: object) -> None:
        names.append(name)

    monkeypatch.setattr(metrics, "add_metric", record)
    return names


__all__ = ["CLIENT", "FAKE_REFRESH_TOKEN", "STORED_TOKEN", "RefreshWorld", "core_settings"]
