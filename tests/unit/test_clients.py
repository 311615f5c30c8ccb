"""The client-matching rules (logic/clients.py): which client a grant belongs to, and what
storing other client credentials does to the grants."""

from __future__ import annotations

import pytest
from ads_connect.logic.clients import (
    ClientChange,
    ClientChangeRefusedError,
    grant_client_id,
    plan_client_change,
    uncovered_grants,
)
from ads_connect.logic.ports import ClientCredentials, ClientKeyring

PROD = ClientCredentials("amzn1.application-oa2-client.prod", "prod-fake-secret")
PROD_ROTATED = ClientCredentials("amzn1.application-oa2-client.prod", "prod-fake-secret-2")
DEV = ClientCredentials("amzn1.application-oa2-client.dev", "dev-fake-secret")
NEXT = ClientCredentials("amzn1.application-oa2-client.next", "next-fake-secret")


def test_the_secret_then_the_connection_then_the_unrecorded_owner_name_a_grant_s_client() -> None:
    keyring = ClientKeyring(DEV, (PROD,), unrecorded_grants_client_id=PROD.client_id)
    assert grant_client_id("a", "b", keyring) == "a"
    assert grant_client_id(None, "b", keyring) == "b"
    assert grant_client_id(None, None, keyring) == PROD.client_id
    assert grant_client_id(None, None, ClientKeyring(DEV)) == DEV.client_id


def test_a_keyring_finds_only_stored_clients() -> None:
    keyring = ClientKeyring(DEV, (PROD,))
    assert keyring.for_client(PROD.client_id) == PROD
    assert keyring.for_client(NEXT.client_id) is None
    assert keyring.client_ids == (DEV.client_id, PROD.client_id)


def test_another_client_holding_none_of_the_grants_is_refused_with_the_counts() -> None:
    # Given 12 active grants of PROD (3 of them from before clients were recorded)
    with pytest.raises(ClientChangeRefusedError) as refused:
        plan_client_change(
            ClientKeyring(PROD), DEV, {PROD.client_id: 9, None: 3}, add_client=False, replace_client=False
        )
    # Then the refusal says who holds how many and what to do
    assert refused.value.grants_by_client == {PROD.client_id: 12}
    message = str(refused.value)
    assert "12 with amzn1.application-oa2-client.prod" in message
    assert "--add-client" in message and "--replace-client" in message
    assert DEV.client_secret not in message and PROD.client_secret not in message


def test_a_new_secret_for_the_current_client_keeps_the_others() -> None:
    plan = plan_client_change(
        ClientKeyring(PROD, (DEV,)), PROD_ROTATED, {PROD.client_id: 5}, add_client=False, replace_client=False
    )
    assert plan.change is ClientChange.ROTATE_SECRET
    assert plan.keyring.current == PROD_ROTATED and plan.keyring.previous == (DEV,)


def test_restoring_the_client_that_holds_the_grants_is_never_refused() -> None:
    # Given DEV was stored by mistake with --replace-client, so PROD's grants are uncovered
    stored = ClientKeyring(DEV, (), unrecorded_grants_client_id=PROD.client_id)
    counts = {PROD.client_id: 4, None: 2}
    assert uncovered_grants(stored, counts) == {PROD.client_id: 6}
    # When PROD is stored again without any flag
    plan = plan_client_change(stored, PROD, counts, add_client=False, replace_client=False)
    # Then it is current again, every grant is covered, and DEV stays stored (it holds nothing)
    assert plan.keyring.current == PROD and plan.keyring.previous == (DEV,)
    assert uncovered_grants(plan.keyring, counts) == {}


def test_add_client_makes_the_new_one_current_and_keeps_every_other() -> None:
    plan = plan_client_change(
        ClientKeyring(PROD), NEXT, {PROD.client_id: 7}, add_client=True, replace_client=False
    )
    assert plan.change is ClientChange.ADD_CLIENT and plan.orphaned_grants == 0
    assert plan.keyring.client_ids == (NEXT.client_id, PROD.client_id)
    # And grants stored before clients were recorded stay PROD's
    assert plan.keyring.owner_of_unrecorded_grants == PROD.client_id


def test_replace_client_drops_the_others_and_counts_what_it_orphans() -> None:
    plan = plan_client_change(
        ClientKeyring(PROD, (DEV,)),
        NEXT,
        {PROD.client_id: 7, DEV.client_id: 2, NEXT.client_id: 1, None: 1},
        add_client=False,
        replace_client=True,
    )
    assert plan.change is ClientChange.REPLACE_CLIENT
    assert plan.keyring.client_ids == (NEXT.client_id,)
    assert plan.orphaned_grants == 10
    assert plan.keyring.owner_of_unrecorded_grants == PROD.client_id


def test_without_active_grants_any_client_may_be_stored() -> None:
    plan = plan_client_change(ClientKeyring(PROD), DEV, {}, add_client=False, replace_client=False)
    assert plan.keyring.current == DEV
    first = plan_client_change(None, DEV, {}, add_client=False, replace_client=False)
    assert first.keyring == ClientKeyring(DEV, (), DEV.client_id)


def test_both_choices_at_once_are_a_mistake() -> None:
    with pytest.raises(ValueError, match="choose one"):
        plan_client_change(ClientKeyring(PROD), DEV, {}, add_client=True, replace_client=True)


def test_reauthorization_required_grants_count_in_the_refusal_and_reported_apart() -> None:
    # Given PROD holds no active grant but 4 reauthorization_required ones (reactivatable)
    with pytest.raises(ClientChangeRefusedError) as refused:
        plan_client_change(
            ClientKeyring(PROD),
            DEV,
            {},
            add_client=False,
            replace_client=False,
            reauthorization_grants_by_client={PROD.client_id: 3, None: 1},
        )
    # Then DEV is refused, and the message names them apart from the active ones
    assert refused.value.grants_by_client == {PROD.client_id: 4}
    message = str(refused.value)
    assert "active grants (none)" in message
    assert "reauthorization_required grants `connections reactivate` still needs (4 with" in message


def test_replace_client_counts_the_reauthorization_required_grants_it_orphans() -> None:
    plan = plan_client_change(
        ClientKeyring(PROD),
        NEXT,
        {PROD.client_id: 2},
        add_client=False,
        replace_client=True,
        reauthorization_grants_by_client={PROD.client_id: 5, NEXT.client_id: 1},
    )
    assert plan.orphaned_grants == 7 and plan.orphaned_reauthorization_grants == 5


def test_unreadable_stored_client_with_grants_refuses_another_client() -> None:
    # Given nothing readable is stored (placeholder or malformed secret) but grants exist
    with pytest.raises(ClientChangeRefusedError) as refused:
        plan_client_change(None, DEV, {None: 3, PROD.client_id: 2}, add_client=False, replace_client=False)
    # Then the unrecorded ones belong to an unknown client, and nothing is stored without a flag
    assert refused.value.grants_by_client == {"unrecorded": 3, PROD.client_id: 2}
    assert "no readable client stored" in str(refused.value)
    with pytest.raises(ClientChangeRefusedError):
        plan_client_change(
            None, DEV, {}, add_client=False, replace_client=False, reauthorization_grants_by_client={None: 1}
        )


def test_unreadable_stored_client_confirmed_leaves_unrecorded_grants_uncovered() -> None:
    counts: dict[str | None, int] = {None: 3, PROD.client_id: 2}
    for add, replace in ((True, False), (False, True)):
        plan = plan_client_change(None, DEV, counts, add_client=add, replace_client=replace)
        assert plan.keyring.client_ids == (DEV.client_id,)
        # The unrecorded grants are never sent to LWA with DEV: they pause instead
        assert plan.keyring.owner_of_unrecorded_grants != DEV.client_id
        assert uncovered_grants(plan.keyring, counts) == {"unrecorded": 3, PROD.client_id: 2}
        assert plan.orphaned_grants == 5


def test_unreadable_stored_client_accepts_the_client_recorded_on_the_grants() -> None:
    plan = plan_client_change(None, PROD, {PROD.client_id: 2}, add_client=False, replace_client=False)
    assert plan.keyring == ClientKeyring(PROD, (), PROD.client_id) and plan.orphaned_grants == 0
