"""Flow 5-6 rules of ``logic.refresh.refresh_connection`` on in-memory ports."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from ads_connect.logic.deadlines import AMAZON_CALL_SECONDS, AWS_CALL_SECONDS
from ads_connect.logic.ports import (
    CLIENT_CREDENTIALS_PAUSE,
    PROBE_TRIGGER,
    AmazonRequestRejectedError,
    InvalidClientError,
    InvalidGrantError,
    Lease,
    OperatorPause,
    StoredRefreshToken,
    TransientAmazonError,
    UnauthorizedClientError,
)
from ads_connect.logic.refresh import (
    DEADLINE_MARGIN_SECONDS,
    ESCALATE_AFTER_EXPIRED,
    ESCALATE_AFTER_FAILURES,
    LEASE_AND_READ_SECONDS,
    LEASE_SECONDS,
    MIN_SECONDS_FOR_REFRESH,
    ROTATED_WRITE_SECONDS,
    SECRET_WRITE_ATTEMPTS,
    ClientCredentialsPauseCache,
    DeadlineTooCloseError,
    RotatedTokenNotPersistedError,
)
from ads_connect.models.records import ConnectionStatus, RefreshAttempt, RefreshOutcome
from ads_connect.regions import Region
from botocore.exceptions import ClientError

from tests.fakes.amazon import FAKE_ACCESS_TOKEN, fake_grant
from tests.unit.refresh.conftest import STORED_TOKEN, RefreshWorld

ROTATED = "Atzr|fake-rotated-refresh-token"


def _storm(count: int, status: int = 503, retry_after: float | None = None) -> list[Exception]:
    return [
        TransientAmazonError(
            "token endpoint unavailable", error_code="server_error", status=status, retry_after=retry_after
        )
        for _ in range(count)
    ]


def _time_runs_out(seconds_left: float) -> Callable[[], float]:
    """Just enough time when the refresh starts and before its first token call, then only
    ``seconds_left`` (a slow first call)."""
    readings = iter([MIN_SECONDS_FOR_REFRESH, MIN_SECONDS_FOR_REFRESH])
    return lambda: next(readings, seconds_left)


def _pause(world: RefreshWorld) -> None:
    world.store.set_operator_pause(
        OperatorPause(CLIENT_CREDENTIALS_PAUSE, world.clock.now(), "invalid_client")
    )


def test_a_due_connection_is_refreshed_with_one_secret_write_and_recorded(world: RefreshWorld) -> None:
    # Given a connection due now whose refresh token does not rotate
    world.connect(consecutive_failures=2, last_refresh_error_code="server_error")
    # When the worker refreshes it
    attempt = world.refresh()
    # Then the access token is published with Amazon's expiry, in exactly one secret write
    assert attempt.outcome is RefreshOutcome.SUCCEEDED and not attempt.rotated
    assert world.vault.secret_writes == 1
    published = world.vault.access_tokens[("acme", Region.NA)]
    now = world.clock.now()
    assert published.access_token == FAKE_ACCESS_TOKEN
    assert published.expires_at == now + timedelta(hours=1)
    assert published.client_id == "amzn1.application-oa2-client.fake"
    # And the connection moves on: next due = expiry - lead, failures reset, lease released
    connection = world.connection()
    assert connection.refresh_due_at == now + timedelta(seconds=3600 - 900)
    assert connection.access_token_expires_at == now + timedelta(hours=1)
    assert connection.consecutive_failures == 0 and connection.last_refresh_error_code is None
    assert connection.last_refresh_success_at == now
    assert world.store.leases == {}
    assert world.store.attempts == [attempt]
    # And the token call used the stored refresh token at the connection's own region
    assert world.lwa.refreshes == [(Region.NA, STORED_TOKEN)]


def test_a_rotated_refresh_token_is_written_before_the_access_token_is_published(world: RefreshWorld) -> None:
    world.connect(region=Region.FE)
    world.lwa.default = fake_grant(refresh_token=ROTATED)
    order: list[str] = []
    write, publish = world.vault.write_refresh_token, world.vault.publish_access_token
    world.vault.write_refresh_token = lambda *a, **k: (order.append("refresh"), write(*a, **k))[1]  # type: ignore[method-assign]
    world.vault.publish_access_token = lambda *a, **k: (order.append("access"), publish(*a, **k))[1]  # type: ignore[method-assign]

    attempt = world.refresh("acme", Region.FE)

    assert attempt.outcome is RefreshOutcome.SUCCEEDED and attempt.rotated
    assert order == ["refresh", "access"]
    stored = world.vault.refresh_tokens[("acme", Region.FE)]
    assert stored.refresh_token == ROTATED and stored.grant_version == 2
    assert world.connection("acme", Region.FE).grant_version == 2
    assert world.vault.access_tokens[("acme", Region.FE)].grant_version == 2


def test_the_same_refresh_token_echoed_back_is_not_a_rotation(world: RefreshWorld) -> None:
    world.connect()
    world.lwa.default = fake_grant(refresh_token=STORED_TOKEN)
    attempt = world.refresh()
    assert attempt.outcome is RefreshOutcome.SUCCEEDED and not attempt.rotated
    assert world.vault.calls["write_refresh_token"] == 0
    assert world.connection().grant_version == 1


def test_a_failing_first_write_of_the_rotated_token_is_retried(world: RefreshWorld) -> None:
    world.connect()
    world.lwa.default = fake_grant(refresh_token=ROTATED)
    world.vault.failures["write_refresh_token"] = [RuntimeError("throttled"), RuntimeError("throttled")]
    attempt = world.refresh()
    assert attempt.outcome is RefreshOutcome.SUCCEEDED
    assert world.vault.refresh_tokens[("acme", Region.NA)].refresh_token == ROTATED
    assert world.vault.calls["write_refresh_token"] == 3
    assert len(world.sleeps) == 2


def test_an_unstorable_rotated_token_is_never_published_and_the_lease_is_kept(world: RefreshWorld) -> None:
    # Given Amazon rotates and every write of the new refresh token fails
    world.connect()
    before = world.connection()
    world.lwa.default = fake_grant(refresh_token=ROTATED)
    world.vault.failures["write_refresh_token"] = [RuntimeError("outage")] * 20
    # When the worker refreshes, Then it fails loudly
    with pytest.raises(RotatedTokenNotPersistedError) as raised:
        world.refresh()
    assert ROTATED not in str(raised.value)
    # And nothing was published; the lease stays (no one else uses the old token while it is
    # held) and the connection keeps its grant version and stays due (SQS retries)
    assert world.vault.calls["publish_access_token"] == 0
    assert ("acme", Region.NA) in world.store.leases
    connection = world.connection()
    assert connection.grant_version == before.grant_version == 1
    assert connection.refresh_due_at == before.refresh_due_at
    # But the attempt is logged and counted against the connection
    [attempt] = world.store.attempts
    assert attempt.outcome is RefreshOutcome.TRANSIENT_FAILURE
    assert attempt.error_code == "rotated_token_not_persisted"
    assert connection.consecutive_failures == 1
    assert connection.last_refresh_error_code == "rotated_token_not_persisted"
    # And while the lease runs, a duplicate does not spend the old token
    assert world.refresh().outcome is RefreshOutcome.SKIPPED_LEASE_HELD
    assert len(world.lwa.refreshes) == 1


def test_a_connection_no_longer_due_is_skipped_without_a_token_call(world: RefreshWorld) -> None:
    # SQS redelivery after another worker already refreshed it
    world.connect(due_in=timedelta(minutes=40))
    attempt = world.refresh()
    assert attempt.outcome is RefreshOutcome.SKIPPED_NOT_DUE and attempt.error_code is None
    assert world.lwa.refreshes == [] and world.store.leases == {}
    # And the duplicate cost one refused lease write: no lease taken, so none to release
    assert world.store.calls["acquire_lease_and_read"] == 1 and world.store.calls["release_lease"] == 0


def test_a_duplicate_for_a_connection_being_refreshed_is_not_due_only_once_it_moved_on(
    world: RefreshWorld,
) -> None:
    # Given a due connection whose lease another worker holds
    world.connect()
    world.store.leases[("acme", Region.NA)] = Lease(
        "acme", Region.NA, "other-worker", world.clock.now() + timedelta(seconds=LEASE_SECONDS)
    )
    # Then a duplicate sees the lease while the connection is still due ...
    assert world.refresh().outcome is RefreshOutcome.SKIPPED_LEASE_HELD
    # ... and "not due" once the other worker moved it on, even before its lease is gone
    world.store.connections[("acme", Region.NA)] = world.connection().replace(
        refresh_due_at=world.clock.now() + timedelta(minutes=45)
    )
    assert world.refresh().outcome is RefreshOutcome.SKIPPED_NOT_DUE
    assert world.lwa.refreshes == [] and world.store.leases[("acme", Region.NA)].owner == "other-worker"


@pytest.mark.parametrize("status", [ConnectionStatus.REAUTHORIZATION_REQUIRED, ConnectionStatus.DISCONNECTED])
def test_a_queued_refresh_of_an_inactive_connection_takes_no_lease(
    world: RefreshWorld, status: ConnectionStatus
) -> None:
    world.connect(status=status)
    attempt = world.refresh()
    assert attempt.outcome is RefreshOutcome.SKIPPED_NOT_DUE and attempt.error_code == "not_active"
    assert world.store.leases == {} and world.store.calls["release_lease"] == 0


def test_a_connection_due_exactly_now_is_refreshed_and_one_second_later_is_not(world: RefreshWorld) -> None:
    world.connect("acme", due_in=timedelta(0))
    world.connect("globex", due_in=timedelta(seconds=1))
    assert world.refresh("acme").outcome is RefreshOutcome.SUCCEEDED
    assert world.refresh("globex").outcome is RefreshOutcome.SKIPPED_NOT_DUE


def test_force_refreshes_a_connection_that_is_not_due(world: RefreshWorld) -> None:
    world.connect(due_in=timedelta(minutes=40))
    assert world.refresh(force=True, trigger="admin").outcome is RefreshOutcome.SUCCEEDED
    assert world.store.attempts[0].trigger == "admin"


@pytest.mark.parametrize("status", [ConnectionStatus.REAUTHORIZATION_REQUIRED, ConnectionStatus.DISCONNECTED])
def test_an_inactive_connection_is_never_refreshed(world: RefreshWorld, status: ConnectionStatus) -> None:
    world.connect(status=status)
    assert world.refresh(force=True).outcome is RefreshOutcome.SKIPPED_NOT_DUE
    assert world.lwa.refreshes == [] and world.store.leases == {}


def test_an_unknown_connection_is_skipped(world: RefreshWorld) -> None:
    assert world.refresh("nobody").outcome is RefreshOutcome.SKIPPED_NOT_DUE
    assert world.lwa.refreshes == []


def test_a_held_lease_means_no_token_call(world: RefreshWorld) -> None:
    world.connect()
    world.store.leases[("acme", Region.NA)] = Lease(
        "acme", Region.NA, "other-worker", world.clock.now() + timedelta(seconds=LEASE_SECONDS)
    )
    assert world.refresh(force=True).outcome is RefreshOutcome.SKIPPED_LEASE_HELD
    assert world.lwa.refreshes == []
    assert world.store.leases[("acme", Region.NA)].owner == "other-worker"


def test_an_expired_lease_of_a_dead_worker_is_taken_over(world: RefreshWorld) -> None:
    world.connect()
    world.store.leases[("acme", Region.NA)] = Lease(
        "acme", Region.NA, "crashed-worker", world.clock.now() - timedelta(seconds=1)
    )
    assert world.refresh().outcome is RefreshOutcome.SUCCEEDED


def test_invalid_grant_with_the_token_unchanged_needs_reauthorization(world: RefreshWorld) -> None:
    world.connect()
    world.lwa.refresh_script = [
        InvalidGrantError("refresh token rejected", error_code="invalid_grant", status=400)
    ]
    attempt = world.refresh()
    assert (
        attempt.outcome is RefreshOutcome.REAUTHORIZATION_REQUIRED and attempt.error_code == "invalid_grant"
    )
    connection = world.connection()
    assert connection.status is ConnectionStatus.REAUTHORIZATION_REQUIRED
    assert connection.reauthorization_required_at == world.clock.now()
    assert connection.consecutive_failures == 1
    # It leaves the due set (no retries) and one event names the tenant without any secret
    assert world.store.due_connections(now=world.clock.now() + timedelta(days=1)) == []
    assert world.events.types() == ["Connection Reauthorization Required"]
    detail = world.events.published[0][1]
    assert detail == {"tenant_id": "acme", "region": "NA", "error_code": "invalid_grant"}
    assert len(world.lwa.refreshes) == 1


def test_invalid_grant_after_the_token_was_replaced_is_a_race_not_a_revocation(world: RefreshWorld) -> None:
    world.connect()
    old = world.vault.refresh_tokens[("acme", Region.NA)]
    reads = iter([old, StoredRefreshToken("Atzr|fake-reconsented", 2, world.clock.now())])
    world.vault.read_refresh_token = lambda *_a: next(reads)  # type: ignore[method-assign]
    world.lwa.refresh_script = [
        InvalidGrantError("refresh token rejected", error_code="invalid_grant", status=400)
    ]
    attempt = world.refresh()
    assert attempt.outcome is RefreshOutcome.TRANSIENT_FAILURE
    assert attempt.error_code == "refresh_token_replaced"
    assert world.connection().status is ConnectionStatus.ACTIVE
    assert world.events.published == []


def test_a_missing_refresh_token_needs_reauthorization(world: RefreshWorld) -> None:
    world.connect(token=None)
    attempt = world.refresh()
    assert attempt.outcome is RefreshOutcome.REAUTHORIZATION_REQUIRED
    assert attempt.error_code == "refresh_token_missing" and world.lwa.refreshes == []


@pytest.mark.parametrize(
    ("error_type", "error_code", "status"),
    [(InvalidClientError, "invalid_client", 401), (UnauthorizedClientError, "unauthorized_client", 400)],
)
def test_invalid_client_marks_no_tenant_pauses_once_and_releases_the_lease(
    world: RefreshWorld, error_type: type[InvalidClientError], error_code: str, status: int
) -> None:
    # Given two due connections and an operator client Amazon rejects (or does not allow this grant)
    world.connect("acme")
    world.connect("globex")
    world.lwa.refresh_script = [
        error_type("client rejected", error_code=error_code, status=status) for _ in range(2)
    ]

    # When two workers refresh them at once (both checked the pause before either set it)
    def not_paused_yet() -> bool:
        return False

    first = world.refresh("acme", refreshes_paused=not_paused_yet)
    second = world.refresh("globex", refreshes_paused=not_paused_yet)
    # Then neither tenant is marked or charged a failure; both attempts are logged
    for attempt, tenant in ((first, "acme"), (second, "globex")):
        assert attempt.outcome is RefreshOutcome.CLIENT_CREDENTIALS_INVALID
        connection = world.connection(tenant)
        assert connection.status is ConnectionStatus.ACTIVE and connection.consecutive_failures == 0
    assert len(world.store.attempts) == 2 and world.store.leases == {}
    # And one operator pause (the first one's) and one event, and the cached credentials are dropped
    pause = world.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE)
    assert pause is not None and pause.paused_at == world.clock.now()
    assert world.events.types() == ["Client Credentials Invalid"]
    assert world.vault.forgotten == 2
    # And they stay due, so they are refreshed once the secret is fixed
    assert len(world.store.due_connections(now=world.clock.now())) == 2


def test_the_pause_is_announced_even_when_recording_the_attempt_fails(world: RefreshWorld) -> None:
    # Given Amazon rejects the client and the attempt's record then fails on AWS
    world.connect()
    world.lwa.refresh_script = [InvalidClientError("x", error_code="invalid_client", status=401)]
    world.store.failures["record_refresh"] = [_aws_error("InternalServerError", "TransactWriteItems")]
    # When the worker refreshes, the AWS failure propagates (SQS retries the message)
    with pytest.raises(ClientError):
        world.refresh()
    # Then the operator was still told once: the retry would find the pause already created
    assert world.events.types() == ["Client Credentials Invalid"]
    assert world.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is not None


def test_missing_client_credentials_pause_refreshes_without_a_token_call(world: RefreshWorld) -> None:
    world.connect()
    world.vault.credentials = None
    attempt = world.refresh()
    assert attempt.outcome is RefreshOutcome.CLIENT_CREDENTIALS_INVALID
    assert attempt.error_code == "client_credentials_missing" and world.lwa.refreshes == []
    assert world.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is not None


def test_a_successful_refresh_lifts_the_operator_pause(world: RefreshWorld) -> None:
    # Given refreshes are paused for invalid client credentials, and the operator fixed them
    world.connect()
    _pause(world)
    # When the scheduler's probe refreshes successfully
    assert world.refresh(trigger=PROBE_TRIGGER).outcome is RefreshOutcome.SUCCEEDED
    # Then the pause is gone (the next schedule run enqueues the whole due set)
    assert world.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is None


def test_a_short_5xx_storm_is_ridden_out_with_jittered_backoff(world: RefreshWorld) -> None:
    world.connect()
    world.lwa.refresh_script = _storm(3)
    attempt = world.refresh()
    assert attempt.outcome is RefreshOutcome.SUCCEEDED
    assert len(world.lwa.refreshes) == 4
    assert len(world.sleeps) == 3
    # full jitter: each wait is within [0, 0.5 * 2^(n-1)]
    for n, slept in enumerate(world.sleeps, start=1):
        assert 0 <= slept <= 0.5 * 2 ** (n - 1)


def test_retry_after_on_429_is_honoured(world: RefreshWorld) -> None:
    world.connect()
    world.lwa.refresh_script = _storm(2, status=429, retry_after=7)
    assert world.refresh().outcome is RefreshOutcome.SUCCEEDED
    assert world.sleeps == [7.0, 7.0]


def test_a_long_storm_is_recorded_and_the_connection_stays_due(world: RefreshWorld) -> None:
    world.connect(consecutive_failures=1)
    world.lwa.refresh_script = _storm(10)
    attempt = world.refresh()
    assert attempt.outcome is RefreshOutcome.TRANSIENT_FAILURE and attempt.error_code == "server_error"
    connection = world.connection()
    assert connection.consecutive_failures == 2
    assert connection.last_refresh_failure_at == world.clock.now()
    assert connection.status is ConnectionStatus.ACTIVE
    assert ("acme", Region.NA) in world.store.due_connections(now=world.clock.now())
    assert world.vault.secret_writes == 0 and world.store.leases == {}


@pytest.mark.parametrize(
    ("error_code", "status"),
    [("invalid_request", 400), ("invalid_scope", 400), ("unsupported_grant_type", 400), ("http_404", 404)],
)
def test_a_non_grant_4xx_is_a_counted_failure_that_never_revokes_the_tenant(
    world: RefreshWorld, emitted_metrics: list[str], error_code: str, status: int
) -> None:
    # Given Amazon refuses the refresh request with something other than invalid_grant
    world.connect(consecutive_failures=1)
    world.lwa.refresh_script = [AmazonRequestRejectedError("rejected", error_code=error_code, status=status)]
    # When the worker refreshes
    attempt = world.refresh()
    # Then it is a transient failure, counted and recorded, not retried within the run
    assert attempt.outcome is RefreshOutcome.TRANSIENT_FAILURE and attempt.error_code == error_code
    assert len(world.lwa.refreshes) == 1 and world.sleeps == []
    connection = world.connection()
    assert connection.consecutive_failures == 2 and connection.last_refresh_error_code == error_code
    # And the tenant keeps its grant and stays due (the next run retries), no event fires
    assert connection.status is ConnectionStatus.ACTIVE
    assert ("acme", Region.NA) in world.store.due_connections(now=world.clock.now())
    assert world.events.published == []
    assert emitted_metrics == ["RefreshFailed"]


def test_failures_escalate_from_the_sixth_in_a_row(world: RefreshWorld, emitted_metrics: list[str]) -> None:
    # Given a connection that has failed four times in a row, and Amazon still refusing it
    world.connect(consecutive_failures=ESCALATE_AFTER_FAILURES - 2)
    world.lwa.refresh_script = [
        AmazonRequestRejectedError("rejected", error_code="invalid_request", status=400) for _ in range(3)
    ]
    # When the fifth failure comes, Then it is only counted
    world.refresh()
    assert emitted_metrics == ["RefreshFailed"]
    # And from the sixth on, every further failure is escalated
    world.refresh()
    world.refresh()
    assert emitted_metrics == ["RefreshFailed"] + ["RefreshFailed", "RefreshFailingPersistently"] * 2
    assert world.connection().consecutive_failures == ESCALATE_AFTER_FAILURES + 1
    assert world.connection().status is ConnectionStatus.ACTIVE


def test_a_failure_while_the_token_has_long_expired_escalates_at_once(
    world: RefreshWorld, emitted_metrics: list[str]
) -> None:
    # Given a connection whose consumers' token expired 30 minutes ago (first counted failure)
    lead = timedelta(seconds=world.settings.refresh_lead_seconds)
    world.connect(due_in=-(lead + ESCALATE_AFTER_EXPIRED))
    world.lwa.refresh_script = _storm(10)
    # When its refresh fails again, Then it is escalated although the count is low
    world.refresh()
    assert world.connection().consecutive_failures == 1
    assert emitted_metrics == ["RefreshFailed", "RefreshFailingPersistently"]


def test_a_failure_shortly_after_expiry_is_not_yet_escalated(
    world: RefreshWorld, emitted_metrics: list[str]
) -> None:
    lead = timedelta(seconds=world.settings.refresh_lead_seconds)
    world.connect(due_in=-(lead + ESCALATE_AFTER_EXPIRED) + timedelta(seconds=1))
    world.lwa.refresh_script = _storm(10)
    world.refresh()
    assert emitted_metrics == ["RefreshFailed"]


def test_retries_stop_when_the_lambda_is_about_to_time_out(world: RefreshWorld) -> None:
    # Given only 6 seconds left in the invocation after the first token call
    world.remaining = _time_runs_out(6.0)
    world.connect()
    world.lwa.refresh_script = _storm(3, status=429, retry_after=5)
    # Then no retry would fit: the attempt is recorded as a transient failure after one call
    assert world.refresh().outcome is RefreshOutcome.TRANSIENT_FAILURE
    assert len(world.lwa.refreshes) == 1 and world.sleeps == []


@pytest.mark.parametrize(
    ("seconds_left", "retried"),
    [
        # After the 5 s Retry-After wait, one whole token call (14 s), a whole rotated-token write
        # (39 s, should Amazon rotate) and the 5 s margin must fit.
        (5 + AMAZON_CALL_SECONDS + ROTATED_WRITE_SECONDS + DEADLINE_MARGIN_SECONDS, True),
        (5 + AMAZON_CALL_SECONDS + ROTATED_WRITE_SECONDS + DEADLINE_MARGIN_SECONDS - 0.1, False),
    ],
    ids=["a-whole-call-fits", "the-call-would-be-cut-off"],
)
def test_a_token_retry_starts_only_when_a_whole_call_still_fits(
    world: RefreshWorld, seconds_left: float, retried: bool
) -> None:
    # Given a 429 asking for 5 s, and this much of the invocation left after the first call
    world.remaining = _time_runs_out(seconds_left)
    world.connect()
    world.lwa.refresh_script = _storm(1, status=429, retry_after=5)
    # When the worker refreshes
    attempt = world.refresh()
    # Then it retries only if the retry could run to its timeout and still leave the margin
    assert len(world.lwa.refreshes) == (2 if retried else 1)
    assert world.sleeps == ([5.0] if retried else [])
    assert attempt.outcome is (RefreshOutcome.SUCCEEDED if retried else RefreshOutcome.TRANSIENT_FAILURE)


def test_a_slow_lease_write_defers_the_refresh_before_the_token_call(world: RefreshWorld) -> None:
    # Given enough time to start, but the lease write and the token read took 1.1 s too long
    world.connect()
    before = world.connection()
    readings = iter([MIN_SECONDS_FOR_REFRESH, MIN_SECONDS_FOR_REFRESH - LEASE_AND_READ_SECONDS - 0.1])
    world.remaining = lambda: next(readings)
    # When the refresh reaches the token call, Then it defers instead of risking the deadline
    with pytest.raises(DeadlineTooCloseError):
        world.refresh()
    # And Amazon was not called, the lease is free again and nothing was recorded
    assert world.lwa.refreshes == [] and world.store.leases == {}
    assert world.store.attempts == [] and world.connection() == before


def _aws_error(code: str, operation: str = "PutSecretValue") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "Atzr|never-in-a-code"}}, operation)


def test_an_aws_failure_after_the_token_call_is_recorded_releases_the_lease_and_propagates(
    world: RefreshWorld, emitted_metrics: list[str]
) -> None:
    # Given publishing the access token fails (Secrets Manager throttling) after Amazon answered
    world.connect()
    failure = _aws_error("ThrottlingException")
    world.vault.failures["publish_access_token"] = [failure]
    # When the worker refreshes, Then the same failure reaches SQS (the message is retried)
    with pytest.raises(ClientError) as raised:
        world.refresh()
    assert raised.value is failure
    # And the attempt is logged with the AWS error code and counted; the record freed the lease
    [attempt] = world.store.attempts
    assert attempt.outcome is RefreshOutcome.TRANSIENT_FAILURE
    assert attempt.error_code == "aws_ThrottlingException"
    assert world.connection().consecutive_failures == 1
    assert world.store.leases == {} and world.store.calls["release_lease"] == 0
    assert emitted_metrics == ["RefreshFailed"]
    # And the connection is still due, and the retry succeeds (the token did not rotate)
    assert ("acme", Region.NA) in world.store.due_connections(now=world.clock.now())
    assert world.refresh().outcome is RefreshOutcome.SUCCEEDED
    assert world.connection().consecutive_failures == 0


def test_a_failed_outcome_record_is_followed_by_a_best_effort_one(world: RefreshWorld) -> None:
    # Given the success transaction fails (a DynamoDB error, not a lost condition)
    world.connect()
    world.store.failures["record_refresh"] = [_aws_error("InternalServerError", "TransactWriteItems")]
    with pytest.raises(ClientError):
        world.refresh()
    # Then a failure is recorded instead (the connection stays due, so the next run refreshes)
    [attempt] = world.store.attempts
    assert attempt.error_code == "aws_InternalServerError"
    assert world.store.calls["record_refresh"] == 2 and world.store.leases == {}


def test_a_rotated_token_stored_before_a_failed_publish_is_counted_from(world: RefreshWorld) -> None:
    # Given Amazon rotates, the new token is stored, and then the publish fails
    world.connect()
    world.lwa.default = fake_grant(refresh_token=ROTATED)
    world.vault.failures["publish_access_token"] = [_aws_error("ServiceUnavailable")]
    with pytest.raises(ClientError):
        world.refresh()
    # Then the recorded connection carries the stored token's version, not the one it was read at
    assert world.vault.refresh_tokens[("acme", Region.NA)].grant_version == 2
    assert world.connection().grant_version == 2
    # And the retry refreshes with the stored token and counts on from there
    world.lwa.default = fake_grant(refresh_token="Atzr|fake-rotated-again")
    assert world.refresh().outcome is RefreshOutcome.SUCCEEDED
    assert world.vault.refresh_tokens[("acme", Region.NA)].grant_version == 3
    assert world.lwa.refreshes[-1] == (Region.NA, ROTATED)


def test_when_the_best_effort_record_fails_too_it_is_logged_and_the_original_error_wins(
    world: RefreshWorld, caplog: pytest.LogCaptureFixture
) -> None:
    # Given DynamoDB refuses every write after Amazon answered and the publish failed
    world.connect()
    failure = _aws_error("ServiceUnavailable")
    world.vault.failures["publish_access_token"] = [failure]
    world.store.failures["record_refresh"] = [_aws_error("ProvisionedThroughputExceededException")]
    # When the worker refreshes, Then the original error propagates, not the record's
    with caplog.at_level(logging.ERROR), pytest.raises(ClientError) as raised:
        world.refresh()
    assert raised.value is failure
    # And the record's failure is logged (no token in it), and the lease is released instead
    [logged] = [r for r in caplog.records if "could not be recorded" in r.getMessage()]
    assert logged.__dict__["record_error_type"] == "ClientError"
    assert logged.__dict__["error_code"] == "aws_ServiceUnavailable"
    assert "Atzr|" not in caplog.text
    assert world.store.attempts == [] and world.store.leases == {}
    assert world.store.calls["release_lease"] == 1


def test_a_failure_before_amazon_was_asked_records_nothing(world: RefreshWorld) -> None:
    world.connect()
    world.vault.failures["read_refresh_token"] = [_aws_error("ThrottlingException", "GetSecretValue")]
    with pytest.raises(ClientError):
        world.refresh()
    assert world.store.attempts == [] and world.store.leases == {}
    assert world.connection().consecutive_failures == 0 and world.lwa.refreshes == []


def test_a_non_aws_failure_is_named_as_internal(world: RefreshWorld) -> None:
    world.connect()
    world.vault.failures["publish_access_token"] = [KeyError("api_base")]
    with pytest.raises(KeyError):
        world.refresh()
    assert [a.error_code for a in world.store.attempts] == ["internal_KeyError"]


def test_a_lost_lease_does_not_overwrite_the_newer_record(world: RefreshWorld) -> None:
    # Given our lease expires and another owner takes it while we talk to Amazon
    world.connect()

    def steal_lease(*_a: object, **_k: object) -> object:
        world.store.leases[("acme", Region.NA)] = Lease("acme", Region.NA, "other", world.clock.now())
        return fake_grant(refresh_token=None)

    world.lwa.refresh = steal_lease  # type: ignore[method-assign]
    attempt = world.refresh()
    # Then the tokens are published but our record is refused (the newer writer's state wins)
    assert attempt.outcome is RefreshOutcome.SUCCEEDED
    assert world.store.attempts == [] and world.store.leases[("acme", Region.NA)].owner == "other"


def test_rotated_token_writes_are_retried_up_to_six_times(world: RefreshWorld) -> None:
    world.connect()
    world.lwa.default = fake_grant(refresh_token=ROTATED)
    world.vault.failures["write_refresh_token"] = [RuntimeError("throttled")] * 5
    assert world.refresh().outcome is RefreshOutcome.SUCCEEDED
    assert world.vault.calls["write_refresh_token"] == 6


@pytest.mark.parametrize(
    ("seconds_left", "writes"),
    [
        # Plenty of time: all six tries (backoff 0.5, 1, 2, 4, 8 s between them).
        (8 + AWS_CALL_SECONDS + DEADLINE_MARGIN_SECONDS, SECRET_WRITE_ATTEMPTS),
        # Too little for a whole slow AWS call, yet still tried again (the first backoff is at
        # most 0.5 s; later ones are jittered, so only "at least twice" is certain): the token
        # exists only in this process, so a cut-off write loses nothing that giving up would not.
        (DEADLINE_MARGIN_SECONDS + 0.5 + 0.1, 2),
    ],
    ids=["time-for-every-try", "tried-again-while-any-room-is-left"],
)
def test_a_rotated_token_write_is_retried_while_the_failure_can_still_be_recorded(
    world: RefreshWorld, seconds_left: float, writes: int
) -> None:
    # Given Amazon rotates, every write fails, and this much time is left after the token call
    world.connect()
    world.lwa.default = fake_grant(refresh_token=ROTATED)
    world.remaining = _time_runs_out(seconds_left)
    world.vault.failures["write_refresh_token"] = [RuntimeError("throttled")] * 10
    # When the worker refreshes, Then it retries while the margin to record the failure remains
    with pytest.raises(RotatedTokenNotPersistedError):
        world.refresh()
    assert writes <= world.vault.calls["write_refresh_token"] <= SECRET_WRITE_ATTEMPTS
    assert len(world.sleeps) == world.vault.calls["write_refresh_token"] - 1
    assert all(seconds_left - delay >= DEADLINE_MARGIN_SECONDS for delay in world.sleeps)


def test_rotated_token_write_retries_stop_at_the_lambda_deadline(world: RefreshWorld) -> None:
    # Given almost no time left in the invocation: no wait fits, so one write attempt only
    world.connect()
    world.lwa.default = fake_grant(refresh_token=ROTATED)
    world.remaining = _time_runs_out(4.0)
    world.vault.failures["write_refresh_token"] = [RuntimeError("throttled")] * 10
    with pytest.raises(RotatedTokenNotPersistedError):
        world.refresh()
    assert world.vault.calls["write_refresh_token"] == 1 and world.sleeps == []


# --- a deadline too close to start -----------------------------------------------------------


def test_too_little_time_left_defers_the_refresh_before_the_lease(world: RefreshWorld) -> None:
    # Given a due connection and an invocation with just under one token call's budget left
    world.connect()
    before = world.connection()
    world.remaining = lambda: MIN_SECONDS_FOR_REFRESH - 0.1
    # When the worker reaches it, Then it refuses (the message goes back to the queue)
    with pytest.raises(DeadlineTooCloseError):
        world.refresh()
    # And nothing happened: no lease, no token call, no attempt, the connection still due
    assert world.store.calls["acquire_lease_and_read"] == 0 and world.store.leases == {}
    assert world.lwa.refreshes == [] and world.store.attempts == []
    assert world.connection() == before


def test_exactly_the_minimum_budget_is_enough_to_start(world: RefreshWorld) -> None:
    world.connect()
    world.remaining = lambda: MIN_SECONDS_FOR_REFRESH
    assert world.refresh().outcome is RefreshOutcome.SUCCEEDED


# --- while refreshes are paused (client credentials invalid) ---------------------------------


def test_while_paused_a_queued_refresh_is_skipped_without_touching_anything(world: RefreshWorld) -> None:
    # Given refreshes paused by invalid_client and a connection due (queued before the pause)
    world.connect(consecutive_failures=1)
    before = world.connection()
    _pause(world)
    # When its message is worked
    attempt = world.refresh()
    # Then Amazon is not called, no lease is taken, nothing is recorded against the tenant
    assert attempt.outcome is RefreshOutcome.SKIPPED_PAUSED and attempt.error_code is None
    assert world.lwa.refreshes == [] and world.store.calls["acquire_lease_and_read"] == 0
    assert world.store.attempts == [] and world.connection() == before
    # And it stays due: the scheduler enqueues it again once the pause is lifted
    assert ("acme", Region.NA) in world.store.due_connections(now=world.clock.now())


@pytest.mark.parametrize(
    ("force", "trigger"), [(False, PROBE_TRIGGER), (True, "admin")], ids=["probe", "admin-force"]
)
def test_while_paused_the_probe_and_a_forced_refresh_still_call_amazon(
    world: RefreshWorld, force: bool, trigger: str
) -> None:
    # Given refreshes paused and the operator has since fixed the secret
    world.connect()
    _pause(world)
    # When the scheduler's probe (or the operator's refresh-now) runs
    attempt = world.refresh(force=force, trigger=trigger)
    # Then it calls Amazon, succeeds, and its transaction lifts the pause
    assert attempt.outcome is RefreshOutcome.SUCCEEDED and len(world.lwa.refreshes) == 1
    assert world.store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is None


def test_after_the_pause_is_lifted_queued_refreshes_proceed(world: RefreshWorld) -> None:
    world.connect()
    _pause(world)
    assert world.refresh().outcome is RefreshOutcome.SKIPPED_PAUSED
    world.store.clear_operator_pause(CLIENT_CREDENTIALS_PAUSE)  # `credentials check`, or the probe
    assert world.refresh().outcome is RefreshOutcome.SUCCEEDED
    assert len(world.lwa.refreshes) == 1


def _count_pause_reads(world: RefreshWorld) -> list[str]:
    reads: list[str] = []
    real_read = world.store.get_operator_pause

    def counted_read(name: str) -> OperatorPause | None:
        reads.append(name)
        return real_read(name)

    world.store.get_operator_pause = counted_read  # type: ignore[method-assign]
    return reads


def test_the_pause_cache_reads_the_store_once_and_follows_the_batchs_outcomes(
    world: RefreshWorld,
) -> None:
    reads = _count_pause_reads(world)
    cache = ClientCredentialsPauseCache(world.store)
    # One read, however many messages ask
    assert [cache.is_paused() for _ in range(10)] == [False] * 10
    assert reads == [CLIENT_CREDENTIALS_PAUSE]

    def outcome(value: RefreshOutcome) -> RefreshAttempt:
        return RefreshAttempt(
            tenant_id="acme", region=Region.NA, attempted_at=world.clock.now(), outcome=value
        )

    # An invalid_client in this batch pauses the rest of it; a success (the probe) resumes it
    cache.observe(outcome(RefreshOutcome.CLIENT_CREDENTIALS_INVALID))
    assert cache.is_paused()
    cache.observe(outcome(RefreshOutcome.SKIPPED_PAUSED))
    assert cache.is_paused()
    cache.observe(outcome(RefreshOutcome.SUCCEEDED))
    assert not cache.is_paused()
    assert reads == [CLIENT_CREDENTIALS_PAUSE]


def test_the_pause_is_read_through_the_callers_cache_and_never_for_a_probe(world: RefreshWorld) -> None:
    world.connect("acme")
    world.connect("globex")
    reads = _count_pause_reads(world)
    # A worker that already knows the pause is on skips without a read of its own
    attempt = world.refresh("acme", refreshes_paused=lambda: True)
    assert attempt.outcome is RefreshOutcome.SKIPPED_PAUSED and world.lwa.refreshes == []
    # The probe and a forced refresh never ask
    world.refresh("acme", trigger=PROBE_TRIGGER)
    world.refresh("globex", force=True, trigger="admin")
    assert reads == [] and len(world.lwa.refreshes) == 2
