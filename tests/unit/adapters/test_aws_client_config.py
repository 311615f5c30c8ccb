"""Every AWS client the product builds (adapters and consumer helper) has timeouts and bounded
standard-mode retries from one configuration; the SQS sender keeps its larger pool."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from ads_connect import consumer
from ads_connect.adapters import aws
from ads_connect.adapters.connection_store import DynamoConnectionStore
from ads_connect.adapters.consent_store import DynamoConsentStore
from ads_connect.adapters.events import EventBridgePublisher
from ads_connect.adapters.secrets import SecretsManagerVault
from ads_connect.adapters.work_queue import MAX_POOL_CONNECTIONS, SqsWorkQueue
from ads_connect.models.settings import CoreSettings
from ads_connect.regions import AMAZON_ENDPOINTS
from botocore.config import Config

from tests.fakes.clock import FakeClock

EXPECTED_RETRIES = {"mode": "standard", "total_max_attempts": 3}


@pytest.fixture(autouse=True)
def _region(monkeypatch: pytest.MonkeyPatch) -> None:
    # Building a client needs a region, never the network (sockets are off in unit tests).
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit")


def _assert_shared(config: Config) -> None:
    assert config.connect_timeout == aws.CONNECT_TIMEOUT_SECONDS == 2
    assert config.read_timeout == aws.READ_TIMEOUT_SECONDS == 10
    assert config.retries == EXPECTED_RETRIES


def _settings() -> CoreSettings:
    return CoreSettings(
        table_name="ads-connect",
        secret_prefix="ads-connect",
        lwa_secret_id="ads-connect/lwa-client",
        event_bus_name="ads-connect",
        amazon_endpoints=AMAZON_ENDPOINTS,
    )


def test_every_adapter_client_is_built_with_the_shared_config() -> None:
    configs = {
        "secretsmanager": SecretsManagerVault(_settings())._client.meta.config,
        "events": EventBridgePublisher("bus", clock=FakeClock())._client.meta.config,
        "connections": DynamoConnectionStore("t", clock=FakeClock())._table.meta.client.meta.config,
        "consent": DynamoConsentStore("t")._table.meta.client.meta.config,
        "sqs": SqsWorkQueue("https://sqs.eu-west-1.amazonaws.com/1/q")._client.meta.config,
    }
    for config in configs.values():
        _assert_shared(config)
    # The scheduler's 16 send threads share the SQS client: its pool stays larger.
    assert configs["sqs"].max_pool_connections == MAX_POOL_CONNECTIONS == 32
    assert configs["secretsmanager"].max_pool_connections == 10


def test_the_consumer_helper_builds_its_clients_with_the_same_values(monkeypatch: pytest.MonkeyPatch) -> None:
    _assert_shared(consumer.AccessTokenCache("ads-connect/access/acme/EU")._client.meta.config)

    built: list[tuple[str, Any]] = []

    class _NoProfiles:
        def get_paginator(self, _operation: str) -> Any:
            return self

        def paginate(self, **_kwargs: Any) -> list[dict[str, Any]]:
            return [{"Items": []}]

    def fake_client(service: str, **kwargs: Any) -> _NoProfiles:
        built.append((service, kwargs.get("config")))
        return _NoProfiles()

    monkeypatch.setattr(boto3, "client", fake_client)
    assert consumer.list_profiles("acme", table_name="ads-connect") == []
    [(service, config)] = built
    assert service == "dynamodb"
    _assert_shared(config)


def test_the_consumer_uses_the_products_config_not_a_copy() -> None:
    # The client wheel ships adapters/aws.py beside the consumer (one source, docs/decisions.md).
    assert consumer.AWS_CLIENT_CONFIG is aws.AWS_CLIENT_CONFIG
