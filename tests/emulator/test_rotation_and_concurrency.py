"""Refresh-token rotation modes, grant state, and the one lock under concurrent load."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from emulator.core import token_id
from tests.emulator.helpers import api, refresh
from tests.fixtures.amazon import RunningEmulator


def _refresh_token(em: RunningEmulator, region: str = "NA") -> str:
    return str(em.grant(region, "u1")["refresh_token"])


def test_grant_state_names_the_current_refresh_token_and_counts_calls(em: RunningEmulator) -> None:
    em.emu.rotation = "rotate_strict"
    first = _refresh_token(em)
    state = em.emu.grant_state("u1", "NA")
    assert state is not None
    assert state["generation"] == 1 and state["refresh_token_id"] == token_id(first)
    second = refresh(em, "NA", first).json()["refresh_token"]
    refresh(em, "NA", first)  # rejected: rotated away
    state = em.emu.grant_state("u1", "NA")
    assert state is not None
    assert state["generation"] == 2 and state["refresh_token_id"] == token_id(second)
    assert (state["token_calls"], state["refresh_calls"], state["rejected_refresh_calls"]) == (2, 1, 1)
    assert first not in repr(state) and second not in repr(state)
    assert em.emu.grant_state("u1", "EU") is None


def test_rotate_grace_old_token_dies_after_the_grace_period_new_one_lives(em: RunningEmulator) -> None:
    em.emu.rotation, em.emu.grace_seconds = "rotate_grace", 120
    old = _refresh_token(em)
    new = refresh(em, "NA", old).json()["refresh_token"]
    em.emu.advance(115)
    assert refresh(em, "NA", old).status_code == 200  # still inside the grace period
    em.emu.advance(6)
    assert refresh(em, "NA", old).json()["error"] == "invalid_grant"
    assert refresh(em, "NA", new).status_code == 200


def test_rotate_strict_is_immediate_even_on_a_frozen_clock(em: RunningEmulator) -> None:
    em.emu.clock = lambda: 1_900_000_000.0  # time does not move
    em.emu.rotation = "rotate_strict"
    old = _refresh_token(em)
    assert refresh(em, "NA", old).status_code == 200
    assert refresh(em, "NA", old).json()["error"] == "invalid_grant"


def test_every_rotating_mode_returns_a_new_refresh_token_every_time(em: RunningEmulator) -> None:
    for mode in ("rotate_grace", "rotate_strict", "rotate_reuse_detection"):
        em.emu.rotation = mode
        current = _refresh_token(em)
        seen = {current}
        for _ in range(3):
            current = refresh(em, "NA", current).json()["refresh_token"]
            seen.add(current)
        assert len(seen) == 4, mode


def test_reuse_detection_kills_access_tokens_too(em: RunningEmulator) -> None:
    em.emu.rotation = "rotate_reuse_detection"
    old = _refresh_token(em)
    fresh = refresh(em, "NA", old).json()
    assert refresh(em, "NA", old).status_code == 400  # the replay
    assert api(em, "NA", "/v2/profiles", fresh["access_token"]).status_code == 401
    state = em.emu.grant_state("u1", "NA")
    assert state is not None and state["revoked_reason"] == "refresh_token_reused"


def test_a_new_consent_after_revocation_is_a_new_live_grant(em: RunningEmulator) -> None:
    old = _refresh_token(em)
    em.emu.revoke("u1")
    assert refresh(em, "NA", old).status_code == 400
    new = _refresh_token(em)
    assert refresh(em, "NA", new).status_code == 200
    state = em.emu.grant_state("u1", "NA")
    assert state is not None and state["grants"] == 2 and not state["revoked"]


@pytest.mark.parametrize("amazon_emulator", [{"rotation": "rotate_strict"}], indirect=True)
def test_concurrent_refreshes_of_one_token_have_exactly_one_winner(em: RunningEmulator) -> None:
    # Given a strict-rotation grant, when 16 workers refresh the same token at once
    token = _refresh_token(em)
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _: refresh(em, "NA", token).status_code, range(16)))
    # Then the lock lets exactly one through; the others see a rotated-away token
    assert sorted(statuses) == [200] + [400] * 15
    state = em.emu.grant_state("u1", "NA")
    assert state is not None and state["generation"] == 2 and state["rejected_refresh_calls"] == 15


def test_hammering_many_grants_keeps_every_count_exact(em: RunningEmulator) -> None:
    users = [f"w{i}" for i in range(8)]
    for user in users:
        em.emu.add_user(user, profiles={"NA": em.emu.users["u1"].profiles["NA"]})
    tokens = {user: str(em.grant("NA", user)["refresh_token"]) for user in users}
    before = em.emu.token_calls("NA", "refresh_token")

    def work(user: str) -> list[int]:
        return [refresh(em, "NA", tokens[user]).status_code for _ in range(10)]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, users))
    assert all(status == 200 for statuses in results for status in statuses)
    assert em.emu.token_calls("NA", "refresh_token") - before == 80
    for user in users:
        state = em.emu.grant_state(user, "NA")
        assert state is not None and state["refresh_calls"] == 10
