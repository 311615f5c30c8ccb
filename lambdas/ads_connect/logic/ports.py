"""The small interfaces the flows depend on, and the errors they raise.

``logic/`` imports only this module, ``models/``, ``regions`` and ``observability``: no boto3, no
requests, no adapters (import-linter contracts in pyproject.toml, run by ``make lint``). Each
port has one production implementation under ``adapters/`` and in-memory fakes under
``tests/fakes/`` (``stores.py``: the stores, vault and events; ``amazon.py``: LWA and the Ads API;
``clock.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from ads_connect.models.consent import ConnectResultRecord, ConnectSessionRecord, OAuthStateRecord
from ads_connect.models.records import (
    AccessLevel,
    Connection,
    ConnectionStatus,
    ProfileMapping,
    RefreshAttempt,
)
from ads_connect.regions import Region

# ---------------------------------------------------------------------------------------------
# Values. Dataclasses with repr=False on secret fields so a stray log or traceback of the
# object never shows a token.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientCredentials:
    """The operator's LWA Security Profile (one for all regions)."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class ClientKeyring:
    """Every LWA client the operator has stored: ``current`` (new consents use it) and the
    ``previous`` ones kept so the grants they obtained keep refreshing with their own client (a
    refresh token is bound to the client it was issued to; docs/refresh.md "Client of a grant")."""

    current: ClientCredentials
    previous: tuple[ClientCredentials, ...] = ()
    # The client that obtained the grants stored before grants recorded their client: the
    # current client when credentials were first stored by a version that records it. None
    # (never written by such a version) means the current client.
    unrecorded_grants_client_id: str | None = None

    @property
    def owner_of_unrecorded_grants(self) -> str:
        return self.unrecorded_grants_client_id or self.current.client_id

    @property
    def clients(self) -> tuple[ClientCredentials, ...]:
        return (self.current, *self.previous)

    @property
    def client_ids(self) -> tuple[str, ...]:
        return tuple(client.client_id for client in self.clients)

    def for_client(self, client_id: str) -> ClientCredentials | None:
        """The stored credentials of ``client_id``; None when that client is not stored."""
        return next((c for c in self.clients if c.client_id == client_id), None)


@dataclass(frozen=True)
class TokenGrant:
    """A successful token-endpoint answer."""

    access_token: str = field(repr=False)
    # None when a refresh response did not carry a (new) refresh token.
    refresh_token: str | None = field(repr=False)
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret


@dataclass(frozen=True)
class StoredRefreshToken:
    refresh_token: str = field(repr=False)
    grant_version: int
    updated_at: datetime
    # The LWA client that obtained the grant; None on grants stored before it was recorded
    # (logic/clients.py: such a grant is taken to belong to the current client).
    client_id: str | None = None


@dataclass(frozen=True)
class PublishedAccessToken:
    """What a consumer reads from the per-connection access-token secret."""

    tenant_id: str
    region: Region
    access_token: str = field(repr=False)
    expires_at: datetime
    api_url: str
    client_id: str
    grant_version: int


# ---------------------------------------------------------------------------------------------
# Errors. Messages never contain a token, code or secret: Amazon's error_description is not
# copied either (it is free text); only the error code and HTTP status are kept.
# ---------------------------------------------------------------------------------------------


class AmazonError(Exception):
    """Base for every failure talking to Amazon (LWA or the Ads API)."""

    def __init__(self, message: str, *, error_code: str, status: int | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.status = status


class TransientAmazonError(AmazonError):
    """5xx, 429, timeout or dropped connection: safe to retry later (with backoff)."""

    def __init__(
        self, message: str, *, error_code: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, error_code=error_code, status=status)
        self.retry_after = retry_after


class AmazonNotProcessedError(TransientAmazonError):
    """Amazon says it did not act on the request (429, 503 or ``temporarily_unavailable``), so
    even a single-use authorization code is unspent and may be sent again."""


class AmbiguousAmazonError(TransientAmazonError):
    """The request may have reached Amazon (read timeout, connection dropped after sending).

    For a single-use authorization code this must NOT be retried: the code may be spent.
    """


class InvalidGrantError(AmazonError):
    """``invalid_grant``: this connection's code or refresh token is dead (one tenant's problem)."""


class InvalidClientError(AmazonError):
    """``invalid_client`` (401): the operator's client id/secret is wrong (every tenant's problem)."""


class UnauthorizedClientError(InvalidClientError):
    """``unauthorized_client``: the client id is known but not allowed this grant. Also the
    operator's problem, so it is handled as (and is) an ``InvalidClientError``; the error code
    keeps the difference visible in attempts and logs."""


class AmazonRequestRejectedError(AmazonError):
    """Any other non-transient 4xx from LWA (``invalid_request``, ``invalid_scope``, ...)."""


class AdsApiForbiddenError(AmazonError):
    """403 from the Ads API: view-only user, missing Scope header, or profile not yet propagated."""


class AdsApiUnauthorizedError(AmazonError):
    """401 from the Ads API: expired token, token from another region, or client not allow-listed."""


class ClientCredentialsMissingError(Exception):
    """The LWA client secret has not been filled in by the operator yet."""


class LeaseHeldError(Exception):
    """Another worker holds the connection's refresh lease."""


class NotDueError(Exception):
    """A lease asked for only if the connection is due found it not due, not active or absent:
    nothing was written. ``connection`` is the stored one (None when there is none)."""

    def __init__(self, message: str, *, connection: Connection | None) -> None:
        super().__init__(message)
        self.connection = connection


class StaleGrantError(Exception):
    """A conditional write lost against a newer grant version."""


class TenantNotFoundError(Exception):
    """No connection of this tenant exists (in any status)."""


class ConnectionNotFoundError(Exception):
    """The tenant has no connection in this region."""


class ConnectionDisconnectedError(Exception):
    """The operator disconnected this connection; only a new connect session brings it back."""


class ConnectionNeedsReauthorizationError(Exception):
    """The grant is dead (``reauthorization_required``): only a new consent can restore it."""


class InvalidPageTokenError(ValueError):
    """A pagination token that this API did not issue (or issued for another filter)."""


# ---------------------------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        ...


class LwaClient(Protocol):
    """Talks to a region's LWA token endpoint (adapters/lwa.py)."""

    def exchange_code(
        self,
        region: Region,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
        credentials: ClientCredentials,
    ) -> TokenGrant: ...

    def refresh(
        self, region: Region, *, refresh_token: str, credentials: ClientCredentials
    ) -> TokenGrant: ...


class AdsApiClient(Protocol):
    """Talks to a region's Ads API host (adapters/ads_api.py)."""

    def list_profiles(
        self,
        region: Region,
        *,
        access_token: str,
        client_id: str,
        access_level: AccessLevel | None = None,
    ) -> Sequence[dict[str, Any]]:
        """Raw ``/v2/profiles`` entries; ``profileId`` preserved exactly (never a float)."""
        ...


class TokenVault(Protocol):
    """Secrets Manager (adapters/secrets.py): client credentials and per-connection secrets."""

    def read_client_credentials(self, *, fresh: bool = False) -> ClientCredentials:
        """The LWA client id + secret. An implementation may cache them for a few minutes;
        ``fresh=True`` reads the stored value now (and refreshes such a cache): the credentials
        check must test what is stored, not what this process read earlier."""
        ...

    def read_client_keyring(self, *, fresh: bool = False) -> ClientKeyring:
        """Every stored client (current first); cached like ``read_client_credentials``."""
        ...

    def write_client_keyring(self, keyring: ClientKeyring) -> None:
        """Store the operator's LWA clients (admin API ``PUT /admin/client-credentials``; the
        current client's id and secret stay where they always were in the secret's JSON), then
        the public copy of the current client id; a cache of this process then holds the new value."""
        ...

    def read_client_id(self) -> str:
        """The current LWA client id alone, from its public copy: what the consent page puts in
        Amazon's authorization URL, readable by a role that may not read the client secret. May be
        cached like the credentials; raises ``ClientCredentialsMissingError`` while it is not filled in."""
        ...

    def read_refresh_token(self, tenant_id: str, region: Region) -> StoredRefreshToken | None: ...

    def write_refresh_token(
        self, tenant_id: str, region: Region, *, refresh_token: str, grant_version: int, client_id: str
    ) -> None:
        """Store a grant's refresh token with the client id that obtained it."""
        ...

    def publish_access_token(self, token: PublishedAccessToken) -> None: ...

    def read_access_token(self, tenant_id: str, region: Region) -> PublishedAccessToken | None:
        """The consumer secret as published (profile re-sync uses the current access token)."""
        ...

    def delete_connection_secrets(
        self, tenant_id: str, region: Region, *, recovery_window_days: int
    ) -> None: ...


class EventPublisher(Protocol):
    """EventBridge lifecycle events (adapters/events.py). ``detail`` never holds a secret."""

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class Lease:
    """Proof of holding a connection's refresh lease (conditional write in DynamoDB)."""

    tenant_id: str
    region: Region
    owner: str
    expires_at: datetime


# The one operator pause the product knows: ``invalid_client`` from LWA stops every refresh
# until the operator fixes the client secret (admin ``credentials check`` clears it).
CLIENT_CREDENTIALS_PAUSE = "client-credentials-invalid"
# Set when a grant's own client is no longer among the stored clients: those refreshes are not
# sent to LWA with another client (every one would answer invalid_grant). One alarm and event
# when it is set; cleared by ``credentials set``/``check`` once every active grant is covered.
CLIENT_MISMATCH_PAUSE = "client-mismatch"
# Set when the mass-revocation breaker first holds a revocation (one alarm and event); cleared by
# the operator's ``revocations confirm`` or by a successful refresh of a held connection.
REVOCATION_HOLD_PAUSE = "revocation-hold"
# The work-message trigger of the scheduler's one refresh per run while that pause is set: the
# worker lets it (and forced admin refreshes) through and skips every other queued refresh.
PROBE_TRIGGER = "probe"


@dataclass(frozen=True)
class OperatorPause:
    """An operator-wide stop (item ``pk=OPERATOR``, ``sk=<name>``), never one tenant's state."""

    name: str
    paused_at: datetime
    error_code: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of a paginated listing; ``next_token`` is opaque to callers."""

    items: Sequence[Any]
    next_token: str | None


class ConnectionStore(Protocol):
    """DynamoDB (adapters/connection_store.py): connections, profiles, attempts, leases, audit.

    Every write that changes a grant is conditional on ``grant_version`` so a late writer
    cannot overwrite a newer grant (raises ``StaleGrantError``).
    """

    def get_connection(self, tenant_id: str, region: Region) -> Connection | None: ...

    def list_connections(self, tenant_id: str) -> Sequence[Connection]: ...

    def acquire_lease(self, tenant_id: str, region: Region, *, owner: str, seconds: int) -> Lease:
        """Conditional write; raises ``LeaseHeldError`` while another owner's lease is unexpired."""
        ...

    def acquire_lease_and_read(
        self, tenant_id: str, region: Region, *, owner: str, seconds: int, due_by: datetime | None = None
    ) -> tuple[Lease, Connection | None]:
        """``acquire_lease`` that also returns the connection as stored (one round trip). With
        ``due_by``, the same single conditional write also requires the connection to be active
        and due by then, and raises ``NotDueError`` when it is not (checked before the lease:
        a connection that is not due is reported as such even while a lease is held)."""
        ...

    def iter_due_pages(
        self, *, now: datetime, page_size: int = 1000
    ) -> Iterator[list[tuple[str, Region]]]: ...

    def oldest_due_at(self) -> datetime | None: ...

    def release_lease(self, lease: Lease) -> None: ...

    def save_connection(
        self, connection: Connection, *, expected_grant_version: int | None, lease: Lease | None = None
    ) -> None:
        """Create (expected None: must not exist, or exist with any version when re-consenting
        through ``replace``) or update a connection; maintains the sparse index attributes
        (due_bucket only while ACTIVE, profile_sync_bucket while a re-check is due). With
        ``lease``, the write also requires that lease still to be held (its owner on the item),
        like ``record_refresh``; either condition failing raises ``StaleGrantError``."""
        ...

    def record_refresh(
        self,
        connection: Connection,
        attempt: RefreshAttempt,
        *,
        lease: Lease | None,
        clear_operator_pause: str | tuple[str, ...] | None = None,
    ) -> None:
        """Write the connection's new state and the attempt log entry in one transaction,
        releasing ``lease`` in the same write. ``clear_operator_pause`` also removes that pause
        (or those) in the same transaction (a successful refresh proves the client credentials
        work, and a held revocation wrong)."""
        ...

    def list_profiles(self, tenant_id: str, region: Region | None = None) -> Sequence[ProfileMapping]: ...

    def save_profiles(self, tenant_id: str, region: Region, profiles: Sequence[ProfileMapping]) -> None:
        """Upsert these; profiles of (tenant, region) not in the list are marked ``gone``."""
        ...

    def find_tenants_by_profile(self, profile_id: str) -> Sequence[tuple[str, Region]]: ...

    def list_refresh_attempts(self, tenant_id: str, *, limit: int) -> Sequence[RefreshAttempt]: ...

    def due_connections(self, *, now: datetime, limit: int | None = None) -> Sequence[tuple[str, Region]]:
        """Keys of active connections with ``refresh_due_at <= now`` (due-index query, never a scan)."""
        ...

    def profile_sync_due(
        self, *, now: datetime, limit: int | None = None
    ) -> Sequence[tuple[str, Region]]: ...

    def list_connections_by_status(
        self, status: ConnectionStatus, *, limit: int, next_token: str | None
    ) -> Page: ...

    def append_audit(self, tenant_id: str, action: str, detail: dict[str, Any]) -> None: ...

    def get_operator_pause(self, name: str) -> OperatorPause | None: ...

    def set_operator_pause(self, pause: OperatorPause) -> bool:
        """Set the pause unless it is already set (one conditional write, so the first pause
        time is kept); True only for the call that created it (concurrent workers hitting the
        same error: exactly one of them announces the pause)."""
        ...

    def clear_operator_pause(self, name: str) -> bool:
        """Remove the pause; True when one was set."""
        ...

    def note_revocation(self, tenant_id: str, region: Region, *, at: datetime, window: timedelta) -> int:
        """Record that this connection answered ``invalid_grant`` at ``at``; return how many
        distinct connections did within ``window`` up to then, this one included."""
        ...

    def count_active_connections(self) -> int:
        """Active connections (a count query on the status index)."""
        ...

    def list_revocation_held(self) -> Sequence[Connection]:
        """Active connections whose revocation the breaker holds."""
        ...

    def count_grants_by_client(self) -> dict[str | None, int]:
        """Active connections per recorded client id (None: not recorded yet), from the status
        index (never a scan)."""
        ...

    def count_reauthorization_grants_by_client(self) -> dict[str | None, int]:
        """``reauthorization_required`` connections per recorded client id, from the status
        index: their refresh token stays stored, so ``connections reactivate`` still needs their
        client."""
        ...


class ConsentStore(Protocol):
    """DynamoDB (adapters/consent_store.py): connect sessions, OAuth states, result records.

    Ids are random bearer values; the store keys everything by their SHA-256.
    """

    def put_session(self, session_id: str, record: ConnectSessionRecord) -> None: ...

    def get_session(self, session_id: str) -> ConnectSessionRecord | None: ...

    def get_session_by_hash(self, session_hash: str) -> ConnectSessionRecord | None: ...

    def claim_session(self, session_hash: str, *, claim_id: str, now: datetime, until: datetime) -> bool:
        """Atomically claim an unused session for one callback until ``until`` (False when it is
        used, gone, or claimed by another callback whose claim has not lapsed)."""
        ...

    def release_session_claim(self, session_hash: str, *, claim_id: str) -> None:
        """Give the claim back (a failed callback leaves the session usable); a no-op when the
        claim is no longer ``claim_id``'s."""
        ...

    def mark_session_used(self, session_hash: str, *, used_at: datetime) -> None: ...

    def list_sessions(self, tenant_id: str) -> Sequence[tuple[str, ConnectSessionRecord]]:
        """The tenant's connect sessions that have not expired out of the table, as (session
        hash, record): the hash names a session without being its bearer id."""
        ...

    def revoke_session(self, session_hash: str, *, revoked_at: datetime) -> bool:
        """Withdraw an unused session (one conditional write); False when it is unknown, used or
        already revoked."""
        ...

    def put_state(self, state: str, record: OAuthStateRecord) -> None: ...

    def consume_state(self, state: str) -> OAuthStateRecord | None:
        """Atomically delete and return the state (None when unknown or already consumed)."""
        ...

    def put_result(self, result_id: str, record: ConnectResultRecord) -> None: ...

    def get_result(self, result_id: str) -> ConnectResultRecord | None: ...
