"""Flow 5 and 6: refresh one connection's access token, under its lease.

The order of writes is the product's promise:
1. lease + current connection (one conditional write; unless forced it also requires the
   connection to be active and due, so a duplicate message costs just that refused write);
2. the private refresh token is read; LWA is called at the connection's own region, with
   backoff and full jitter on 5xx / 429 (Retry-After honoured) / timeouts, inside a deadline;
3. a rotated refresh token is written FIRST (retried); only then
4. the access token is published for consumers; then
5. the connection's new state and the attempt log entry are written in one transaction that
   also releases the lease. If an AWS call fails after Amazon was asked, a best-effort failure
   record is written before the error propagates (``_record_unfinished``).

``invalid_grant`` is concluded only after re-reading the stored refresh token (another writer
may have rotated it: a race, not a revocation). ``invalid_client`` and a missing client secret
are the operator's problem: no tenant is marked, one pause is set, one event fires. While that
pause is set, only the scheduler's probe and forced (admin) refreshes call Amazon.

Before any of this, two checks that write nothing: a paused, non-probe, non-forced refresh is
skipped; with too little time left for one whole token call, ``DeadlineTooCloseError`` is raised
(the worker's message goes back to the queue) instead of taking the lease. Every later call
that could be cut off by the deadline (the token call itself, its retries, retries of the
rotated-token write) starts only while the whole call still fits (``logic/deadlines.py``).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from ads_connect.logic.backoff import backoff_delay
from ads_connect.logic.breaker import revocation_held
from ads_connect.logic.clients import grant_client_id
from ads_connect.logic.deadlines import AMAZON_CALL_SECONDS, AWS_CALL_SECONDS, time_for_call
from ads_connect.logic.grants import access_token_expiry, publish_access_token, refresh_due_at
from ads_connect.logic.pacing import WritePacer
from ads_connect.logic.ports import (
    CLIENT_CREDENTIALS_PAUSE,
    CLIENT_MISMATCH_PAUSE,
    PROBE_TRIGGER,
    REVOCATION_HOLD_PAUSE,
    AmazonRequestRejectedError,
    ClientCredentials,
    ClientCredentialsMissingError,
    ClientKeyring,
    Clock,
    ConnectionStore,
    EventPublisher,
    InvalidClientError,
    InvalidGrantError,
    Lease,
    LeaseHeldError,
    LwaClient,
    NotDueError,
    OperatorPause,
    StaleGrantError,
    StoredRefreshToken,
    TokenGrant,
    TokenVault,
    TransientAmazonError,
)
from ads_connect.models.records import Connection, ConnectionStatus, RefreshAttempt, RefreshOutcome
from ads_connect.models.settings import CoreSettings
from ads_connect.observability import logger, metrics
from ads_connect.regions import Region

REAUTHORIZATION_EVENT = "Connection Reauthorization Required"
CLIENT_INVALID_EVENT = "Client Credentials Invalid"
CLIENT_MISMATCH_EVENT = "Client Credentials Mismatch"
REVOCATIONS_HELD_EVENT = "Revocations Held"
# The operator's "connections reactivate": one refresh of a reauthorization_required connection.
REACTIVATE_TRIGGER = "admin-reactivate"
CLIENT_MISMATCH = "client_mismatch"
# A grant whose client is not stored is looked at again after this long (not every schedule
# run): it keeps its place out of the oldest-first due order, so it never crowds out the grants
# that can refresh, and it is back within this time once its client is stored again.
CLIENT_MISMATCH_RECHECK = timedelta(minutes=15)
# The error code of an attempt whose rotated refresh token could not be stored.
ROTATED_NOT_PERSISTED = "rotated_token_not_persisted"
_UNSAFE_IN_CODE = re.compile(r"[^A-Za-z0-9_.-]")
# Longer than the worker's (120 s) and the admin function's (90 s) timeouts, so a lease never expires under
# a live refresh.
LEASE_SECONDS = 180
TOKEN_CALL_ATTEMPTS = 4
# A rotated refresh token exists only in this process until it is stored: keep trying (the
# usual cause is Secrets Manager throttling, which clears within seconds) for up to six
# attempts, each retry only while one whole AWS call still fits before the deadline.
SECRET_WRITE_ATTEMPTS = 6
# Room kept after the last call to record the outcome (the handlers' own 5 s safety margin
# comes on top: ``remaining_seconds`` already excludes it).
DEADLINE_MARGIN_SECONDS = 5.0
# The lease write and the refresh-token read before the token call, at normal latency.
LEASE_AND_READ_SECONDS = 1.0
# One whole rotated-token write (one PutSecretValue) at the AWS call bound: if Amazon rotates the
# refresh token, the new one exists only in this process until that write returns, so the
# deadline must hold it whole before the token call may start (not a typical-latency guess).
ROTATED_WRITE_SECONDS = AWS_CALL_SECONDS
# Do not take the lease with less than this left: the first token call and a whole rotated-token
# write must fit, with the margin after them (logic/deadlines.py). A Lambda killed mid-call would
# leave the lease held for LEASE_SECONDS and could lose a refresh token Amazon had already
# rotated; waiting for redelivery costs nothing. Every token call (the first, after the lease,
# and each retry) checks the same rule again, with the write pace's wait included.
MIN_SECONDS_FOR_REFRESH = (
    LEASE_AND_READ_SECONDS + AMAZON_CALL_SECONDS + ROTATED_WRITE_SECONDS + DEADLINE_MARGIN_SECONDS
)
# Only invalid_grant ever costs a tenant its grant. Every other failure (5xx, timeouts, and the
# 4xx answers that point at the product or the app, not the tenant: invalid_request,
# invalid_scope, unsupported_grant_type, an unexpected status) is retried on every run, for
# ever; past either mark below each further failure is escalated (RefreshFailingPersistently
# and its alarm), so a connection never fails quietly while its consumers hold no valid token.
ESCALATE_AFTER_FAILURES = 6
ESCALATE_AFTER_EXPIRED = timedelta(minutes=30)


class DeadlineTooCloseError(Exception):
    """Too little time is left to refresh safely: Amazon was not called and nothing stays written
    (a lease already taken is released). The worker lets the message fail so SQS delivers it
    again later (to a fresh invocation)."""


class RotatedTokenNotPersistedError(Exception):
    """Amazon rotated the refresh token and every attempt to store it failed. The access token
    was not published; the lease stays until it expires; the message is retried."""


@dataclass
class RefreshContext:
    store: ConnectionStore
    vault: TokenVault
    lwa: LwaClient
    events: EventPublisher
    clock: Clock
    settings: CoreSettings
    sleep: Callable[[float], None] = time.sleep
    # Seconds left before the caller must stop (the Lambda's remaining time); None = no limit.
    remaining_seconds: Callable[[], float] | None = None
    # The worker's share of the Secrets Manager write budget; None = not paced (admin API).
    secret_write_pacer: WritePacer | None = None

    def time_left(self) -> float:
        return float("inf") if self.remaining_seconds is None else self.remaining_seconds()

    def before_secret_write(self) -> None:
        if self.secret_write_pacer is not None:
            self.secret_write_pacer.wait()

    def longest_pacing_wait(self) -> float:
        return 0.0 if self.secret_write_pacer is None else self.secret_write_pacer.interval


class ClientCredentialsPauseCache:
    """Whether refreshes are paused for invalid client credentials, read from the store at most
    once per worker invocation (one GetItem per SQS batch of up to 10 messages; none for a batch
    of probes and profile syncs), then kept in step with the outcomes the invocation sees."""

    def __init__(self, store: ConnectionStore) -> None:
        self._store = store
        self._paused: bool | None = None

    def is_paused(self) -> bool:
        if self._paused is None:
            self._paused = self._store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is not None
        return self._paused

    def observe(self, attempt: RefreshAttempt) -> None:
        # An invalid_client in this batch set the pause; a success deleted it in its transaction.
        if attempt.outcome is RefreshOutcome.CLIENT_CREDENTIALS_INVALID:
            self._paused = True
        elif attempt.outcome is RefreshOutcome.SUCCEEDED:
            self._paused = False


def refresh_connection(
    tenant_id: str,
    region: Region,
    *,
    force: bool,
    trigger: str,
    store: ConnectionStore,
    vault: TokenVault,
    lwa: LwaClient,
    events: EventPublisher,
    clock: Clock,
    settings: CoreSettings,
    sleep: Callable[[float], None] = time.sleep,
    remaining_seconds: Callable[[], float] | None = None,
    refreshes_paused: Callable[[], bool] | None = None,
    secret_write_pacer: WritePacer | None = None,
    **_unused: Any,
) -> RefreshAttempt:
    """Refresh one connection now (``force``) or if it is due. Never raises for Amazon's
    answers (they become the attempt's outcome); AWS failures propagate (SQS retries), and so
    does ``DeadlineTooCloseError``. ``refreshes_paused`` answers whether the client-credentials
    pause is set (the worker passes a per-invocation cache); by default the store is read.
    ``secret_write_pacer`` (the worker's) paces every Secrets Manager write of the refresh."""
    context = RefreshContext(
        store, vault, lwa, events, clock, settings, sleep, remaining_seconds, secret_write_pacer
    )
    started = time.monotonic()
    now = clock.now()
    if not force and trigger != PROBE_TRIGGER:
        paused = (
            refreshes_paused()
            if refreshes_paused is not None
            else store.get_operator_pause(CLIENT_CREDENTIALS_PAUSE) is not None
        )
        if paused:
            # Every call would meet the same invalid_client. The connection stays due, so the
            # first schedule run after the probe lifts the pause enqueues it again.
            return _attempt(tenant_id, region, now, RefreshOutcome.SKIPPED_PAUSED, trigger, started)
    _defer_if_too_late(context, tenant_id, region, trigger)
    owner = f"{trigger}-{uuid.uuid4().hex[:12]}"
    try:
        # Unless forced, the lease write itself requires the connection to be due: a duplicate
        # message (SQS redelivery, a later schedule run, a backlog) costs one failed write.
        lease, connection = store.acquire_lease_and_read(
            tenant_id, region, owner=owner, seconds=LEASE_SECONDS, due_by=None if force else now
        )
    except LeaseHeldError:
        return _attempt(tenant_id, region, now, RefreshOutcome.SKIPPED_LEASE_HELD, trigger, started)
    except NotDueError as not_due:
        stored_connection = not_due.connection
        inactive = stored_connection is None or stored_connection.status is not ConnectionStatus.ACTIVE
        return _attempt(
            tenant_id,
            region,
            now,
            RefreshOutcome.SKIPPED_NOT_DUE,
            trigger,
            started,
            "not_active" if inactive else None,
        )
    if connection is None or connection.status is not ConnectionStatus.ACTIVE:
        store.release_lease(lease)
        return _attempt(
            tenant_id, region, now, RefreshOutcome.SKIPPED_NOT_DUE, trigger, started, "not_active"
        )
    return _run_under_lease(context, _Progress(connection), lease, trigger, started)


def reactivate_connection(
    tenant_id: str,
    region: Region,
    *,
    store: ConnectionStore,
    vault: TokenVault,
    lwa: LwaClient,
    events: EventPublisher,
    clock: Clock,
    settings: CoreSettings,
    sleep: Callable[[float], None] = time.sleep,
    remaining_seconds: Callable[[], float] | None = None,
    **_unused: Any,
) -> RefreshAttempt:
    """One refresh of a ``reauthorization_required`` connection whose refresh token is still
    stored, with the grant's own client, under the lease like any refresh: on success it is
    ``active`` again (back in the due index); on ``invalid_grant`` it stays as it was (no second
    event); on anything else it stays too, and the attempt says why. ``LeaseHeldError`` while
    another flow holds the connection; ``DeadlineTooCloseError`` as for a refresh. An attempt
    ``skipped_not_due`` (``not_reauthorization_required``) when the connection is in another
    status by the time the lease is taken."""
    context = RefreshContext(store, vault, lwa, events, clock, settings, sleep, remaining_seconds, None)
    started = time.monotonic()
    now = clock.now()
    _defer_if_too_late(context, tenant_id, region, REACTIVATE_TRIGGER)
    lease, connection = store.acquire_lease_and_read(
        tenant_id, region, owner=f"{REACTIVATE_TRIGGER}-{uuid.uuid4().hex[:12]}", seconds=LEASE_SECONDS
    )
    if connection is None or connection.status is not ConnectionStatus.REAUTHORIZATION_REQUIRED:
        store.release_lease(lease)
        return _attempt(
            tenant_id,
            region,
            now,
            RefreshOutcome.SKIPPED_NOT_DUE,
            REACTIVATE_TRIGGER,
            started,
            "not_reauthorization_required",
        )
    return _run_under_lease(context, _Progress(connection), lease, REACTIVATE_TRIGGER, started)


def _defer_if_too_late(context: RefreshContext, tenant_id: str, region: Region, trigger: str) -> None:
    """``DeadlineTooCloseError`` before the lease when a whole refresh no longer fits."""
    seconds_left = context.time_left()
    if seconds_left < MIN_SECONDS_FOR_REFRESH:
        logger.info(
            "refresh deferred: too little time left before the deadline",
            extra={
                "tenant_id": tenant_id,
                "region": region.value,
                "trigger": trigger,
                "seconds_left": round(seconds_left, 1),
            },
        )
        raise DeadlineTooCloseError(f"{tenant_id}/{region.value}: {seconds_left:.1f} s left")


def _run_under_lease(
    context: RefreshContext, progress: _Progress, lease: Lease, trigger: str, started: float
) -> RefreshAttempt:
    store = context.store
    try:
        return _refresh_under_lease(context, progress, lease, trigger, started)
    except RotatedTokenNotPersistedError:
        # The lease stays held until it expires, so no other refresh spends the old token
        # meanwhile (with reuse detection that would revoke the grant). The attempt is still
        # logged and counted, by a write conditioned on the grant version that keeps the lease.
        _record_unfinished(context, progress.connection, None, trigger, started, ROTATED_NOT_PERSISTED)
        raise
    except Exception as error:
        # An AWS failure mid-way. Once Amazon was asked, the attempt is logged and counted (the
        # record also releases the lease); otherwise, or if that fails, the lease is freed so
        # the retry need not wait for it to expire. The original error propagates either way.
        recorded = progress.asked_amazon and _record_unfinished(
            context, progress.connection, lease, trigger, started, _aws_error_code(error)
        )
        if not recorded:
            _release_quietly(store, lease)
        raise
    except BaseException:
        _release_quietly(store, lease)
        raise


@dataclass
class _Progress:
    """How far one refresh under its lease got: what recording a failure midway needs."""

    # As read under the lease; its grant version follows a rotated refresh token once stored.
    connection: Connection
    # The token endpoint was called: from here on, an attempt is logged however it ends.
    asked_amazon: bool = False


def _refresh_under_lease(
    context: RefreshContext, progress: _Progress, lease: Lease, trigger: str, started: float
) -> RefreshAttempt:
    connection = progress.connection
    stored = context.vault.read_refresh_token(connection.tenant_id, connection.region)
    if stored is None:
        # Active but without a refresh token: nothing can refresh it; a new consent restores it.
        return _reauthorization_required(
            context, connection, lease, trigger, started, "refresh_token_missing"
        )
    try:
        keyring = context.vault.read_client_keyring()
    except ClientCredentialsMissingError:
        return _client_credentials_invalid(
            context, connection, lease, trigger, started, "client_credentials_missing"
        )
    client_id = grant_client_id(stored.client_id, connection.client_id, keyring)
    credentials = keyring.for_client(client_id)
    if credentials is None:
        # Any other client would get invalid_grant, which is what a revocation looks like.
        return _client_mismatch(context, connection, lease, trigger, started, client_id, keyring)
    seconds_left = context.time_left()
    if not _token_call_fits(context, seconds_left):
        # The lease write and the reads were slow: defer (the caller releases the lease).
        where = f"{connection.tenant_id}/{connection.region.value}"
        raise DeadlineTooCloseError(f"{where}: {seconds_left:.1f} s left before the token call")
    progress.asked_amazon = True
    try:
        grant = _call_token_endpoint(context, connection.region, stored, credentials)
    except InvalidGrantError as error:
        return _dead_grant(context, connection, lease, stored, trigger, started, error.error_code)
    except AmazonRequestRejectedError as error:
        # Not invalid_grant, not a client refusal: anything else (a 404 from a wrong endpoint
        # setting, an edge 403) must never cost a tenant its grant.
        return _transient_failure(context, connection, lease, trigger, started, error.error_code)
    except InvalidClientError as error:
        # invalid_client or unauthorized_client (UnauthorizedClientError): the operator's problem.
        return _client_credentials_invalid(context, connection, lease, trigger, started, error.error_code)
    except TransientAmazonError as error:
        return _transient_failure(context, connection, lease, trigger, started, error.error_code)
    return _store_refreshed(context, progress, lease, stored, grant, credentials, trigger, started)


def _token_call_fits(context: RefreshContext, seconds_left: float, *, wait: float = 0.0) -> bool:
    """Whether a token call may start: after ``wait``, the time left must hold the whole call and,
    should Amazon rotate the refresh token, the write pace's wait and one whole write of it."""
    after_call = context.longest_pacing_wait() + ROTATED_WRITE_SECONDS
    return time_for_call(
        seconds_left, AMAZON_CALL_SECONDS + after_call, wait=wait, margin=DEADLINE_MARGIN_SECONDS
    )


def _call_token_endpoint(
    context: RefreshContext, region: Region, stored: StoredRefreshToken, credentials: ClientCredentials
) -> TokenGrant:
    attempt = 1
    while True:
        try:
            return context.lwa.refresh(region, refresh_token=stored.refresh_token, credentials=credentials)
        except TransientAmazonError as error:
            delay = backoff_delay(attempt, retry_after=error.retry_after)
            if attempt >= TOKEN_CALL_ATTEMPTS or not _token_call_fits(
                context, context.time_left(), wait=delay
            ):
                raise
            logger.info(
                "token endpoint transient failure, retrying",
                extra={
                    "region": region.value,
                    "error_code": error.error_code,
                    "attempt": attempt,
                    "delay": delay,
                },
            )
            context.sleep(delay)
            attempt += 1


def _write_rotated_refresh_token(
    context: RefreshContext, connection: Connection, token: str, version: int, client_id: str
) -> None:
    for attempt in range(1, SECRET_WRITE_ATTEMPTS + 1):
        try:
            context.before_secret_write()
            context.vault.write_refresh_token(
                connection.tenant_id,
                connection.region,
                refresh_token=token,
                grant_version=version,
                client_id=client_id,
            )
            return
        except Exception as error:  # noqa: BLE001 - every failure is retried, then surfaced below
            logger.warning(
                "writing the rotated refresh token failed",
                extra={
                    "tenant_id": connection.tenant_id,
                    "region": connection.region.value,
                    "attempt": attempt,
                    "error_type": type(error).__name__,
                },
            )
            delay = backoff_delay(attempt)
            wait = delay + context.longest_pacing_wait()
            # Unlike every other call, this one is tried again even when a whole AWS call might
            # not fit: the rotated token lives only in this process, so a write cut off by the
            # timeout loses nothing that giving up would not lose for certain. Only the room to
            # record the failure and raise the alarm is kept.
            if attempt == SECRET_WRITE_ATTEMPTS or context.time_left() - wait < DEADLINE_MARGIN_SECONDS:
                break
            context.sleep(delay)
    metrics.add_metric(name="RotatedTokenPersistFailed", unit=MetricUnit.Count, value=1)
    logger.error(
        "rotated refresh token could not be stored; access token not published",
        extra={"tenant_id": connection.tenant_id, "region": connection.region.value},
    )
    raise RotatedTokenNotPersistedError(f"{connection.tenant_id}/{connection.region.value}")


def _store_refreshed(
    context: RefreshContext,
    progress: _Progress,
    lease: Lease,
    stored: StoredRefreshToken,
    grant: TokenGrant,
    credentials: ClientCredentials,
    trigger: str,
    started: float,
) -> RefreshAttempt:
    connection = progress.connection
    now = context.clock.now()
    rotated = grant.refresh_token is not None and grant.refresh_token != stored.refresh_token
    version = connection.grant_version
    if rotated and grant.refresh_token is not None:
        version += 1
        _write_rotated_refresh_token(context, connection, grant.refresh_token, version, credentials.client_id)
        # Stored: whatever fails next, the connection's record must count from this version.
        progress.connection = connection.replace(grant_version=version)
    expires_at = access_token_expiry(now, grant)
    context.before_secret_write()
    publish_access_token(
        context.vault,
        tenant_id=connection.tenant_id,
        region=connection.region,
        grant=grant,
        expires_at=expires_at,
        endpoints=context.settings.amazon_endpoints[connection.region],
        client_id=credentials.client_id,
        grant_version=version,
    )
    updated = connection.replace(
        # A refresh that works proves the grant alive (a reactivation makes it active again).
        status=ConnectionStatus.ACTIVE,
        reauthorization_required_at=None,
        revocation_held_at=None,
        grant_version=version,
        # Proven by this refresh (and recorded here for grants from before it was recorded).
        client_id=credentials.client_id,
        access_token_expires_at=expires_at,
        refresh_due_at=refresh_due_at(expires_at, now, context.settings.refresh_lead_seconds),
        last_refresh_success_at=now,
        last_refresh_error_code=None,
        consecutive_failures=0,
    )
    attempt = _attempt(
        connection.tenant_id,
        connection.region,
        now,
        RefreshOutcome.SUCCEEDED,
        trigger,
        started,
        rotated=rotated,
    )
    # Success proves the client credentials: lift the operator pause in the same transaction,
    # so a probe that succeeds resumes the whole due set on the next schedule run.
    # A held revocation that now refreshes proves the hold right: its success lifts that pause too.
    was_held = connection.revocation_held_at is not None
    pauses = (CLIENT_CREDENTIALS_PAUSE, REVOCATION_HOLD_PAUSE) if was_held else CLIENT_CREDENTIALS_PAUSE
    _record(context, updated, attempt, lease, clear_operator_pause=pauses)
    metrics.add_metric(name="RefreshSucceeded", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="RefreshLatency", unit=MetricUnit.Milliseconds, value=attempt.latency_ms)
    logger.info(
        "refresh succeeded",
        extra={
            "tenant_id": connection.tenant_id,
            "region": connection.region.value,
            "rotated": rotated,
            "latency_ms": attempt.latency_ms,
            "trigger": trigger,
            "expires_at": expires_at.isoformat(),
        },
    )
    return attempt


def _dead_grant(
    context: RefreshContext,
    connection: Connection,
    lease: Lease,
    used: StoredRefreshToken,
    trigger: str,
    started: float,
    error_code: str,
) -> RefreshAttempt:
    latest = context.vault.read_refresh_token(connection.tenant_id, connection.region)
    if latest is not None and (
        latest.refresh_token != used.refresh_token or latest.grant_version != used.grant_version
    ):
        # Another writer (a re-consent) replaced the token while we used the old one.
        logger.info(
            "refresh token changed during refresh: a race, not a revocation",
            extra={"tenant_id": connection.tenant_id, "region": connection.region.value},
        )
        return _transient_failure(context, connection, lease, trigger, started, "refresh_token_replaced")
    if connection.status is ConnectionStatus.ACTIVE and _breaker_holds(context, connection):
        return _revocation_held(context, connection, lease, trigger, started, error_code)
    return _reauthorization_required(context, connection, lease, trigger, started, error_code)


def _breaker_holds(context: RefreshContext, connection: Connection) -> bool:
    """Whether this invalid_grant is held by the mass-revocation breaker (logic/breaker.py).
    A connection already held stays held until a refresh succeeds or the operator confirms."""
    breaker = context.settings.revocation_breaker
    distinct = context.store.note_revocation(
        connection.tenant_id, connection.region, at=context.clock.now(), window=breaker.window
    )
    if connection.revocation_held_at is not None:
        return True
    if distinct < breaker.min_connections:
        return False  # under the threshold whatever the active count: no count query
    return revocation_held(distinct, context.store.count_active_connections(), breaker)


def _revocation_held(
    context: RefreshContext,
    connection: Connection,
    lease: Lease,
    trigger: str,
    started: float,
    error_code: str,
) -> RefreshAttempt:
    """The connection stays active (and due: every run tries again), flagged ``revocation_held``;
    the first hold sets the pause, raises the alarm and publishes the one event."""
    now = context.clock.now()
    created = context.store.set_operator_pause(OperatorPause(REVOCATION_HOLD_PAUSE, now, error_code))
    where = {"tenant_id": connection.tenant_id, "region": connection.region.value, "error_code": error_code}
    logger.warning("invalid_grant held by the mass-revocation breaker; the tenant is not marked", extra=where)
    if created:
        metrics.add_metric(name="RevocationsHeld", unit=MetricUnit.Count, value=1)
        context.events.publish(REVOCATIONS_HELD_EVENT, {**where, "occurred_at": now.isoformat()})
    _, attempt = _failed(
        context, connection, lease, trigger, started, error_code, RefreshOutcome.REVOCATION_HELD
    )
    return attempt


def _failed(
    context: RefreshContext,
    connection: Connection,
    lease: Lease | None,
    trigger: str,
    started: float,
    error_code: str,
    outcome: RefreshOutcome,
) -> tuple[Connection, RefreshAttempt]:
    """Record a failed attempt against the tenant: failure time, code and count."""
    now = context.clock.now()
    update: dict[str, object] = {
        "last_refresh_failure_at": now,
        "last_refresh_error_code": error_code,
        "consecutive_failures": connection.consecutive_failures + 1,
    }
    if outcome is RefreshOutcome.REVOCATION_HELD:
        update["revocation_held_at"] = connection.revocation_held_at or now
    if outcome is RefreshOutcome.REAUTHORIZATION_REQUIRED:
        update |= {
            "status": ConnectionStatus.REAUTHORIZATION_REQUIRED,
            # A reactivation that met invalid_grant again keeps the first time.
            "reauthorization_required_at": connection.reauthorization_required_at or now,
        }
    updated = connection.replace(**update)
    attempt = _attempt(connection.tenant_id, connection.region, now, outcome, trigger, started, error_code)
    _record(context, updated, attempt, lease)
    return updated, attempt


def _reauthorization_required(
    context: RefreshContext,
    connection: Connection,
    lease: Lease,
    trigger: str,
    started: float,
    error_code: str,
) -> RefreshAttempt:
    already = connection.status is ConnectionStatus.REAUTHORIZATION_REQUIRED
    _, attempt = _failed(
        context, connection, lease, trigger, started, error_code, RefreshOutcome.REAUTHORIZATION_REQUIRED
    )
    if already:
        # A reactivation that met invalid_grant: the tenant was announced already.
        return attempt
    metrics.add_metric(name="ReauthorizationRequired", unit=MetricUnit.Count, value=1)
    where = {"tenant_id": connection.tenant_id, "region": connection.region.value, "error_code": error_code}
    logger.warning("connection needs re-authorization", extra=where)
    context.events.publish(REAUTHORIZATION_EVENT, where)
    return attempt


def _transient_failure(
    context: RefreshContext,
    connection: Connection,
    lease: Lease | None,
    trigger: str,
    started: float,
    error_code: str,
) -> RefreshAttempt:
    updated, attempt = _failed(
        context, connection, lease, trigger, started, error_code, RefreshOutcome.TRANSIENT_FAILURE
    )
    metrics.add_metric(name="RefreshFailed", unit=MetricUnit.Count, value=1)
    where = {
        "tenant_id": connection.tenant_id,
        "region": connection.region.value,
        "error_code": error_code,
        "consecutive_failures": updated.consecutive_failures,
    }
    expired_for = _expired_for(updated, attempt.attempted_at)
    if updated.consecutive_failures >= ESCALATE_AFTER_FAILURES or expired_for >= ESCALATE_AFTER_EXPIRED:
        metrics.add_metric(name="RefreshFailingPersistently", unit=MetricUnit.Count, value=1)
        logger.error(
            "refresh keeps failing; the connection stays active and is retried every run",
            extra={**where, "access_token_expired_seconds": int(expired_for.total_seconds())},
        )
    else:
        logger.warning("refresh failed, will retry on a later run", extra=where)
    return attempt


def _expired_for(connection: Connection, now: datetime) -> timedelta:
    """How long the consumers' access token has been expired (zero while it is valid)."""
    expires_at = connection.access_token_expires_at
    return max(timedelta(0), now - expires_at) if expires_at is not None else timedelta(0)


def _client_credentials_invalid(
    context: RefreshContext,
    connection: Connection,
    lease: Lease,
    trigger: str,
    started: float,
    error_code: str,
) -> RefreshAttempt:
    now = context.clock.now()
    # The conditional write decides who announces the pause: of several workers failing at once,
    # only the one that created the pause item publishes the event.
    created = context.store.set_operator_pause(OperatorPause(CLIENT_CREDENTIALS_PAUSE, now, error_code))
    forget = getattr(context.vault, "forget_client_credentials", None)
    if callable(forget):
        forget()
    attempt = _attempt(
        connection.tenant_id,
        connection.region,
        now,
        RefreshOutcome.CLIENT_CREDENTIALS_INVALID,
        trigger,
        started,
        error_code,
    )
    # Announced before the attempt is recorded: only the creator of the pause announces it, so
    # a failing record (retried later) must not swallow the one operator event.
    metrics.add_metric(name="ClientCredentialsInvalid", unit=MetricUnit.Count, value=1)
    logger.error("LWA rejected the client credentials; refreshes paused", extra={"error_code": error_code})
    if created:
        context.events.publish(CLIENT_INVALID_EVENT, {"error_code": error_code, "paused_at": now.isoformat()})
    # The tenant's state is untouched (no failure counted): only the attempt is logged.
    _record(context, connection, attempt, lease)
    return attempt


def _client_mismatch(
    context: RefreshContext,
    connection: Connection,
    lease: Lease,
    trigger: str,
    started: float,
    client_id: str,
    keyring: ClientKeyring,
) -> RefreshAttempt:
    """The grant's client is not stored: LWA is not called and the tenant is not marked (its
    refresh token is as good as ever). The connection is looked at again after
    ``CLIENT_MISMATCH_RECHECK``; the first such grant sets the pause, raises the alarm and
    publishes the one event; ``credentials set``/``check`` clears the pause once covered."""
    now = context.clock.now()
    paused = connection.replace(
        client_id=client_id,
        last_refresh_error_code=CLIENT_MISMATCH,
        refresh_due_at=now + CLIENT_MISMATCH_RECHECK,
    )
    where = {
        "tenant_id": connection.tenant_id,
        "region": connection.region.value,
        "grant_client_id": client_id,
    }
    logger.warning("the grant's client is not among the stored clients; refresh paused", extra=where)
    created = context.store.set_operator_pause(OperatorPause(CLIENT_MISMATCH_PAUSE, now, CLIENT_MISMATCH))
    if created:
        metrics.add_metric(name="ClientMismatch", unit=MetricUnit.Count, value=1)
        context.events.publish(
            CLIENT_MISMATCH_EVENT,
            {
                **where,
                "stored_client_ids": list(keyring.client_ids),
                "occurred_at": now.isoformat(),
            },
        )
    try:
        context.store.save_connection(paused, expected_grant_version=connection.grant_version, lease=lease)
    except StaleGrantError:
        logger.warning("client mismatch not recorded: a newer writer holds the connection", extra=where)
    context.store.release_lease(lease)
    return _attempt(
        connection.tenant_id,
        connection.region,
        now,
        RefreshOutcome.CLIENT_MISMATCH,
        trigger,
        started,
        CLIENT_MISMATCH,
    )


def _record_unfinished(
    context: RefreshContext,
    connection: Connection,
    lease: Lease | None,
    trigger: str,
    started: float,
    error_code: str,
) -> bool:
    """Best effort, before the original error propagates: log the attempt that reached Amazon
    but could not finish on AWS, and count it against the connection (which stays due). With
    ``lease`` the record releases it; without, the lease is kept and the write is conditioned
    on the grant version. Returns whether the record was made; its own failure is logged and
    swallowed, because the original error is the one SQS must see."""
    try:
        _transient_failure(context, connection, lease, trigger, started, error_code)
    except Exception as error:  # noqa: BLE001 - logged here; the caller re-raises the original
        logger.error(
            "a failed refresh attempt could not be recorded either",
            extra={
                "tenant_id": connection.tenant_id,
                "region": connection.region.value,
                "error_code": error_code,
                "record_error_type": type(error).__name__,
            },
        )
        return False
    return True


def _aws_error_code(error: Exception) -> str:
    """``aws_<code>`` for an AWS failure (botocore's ClientError carries the service's error
    code, its other errors are named by their type), ``internal_<type>`` for anything else.
    Never the message: it may quote the request."""
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    from_aws = bool(code) or type(error).__module__.split(".")[0] in ("botocore", "boto3")
    name = _UNSAFE_IN_CODE.sub("_", str(code or type(error).__name__))[:64]
    return f"{'aws' if from_aws else 'internal'}_{name}"


def _record(
    context: RefreshContext,
    connection: Connection,
    attempt: RefreshAttempt,
    lease: Lease | None,
    *,
    clear_operator_pause: str | tuple[str, ...] | None = None,
) -> None:
    try:
        context.store.record_refresh(
            connection, attempt, lease=lease, clear_operator_pause=clear_operator_pause
        )
    except StaleGrantError:
        # Our lease expired and someone else took over (or, for a record that keeps the lease,
        # the grant version moved); the tokens we wrote are valid and the newer writer's record
        # wins. Nothing is lost: the next run sees the current state.
        logger.warning(
            "refresh outcome not recorded: a newer writer holds the connection",
            extra={"tenant_id": connection.tenant_id, "region": connection.region.value},
        )


def _release_quietly(store: ConnectionStore, lease: Lease) -> None:
    try:
        store.release_lease(lease)
    except Exception as error:  # noqa: BLE001 - the original failure is what matters; this is logged
        logger.warning(
            "lease release failed; it expires by itself", extra={"error_type": type(error).__name__}
        )


def _attempt(
    tenant_id: str,
    region: Region,
    when: datetime,
    outcome: RefreshOutcome,
    trigger: str,
    started: float,
    error_code: str | None = None,
    *,
    rotated: bool = False,
) -> RefreshAttempt:
    return RefreshAttempt(
        tenant_id=tenant_id,
        region=region,
        attempted_at=when,
        outcome=outcome,
        error_code=error_code,
        latency_ms=int((time.monotonic() - started) * 1000),
        rotated=rotated,
        trigger=trigger,
    )
