"""A grant is refreshed only with the client that obtained it (logic/clients.py, logic/refresh.py).

Refreshed with any other client LWA answers invalid_grant, which looks exactly like a revocation:
so the product never sends it, pauses those refreshes instead (client_mismatch), raises one
alarm and one event, and marks no tenant."""

from __future__ import annotations

from ads_connect.logic.ports import CLIENT_MISMATCH_PAUSE, ClientCredentials, StoredRefreshToken
from ads_connect.logic.refresh import CLIENT_MISMATCH_EVENT, CLIENT_MISMATCH_RECHECK
from ads_connect.models.records import ConnectionStatus, RefreshOutcome
from ads_connect.regions import Region

from tests.fakes.amazon import fake_grant
from tests.unit.refresh.conftest import CLIENT, STORED_TOKEN, RefreshWorld

OTHER = ClientCredentials(client_id="amzn1.application-oa2-client.other", client_secret="other-fake-secret")


def _grant_of(world: RefreshWorld, client_id: str | None, tenant: str = "acme") -> None:
    world.vault.refresh_tokens[(tenant, Region.NA)] = StoredRefreshToken(
        STORED_TOKEN, 1, world.clock.now(), client_id
    )


def test_a_grant_is_refreshed_with_its_own_client_not_the_current_one(world: RefreshWorld) -> None:
    # Given the operator moved to another client and kept the old one for its grants
    world.connect()
    _grant_of(world, CLIENT.client_id)
    world.vault.credentials, world.vault.previous = OTHER, (CLIENT,)
    # When the grant is refreshed
    attempt = world.refresh()
    # Then LWA was asked with the grant's own client, and consumers get that client id too
    assert attempt.outcome is RefreshOutcome.SUCCEEDED
    assert world.lwa.refresh_clients == [CLIENT.client_id]
    assert world.vault.access_tokens[("acme", Region.NA)].client_id == CLIENT.client_id
    assert world.connection().client_id == CLIENT.client_id


def test_a_grant_whose_client_is_not_stored_is_paused_not_revoked(world: RefreshWorld) -> None:
    # Given two grants of a client that is no longer stored (another valid client replaced it)
    for tenant in ("acme", "globex"):
        world.connect(tenant)
        _grant_of(world, CLIENT.client_id, tenant)
    world.vault.credentials = OTHER
    # When both come due
    first = world.refresh("acme")
    second = world.refresh("globex")
    # Then LWA is never called, no tenant is marked and nothing counts as a failure
    assert first.outcome is second.outcome is RefreshOutcome.CLIENT_MISMATCH
    assert world.lwa.refreshes == []
    for tenant in ("acme", "globex"):
        connection = world.connection(tenant)
        assert connection.status is ConnectionStatus.ACTIVE
        assert connection.consecutive_failures == 0
        assert connection.last_refresh_error_code == "client_mismatch"
        # And it is looked at again later, not every run (it would crowd the oldest-first due set)
        assert connection.refresh_due_at == world.clock.now() + CLIENT_MISMATCH_RECHECK
    assert world.vault.refresh_tokens[("acme", Region.NA)].refresh_token == STORED_TOKEN
    assert world.store.leases == {}
    # And one pause, one event for the operator (not one per tenant)
    assert CLIENT_MISMATCH_PAUSE in world.store.pauses
    assert world.events.types() == [CLIENT_MISMATCH_EVENT]
    detail = world.events.published[0][1]
    assert detail["grant_client_id"] == CLIENT.client_id and detail["stored_client_ids"] == [OTHER.client_id]


def test_the_paused_grant_refreshes_again_once_its_client_is_stored(world: RefreshWorld) -> None:
    # Given a grant paused for its client
    world.connect()
    _grant_of(world, CLIENT.client_id)
    world.vault.credentials = OTHER
    world.refresh()
    # When its client is stored again and the recheck time has come
    world.vault.credentials, world.vault.previous = OTHER, (CLIENT,)
    world.clock.advance(seconds=CLIENT_MISMATCH_RECHECK.total_seconds() + 1)
    attempt = world.refresh()
    # Then it refreshes with its own client and the error code is gone
    assert attempt.outcome is RefreshOutcome.SUCCEEDED
    assert world.lwa.refresh_clients == [CLIENT.client_id]
    assert world.connection().last_refresh_error_code is None


def test_a_grant_from_before_clients_were_recorded_belongs_to_the_then_current_client(
    world: RefreshWorld,
) -> None:
    # Given a grant without a recorded client, stored when CLIENT was current
    world.connect()
    _grant_of(world, None)
    world.vault.unrecorded_grants_client_id = CLIENT.client_id
    # When the operator has since made OTHER current (keeping CLIENT)
    world.vault.credentials, world.vault.previous = OTHER, (CLIENT,)
    attempt = world.refresh()
    # Then it refreshes with CLIENT, and the connection records it from now on
    assert attempt.outcome is RefreshOutcome.SUCCEEDED
    assert world.lwa.refresh_clients == [CLIENT.client_id]
    assert world.connection().client_id == CLIENT.client_id


def test_without_any_record_a_grant_is_taken_to_be_the_current_clients(world: RefreshWorld) -> None:
    # Given a grant and credentials from before clients were recorded at all
    world.connect()
    attempt = world.refresh()
    # Then the current client refreshes it and is recorded on the connection
    assert attempt.outcome is RefreshOutcome.SUCCEEDED
    assert world.lwa.refresh_clients == [CLIENT.client_id]
    assert world.connection().client_id == CLIENT.client_id


def test_the_secret_s_client_wins_over_the_connection_s(world: RefreshWorld) -> None:
    # Given a connection that says OTHER but a private secret (written with the token) that says CLIENT
    world.connect(client_id=OTHER.client_id)
    _grant_of(world, CLIENT.client_id)
    world.vault.credentials, world.vault.previous = OTHER, (CLIENT,)
    world.refresh()
    assert world.lwa.refresh_clients == [CLIENT.client_id]


def test_a_rotated_refresh_token_is_stored_with_its_grant_s_client(world: RefreshWorld) -> None:
    world.connect()
    _grant_of(world, CLIENT.client_id)
    world.vault.credentials, world.vault.previous = OTHER, (CLIENT,)
    world.lwa.refresh_script.append(fake_grant(refresh_token="Atzr|fake-rotated"))
    world.refresh()
    stored = world.vault.refresh_tokens[("acme", Region.NA)]
    assert stored.refresh_token == "Atzr|fake-rotated" and stored.client_id == CLIENT.client_id
