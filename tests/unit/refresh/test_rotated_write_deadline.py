"""The rotated-token write always fits: with a Secrets Manager that takes 10 s per call (and,
slower still, up to the 39 s bound botocore allows one call), for any time left when the message
arrives, either the rotated refresh token is stored or the token call never starts
(logic/refresh.py, MIN_SECONDS_FOR_REFRESH and ``_token_call_fits``). With the former
one-second estimate of the write, the 20 s and 39 s cases lose the rotated token."""

from __future__ import annotations

import contextlib

import pytest
from ads_connect.handlers.deadline import SAFETY_MARGIN_MS
from ads_connect.logic.deadlines import AWS_CALL_SECONDS
from ads_connect.logic.refresh import MIN_SECONDS_FOR_REFRESH, DeadlineTooCloseError
from ads_connect.regions import Region

from tests.fakes.amazon import fake_grant
from tests.unit.refresh.conftest import RefreshWorld

SLOW_SECRETS_MANAGER = (10.0, 20.0, AWS_CALL_SECONDS)  # seconds per call, up to the bound
TOKEN_CALL = 14.0  # the LWA call at its timeouts
ROTATED = "Atzr|fake-rotated-while-secrets-manager-crawls"


class LambdaKilled(BaseException):
    """The invocation reached its timeout: nothing after this point happens."""


class SimulatedInvocation:
    def __init__(self, seconds_left: float) -> None:
        # What the flow sees (the handler's safety margin already taken off) ...
        self.seconds_left = seconds_left
        # ... and when Lambda really stops it.
        self.killed_at = seconds_left + SAFETY_MARGIN_MS / 1000
        self.elapsed = 0.0

    def remaining(self) -> float:
        return max(0.0, self.seconds_left - self.elapsed)

    def spend(self, seconds: float) -> None:
        self.elapsed += seconds
        if self.elapsed > self.killed_at:
            raise LambdaKilled


def _slow_world(world: RefreshWorld, invocation: SimulatedInvocation, secrets_call: float) -> None:
    vault_hook = world.vault._fail_if_scripted

    def slow_secrets_call(method: str) -> None:
        invocation.spend(secrets_call)  # the call completes only if the Lambda lives
        vault_hook(method)

    world.vault._fail_if_scripted = slow_secrets_call  # type: ignore[method-assign]
    answer = world.lwa.refresh

    def slow_token_call(region: Region, **kwargs):  # type: ignore[no-untyped-def]
        invocation.spend(TOKEN_CALL)
        return answer(region, **kwargs)

    world.lwa.refresh = slow_token_call  # type: ignore[method-assign]
    world.lwa.refresh_script.append(fake_grant(refresh_token=ROTATED))
    world.remaining = invocation.remaining


@pytest.mark.parametrize("secrets_call", SLOW_SECRETS_MANAGER)
@pytest.mark.parametrize("seconds_left", [float(s) for s in range(0, 121)])
def test_with_a_slow_secrets_manager_the_rotated_token_is_stored_or_amazon_is_never_asked(
    world: RefreshWorld, seconds_left: float, secrets_call: float
) -> None:
    # Given a due connection, Amazon rotating its refresh token, and a crawling Secrets Manager
    world.connect()
    invocation = SimulatedInvocation(seconds_left)
    _slow_world(world, invocation, secrets_call)
    # When a worker with this much time left takes the message
    with contextlib.suppress(DeadlineTooCloseError, LambdaKilled):
        world.refresh()
    # Then either Amazon was never asked, or the token it rotated is stored
    stored = world.vault.refresh_tokens[("acme", Region.NA)]
    asked = len(world.lwa.refreshes) == 1
    assert not asked or stored.refresh_token == ROTATED, f"rotated token lost with {seconds_left} s left"


def test_the_refresh_budget_holds_a_whole_write_at_the_aws_bound() -> None:
    assert MIN_SECONDS_FOR_REFRESH >= TOKEN_CALL + AWS_CALL_SECONDS
    assert max(SLOW_SECRETS_MANAGER) <= AWS_CALL_SECONDS
