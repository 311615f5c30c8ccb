"""Flow 3: the OAuth callback. Validate and consume the state, exchange the code at the same
region's token endpoint, store the grant (refresh token first, then the access token), record
the connection, discover its profiles within the invocation's deadline, announce it, and hand
the browser a result that holds no code or token.

The connection is recorded before profile discovery: discovery calls the Ads API and may run out
of time or fail, and a grant already stored must then be a connection that the refresh schedule
keeps alive and the profile re-check completes, never tokens nobody knows about.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from ads_connect.logic.consent_errors import ConsentFlowError, FailureKind
from ads_connect.logic.deadlines import AMAZON_CALL_SECONDS, time_for_call
from ads_connect.logic.grants import (
    access_token_expiry,
    publish_access_token,
    refresh_due_at,
    restore_access_token,
)
from ads_connect.logic.ids import id_hash, looks_like_id, new_id
from ads_connect.logic.ports import (
    AdsApiClient,
    AmazonNotProcessedError,
    AmazonRequestRejectedError,
    AmbiguousAmazonError,
    ClientCredentials,
    ClientCredentialsMissingError,
    Clock,
    ConnectionStore,
    ConsentStore,
    EventPublisher,
    InvalidClientError,
    InvalidGrantError,
    Lease,
    LeaseHeldError,
    LwaClient,
    PublishedAccessToken,
    StoredRefreshToken,
    TokenGrant,
    TokenVault,
    TransientAmazonError,
)
from ads_connect.logic.profiles import (
    PROFILES_CHANGED_EVENT,
    RECHECK_SOON,
    ProfileSyncResult,
    apply_profile_result,
    profiles_changed_detail,
    sync_profiles,
)
from ads_connect.models.consent import ConnectResultRecord, OAuthStateRecord, ResultProfile
from ads_connect.models.records import (
    DEFAULT_RECOVERY_DAYS,
    AccessLevel,
    Connection,
    ConnectionStatus,
    ProfileMapping,
    ProfilesState,
)
from ads_connect.models.settings import PagesSettings
from ads_connect.observability import logger
from ads_connect.regions import Region

CONNECTED_EVENT = "Connection Connected"
RESULT_LIFETIME = timedelta(minutes=30)
# A refresh in flight holds the lease for seconds; wait that long, not longer.
LEASE_WAIT_SECONDS = 8.0
LEASE_POLL_SECONDS = 0.25
LEASE_SECONDS = 120
# A callback claims its connect session before the code exchange, so two states minted from one
# session (two tabs, a double submit) cannot both connect. Longer than the callback's timeout:
# a crashed callback's claim lapses by itself and the session becomes usable again.
SESSION_CLAIM = timedelta(seconds=120)
# Only answers that prove Amazon did not redeem the code are retried (see
# ``_code_not_redeemed``): a single-use code must never be sent twice after an ambiguous failure.
EXCHANGE_ATTEMPTS = 3
# The browser is waiting: a retry is at most this far away. A longer Retry-After is honoured by
# not retrying at all (the page asks the advertiser to try again in a few minutes).
MAX_EXCHANGE_RETRY_DELAY = 2.0
# Statuses that mean "not processed": throttled, or the service is unavailable. Any other 5xx
# (500, 502, 504) may come from behind a front end that already redeemed the code.
MAX_PARAMETER_LENGTH = 4096
REASON_DISCOVERING = (
    "Your advertising profiles are still being discovered. They will be checked again "
    "automatically in a few minutes; there is nothing more to do."
)


class ProfileDiscoveryOutOfTimeError(Exception):
    """Too little of the invocation is left to start another Ads API call. Not an
    ``AmazonError``: ``sync_profiles`` lets it through before it writes anything."""


@dataclass(frozen=True)
class CallbackDependencies:
    consent_store: ConsentStore
    store: ConnectionStore
    vault: TokenVault
    lwa: LwaClient
    ads_api: AdsApiClient
    events: EventPublisher
    clock: Clock
    settings: PagesSettings
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class CallbackOutcome:
    """Where the browser goes next: the result page, or the session's allowed return URL."""

    location: str
    connection: Connection
    reconsent: bool
    # The deadline came before profile discovery finished: profiles are pending a re-check.
    profile_discovery_deferred: bool = False


@dataclass(frozen=True)
class InstalledGrant:
    connection: Connection
    reconsent: bool
    profiles: list[ResultProfile]
    profile_discovery_deferred: bool
    profile_sync: ProfileSyncResult


@dataclass(frozen=True)
class DeadlineBoundAdsApi:
    """The Ads API client, refusing to start a call that could outlast the invocation."""

    ads: AdsApiClient
    remaining_seconds: Callable[[], float]

    def list_profiles(
        self,
        region: Region,
        *,
        access_token: str,
        client_id: str,
        access_level: AccessLevel | None = None,
    ) -> Sequence[dict[str, Any]]:
        # remaining_seconds already excludes the handler's margin (handlers/deadline.py).
        if not time_for_call(self.remaining_seconds(), AMAZON_CALL_SECONDS, margin=0.0):
            raise ProfileDiscoveryOutOfTimeError(region.value)
        return self.ads.list_profiles(
            region, access_token=access_token, client_id=client_id, access_level=access_level
        )


def _no_deadline() -> float:
    return float("inf")


def _single(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is not None and len(value) > MAX_PARAMETER_LENGTH:
        raise ConsentFlowError(FailureKind.BAD_REQUEST)
    return value


def consume_state(
    params: Mapping[str, str], binding_cookie: str | None, deps: CallbackDependencies
) -> OAuthStateRecord:
    state = _single(params, "state")
    if not state:
        raise ConsentFlowError(FailureKind.STATE_MISSING)
    if not looks_like_id(state):
        raise ConsentFlowError(FailureKind.STATE_UNKNOWN)
    record = deps.consent_store.consume_state(state)
    if record is None:
        raise ConsentFlowError(FailureKind.STATE_UNKNOWN)
    if record.expires_at <= deps.clock.now():
        raise ConsentFlowError(FailureKind.STATE_EXPIRED)
    if not binding_cookie or id_hash(binding_cookie) != record.browser_binding_hash:
        raise ConsentFlowError(FailureKind.STATE_OTHER_BROWSER)
    return record


def raise_for_oauth_error(params: Mapping[str, str]) -> None:
    error = _single(params, "error")
    if error is None:
        return
    if error == "access_denied":
        raise ConsentFlowError(FailureKind.CONSENT_DENIED, oauth_error=error)
    if error == "invalid_scope":
        raise ConsentFlowError(FailureKind.APP_NOT_APPROVED, oauth_error=error)
    raise ConsentFlowError(FailureKind.AMAZON_ERROR, oauth_error=error)


def exchange_code(
    record: OAuthStateRecord,
    code: str,
    credentials: ClientCredentials,
    deps: CallbackDependencies,
    remaining_seconds: Callable[[], float] = _no_deadline,
) -> TokenGrant:
    for attempt in range(1, EXCHANGE_ATTEMPTS + 1):
        try:
            return deps.lwa.exchange_code(
                record.region,
                code=code,
                redirect_uri=record.redirect_uri,
                code_verifier=record.code_verifier,
                credentials=credentials,
            )
        except TransientAmazonError as error:
            if not _code_not_redeemed(error):
                raise ConsentFlowError(FailureKind.AMAZON_UNREACHABLE) from None
            delay = error.retry_after if error.retry_after is not None else 0.5 * attempt
            if (
                attempt == EXCHANGE_ATTEMPTS
                or delay > MAX_EXCHANGE_RETRY_DELAY
                or not time_for_call(remaining_seconds(), AMAZON_CALL_SECONDS, wait=delay, margin=0.0)
            ):
                raise ConsentFlowError(FailureKind.AMAZON_UNREACHABLE) from None
            deps.sleep(delay)
        except InvalidGrantError:
            raise ConsentFlowError(FailureKind.CODE_REJECTED) from None
        except InvalidClientError:
            # Also unauthorized_client (UnauthorizedClientError): the operator's LWA application is
            # not allowed this grant, nothing the advertiser can fix.
            raise ConsentFlowError(FailureKind.CLIENT_REJECTED) from None
        except AmazonRequestRejectedError:
            raise ConsentFlowError(FailureKind.AMAZON_ERROR) from None
    raise ConsentFlowError(FailureKind.AMAZON_UNREACHABLE)  # pragma: no cover - loop always returns/raises


def _code_not_redeemed(error: TransientAmazonError) -> bool:
    """True only when the failure proves the code was not spent: the connection was never
    established (no HTTP status), or Amazon said it did not act on it (``AmazonNotProcessedError``:
    429, 503 or ``temporarily_unavailable``, classified in adapters/lwa.py). A read timeout, a
    dropped connection, a malformed 200 or another 5xx may have redeemed it."""
    if isinstance(error, AmbiguousAmazonError) or error.status == 200:
        return False
    return error.status is None or isinstance(error, AmazonNotProcessedError)


def _acquire_lease_waiting(deps: CallbackDependencies, record: OAuthStateRecord, owner: str) -> Lease:
    """The connection's lease, waiting up to LEASE_WAIT_SECONDS (counted in sleeps, so a test's
    sleep stand-in bounds the loop too) while a refresh finishes."""
    waited = 0.0
    while True:
        try:
            return deps.store.acquire_lease(
                record.tenant_id, record.region, owner=owner, seconds=LEASE_SECONDS
            )
        except LeaseHeldError:
            if waited >= LEASE_WAIT_SECONDS:
                raise
            deps.sleep(LEASE_POLL_SECONDS)
            waited += LEASE_POLL_SECONDS


def install_grant(
    record: OAuthStateRecord,
    grant: TokenGrant,
    credentials: ClientCredentials,
    *,
    display_name: str | None,
    deps: CallbackDependencies,
    remaining_seconds: Callable[[], float] = _no_deadline,
) -> InstalledGrant:
    """Store a freshly consented grant, replacing an existing connection of this tenant and
    region in place: refresh token, access token, the connection (active), and only then the
    profiles, all under the connection's lease."""
    if grant.refresh_token is None:
        raise ConsentFlowError(FailureKind.AMAZON_ERROR)
    owner = f"callback-{uuid.uuid4().hex[:12]}"
    try:
        lease = _acquire_lease_waiting(deps, record, owner)
    except LeaseHeldError:
        # The new grant is dropped (never half-stored); the session stays usable for a retry.
        raise ConsentFlowError(FailureKind.CONNECTION_BUSY) from None
    try:
        # A disconnect revokes the tenant's sessions while it holds this lease: read afresh under
        # the lease, a link withdrawn while this callback waited never reconnects the tenant.
        session = deps.consent_store.get_session_by_hash(record.session_hash)
        if session is None or session.revoked_at is not None:
            raise ConsentFlowError(FailureKind.SESSION_REVOKED)
        existing = deps.store.get_connection(record.tenant_id, record.region)
        version = existing.grant_version + 1 if existing else 1
        previous = _PreviousGrant.read(deps, existing) if existing is not None else None
        try:
            connection, result, deferred = _install_under_lease(
                record, grant, credentials, existing, version, display_name, deps, remaining_seconds
            )
        except ConsentFlowError:
            raise
        except Exception as error:
            if previous is None:
                raise
            # A re-consent that cannot finish changes nothing: the previous grant, its tokens and
            # its profile mappings are put back (a disconnected one's secrets deleted again), and
            # the page says whether the old connection still works.
            previous.restore(deps, failed_version=version, error=error)
            raise ConsentFlowError(
                FailureKind.RECONSENT_NOT_SAVED if previous.worked else FailureKind.RECONNECT_NOT_SAVED
            ) from None
    finally:
        deps.store.release_lease(lease)
    shown = [
        ResultProfile(
            profile_id=p.profile_id,
            name=p.account_name,
            country_code=p.country_code,
            account_type=p.account_type,
            access_level=p.access_level,
        )
        for p in result.profiles
    ]
    return InstalledGrant(connection, existing is not None, shown, deferred, result)


@dataclass(frozen=True)
class _PreviousGrant:
    """What a re-consent replaces, read under the lease before anything is written: restored if
    the re-consent fails part-way."""

    connection: Connection
    refresh_token: StoredRefreshToken | None
    access_token: PublishedAccessToken | None
    profiles: list[ProfileMapping]

    @classmethod
    def read(cls, deps: CallbackDependencies, connection: Connection) -> _PreviousGrant:
        tenant_id, region = connection.tenant_id, connection.region
        return cls(
            connection,
            deps.vault.read_refresh_token(tenant_id, region),
            deps.vault.read_access_token(tenant_id, region),
            [p for p in deps.store.list_profiles(tenant_id, region) if not p.gone],
        )

    @property
    def tokens_kept(self) -> bool:
        """The previous connection had live secrets to put back: not a disconnected one (its
        secrets were scheduled for deletion; the re-consent restored them) nor one without a
        refresh token."""
        return self.connection.status is not ConnectionStatus.DISCONNECTED and self.refresh_token is not None

    @property
    def worked(self) -> bool:
        """The previous connection still works once restored (what the result page may say)."""
        return self.tokens_kept and self.connection.status is ConnectionStatus.ACTIVE

    def restore(self, deps: CallbackDependencies, *, failed_version: int, error: Exception) -> None:
        """Best effort, each step on its own (the lease is still held): the previous refresh
        token and connection under a version above the failed one (so no writer that saw the
        failed version wins), the previous access token while it is still valid, the previous
        profile mappings. When there were no tokens to put back (``tokens_kept``), the new ones
        are deleted again as a disconnect deletes them (scheduled, with the default recovery
        window), so no live token is left behind. A step that fails is logged; the page says
        what the advertiser can do."""
        tenant_id, region = self.connection.tenant_id, self.connection.region
        restored_version = failed_version + 1
        steps: list[tuple[str, Callable[[], None]]] = []
        if not self.tokens_kept:
            steps.append(
                (
                    "delete_secrets",
                    lambda: deps.vault.delete_connection_secrets(
                        tenant_id, region, recovery_window_days=DEFAULT_RECOVERY_DAYS
                    ),
                )
            )
        elif self.refresh_token is not None:
            token = self.refresh_token
            steps.append(
                (
                    "refresh_token",
                    lambda: deps.vault.write_refresh_token(
                        tenant_id,
                        region,
                        refresh_token=token.refresh_token,
                        grant_version=restored_version,
                        client_id=token.client_id or self.connection.client_id or "",
                    ),
                )
            )
        access = self.access_token
        if self.tokens_kept and access is not None and access.expires_at > deps.clock.now():
            steps.append(
                (
                    "access_token",
                    lambda: restore_access_token(deps.vault, access, grant_version=restored_version),
                )
            )
        steps.append(("profiles", lambda: deps.store.save_profiles(tenant_id, region, self.profiles)))
        steps.append(("connection", lambda: self._restore_connection(deps, restored_version)))
        failed = []
        for name, step in steps:
            try:
                step()
            except Exception as restore_error:  # noqa: BLE001 - each step is tried; failures are logged below
                failed.append(f"{name}:{type(restore_error).__name__}")
        logger.error(
            "re-consent failed after the new grant was stored; the previous grant was put back",
            extra={
                "tenant_id": tenant_id,
                "region": region.value,
                "error_type": type(error).__name__,
                "restore_failures": failed,
            },
        )

    def _restore_connection(self, deps: CallbackDependencies, restored_version: int) -> None:
        stored = deps.store.get_connection(self.connection.tenant_id, self.connection.region)
        expected = stored.grant_version if stored is not None else None
        deps.store.save_connection(
            self.connection.replace(grant_version=restored_version),
            expected_grant_version=expected,
        )


def _install_under_lease(
    record: OAuthStateRecord,
    grant: TokenGrant,
    credentials: ClientCredentials,
    existing: Connection | None,
    version: int,
    display_name: str | None,
    deps: CallbackDependencies,
    remaining_seconds: Callable[[], float],
) -> tuple[Connection, ProfileSyncResult, bool]:
    """The writes of a grant install, in order, under the caller's lease."""
    if grant.refresh_token is None:  # checked by install_grant; kept for the type checker
        raise ConsentFlowError(FailureKind.AMAZON_ERROR)
    now = deps.clock.now()
    deps.vault.write_refresh_token(
        record.tenant_id,
        record.region,
        refresh_token=grant.refresh_token,
        grant_version=version,
        client_id=credentials.client_id,
    )
    expires_at = access_token_expiry(now, grant)
    publish_access_token(
        deps.vault,
        tenant_id=record.tenant_id,
        region=record.region,
        grant=grant,
        expires_at=expires_at,
        endpoints=deps.settings.amazon_endpoints[record.region],
        client_id=credentials.client_id,
        grant_version=version,
    )
    connection = Connection(
        tenant_id=record.tenant_id,
        region=record.region,
        status=ConnectionStatus.ACTIVE,
        display_name=display_name or (existing.display_name if existing else None),
        grant_version=version,
        client_id=credentials.client_id,
        connected_at=existing.connected_at if existing else now,
        consented_at=now,
        access_token_expires_at=expires_at,
        refresh_due_at=refresh_due_at(expires_at, now, deps.settings.refresh_lead_seconds),
        # Until discovery below answers: the stored mappings (if any) as they are, and a
        # re-check soon, so a crash or timeout during discovery is completed by the re-sync.
        view_only=existing.view_only if existing else False,
        profile_count=existing.profile_count if existing else 0,
        profiles_state=ProfilesState.PENDING,
        profiles_state_reason=REASON_DISCOVERING,
        profile_sync_due_at=now + RECHECK_SOON,
        last_refresh_success_at=existing.last_refresh_success_at if existing else None,
        last_refresh_failure_at=existing.last_refresh_failure_at if existing else None,
        last_refresh_error_code=existing.last_refresh_error_code if existing else None,
    )
    deps.store.save_connection(
        connection, expected_grant_version=existing.grant_version if existing else None
    )
    result, deferred = discover_profiles(record, grant, credentials, deps, remaining_seconds)
    checked_at = deps.clock.now()
    connection = apply_profile_result(connection, result, checked_at)
    if deferred:
        # Amazon was not asked (a re-consent would otherwise wait hours): re-check soon.
        connection = connection.replace(profile_sync_due_at=checked_at + RECHECK_SOON)
    deps.store.save_connection(connection, expected_grant_version=version)
    return connection, result, deferred


def discover_profiles(
    record: OAuthStateRecord,
    grant: TokenGrant,
    credentials: ClientCredentials,
    deps: CallbackDependencies,
    remaining_seconds: Callable[[], float],
) -> tuple[ProfileSyncResult, bool]:
    """``sync_profiles`` with the new access token, starting no Ads API call that could outlast
    the invocation. Out of time: profiles are pending (stored mappings untouched), as while a
    new link propagates, and the scheduled re-check finishes the job. Second value: deferred."""
    ads = DeadlineBoundAdsApi(deps.ads_api, remaining_seconds)
    try:
        result = sync_profiles(
            record.tenant_id,
            record.region,
            access_token=grant.access_token,
            client_id=credentials.client_id,
            ads=ads,
            store=deps.store,
            clock=deps.clock,
        )
    except ProfileDiscoveryOutOfTimeError:
        stored = [p for p in deps.store.list_profiles(record.tenant_id, record.region) if not p.gone]
        return ProfileSyncResult(ProfilesState.PENDING, REASON_DISCOVERING, False, stored, False), True
    return result, False


def state_client_credentials(record: OAuthStateRecord, vault: TokenVault) -> ClientCredentials:
    """The credentials of the client that started this flow: Amazon issued the code to the client
    the authorization URL named (``record.client_id``) and refuses it with any other. The consent
    page and this function each cache their view of the stored clients, so after ``credentials
    set --add-client`` the current client here may not be the one the page used: the stored
    keyring is searched for the state's client, read afresh once if this container's cached copy
    lacks it. A client no longer stored is the operator's "not configured" page, never another
    client's secret. A state from before states recorded their client: the current client."""
    try:
        if record.client_id is None:
            return vault.read_client_credentials()
        credentials = vault.read_client_keyring().for_client(record.client_id)
        if credentials is None:
            credentials = vault.read_client_keyring(fresh=True).for_client(record.client_id)
    except ClientCredentialsMissingError:
        raise ConsentFlowError(FailureKind.CLIENT_NOT_CONFIGURED) from None
    if credentials is None:
        logger.warning(
            "the LWA client that started this consent is no longer stored",
            extra={
                "tenant_id": record.tenant_id,
                "region": record.region.value,
                "client_id": record.client_id,
            },
        )
        raise ConsentFlowError(FailureKind.CLIENT_NOT_CONFIGURED)
    return credentials


def handle_callback(
    params: Mapping[str, str],
    binding_cookie: str | None,
    *,
    result_base_url: str,
    deps: CallbackDependencies,
    remaining_seconds: Callable[[], float] = _no_deadline,
) -> CallbackOutcome:
    """``remaining_seconds``: the invocation's time left (the handler's Lambda deadline minus a
    margin); no Amazon call starts that could run past it."""
    record = consume_state(params, binding_cookie, deps)
    raise_for_oauth_error(params)
    code = _single(params, "code")
    if not code:
        raise ConsentFlowError(FailureKind.BAD_REQUEST)
    session = deps.consent_store.get_session_by_hash(record.session_hash)
    if session is None:
        raise ConsentFlowError(FailureKind.SESSION_UNKNOWN)
    if session.used_at is not None:
        raise ConsentFlowError(FailureKind.SESSION_USED)
    if session.revoked_at is not None:
        raise ConsentFlowError(FailureKind.SESSION_REVOKED)
    # The state was minted from this session; a mismatch means a tampered or corrupted record.
    if session.tenant_id != record.tenant_id or session.region not in (None, record.region):
        raise ConsentFlowError(FailureKind.STATE_UNKNOWN)
    credentials = state_client_credentials(record, deps.vault)
    claim_id = uuid.uuid4().hex
    now = deps.clock.now()
    if not deps.consent_store.claim_session(
        record.session_hash, claim_id=claim_id, now=now, until=now + SESSION_CLAIM
    ):
        # Another callback of this session is finishing (or finished) first; this code is dropped.
        raise ConsentFlowError(FailureKind.SESSION_IN_PROGRESS)
    try:
        grant = exchange_code(record, code, credentials, deps, remaining_seconds)
        installed = install_grant(
            record,
            grant,
            credentials,
            display_name=session.display_name,
            deps=deps,
            remaining_seconds=remaining_seconds,
        )
    except BaseException:
        _release_claim(deps.consent_store, record.session_hash, claim_id)
        raise
    connection, reconsent = installed.connection, installed.reconsent
    deferred = installed.profile_discovery_deferred
    now = deps.clock.now()
    deps.consent_store.mark_session_used(record.session_hash, used_at=now)
    deps.events.publish(
        CONNECTED_EVENT,
        {
            "tenant_id": connection.tenant_id,
            "region": connection.region.value,
            "profile_count": connection.profile_count,
            "profiles_state": connection.profiles_state.value,
            "view_only": connection.view_only,
            "reconsent": reconsent,
            "grant_version": connection.grant_version,
        },
    )
    if reconsent and installed.profile_sync.changed:
        # A first connection's profiles are in its Connected event; a re-consent that found a
        # different set is announced like any other change of the mapped profiles.
        deps.events.publish(
            PROFILES_CHANGED_EVENT, profiles_changed_detail(connection, installed.profile_sync, "reconsent")
        )
    if session.return_url:
        query = urlencode(
            {
                "status": "connected",
                "tenant_id": connection.tenant_id,
                "region": connection.region.value,
                "profiles": str(connection.profile_count),
            }
        )
        return CallbackOutcome(f"{session.return_url}?{query}", connection, reconsent, deferred)
    result_id = new_id()
    deps.consent_store.put_result(
        result_id,
        ConnectResultRecord(
            tenant_id=connection.tenant_id,
            display_name=session.display_name,
            region=connection.region,
            reconsent=reconsent,
            profiles=installed.profiles,
            profiles_state=connection.profiles_state,
            profiles_state_reason=connection.profiles_state_reason,
            view_only=connection.view_only,
            browser_binding_hash=record.browser_binding_hash,
            expires_at=now + RESULT_LIFETIME,
        ),
    )
    return CallbackOutcome(
        f"{result_base_url.rstrip('/')}/result/{result_id}", connection, reconsent, deferred
    )


def _release_claim(consent_store: ConsentStore, session_hash: str, claim_id: str) -> None:
    """Hand the session back after a failed callback so the advertiser can retry from the same
    link. If that write fails too, the claim lapses after SESSION_CLAIM; the original failure is
    the one the browser is told about, so this one is logged, not raised."""
    try:
        consent_store.release_session_claim(session_hash, claim_id=claim_id)
    except Exception as error:  # noqa: BLE001 - must not mask the failure being handled
        logger.warning(
            "connect session claim not released; it lapses by itself",
            extra={
                "error_type": type(error).__name__,
                "lapses_after_seconds": int(SESSION_CLAIM.total_seconds()),
            },
        )


def read_result(
    result_id: str, binding_cookie: str | None, *, consent_store: ConsentStore, now: datetime
) -> ConnectResultRecord:
    if not looks_like_id(result_id):
        raise ConsentFlowError(FailureKind.RESULT_UNKNOWN)
    result = consent_store.get_result(result_id)
    if result is None or result.expires_at <= now:
        raise ConsentFlowError(FailureKind.RESULT_UNKNOWN)
    # The result lists the tenant's profiles: only the browser that ran the flow sees it.
    if not binding_cookie or id_hash(binding_cookie) != result.browser_binding_hash:
        raise ConsentFlowError(FailureKind.RESULT_UNKNOWN)
    return result
