"""Flow 4: profile discovery and reconciliation (logic/profiles.py), against fakes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from ads_connect.logic.ports import (
    AdsApiForbiddenError,
    AdsApiUnauthorizedError,
    TransientAmazonError,
)
from ads_connect.logic.profiles import (
    REASON_EMPTY,
    REASON_FORBIDDEN,
    REASON_UNAUTHORIZED,
    REASON_UNAVAILABLE,
    RECHECK_LATER,
    RECHECK_SETTLED,
    RECHECK_SOON,
    apply_profile_result,
    next_profile_check,
    resync_connection_profiles,
    sync_profiles,
)
from ads_connect.models.records import AccessLevel, Connection, ConnectionStatus, ProfilesState
from ads_connect.regions import Region

from tests.fakes.amazon import FakeAdsApi, api_profile

from .conftest import World

BIG = str(2**63 + 7)


def make_connection(*, connected_at: datetime, **updates: object) -> Connection:
    values: dict[str, object] = {
        "tenant_id": "acme",
        "region": Region.NA,
        "status": ConnectionStatus.ACTIVE,
        "grant_version": 1,
        "connected_at": connected_at,
    }
    return Connection.from_mapping({**values, **updates})


def _sync(world: World, region: Region = Region.NA):  # type: ignore[no-untyped-def]
    return sync_profiles(
        "acme",
        region,
        access_token="Atza|fake",
        client_id="fake-client",
        ads=world.ads,
        store=world.store,
        clock=world.clock,
    )


def test_profiles_are_mapped_exactly_and_stored_with_edit_access(world: World) -> None:
    world.ads = FakeAdsApi(profiles=[api_profile(BIG, name="Big"), api_profile(7, "CA", "Vendor", "vendor")])
    result = _sync(world)
    assert result.state is ProfilesState.OK and result.reason is None and not result.view_only
    assert result.changed and sorted(result.added) == sorted([BIG, "7"])
    stored = {p.profile_id: p for p in world.store.list_profiles("acme", Region.NA)}
    assert stored[BIG].account_name == "Big" and stored[BIG].access_level is AccessLevel.EDIT
    assert stored["7"].account_type == "vendor" and stored["7"].country_code == "CA"
    assert stored["7"].marketplace_id == "ATVPDKIKX0DER"
    # one call, no accessLevel parameter
    assert world.ads.calls == [(Region.NA, None, "fake-client")]


def test_a_403_is_retried_once_with_access_level_view_and_marks_view_only(world: World) -> None:
    world.ads = FakeAdsApi(
        script=[AdsApiForbiddenError("x", error_code="forbidden", status=403)],
        view_script=[[api_profile(3)]],
    )
    result = _sync(world)
    assert result.view_only and result.state is ProfilesState.OK
    assert [c[1] for c in world.ads.calls] == [None, AccessLevel.VIEW]
    (profile,) = world.store.list_profiles("acme")
    assert profile.access_level is AccessLevel.VIEW


def test_a_403_on_both_attempts_is_pending_propagation_and_keeps_stored_profiles(world: World) -> None:
    _sync(world)  # Given one stored profile
    forbidden = AdsApiForbiddenError("x", error_code="forbidden", status=403)
    world.ads.script = [forbidden]
    world.ads.view_script = [forbidden]
    result = _sync(world)
    assert result.state is ProfilesState.PENDING and result.reason == REASON_FORBIDDEN
    assert not result.changed and [p.profile_id for p in result.profiles] == ["1"]
    assert len(world.ads.calls) == 3  # 1 first sync + 2 (edit, then view): never a third try
    assert not world.store.list_profiles("acme")[0].gone


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (AdsApiUnauthorizedError("x", error_code="unauthorized", status=401), REASON_UNAUTHORIZED),
        (TransientAmazonError("x", error_code="throttled", status=429, retry_after=3), REASON_UNAVAILABLE),
        (TransientAmazonError("x", error_code="server_error", status=503), REASON_UNAVAILABLE),
    ],
)
def test_401_throttling_and_5xx_are_pending_not_errors(world: World, error: Exception, reason: str) -> None:
    world.ads.script = [error]
    result = _sync(world)
    assert result.state is ProfilesState.PENDING and result.reason == reason
    assert world.store.list_profiles("acme") == []


def test_an_empty_list_is_a_success_with_the_reason(world: World) -> None:
    world.ads.profiles = []
    result = _sync(world)
    assert result.state is ProfilesState.EMPTY and result.reason == REASON_EMPTY
    assert "first campaign" in REASON_EMPTY and "another Amazon region" in REASON_EMPTY
    assert result.profiles == [] and not result.changed


def test_profiles_that_disappear_are_marked_gone_not_deleted(world: World) -> None:
    world.ads.profiles = [api_profile(1), api_profile(2)]
    first = _sync(world)
    seen_at = {p.profile_id: p.first_seen_at for p in first.profiles}
    world.clock.advance(hours=1)
    world.ads.profiles = [api_profile(2), api_profile(3)]
    second = _sync(world)
    assert second.changed and second.added == ["3"] and second.removed == ["1"]
    stored = {p.profile_id: p for p in world.store.list_profiles("acme")}
    assert stored["1"].gone and not stored["2"].gone and not stored["3"].gone
    # first_seen_at survives a re-sync; last_seen_at moves
    assert stored["2"].first_seen_at == seen_at["2"] and stored["2"].last_seen_at == world.clock.now()


def test_an_unchanged_set_is_not_a_change_but_a_renamed_profile_is(world: World) -> None:
    _sync(world)
    world.clock.advance(minutes=5)
    assert not _sync(world).changed
    world.ads.profiles = [api_profile(1, name="Renamed")]
    renamed = _sync(world)
    assert renamed.changed and renamed.added == [] and renamed.removed == []


def test_entries_without_an_exact_numeric_id_are_skipped_and_counted(world: World) -> None:
    bad_float = {**api_profile(1), "profileId": 1.2345678901234567e19}
    no_id = {k: v for k, v in api_profile(2).items() if k != "profileId"}
    world.ads.profiles = [api_profile(5), bad_float, no_id, api_profile(5)]
    result = _sync(world)
    assert [p.profile_id for p in result.profiles] == ["5"] and result.skipped == 2


def test_re_check_cadence_depends_on_the_state_and_the_age_of_the_connection(world: World) -> None:
    now = world.clock.now()
    young = make_connection(connected_at=now - timedelta(minutes=5))
    old = make_connection(connected_at=now - timedelta(days=3))
    world.ads.profiles = []
    empty = _sync(world)
    assert next_profile_check(young, empty, now) == now + RECHECK_SOON
    assert next_profile_check(old, empty, now) == now + RECHECK_LATER
    world.ads.profiles = [api_profile(1)]
    ok = _sync(world)
    assert next_profile_check(old, ok, now) == now + RECHECK_SETTLED


def test_a_pending_result_keeps_the_known_count_and_access(world: World) -> None:
    now = world.clock.now()
    connection = make_connection(connected_at=now, profile_count=4, view_only=True)
    world.ads.script = [TransientAmazonError("x", error_code="server_error", status=503)]
    updated = apply_profile_result(connection, _sync(world), now)
    assert updated.profiles_state is ProfilesState.PENDING
    assert updated.profile_count == 4 and updated.view_only
    assert updated.profile_sync_due_at == now + RECHECK_SOON


def test_resync_uses_the_published_token_and_announces_a_change(world: World) -> None:
    from ads_connect.logic.grants import publish_access_token

    from tests.fakes.amazon import fake_grant

    connection = make_connection(connected_at=world.clock.now() - timedelta(days=1))
    world.store.save_connection(connection, expected_grant_version=None)
    publish_access_token(
        world.vault,
        tenant_id=connection.tenant_id,
        region=connection.region,
        grant=fake_grant(),
        expires_at=world.clock.now() + timedelta(hours=1),
        endpoints=world.settings.amazon_endpoints[connection.region],
        client_id="fake-client",
        grant_version=connection.grant_version,
    )
    updated = resync_connection_profiles(
        connection,
        trigger="admin",
        store=world.store,
        vault=world.vault,
        ads_api=world.ads,
        events=world.events,
        clock=world.clock,
    )
    assert updated.profiles_state is ProfilesState.OK and updated.profile_count == 1
    assert world.events.published[0][0] == "Profiles Changed"
    assert world.events.published[0][1]["added_profile_ids"] == ["1"]
    assert world.store.leases == {}  # lease released


def test_resync_without_a_usable_token_postpones_and_calls_nobody(world: World) -> None:
    connection = make_connection(connected_at=world.clock.now())
    world.store.save_connection(connection, expected_grant_version=None)
    updated = resync_connection_profiles(
        connection,
        trigger="schedule",
        store=world.store,
        vault=world.vault,
        ads_api=world.ads,
        events=world.events,
        clock=world.clock,
    )
    assert world.ads.calls == [] and updated.profile_sync_due_at == world.clock.now() + RECHECK_SOON


def test_resync_leaves_a_connection_that_is_no_longer_active_alone(world: World) -> None:
    connection = make_connection(
        connected_at=world.clock.now(), status=ConnectionStatus.REAUTHORIZATION_REQUIRED
    )
    world.store.save_connection(connection, expected_grant_version=None)
    updated = resync_connection_profiles(
        connection,
        trigger="schedule",
        store=world.store,
        vault=world.vault,
        ads_api=world.ads,
        events=world.events,
        clock=world.clock,
    )
    assert updated == connection and world.ads.calls == []
