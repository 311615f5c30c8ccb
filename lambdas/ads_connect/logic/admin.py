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
from typing import Protocol

from ads_connect.logic.ports import (
    CLIENT_CREDENTIALS_PAUSE,
    AmazonRequestRejectedError,
    ClientCredentials,
    Clock,
    ConnectionDisconnectedError,
    ConnectionNeedsReauthorizationError,
    ConnectionNotFoundError,
    ConnectionStore,
    EventPublisher,
    InvalidClientError,
    InvalidGrantError,
    InvalidPageTokenError,
    LeaseHeldError,
    LwaClient,
    TenantNotFoundError,
    TokenVault,
)
from ads_connect.models.admin_api import (
    DEFAULT_RECOVERY_DAYS,
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
    RefreshAttemptView,
    RefreshResult,
    TenantDetail,
    TenantList,
    TenantSummary,
)
from ads_connect.models.records import Connection, ConnectionStatus, RefreshAttempt, RefreshOutcome
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
# Longer than the admin function's 29 s timeout: the lease never expires under a live call.
DISCONNECT_LEASE_SECONDS = 60
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


class ConnectionBusyError(Exception):
    """Another flow (a refresh, a profile re-sync, a re-consent) holds the connection's lease;
    nothing was changed and the call can simply be repeated."""


class RefreshNow(Protocol):
    """The refresh flow, forced and attributed to the operator (raises ``LeaseHeldError``)."""

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

    # -- client credentials ----------------------------------------------------------------

    def write_client_credentials(self, client_id: str, client_secret: str) -> ClientCredentialsWritten:
        self.vault.write_client_credentials(
            ClientCredentials(client_id=client_id, client_secret=client_secret)
        )
        return ClientCredentialsWritten(client_id=client_id, updated_at=self.clock.now())

    def check_client_credentials(self) -> CredentialsCheck:
        """Probe Amazon with the client id and secret stored right now.

        Both reads bypass the vault's cache: the ``credentials set`` before this call may have
        run in another warm container, and a check of the previous secret would report on the
        wrong one (and could lift the pause for a wrong new secret). The verdict, and with it the
        pause, stands only if the stored credentials are still the ones probed when Amazon has
        answered; otherwise the check is ``inconclusive`` and asks for another run.

        Raises ``ClientCredentialsMissingError`` when none are stored, ``TransientAmazonError``
        when Amazon could not answer (nothing is concluded then)."""
        credentials = self.vault.read_client_credentials(fresh=True)
        result, error_code = self._probe(credentials)
        changed = self.vault.read_client_credentials(fresh=True) != credentials
        if changed:
            result = CredentialsCheckResult.INCONCLUSIVE
        pause_cleared = False
        if result is CredentialsCheckResult.ACCEPTED:
            pause_cleared = self.store.clear_operator_pause(CLIENT_CREDENTIALS_PAUSE)
        message = _CHANGED_DURING_CHECK if changed else _CHECK_MESSAGES[result]
        return CredentialsCheck(
            client_id=credentials.client_id,
            result=result,
            valid=result is CredentialsCheckResult.ACCEPTED,
            amazon_error_code=error_code,
            pause_cleared=pause_cleared,
            message=message + (" Refreshes resume." if pause_cleared else ""),
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
            stopped = connection.model_copy(
                update={
                    "status": ConnectionStatus.DISCONNECTED,
                    "disconnected_at": None,
                    "grant_version": connection.grant_version + 1,
                    "refresh_due_at": None,
                    "profile_sync_due_at": None,
                }
            )
            self.store.save_connection(stopped, expected_grant_version=connection.grant_version)
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
        completed = stopped.model_copy(update={"disconnected_at": now})
        self.store.save_connection(completed, expected_grant_version=stopped.grant_version)
        return Disconnected(
            tenant_id=tenant_id,
            region=region,
            status=ConnectionStatus.DISCONNECTED,
            disconnected_at=now,
            recovery_window_days=recovery_window_days,
            already_disconnected=False,
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
_CHANGED_DURING_CHECK = (
    "The stored client id or secret changed while they were being checked (another `credentials "
    "set`); nothing was concluded. Run the check again."
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
