"""Production wiring of the adapters, built once per cold start and shared by the handlers.

Nothing is created at import time: a handler builds its dependencies on first use, so tests
set the environment first and ``reset()`` between cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ads_connect.adapters.ads_api import HttpAdsApiClient
from ads_connect.adapters.connection_store import DynamoConnectionStore
from ads_connect.adapters.consent_store import DynamoConsentStore
from ads_connect.adapters.dynamodb import dynamodb_table
from ads_connect.adapters.events import EventBridgePublisher
from ads_connect.adapters.lwa import HttpLwaClient
from ads_connect.adapters.secrets import SecretsManagerVault
from ads_connect.clock import SystemClock
from ads_connect.logic.callback import CallbackDependencies
from ads_connect.models.settings import PagesSettings


@dataclass(frozen=True)
class PublicDependencies:
    callback: CallbackDependencies

    @property
    def settings(self) -> PagesSettings:
        return self.callback.settings


@cache
def public_dependencies() -> PublicDependencies:
    settings = PagesSettings.from_environment()
    clock = SystemClock()
    # One DynamoDB resource for both stores (one table): a second would cost the cold start
    # another botocore client, some 20 ms here.
    table = dynamodb_table(settings.table_name)
    return PublicDependencies(
        callback=CallbackDependencies(
            consent_store=DynamoConsentStore(settings.table_name, table=table),
            store=DynamoConnectionStore(settings.table_name, clock=clock, table=table),
            vault=SecretsManagerVault(settings),
            lwa=HttpLwaClient(settings.amazon_endpoints),
            ads_api=HttpAdsApiClient(settings.amazon_endpoints),
            events=EventBridgePublisher(settings.event_bus_name, clock=clock),
            clock=clock,
            settings=settings,
        )
    )


def reset() -> None:
    public_dependencies.cache_clear()
