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
from ads_connect.models.brand import DEFAULT_DISPLAY_NAME, Brand
from ads_connect.models.settings import PagesSettings, SettingsError
from ads_connect.observability import logger


@dataclass(frozen=True)
class PublicDependencies:
    callback: CallbackDependencies

    @property
    def settings(self) -> PagesSettings:
        return self.callback.settings


@cache
def page_settings() -> PagesSettings:
    """The page functions' settings alone: error pages read the brand from them even when
    building the adapters failed."""
    return PagesSettings.from_environment()


def page_brand() -> Brand:
    """The operator's brand, or the product's plain one when the settings themselves are
    broken (that failure is what the page is about; it is logged once per page)."""
    try:
        return page_settings().brand
    except SettingsError as error:
        logger.error("page settings are invalid: this page shows no brand", extra={"cause": str(error)})
        return Brand(display_name=DEFAULT_DISPLAY_NAME)


@cache
def public_dependencies() -> PublicDependencies:
    settings = page_settings()
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
    page_settings.cache_clear()
