"""The mass-revocation breaker: threshold arithmetic (logic/breaker.py) and the refresh flow's
hold (logic/refresh.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ads_connect.logic.breaker import revocation_held, revocation_threshold
from ads_connect.logic.ports import REVOCATION_HOLD_PAUSE, InvalidGrantError
from ads_connect.logic.refresh import REVOCATIONS_HELD_EVENT
from ads_connect.models.records import ConnectionStatus, RefreshOutcome
from ads_connect.models.settings import BreakerSettings

from tests.unit.refresh.conftest import RefreshWorld

DEFAULT = BreakerSettings()


@pytest.mark.parametrize(
    ("active", "threshold"),
    [(0, 3), (10, 3), (60, 3), (61, 4), (100, 5), (1000, 50), (150_000, 7500)],
)
def test_the_threshold_is_3_connections_or_5_percent_of_the_active_whichever_is_larger(
    active: int, threshold: int
) -> None:
    assert revocation_threshold(active, DEFAULT) == threshold


def test_a_revocation_is_held_once_the_window_reaches_the_threshold() -> None:
    assert not revocation_held(2, 10, DEFAULT)
    assert revocation_held(3, 10, DEFAULT)
    assert not revocation_held(49, 1000, DEFAULT) and revocation_held(50, 1000, DEFAULT)
    custom = BreakerSettings(min_connections=10, percent=1.0, window=timedelta(minutes=5))
    assert not revocation_held(9, 100, custom) and revocation_held(10, 100, custom)


def _dead(world: RefreshWorld) -> None:
    world.lwa.refresh_script.append(InvalidGrantError("dead", error_code="invalid_grant", status=400))


def test_many_invalid_grants_at_once_are_held_with_one_event_and_cleared_by_a_success(
    world: RefreshWorld,
) -> None:
    # Given ten active connections
    tenants = [f"t{i}" for i in range(10)]
    for tenant in tenants:
        world.connect(tenant)
    # When five of them answer invalid_grant within minutes
    outcomes = []
    for tenant in tenants[:5]:
        _dead(world)
        outcomes.append(world.refresh(tenant).outcome)
        world.clock.advance(seconds=30)
    # Then the first two are marked (each a real revocation as far as anyone can tell), the rest held
    assert outcomes == [RefreshOutcome.REAUTHORIZATION_REQUIRED] * 2 + [RefreshOutcome.REVOCATION_HELD] * 3
    held = [world.connection(t) for t in tenants[2:5]]
    assert all(c.status is ConnectionStatus.ACTIVE and c.revocation_held_at is not None for c in held)
    assert world.events.types().count(REVOCATIONS_HELD_EVENT) == 1
    assert REVOCATION_HOLD_PAUSE in world.store.pauses
    assert {c.tenant_id for c in world.store.list_revocation_held()} == set(tenants[2:5])
    # When one of the held connections refreshes fine on the next run
    world.clock.advance(seconds=300)
    assert world.refresh("t2").outcome is RefreshOutcome.SUCCEEDED
    # Then its hold is cleared, and with it the pause (a later storm is announced again)
    assert world.connection("t2").revocation_held_at is None
    assert REVOCATION_HOLD_PAUSE not in world.store.pauses


def test_a_held_connection_stays_held_after_the_window(world: RefreshWorld) -> None:
    for tenant in ("a", "b", "c"):
        world.connect(tenant)
        _dead(world)
        world.refresh(tenant)
    assert world.connection("c").revocation_held_at is not None
    world.clock.advance(seconds=3600)
    _dead(world)
    assert world.refresh("c").outcome is RefreshOutcome.REVOCATION_HELD


def test_individual_revocations_far_apart_are_applied(world: RefreshWorld) -> None:
    for tenant in ("a", "b", "c", "d"):
        world.connect(tenant)
        _dead(world)
        assert world.refresh(tenant).outcome is RefreshOutcome.REAUTHORIZATION_REQUIRED
        world.clock.advance(seconds=16 * 60)
    assert world.events.types().count(REVOCATIONS_HELD_EVENT) == 0
