"""Undo: one refresh of a reauthorization_required connection with the grant's own client
(logic/refresh.py ``reactivate_connection``)."""

from __future__ import annotations

from ads_connect.logic.ports import InvalidGrantError, TransientAmazonError
from ads_connect.logic.refresh import reactivate_connection
from ads_connect.models.records import ConnectionStatus, RefreshAttempt, RefreshOutcome
from ads_connect.regions import Region

from tests.unit.refresh.conftest import RefreshWorld


def _reactivate(world: RefreshWorld) -> RefreshAttempt:
    return reactivate_connection(
        "acme",
        Region.NA,
        store=world.store,
        vault=world.vault,
        lwa=world.lwa,
        events=world.events,
        clock=world.clock,
        settings=world.settings,
        sleep=world.sleeps.append,
    )


def _marked(world: RefreshWorld) -> None:
    world.connect(
        status=ConnectionStatus.REAUTHORIZATION_REQUIRED, reauthorization_required_at=world.clock.now()
    )


def test_a_grant_that_still_works_is_active_again_and_due(world: RefreshWorld) -> None:
    _marked(world)
    attempt = _reactivate(world)
    assert attempt.outcome is RefreshOutcome.SUCCEEDED and attempt.trigger == "admin-reactivate"
    connection = world.connection()
    assert connection.status is ConnectionStatus.ACTIVE and connection.reauthorization_required_at is None
    assert ("acme", Region.NA) in world.store.due_connections(now=connection.refresh_due_at)
    assert world.store.leases == {}


def test_invalid_grant_leaves_it_marked_with_no_second_event(world: RefreshWorld) -> None:
    _marked(world)
    first_marked = world.connection().reauthorization_required_at
    world.lwa.refresh_script.append(InvalidGrantError("dead", error_code="invalid_grant", status=400))
    world.clock.advance(seconds=60)
    attempt = _reactivate(world)
    assert attempt.outcome is RefreshOutcome.REAUTHORIZATION_REQUIRED
    connection = world.connection()
    assert connection.status is ConnectionStatus.REAUTHORIZATION_REQUIRED
    assert connection.reauthorization_required_at == first_marked
    assert world.events.types() == []


def test_a_transient_answer_leaves_it_marked(world: RefreshWorld) -> None:
    _marked(world)
    world.lwa.refresh_script += [
        TransientAmazonError("down", error_code="server_error", status=503) for _ in range(4)
    ]
    attempt = _reactivate(world)
    assert attempt.outcome is RefreshOutcome.TRANSIENT_FAILURE
    assert world.connection().status is ConnectionStatus.REAUTHORIZATION_REQUIRED


def test_an_active_connection_is_not_touched(world: RefreshWorld) -> None:
    world.connect()
    before = world.connection()
    attempt = _reactivate(world)
    assert attempt.outcome is RefreshOutcome.SKIPPED_NOT_DUE and world.lwa.refreshes == []
    assert world.connection() == before and world.store.leases == {}
