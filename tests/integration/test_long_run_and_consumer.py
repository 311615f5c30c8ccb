"""48 simulated hours: several tenants in all three regions, the schedule every 5 minutes,
Amazon's rotation mode changing every 6 hours, and one long-lived consumer session per
connection reading every connection every 200 s always gets a valid token."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from ads_connect.adapters.connection_store import DynamoConnectionStore
from ads_connect.adapters.events import EventBridgePublisher
from ads_connect.adapters.lwa import HttpLwaClient
from ads_connect.adapters.secrets import access_secret_name as vault_secret_name
from ads_connect.consumer import (
    AccessTokenCache,
    AdsApiSession,
    access_secret_name,
    get_session,
    list_profiles,
)
from ads_connect.logic.refresh import refresh_connection
from ads_connect.logic.scheduler import run_schedule
from ads_connect.models.records import ConnectionStatus, RefreshOutcome
from ads_connect.models.settings import RefreshSettings
from ads_connect.models.work import WorkKind, WorkMessage
from ads_connect.regions import REGIONS, Region

from emulator import seller_profile
from tests.fakes.browser import Browser
from tests.fakes.clock import FakeClock
from tests.integration.conftest import Product

TENANTS = ("acme", "globex")


class _ListQueue:
    def __init__(self) -> None:
        self.messages: list[WorkMessage] = []

    def send(self, messages: Any) -> None:
        self.messages.extend(messages)


@pytest.fixture
def fleet(product: Product) -> Product:
    product.amazon.emu.add_user(
        "adv",
        profiles={
            region.value: [seller_profile(1000 + i, info.marketplaces[0])]
            for i, (region, info) in enumerate(REGIONS.items())
        },
    )
    product.amazon.emu.rotation = "rotate_grace"
    for tenant in TENANTS:
        for region in Region:
            assert Browser().connect(product.session(tenant), region)["statusCode"] == 200
    return product


SIMULATED_SECONDS = 48 * 3600
TICK_SECONDS = 50
SCHEDULE_SECONDS = 300
# Consumers read out of step with the schedule, so their 5-minute caches hold tokens across
# refreshes: some reads come just before a run, some just after, some from the cache.
READ_EVERY_SECONDS = 200
READ_OFFSET_SECONDS = 50
# Amazon's rotation behaviour changes every 6 simulated hours, through every mode twice.
ROTATION_PHASES = ("rotate_grace", "rotate_strict", "rotate_reuse_detection", "never")
PHASE_SECONDS = 6 * 3600
PROFILE_IDS = {region.value: str(1000 + i) for i, region in enumerate(REGIONS)}


def test_48_simulated_hours_every_consumer_read_is_valid(fleet: Product) -> None:
    # Given six connections, one clock for the product, Amazon and the consumers
    start = fleet.store.get_connection("acme", Region.NA).connected_at  # type: ignore[union-attr]
    clock = FakeClock(start)
    fleet.amazon.emu.clock = lambda: clock.now().timestamp()
    store = DynamoConnectionStore(fleet.aws.table_name, clock=clock)
    settings = RefreshSettings.from_environment()
    deps: dict[str, Any] = {
        "store": store,
        "vault": fleet.vault,
        "lwa": HttpLwaClient(settings.amazon_endpoints),
        "events": EventBridgePublisher(settings.event_bus_name, clock=clock),
        "clock": clock,
        "settings": settings,
        "sleep": lambda _s: None,
    }
    secrets_client = boto3.client("secretsmanager", region_name=fleet.aws.region)
    # And one long-lived consumer session per connection, as a consuming service keeps it
    sessions = {
        (tenant, region): AdsApiSession(
            AccessTokenCache(
                access_secret_name("ads-connect", tenant, region),
                secrets_client=secrets_client,
                clock=lambda: clock.now().timestamp(),
            ),
            PROFILE_IDS[region],
        )
        for tenant in TENANTS
        for region in PROFILE_IDS
    }
    refreshes = 0
    modes_seen: set[str] = set()
    # When 48 hours pass: the schedule every 5 minutes, every consumer reading every 200 s
    for elapsed in range(TICK_SECONDS, SIMULATED_SECONDS + 1, TICK_SECONDS):
        clock.advance(seconds=TICK_SECONDS)
        fleet.amazon.emu.rotation = ROTATION_PHASES[(elapsed // PHASE_SECONDS) % len(ROTATION_PHASES)]  # type: ignore[assignment]
        if elapsed % SCHEDULE_SECONDS == 0:
            queue = _ListQueue()
            run_schedule(store=store, queue=queue, clock=clock, settings=settings)
            # (Profile re-syncs are not this test's subject: only the refreshes are worked.)
            for message in (m for m in queue.messages if m.kind is WorkKind.REFRESH):
                attempt = refresh_connection(
                    message.tenant_id, message.region, force=False, trigger="sim", **deps
                )
                assert attempt.outcome is RefreshOutcome.SUCCEEDED, (message, attempt)
                refreshes += 1
                modes_seen.add(fleet.amazon.emu.rotation)
        if elapsed % READ_EVERY_SECONDS == READ_OFFSET_SECONDS:
            # Then every read of every connection succeeds
            for key, session in sessions.items():
                response = session.get("/v2/sp/campaigns")
                assert response.status_code == 200, (key, clock.now())
    # And never only thanks to the helper's re-read after a 401: no first try was refused
    refused = [
        e for e in fleet.amazon.emu.received_requests() if e["endpoint"] == "campaigns" and e["status"] != 200
    ]
    assert refused == []
    # And every connection was refreshed about every 45 minutes, under every rotation mode
    assert refreshes >= 6 * 60
    assert modes_seen == set(ROTATION_PHASES)
    for tenant in TENANTS:
        for region in Region:
            connection = store.get_connection(tenant, region)
            assert connection is not None and connection.status is ConnectionStatus.ACTIVE
            assert connection.consecutive_failures == 0


def test_consumer_helper_sets_headers_and_reads_the_mappings(fleet: Product) -> None:
    client = boto3.client("secretsmanager", region_name=fleet.aws.region)
    session = get_session(
        "acme", "EU", profile_id=1001, secret_prefix=fleet.aws.secret_prefix, secrets_client=client
    )
    response = session.get("/v2/sp/campaigns")
    assert response.status_code == 200
    assert response.request.headers["Amazon-Advertising-API-Scope"] == "1001"
    assert response.request.headers["Amazon-Advertising-API-ClientId"] == fleet.amazon.emu.client_id
    profiles = list_profiles(
        "acme",
        table_name=fleet.aws.table_name,
        dynamodb_client=boto3.client("dynamodb", region_name=fleet.aws.region),
    )
    assert sorted(p["profile_id"] for p in profiles) == ["1000", "1001", "1002"]


def test_consumer_rereads_once_after_a_401(fleet: Product) -> None:
    client = boto3.client("secretsmanager", region_name=fleet.aws.region)
    session = get_session("globex", "NA", secret_prefix=fleet.aws.secret_prefix, secrets_client=client)
    # The token the session cached is refreshed away behind its back ...
    fleet.amazon.emu.advance(3700)
    settings = RefreshSettings.from_environment()
    refresh_connection(
        "globex",
        Region.NA,
        force=True,
        trigger="test",
        store=fleet.store,
        vault=fleet.vault,
        lwa=HttpLwaClient(settings.amazon_endpoints),
        events=EventBridgePublisher(settings.event_bus_name, clock=FakeClock()),
        clock=FakeClock(),
        settings=settings,
    )
    assert session.get("/v2/profiles").status_code == 200


def test_consumer_secret_name_rule_matches_the_product() -> None:
    assert access_secret_name("p", "t", "EU") == vault_secret_name("p", "t", Region.EU)


def test_a_consumer_cache_never_outlives_the_token() -> None:
    class _Client:
        calls = 0

        def get_secret_value(self, SecretId: str) -> dict[str, str]:
            self.calls += 1
            body = '{"access_token": "Atza|x", "expires_at_epoch": 1000, "api_url": "u", "client_id": "c"}'
            return {"SecretString": body}

    now = [800.0]
    client = _Client()
    cache = AccessTokenCache("s", secrets_client=client, clock=lambda: now[0])
    cache.get()
    now[0] = 939.0
    cache.get()
    assert client.calls == 1
    now[0] = 941.0  # within the 60-second margin of expiry
    cache.get()
    assert client.calls == 2
