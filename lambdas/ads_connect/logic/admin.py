"""Operator use cases behind the admin API: credentials, listings, refresh-now, resync, disconnect.

Pure logic over the ports. Creating a connect session, refreshing and re-syncing profiles are
other flows (``connect_session``, ``refresh``, ``profiles``); this module receives them as
callables so an operator action runs exactly the code the product runs on its own (same lease,
same version checks, same events).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ads_connect.logic.clients import ClientChange, named_counts, plan_client_change, uncovered_grants
from ads_connect.logic.ports import (
    CLIENT_CREDENTIALS_PAUSE,
    CLIENT_MISMATCH_PAUSE,
    REVOCATION_HOLD_PAUSE,
    AmazonRequestRejectedError,
    ClientCredentials,
    ClientCredentialsMissingError,
    ClientKeyring,
    Clock,
    ConnectionDisconnectedError,
    ConnectionNeedsReauthorizationError,
    ConnectionNotFoundError,
    ConnectionStore,
    ConsentStore,
    EventPublisher,
    InvalidClientError,
    InvalidGrantError,
    InvalidPageTokenError,
    LeaseHeldError,
    LwaClient,
    TenantNotFoundError,
    TokenVault,
)
from ads_connect.logic.refresh import REAUTHORIZATION_EVENT
from ads_connect.models.admin_api import (
    ClientCredentialsWritten,
    ConnectionList,
    ConnectionView,
    ConnectSessionCreated,
    ConnectSessionRequest,
    CredentialsCheck,
    CredentialsCheckResult,
    Disconnected,
    ProfileResyncResult,
    ProfileView,
    Reactivation,
    RefreshAttemptView,
    RefreshResult,
    RevocationsConfirmed,
    SessionList,
    SessionRevoked,
    SessionState,
    SessionView,
    TenantDetail,
    TenantList,
    TenantSummary,
)
from ads_connect.models.consent import ConnectSessionRecord
from ads_connect.models.records import (
    DEFAULT_RECOVERY_DAYS,
    Connection,
    ConnectionStatus,
    RefreshAttempt,
    RefreshOutcome,
)
from ads_connect.regions import Region

# The credentials check sends this deliberately invalid refresh token to the NA token endpoint.
# LWA authenticates the client before it looks at the grant (RFC 6749 section 5.2), so:
#   invalid_client (401)          -> the client id / secret are wrong;
#   invalid_grant (400)           -> the client was authenticated and only the probe token failed;
#   unauthorized_client           -> the id is known but not allowed this grant: also a rejection.
# Nothing is created or spent at Amazon by this call. Not a secret: it never was a token.
CREDENTIALS_PROBE_REFRESH_TOKEN = "Atzr|ads-connect-credentials-check-not-a-real-token"  # noqa: S105
CREDENTIALS_PROBE_REGION = Region.NA
# Each disconnect call takes the lease under its own owner (``admin-disconnect-<random>``), as
# a refresh does: a shared owner would let two calls, or a stale one, act as the same holder.
DISCONNECT_TRIGGER = "admin-disconnect"
# Longer than the admin function's 90 s timeout: the lease never expires under a live call.
DISCONNECT_LEASE_SECONDS = 120
TENANT_ATTEMPT_LIMIT = 20
# Store reads one tenants page may spend (index pages + one read per tenant met): at least one
# full page always fits, so every call moves the listing on, and a page that skips many tenants
# (listed under another status) stops early with a token instead of running into the timeout.
TENANT_LISTING_MAX_READS = 250
# The order in which an unfiltered listing walks the status index: problems first.
LISTING_ORDER = (
    ConnectionStatus.REAUTHORIZATION_REQUIRED,
    ConnectionStatus.ACTIVE,
    ConnectionStatus.DISCONNECTED,
)

EVENT_DISCONNECTED = "Connection Disconnected"
EVENT_REACTIVATED = "Connection Reactivated"


class SessionNotFoundError(Exception):
    """No connect session has this reference (never created, or expired out of the table)."""


class ConnectionBusyError(Exception):
    """Another flow (a refresh, a profile re-sync, a re-consent) holds the connection's lease;
    nothing was changed and the call can simply be repeated."""


class RefreshNow(Protocol):
    """The refresh flow, forced and attributed to the operator (raises ``LeaseHeldError``)."""

    def __call__(self, tenant_id: str, region: Region) -> RefreshAttempt: ...


class ReactivateNow(Protocol):
    """The refresh flow's reactivation of one ``reauthorization_required`` connection."""

    def __call__(self, tenant_id: str, region: Region) -> RefreshAttempt: ...


class ResyncProfiles(Protocol):
    """The profile sync flow for one connection; returns the connection as saved afterwards."""

    def __call__(self, connection: Connection) -> Connection: ...


CreateSession = Callable[[str, ConnectSessionRequest], ConnectSessionCreated]


@dataclass(frozen=True)
class AdminService:
    store: ConnectionStore
    vault: TokenVault
    lwa: LwaClient
    events: EventPublisher
    clock: Clock
    refresh_now: RefreshNow
    resync: ResyncProfiles
    create_session: CreateSession
    reactivate_now: ReactivateNow
    sessions: ConsentStore

    # -- the mass-revocation breaker ---------------------------------------------------------------

    def list_held_revocations(self) -> ConnectionList:
        held = sorted(self.store.list_revocation_held(), key=lambda c: (c.tenant_id, c.region.value))
        return ConnectionList(items=[ConnectionView.of(c) for c in held], next_token=None)

    def confirm_revocations(self, *, actor: str | None = None) -> RevocationsConfirmed:
        """The operator says the held revocations are real: each held connection becomes
        ``reauthorization_required`` (under its lease, as a refresh would mark it, with the
        ``Connection Reauthorization Required`` event); the breaker's pause is lifted. A held
        connection that refreshes meanwhile is no longer held and is left alone."""
        confirmed: list[ConnectionView] = []
        busy = 0
        for listed in self.store.list_revocation_held():
            tenant_id, region = listed.tenant_id, listed.region
            try:
                lease, connection = self.store.acquire_lease_and_read(
                    tenant_id,
                    region,
                    owner=f"admin-confirm-{uuid.uuid4().hex[:12]}",
                    seconds=DISCONNECT_LEASE_SECONDS,
                )
            except LeaseHeldError:
                busy += 1
                continue
            try:
                if (
                    connection is None
                    or connection.status is not ConnectionStatus.ACTIVE
                    or connection.revocation_held_at is None
                ):
                    continue
                now = self.clock.now()
                marked = connection.replace(
                    status=ConnectionStatus.REAUTHORIZATION_REQUIRED,
                    reauthorization_required_at=now,
                    revocation_held_at=None,
                )
                self.store.save_connection(
                    marked, expected_grant_version=connection.grant_version, lease=lease
                )
                detail = {
                    "tenant_id": tenant_id,
                    "region": region.value,
                    "error_code": "invalid_grant",
                    "confirmed_by_operator": True,
                }
                self.store.append_audit(tenant_id, "revocation_confirmed", {**detail, "actor": actor})
                self.events.publish(REAUTHORIZATION_EVENT, detail)  # as the refresh flow announces it
                confirmed.append(ConnectionView.of(marked))
            finally:
                self.store.release_lease(lease)
        cleared = busy == 0 and self.store.clear_operator_pause(REVOCATION_HOLD_PAUSE)
        return RevocationsConfirmed(confirmed=confirmed, busy=busy, pause_cleared=cleared)

    # -- connect sessions an operator sent -------------------------------------------------------

    def list_sessions(self, tenant_id: str) -> SessionList:
        now = self.clock.now()
        listed = sorted(self.sessions.list_sessions(tenant_id), key=lambda s: s[1].created_at, reverse=True)
        return SessionList(items=[_session_view(ref, record, now) for ref, record in listed])

    def revoke_session(self, session_ref: str) -> SessionRevoked:
        """Withdraw a link: the consent page and the callback refuse a revoked session (the
        callback checks again under the connection's lease). Revoking a used, expired or already
        revoked session changes nothing and says so."""
        record = self.sessions.get_session_by_hash(session_ref)
        if record is None:
            raise SessionNotFoundError(session_ref)
        revoked = self.sessions.revoke_session(session_ref, revoked_at=self.clock.now())
        after = self.sessions.get_session_by_hash(session_ref) or record
        return SessionRevoked(
            session_ref=session_ref,
            tenant_id=after.tenant_id,
            revoked=revoked,
            state=_session_state(after, self.clock.now()),
        )

    def _end_sessions(self, tenant_id: str, region: Region) -> int:
        """Withdraw every unused session of the tenant for this region or for no region: a link
        sent before a disconnect must not connect the tenant again afterwards."""
        now = self.clock.now()
        ended = 0
        for ref, record in self.sessions.list_sessions(tenant_id):
            if record.region not in (None, region) or _session_state(record, now) is not SessionState.OPEN:
                continue
            ended += self.sessions.revoke_session(ref, revoked_at=now)
        return ended

    # -- client credentials ----------------------------------------------------------------

    def write_client_credentials(
        self, client_id: str, client_secret: str, *, add_client: bool = False, replace_client: bool = False
    ) -> ClientCredentialsWritten:
        """Store ``client_id`` as the current client (``logic/clients.py`` decides what happens
        to the others; ``ClientChangeRefusedError`` when it holds none of the active grants and
        neither choice was made). The pause of grants without their client is lifted once the
        stored clients cover every active grant."""
        new = ClientCredentials(client_id=client_id, client_secret=client_secret)
        try:
            stored: ClientKeyring | None = self.vault.read_client_keyring(fresh=True)
        except ClientCredentialsMissingError:
            stored = None
        counts = self.store.count_grants_by_client()
        held = self.store.count_reauthorization_grants_by_client()
        plan = plan_client_change(
            stored,
            new,
            counts,
            add_client=add_client,
            replace_client=replace_client,
            reauthorization_grants_by_client=held,
        )
        self.vault.write_client_keyring(plan.keyring)
        uncovered = uncovered_grants(plan.keyring, counts)
        cleared = not uncovered and self.store.clear_operator_pause(CLIENT_MISMATCH_PAUSE)
        message = _CHANGE_MESSAGES[plan.change]
        if uncovered:
            message += (
                f" {sum(uncovered.values())} active grant(s) belong to clients no longer stored: their "
                "refreshes pause (client_mismatch, nothing revoked) until their client is stored again."
            )
        held_uncovered = uncovered_grants(plan.keyring, held)
        if held_uncovered:
            message += (
                f" {sum(held_uncovered.values())} reauthorization_required grant(s) belong to clients no "
                "longer stored: `connections reactivate` ends in client_mismatch for them until their "
                "client is stored again."
            )
        return ClientCredentialsWritten(
            client_id=client_id,
            updated_at=self.clock.now(),
            change=plan.change.value,
            stored_client_ids=list(plan.keyring.client_ids),
            grants_by_client=named_counts(counts),
            uncovered_grants=uncovered,
            mismatch_pause_cleared=cleared,
            message=message,
        )

    def check_client_credentials(self) -> CredentialsCheck:
        """Probe Amazon with the current client id and secret stored right now, and say whether
        the stored clients cover every active grant (a grant refreshes only with its own client).

        Both reads bypass the vault's cache: the ``credentials set`` before this call may have
        run in another warm container, and a check of the previous secret would report on the
        wrong one (and could lift the pause for a wrong new secret). The verdict, and with it the
        pause, stands only if the stored credentials are still the ones probed when Amazon has
        answered; otherwise the check is ``inconclusive`` and asks for another run.

        Raises ``ClientCredentialsMissingError`` when none are stored, ``TransientAmazonError``
        when Amazon could not answer (nothing is concluded then)."""
        keyring = self.vault.read_client_keyring(fresh=True)
        credentials = keyring.current
        result, error_code = self._probe(credentials)
        changed = self.vault.read_client_keyring(fresh=True) != keyring
        if changed:
            result = CredentialsCheckResult.INCONCLUSIVE
        pause_cleared = False
        if result is CredentialsCheckResult.ACCEPTED:
            pause_cleared = self.store.clear_operator_pause(CLIENT_CREDENTIALS_PAUSE)
        counts = self.store.count_grants_by_client()
        uncovered = uncovered_grants(keyring, counts)
        if not uncovered and not changed:
            self.store.clear_operator_pause(CLIENT_MISMATCH_PAUSE)
        message = _CHANGED_DURING_CHECK if changed else _CHECK_MESSAGES[result]
        if pause_cleared:
            message += " Refreshes resume."
        if uncovered:
            message += (
                f" {sum(uncovered.values())} active grant(s) belong to clients that are not stored "
                f"({', '.join(sorted(uncovered))}): they are paused until their client is stored "
                "again (`credentials set --add-client`)."
            )
        return CredentialsCheck(
            client_id=credentials.client_id,
            result=result,
            valid=result is CredentialsCheckResult.ACCEPTED,
            amazon_error_code=error_code,
            pause_cleared=pause_cleared,
            message=message,
            stored_client_ids=list(keyring.client_ids),
            grants_by_client=named_counts(counts),
            uncovered_grants=uncovered,
            covers_all_grants=not uncovered,
        )

    def _probe(self, credentials: ClientCredentials) -> tuple[CredentialsCheckResult, str | None]:
        """Amazon's verdict on these credentials (see ``CREDENTIALS_PROBE_REFRESH_TOKEN``)."""
        try:
            self.lwa.refresh(
                CREDENTIALS_PROBE_REGION,
                refresh_token=CREDENTIALS_PROBE_REFRESH_TOKEN,
                credentials=credentials,
            )
        except InvalidGrantError as exc:
            return CredentialsCheckResult.ACCEPTED, exc.error_code
        except InvalidClientError as exc:  # unauthorized_client included (UnauthorizedClientError)
            return CredentialsCheckResult.REJECTED, exc.error_code
        except AmazonRequestRejectedError as exc:
            return CredentialsCheckResult.INCONCLUSIVE, exc.error_code
        # Amazon accepted a token that never existed: impossible in practice, but it proves the
        # client authenticated.
        return CredentialsCheckResult.ACCEPTED, None

    # -- connect sessions -----------------------------------------------------------------

    def start_connect_session(self, tenant_id: str, request: ConnectSessionRequest) -> ConnectSessionCreated:
        return self.create_session(tenant_id, request)

    # -- listings -------------------------------------------------------------------------

    def list_connections(
        self, *, status: ConnectionStatus | None, limit: int, next_token: str | None
    ) -> ConnectionList:
        """One page of connections from the status index (never a scan).

        Without a filter the statuses are walked one after another (``LISTING_ORDER``); the
        opaque token remembers which status and the store's own token within it.
        """
        statuses = LISTING_ORDER if status is None else (status,)
        index, inner, _ = _decode_page_token(next_token, statuses, listing=_CONNECTIONS_LISTING)
        items: list[ConnectionView] = []
        while index < len(statuses) and len(items) < limit:
            page = self.store.list_connections_by_status(
                statuses[index], limit=limit - len(items), next_token=inner
            )
            items.extend(ConnectionView.of(connection) for connection in page.items)
            if page.next_token is None:
                index, inner = index + 1, None
            else:
                inner = page.next_token
        token = None
        if index < len(statuses):
            token = _encode_page_token(_CONNECTIONS_LISTING, statuses[index], inner)
        return ConnectionList(items=items, next_token=token)

    def list_tenants(
        self, *, status: ConnectionStatus | None, limit: int, next_token: str | None
    ) -> TenantList:
        """One page of tenants, each with all its connections, from the status index (never a scan).

        The index holds connections, ordered by ``<tenant>#<region>`` within a status, so a
        tenant's connections of one status are neighbours: each new tenant met is read in full
        (``list_connections``) and the token remembers the last one, so a tenant split across
        pages is listed once. Without a filter a tenant is listed once, under its most urgent
        status (``LISTING_ORDER``); with one, every tenant that has a connection in it. Index
        pages are asked for no more connections than there are tenant slots left, so no
        connection is passed over; a page can hold fewer than ``limit`` tenants (even none)
        while ``next_token`` is set. Like the connection listing, it is not a snapshot: a
        status that changes meanwhile can move a tenant to a part already read (or not yet).
        """
        statuses = LISTING_ORDER if status is None else (status,)
        index, inner, last_tenant = _decode_page_token(next_token, statuses, listing=_TENANTS_LISTING)
        items: list[TenantSummary] = []
        reads = 0
        while index < len(statuses) and len(items) < limit:
            wanted = limit - len(items)
            if reads + 1 + wanted > TENANT_LISTING_MAX_READS:
                break
            page = self.store.list_connections_by_status(statuses[index], limit=wanted, next_token=inner)
            reads += 1
            for listed in page.items:
                if listed.tenant_id == last_tenant:
                    continue  # another region of the tenant just read
                last_tenant = listed.tenant_id
                connections = self.store.list_connections(listed.tenant_id)
                reads += 1
                summary = _summarize(listed.tenant_id, connections)
                if summary is None or (status is None and summary.status is not statuses[index]):
                    continue  # gone meanwhile, or listed under its more urgent status
                items.append(summary)
            if page.next_token is None:
                index, inner, last_tenant = index + 1, None, None
            else:
                inner = page.next_token
        token = (
            _encode_page_token(_TENANTS_LISTING, statuses[index], inner, last_tenant=last_tenant)
            if index < len(statuses)
            else None
        )
        return TenantList(items=items, next_token=token)

    def tenant_detail(self, tenant_id: str) -> TenantDetail:
        connections = self.store.list_connections(tenant_id)
        if not connections:
            raise TenantNotFoundError(tenant_id)
        profiles = self.store.list_profiles(tenant_id)
        attempts = self.store.list_refresh_attempts(tenant_id, limit=TENANT_ATTEMPT_LIMIT)
        return TenantDetail(
            tenant_id=tenant_id,
            connections=[ConnectionView.of(c) for c in sorted(connections, key=lambda c: c.region.value)],
            profiles=[
                ProfileView.of(p) for p in sorted(profiles, key=lambda p: (p.region.value, p.profile_id))
            ],
            refresh_attempts=[
                RefreshAttemptView.of(a) for a in sorted(attempts, key=lambda a: a.attempted_at, reverse=True)
            ],
        )

    # -- actions on one connection ----------------------------------------------------------

    def refresh_connection(self, tenant_id: str, region: Region) -> RefreshResult:
        """Refresh now through the scheduled path's lease; ``LeaseHeldError`` while one runs."""
        self._live_connection(tenant_id, region)
        attempt = self.refresh_now(tenant_id, region)
        if attempt.outcome is RefreshOutcome.SKIPPED_LEASE_HELD:
            raise LeaseHeldError(f"{tenant_id}/{region.value}")
        after = self.store.get_connection(tenant_id, region)
        return RefreshResult(
            tenant_id=tenant_id,
            region=region,
            attempt=RefreshAttemptView.of(attempt),
            connection=ConnectionView.of(after) if after else None,
        )

    def reactivate(self, tenant_id: str, region: Region) -> Reactivation:
        """Undo a ``reauthorization_required`` mark: one refresh with the grant's own client (the
        refresh flow's lease, version checks and records); ``active`` again on success, with a
        ``Connection Reactivated`` event and an audit record. An active connection is left as it
        is; a disconnected one is refused; without a stored refresh token only a new consent helps."""
        connection = self.store.get_connection(tenant_id, region)
        if connection is None:
            raise ConnectionNotFoundError(f"{tenant_id}/{region.value}")
        if connection.status is ConnectionStatus.DISCONNECTED:
            raise ConnectionDisconnectedError(f"{tenant_id}/{region.value}")
        if connection.status is ConnectionStatus.ACTIVE:
            return self._reactivation(connection, False, "already_active", None)
        if self.vault.read_refresh_token(tenant_id, region) is None:
            return self._reactivation(connection, False, "no_refresh_token", None)
        attempt = self.reactivate_now(tenant_id, region)
        after = self.store.get_connection(tenant_id, region)
        reactivated = attempt.outcome is RefreshOutcome.SUCCEEDED
        if reactivated:
            now = self.clock.now()
            detail = {"tenant_id": tenant_id, "region": region.value, "occurred_at": now.isoformat()}
            self.store.append_audit(tenant_id, "connection_reactivated", detail)
            self.events.publish(EVENT_REACTIVATED, detail)
        return self._reactivation(after or connection, reactivated, attempt.outcome.value, attempt.error_code)

    @staticmethod
    def _reactivation(
        connection: Connection, reactivated: bool, outcome: str, error_code: str | None
    ) -> Reactivation:
        return Reactivation(
            tenant_id=connection.tenant_id,
            region=connection.region,
            reactivated=reactivated,
            outcome=outcome,
            error_code=error_code,
            message=_REACTIVATION_MESSAGES.get(outcome, _REACTIVATION_NOT_NOW),
            connection=ConnectionView.of(connection),
        )

    def resync_profiles(self, tenant_id: str, region: Region) -> ProfileResyncResult:
        connection = self.resync(self._live_connection(tenant_id, region))
        profiles = self.store.list_profiles(tenant_id, region)
        return ProfileResyncResult(
            tenant_id=tenant_id,
            region=region,
            connection=ConnectionView.of(connection),
            profiles=[ProfileView.of(p) for p in sorted(profiles, key=lambda p: p.profile_id)],
        )

    def disconnect(
        self,
        tenant_id: str,
        region: Region,
        *,
        recovery_window_days: int = DEFAULT_RECOVERY_DAYS,
        actor: str | None = None,
    ) -> Disconnected:
        """Stop refreshing, mark the profiles gone, delete the secrets (recoverable for the
        window), audit and emit, all while holding the connection's lease, so no refresh,
        re-sync or re-consent runs between the steps. ``ConnectionBusyError`` (nothing changed)
        while another flow holds it.

        Two writes of the connection bracket the steps. The first (status ``disconnected``,
        grant version + 1, no ``disconnected_at`` yet) stops the schedule and makes any writer
        that read the old version lose; the last sets ``disconnected_at``: the disconnect is
        complete. The steps between are idempotent, so a call that finds ``disconnected``
        without ``disconnected_at`` (an earlier call failed mid-way) does them again; a call
        that finds it complete changes nothing. The audit record and the event are therefore
        at least once: a failure after them and before the last write repeats them on retry.
        """
        if self.store.get_connection(tenant_id, region) is None:
            # Checked before taking the lease: a lease write would create an item for the key.
            raise ConnectionNotFoundError(f"{tenant_id}/{region.value}")
        try:
            lease, connection = self.store.acquire_lease_and_read(
                tenant_id,
                region,
                owner=f"{DISCONNECT_TRIGGER}-{uuid.uuid4().hex[:12]}",
                seconds=DISCONNECT_LEASE_SECONDS,
            )
        except LeaseHeldError:
            raise ConnectionBusyError(f"{tenant_id}/{region.value}") from None
        try:
            if connection is None:
                raise ConnectionNotFoundError(f"{tenant_id}/{region.value}")
            if connection.status is ConnectionStatus.DISCONNECTED and connection.disconnected_at is not None:
                return Disconnected(
                    tenant_id=tenant_id,
                    region=region,
                    status=connection.status,
                    disconnected_at=connection.disconnected_at,
                    recovery_window_days=recovery_window_days,
                    already_disconnected=True,
                )
            return self._disconnect_under_lease(connection, recovery_window_days, actor)
        finally:
            self.store.release_lease(lease)

    def _disconnect_under_lease(
        self, connection: Connection, recovery_window_days: int, actor: str | None
    ) -> Disconnected:
        tenant_id, region = connection.tenant_id, connection.region
        # An earlier call wrote the status and failed before it finished: finish its steps.
        resumed = connection.status is ConnectionStatus.DISCONNECTED
        stopped = connection
        if not resumed:
            stopped = connection.replace(
                status=ConnectionStatus.DISCONNECTED,
                disconnected_at=None,
                grant_version=connection.grant_version + 1,
                refresh_due_at=None,
                profile_sync_due_at=None,
            )
            self.store.save_connection(stopped, expected_grant_version=connection.grant_version)
        # No link sent before the disconnect may connect the tenant again (nor one of the same
        # tenant without a region): done under the lease, which a callback takes before installing.
        sessions_revoked = self._end_sessions(tenant_id, region)
        # Consumers looking a profile up must not be sent to a connection without tokens.
        self.store.save_profiles(tenant_id, region, [])
        self.vault.delete_connection_secrets(tenant_id, region, recovery_window_days=recovery_window_days)
        now = self.clock.now()
        self.store.append_audit(
            tenant_id,
            "connection_disconnected",
            {
                "region": region.value,
                "actor": actor,
                "previous_status": connection.status.value,
                "grant_version": connection.grant_version,
                "recovery_window_days": recovery_window_days,
                "sessions_revoked": sessions_revoked,
                "resumed": resumed,
                "at": now.isoformat(),
            },
        )
        self.events.publish(
            EVENT_DISCONNECTED,
            {
                "tenant_id": tenant_id,
                "region": region.value,
                "occurred_at": now.isoformat(),
                "reason": "operator",
                "recovery_window_days": recovery_window_days,
            },
        )
        completed = stopped.replace(disconnected_at=now)
        self.store.save_connection(completed, expected_grant_version=stopped.grant_version)
        return Disconnected(
            tenant_id=tenant_id,
            region=region,
            status=ConnectionStatus.DISCONNECTED,
            disconnected_at=now,
            recovery_window_days=recovery_window_days,
            already_disconnected=False,
            sessions_revoked=sessions_revoked,
        )

    def _live_connection(self, tenant_id: str, region: Region) -> Connection:
        connection = self.store.get_connection(tenant_id, region)
        if connection is None:
            raise ConnectionNotFoundError(f"{tenant_id}/{region.value}")
        if connection.status is ConnectionStatus.DISCONNECTED:
            raise ConnectionDisconnectedError(f"{tenant_id}/{region.value}")
        if connection.status is ConnectionStatus.REAUTHORIZATION_REQUIRED:
            # Its refresh token is dead: refreshing or listing profiles cannot succeed.
            raise ConnectionNeedsReauthorizationError(f"{tenant_id}/{region.value}")
        return connection


_CHECK_MESSAGES = {
    CredentialsCheckResult.ACCEPTED: "Amazon accepted the client id and secret.",
    CredentialsCheckResult.REJECTED: (
        "Amazon rejected the client id or secret: copy both again from the LWA Security Profile."
    ),
    CredentialsCheckResult.INCONCLUSIVE: "Amazon's answer did not say whether the client id and secret work.",
}
_REACTIVATION_MESSAGES = {
    RefreshOutcome.SUCCEEDED.value: "Refreshed with the grant's own client: the connection is active again.",
    "already_active": "The connection is active; nothing to do.",
    "no_refresh_token": (
        "No refresh token is stored for this connection: only a new consent restores it (`sessions create`)."
    ),
    RefreshOutcome.REAUTHORIZATION_REQUIRED.value: (
        "Amazon answered invalid_grant: the grant is really dead (revoked by the advertiser). It stays "
        "reauthorization_required; send the tenant a new connect session (`sessions create`)."
    ),
    RefreshOutcome.CLIENT_MISMATCH.value: (
        "The grant's client is not among the stored clients: store it again (`credentials set "
        "--add-client`) and repeat. Nothing changed."
    ),
    RefreshOutcome.CLIENT_CREDENTIALS_INVALID.value: (
        "Amazon rejected the stored client credentials (invalid_client): fix them (`credentials set`, "
        "`credentials check`) and repeat. Nothing changed."
    ),
}
_REACTIVATION_NOT_NOW = (
    "Amazon could not answer for this grant now (see error_code); it stays reauthorization_required. "
    "Try again later."
)
_CHANGE_MESSAGES = {
    ClientChange.ROTATE_SECRET: "Stored the new secret of the current client.",
    ClientChange.ADD_CLIENT: (
        "Stored as the current client (new consents use it); every other stored client is kept for "
        "the grants it obtained."
    ),
    ClientChange.REPLACE_CLIENT: "Stored as the only client.",
}
_CHANGED_DURING_CHECK = (
    "The stored client id or secret changed while they were being checked (another `credentials "
    "set`); nothing was concluded. Run the check again."
)


def _session_state(record: ConnectSessionRecord, now: datetime) -> SessionState:
    if record.used_at is not None:
        return SessionState.USED
    if record.revoked_at is not None:
        return SessionState.REVOKED
    return SessionState.EXPIRED if record.expires_at <= now else SessionState.OPEN


def _session_view(session_ref: str, record: ConnectSessionRecord, now: datetime) -> SessionView:
    return SessionView(
        session_ref=session_ref,
        tenant_id=record.tenant_id,
        region=record.region,
        display_name=record.display_name,
        created_at=record.created_at,
        expires_at=record.expires_at,
        used_at=record.used_at,
        revoked_at=record.revoked_at,
        state=_session_state(record, now),
    )


def _summarize(tenant_id: str, connections: Sequence[Connection]) -> TenantSummary | None:
    if not connections:
        return None
    ordered = sorted(connections, key=lambda c: c.region.value)
    active = [c for c in ordered if c.status is ConnectionStatus.ACTIVE]
    expiries = [c.access_token_expires_at for c in active if c.access_token_expires_at is not None]
    successes = [c.last_refresh_success_at for c in active if c.last_refresh_success_at is not None]
    return TenantSummary(
        tenant_id=tenant_id,
        status=next(s for s in LISTING_ORDER if any(c.status is s for c in ordered)),
        connections=[ConnectionView.of(c) for c in ordered],
        profile_count=sum(c.profile_count for c in ordered),
        consecutive_failures=max(c.consecutive_failures for c in ordered),
        soonest_access_token_expires_at=min(expiries) if expiries else None,
        stalest_refresh_success_at=min(successes) if successes else None,
    )


# Which listing issued a page token: one listing's token is refused by the other (400), so a
# token is only ever read where its shape was made.
_CONNECTIONS_LISTING = "connections"
_TENANTS_LISTING = "tenants"


def _encode_page_token(
    listing: str, status: ConnectionStatus, inner: str | None, *, last_tenant: str | None = None
) -> str:
    data: dict[str, str | None] = {"k": listing, "s": status.value, "t": inner}
    if last_tenant is not None:
        data["l"] = last_tenant
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_page_token(
    token: str | None, statuses: tuple[ConnectionStatus, ...], *, listing: str
) -> tuple[int, str | None, str | None]:
    """(index into ``statuses``, the store's token, the last tenant read) for a token this module
    issued for ``listing``; only a tenants listing sets the last tenant. The store checks its own
    token against the status (``InvalidPageTokenError`` too), before DynamoDB sees it."""
    if token is None:
        return 0, None, None
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise InvalidPageTokenError("next_token is not a token this API issued") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("t"), str | None)
        or not isinstance(data.get("l"), str | None)
    ):
        raise InvalidPageTokenError("next_token is not a token this API issued")
    if data.get("k") != listing or (listing == _CONNECTIONS_LISTING and "l" in data):
        raise InvalidPageTokenError("next_token was issued for another listing")
    try:
        status = ConnectionStatus(str(data.get("s")))
        index = statuses.index(status)
    except ValueError:
        raise InvalidPageTokenError("next_token belongs to a listing with another status filter") from None
    inner: str | None = data.get("t")
    last: str | None = data.get("l")
    return index, inner, last
