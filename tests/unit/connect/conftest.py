"""A connect-flow world made of in-memory ports: consent store, connection store, vault,
fake Amazon, recorded events, a fake clock and a sleep that only counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from ads_connect.logic.callback import CallbackDependencies
from ads_connect.logic.connect_session import create_connect_session
from ads_connect.logic.ports import ClientCredentials
from ads_connect.models.settings import PagesSettings
from ads_connect.regions import Region

from tests.fakes.amazon import FakeAdsApi, FakeLwa, api_profile
from tests.fakes.clock import FakeClock
from tests.fakes.consent import MemoryConsentStore
from tests.fakes.operator import MemoryStore, MemoryVault, RecordingEvents

PUBLIC_BASE = "https://connect.example.test"
RETURN_URL = "https://app.example.com/amazon/connected"
CLIENT = ClientCredentials(client_id="amzn1.application-oa2-client.fake", client_secret="fake-client-secret")


def pages_settings(**overrides: object) -> PagesSettings:
    values: dict[str, object] = {
        "table_name": "ads-connect-test",
        "secret_prefix": "ads-connect",
        "lwa_secret_id": "ads-connect/lwa-client",
        "event_bus_name": "ads-connect-test",
        "app_name": "Acme Reports",
        "allowed_return_urls": (RETURN_URL,),
        "public_base_url": PUBLIC_BASE,
        "support_contact": "support@acme.example",
    }
    values.update(overrides)
    return PagesSettings.from_mapping(values)


@dataclass
class World:
    clock: FakeClock = field(default_factory=FakeClock)
    consent_store: MemoryConsentStore = field(default_factory=MemoryConsentStore)
    vault: MemoryVault = field(default_factory=lambda: MemoryVault(CLIENT))
    lwa: FakeLwa = field(default_factory=FakeLwa)
    ads: FakeAdsApi = field(default_factory=lambda: FakeAdsApi(profiles=[api_profile(1, name="Shop US")]))
    events: RecordingEvents = field(default_factory=RecordingEvents)
    settings: PagesSettings = field(default_factory=pages_settings)
    sleeps: list[float] = field(default_factory=list)
    # None: sleeping only records the wish (no test waits for real).
    sleep: Callable[[float], None] | None = None

    def __post_init__(self) -> None:
        self.store = MemoryStore(self.clock)

    @property
    def deps(self) -> CallbackDependencies:
        return CallbackDependencies(
            consent_store=self.consent_store,
            store=self.store,
            vault=self.vault,
            lwa=self.lwa,
            ads_api=self.ads,
            events=self.events,
            clock=self.clock,
            settings=self.settings,
            sleep=self.sleep or self.sleeps.append,
        )

    def session(self, tenant: str = "acme", region: Region | None = None, **options: object) -> str:
        created = create_connect_session(
            tenant,
            display_name=options.get("display_name"),  # type: ignore[arg-type]
            region=region,
            return_url=options.get("return_url"),  # type: ignore[arg-type]
            lifetime_seconds=options.get("lifetime_seconds"),  # type: ignore[arg-type]
            consent_store=self.consent_store,
            clock=self.clock,
            settings=self.settings,
        )
        return created.consent_url.rsplit("/", 1)[1]


@pytest.fixture
def world() -> World:
    return World()
