"""Profile re-sync saves its connection only while it still holds the connection's lease."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from ads_connect.logic.grants import publish_access_token
from ads_connect.logic.ports import Lease
from ads_connect.logic.profiles import (
    PROFILES_CHANGED_EVENT,
    RESYNC_LEASE_SECONDS,
    resync_connection_profiles,
)
from ads_connect.models.records import Connection, ConnectionStatus, ProfilesState
from ads_connect.regions import Region

from tests.fakes.amazon import FAKE_ACCESS_TOKEN, fake_grant

from .conftest import World

KEY = ("acme", Region.NA)


def _connected(world: World) -> Connection:
    now = world.clock.now()
    connection = Connection(
        tenant_id="acme",
        region=Region.NA,
        status=ConnectionStatus.ACTIVE,
        grant_version=1,
        connected_at=now - timedelta(days=1),
        access_token_expires_at=now + timedelta(minutes=50),
        refresh_due_at=now + timedelta(minutes=35),
        profile_sync_due_at=now,
    )
    world.store.save_connection(connection, expected_grant_version=None)
    publish_access_token(
        world.vault,
        tenant_id="acme",
        region=Region.NA,
        grant=fake_grant(),
        expires_at=now + timedelta(minutes=50),
        endpoints=world.settings.amazon_endpoints[Region.NA],
        client_id="fake-client",
        grant_version=1,
    )
    return connection


def _resync(world: World, connection: Connection) -> Connection:
    return resync_connection_profiles(
        connection,
        trigger="schedule",
        store=world.store,
        vault=world.vault,
        ads_api=world.ads,
        events=world.events,
        clock=world.clock,
    )


@pytest.mark.parametrize("taker_still_holds_it", [True, False], ids=["lease-held-by-taker", "lease-released"])
def test_a_resync_that_lost_its_lease_leaves_the_newer_connection_alone(
    world: World, caplog: pytest.LogCaptureFixture, taker_still_holds_it: bool
) -> None:
    # Given a re-sync whose Ads API call outlives its lease, and a refresh that takes the
    # connection over meanwhile and records a newer token expiry
    connection = _connected(world)
    now = world.clock.now()
    refreshed = connection.replace(
        access_token_expires_at=now + timedelta(hours=1),
        refresh_due_at=now + timedelta(minutes=45),
        last_refresh_success_at=now,
    )
    answer = world.ads.list_profiles

    def slow_profiles(*args: Any, **kwargs: Any) -> Any:
        world.clock.advance(seconds=RESYNC_LEASE_SECONDS + 1)
        world.store.leases[KEY] = Lease("acme", Region.NA, "schedule-taker", now + timedelta(minutes=3))
        world.store.connections[KEY] = refreshed
        if not taker_still_holds_it:
            del world.store.leases[KEY]
        return answer(*args, **kwargs)

    world.ads.list_profiles = slow_profiles  # type: ignore[method-assign]
    # When the re-sync comes back to save
    with caplog.at_level(logging.WARNING):
        returned = _resync(world, connection)
    # Then the refresh's record stands (the re-sync's older copy is not written back)
    assert world.store.get_connection("acme", Region.NA) == refreshed
    assert returned == refreshed and returned.profiles_state is ProfilesState.PENDING
    # And the taker's lease is untouched
    if taker_still_holds_it:
        assert world.store.leases[KEY].owner == "schedule-taker"
    else:
        assert world.store.leases == {}
    # And it said so, once, without any token
    warnings = [r for r in caplog.records if "re-sync not saved" in r.getMessage()]
    assert len(warnings) == 1
    assert FAKE_ACCESS_TOKEN not in caplog.text
    # And the profile mappings it stored are still announced (a later re-sync sees no change)
    assert [p.profile_id for p in world.store.list_profiles("acme", Region.NA)] == ["1"]
    assert [detail_type for detail_type, _ in world.events.published] == [PROFILES_CHANGED_EVENT]


def test_a_resync_that_kept_its_lease_saves_and_releases_it(world: World) -> None:
    connection = _connected(world)
    returned = _resync(world, connection)
    assert returned.profiles_state is ProfilesState.OK and returned.profile_count == 1
    assert world.store.get_connection("acme", Region.NA) == returned
    assert world.store.leases == {}
