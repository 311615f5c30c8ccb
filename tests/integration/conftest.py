"""Integration wiring: the handlers run in-process on moto, talking to the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from ads_connect.adapters.connection_store import DynamoConnectionStore
from ads_connect.adapters.consent_store import DynamoConsentStore
from ads_connect.adapters.secrets import SecretsManagerVault
from ads_connect.clock import SystemClock
from ads_connect.handlers import dependencies
from ads_connect.logic.connect_session import create_connect_session
from ads_connect.models.settings import PagesSettings
from ads_connect.regions import Region

from tests.fakes.browser import PUBLIC_BASE
from tests.fixtures.amazon import RunningEmulator
from tests.fixtures.aws import AwsResources


@dataclass
class Product:
    aws: AwsResources
    amazon: RunningEmulator
    store: DynamoConnectionStore
    vault: SecretsManagerVault
    consent_store: DynamoConsentStore
    settings: PagesSettings

    def session(self, tenant: str, region: Region | None = None, **options: object) -> str:
        created = create_connect_session(
            tenant,
            display_name=options.get("display_name"),
            region=region,  # type: ignore[arg-type]
            return_url=options.get("return_url"),
            lifetime_seconds=options.get("lifetime_seconds"),  # type: ignore[arg-type]
            consent_store=self.consent_store,
            clock=SystemClock(),
            settings=self.settings,
        )
        return created.consent_url.rsplit("/", 1)[1]


@pytest.fixture
def product(
    aws: AwsResources, amazon_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Product]:
    monkeypatch.setenv("ADS_CONNECT_AMAZON_ENDPOINTS", amazon_emulator.endpoints_json)
    monkeypatch.setenv("ADS_CONNECT_PUBLIC_BASE_URL", PUBLIC_BASE)
    amazon_emulator.emu.headless = "allow"
    dependencies.reset()
    settings = PagesSettings.from_environment()
    yield Product(
        aws=aws,
        amazon=amazon_emulator,
        store=DynamoConnectionStore(aws.table_name, clock=SystemClock()),
        vault=SecretsManagerVault(settings),
        consent_store=DynamoConsentStore(aws.table_name),
        settings=settings,
    )
    dependencies.reset()
