"""Request and response bodies of the admin API (``/admin/...``), shared by the handler and the CLI.

Responses never carry a secret: the client secret is write-only, tokens are never read back.
Times are ISO-8601 UTC strings on the wire (pydantic serialises ``datetime``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from ads_connect.models.records import (
    AccessLevel,
    Connection,
    ConnectionStatus,
    ProfileMapping,
    ProfilesState,
    RefreshAttempt,
    RefreshOutcome,
)
from ads_connect.regions import Region

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


class ClientCredentialsRequest(_Request):
    """``PUT /admin/client-credentials``. The secret is a ``SecretStr``: it prints as ``**********``."""

    client_id: str = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9._:-]+$")
    client_secret: SecretStr = Field(min_length=1, max_length=512)
    # Storing a client that holds none of the active grants is refused unless one is chosen
    # (logic/clients.py): keep the other clients for their grants, or drop them.
    add_client: bool = False
    replace_client: bool = False

    @model_validator(mode="after")
    def _one_client_choice(self) -> ClientCredentialsRequest:
        # The two answers to "a client that holds none of the grants" exclude each other.
        if self.add_client and self.replace_client:
            raise ValueError("choose one of add_client and replace_client")
        return self

    @field_validator("client_secret")
    @classmethod
    def _no_whitespace(cls, value: SecretStr) -> SecretStr:
        # A pasted secret with a trailing newline or a space inside is a copy mistake, not a secret.
        if any(ch.isspace() or not ch.isprintable() for ch in value.get_secret_value()):
            raise ValueError("client_secret must not contain whitespace or control characters")
        return value


class ConnectSessionRequest(_Request):
    """``POST /admin/tenants/{tenant_id}/connect-sessions``; every field optional."""

    display_name: str | None = Field(default=None, min_length=1, max_length=80)
    region: Region | None = None
    return_url: str | None = Field(default=None, min_length=1, max_length=2048)
    lifetime_seconds: int | None = Field(default=None, ge=60, le=7 * 24 * 3600)


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------


class ClientCredentialsWritten(_Response):
    client_id: str
    updated_at: datetime
    # rotate_secret | add_client | replace_client (logic/clients.py ClientChange)
    change: str
    # Current client first; the others are kept for the grants they obtained.
    stored_client_ids: list[str]
    # Active grants per client id ("unrecorded": obtained before grants recorded their client).
    grants_by_client: dict[str, int]
    # Active grants whose client is no longer stored: they pause (client_mismatch), nothing revoked.
    uncovered_grants: dict[str, int]
    mismatch_pause_cleared: bool
    message: str


class CredentialsCheckResult(StrEnum):
    ACCEPTED = "accepted"  # Amazon authenticated the client (answered invalid_grant for the probe)
    REJECTED = "rejected"  # invalid_client / unauthorized_client: id or secret wrong
    INCONCLUSIVE = "inconclusive"  # another 4xx: Amazon did not say either way


class CredentialsCheck(_Response):
    client_id: str
    result: CredentialsCheckResult
    valid: bool
    amazon_error_code: str | None
    pause_cleared: bool
    message: str
    stored_client_ids: list[str]
    grants_by_client: dict[str, int]
    # Active grants whose client is not stored; empty when the stored clients cover them all.
    uncovered_grants: dict[str, int]
    covers_all_grants: bool


class ConnectSessionCreated(_Response):
    tenant_id: str
    consent_url: str
    expires_at: datetime
    region: Region | None = None


class ConnectionView(_Response):
    tenant_id: str
    region: Region
    status: ConnectionStatus
    display_name: str | None
    client_id: str | None
    connected_at: datetime
    profile_count: int
    profiles_state: ProfilesState
    profiles_state_reason: str | None
    view_only: bool
    access_token_expires_at: datetime | None
    refresh_due_at: datetime | None
    last_refresh_success_at: datetime | None
    last_refresh_failure_at: datetime | None
    last_refresh_error_code: str | None
    consecutive_failures: int
    reauthorization_required_at: datetime | None
    disconnected_at: datetime | None

    @classmethod
    def of(cls, connection: Connection) -> ConnectionView:
        return cls(
            tenant_id=connection.tenant_id,
            region=connection.region,
            status=connection.status,
            display_name=connection.display_name,
            client_id=connection.client_id,
            connected_at=connection.connected_at,
            profile_count=connection.profile_count,
            profiles_state=connection.profiles_state,
            profiles_state_reason=connection.profiles_state_reason,
            view_only=connection.view_only,
            access_token_expires_at=connection.access_token_expires_at,
            refresh_due_at=connection.refresh_due_at,
            last_refresh_success_at=connection.last_refresh_success_at,
            last_refresh_failure_at=connection.last_refresh_failure_at,
            last_refresh_error_code=connection.last_refresh_error_code,
            consecutive_failures=connection.consecutive_failures,
            reauthorization_required_at=connection.reauthorization_required_at,
            disconnected_at=connection.disconnected_at,
        )


class ConnectionList(_Response):
    items: list[ConnectionView]
    next_token: str | None


class TenantSummary(_Response):
    """One tenant in ``GET /admin/tenants``: every connection it has (all statuses, by region)
    and the figures an operator scans for; built by ``logic.admin`` (which owns the status order)."""

    tenant_id: str
    # The most urgent status among its connections (reauthorization_required, active, disconnected).
    status: ConnectionStatus
    connections: list[ConnectionView]
    profile_count: int
    # The worst consecutive-failure count of its connections.
    consecutive_failures: int
    # Among its active connections: the soonest access-token expiry, and the oldest of their
    # last successful refreshes (connections never refreshed since their consent aside).
    soonest_access_token_expires_at: datetime | None
    stalest_refresh_success_at: datetime | None


class TenantList(_Response):
    items: list[TenantSummary]
    next_token: str | None


class ProfileView(_Response):
    region: Region
    profile_id: str
    country_code: str | None
    currency_code: str | None
    marketplace_id: str | None
    account_id: str | None
    account_type: str | None
    account_name: str | None
    access_level: AccessLevel
    gone: bool
    first_seen_at: datetime
    last_seen_at: datetime

    @classmethod
    def of(cls, profile: ProfileMapping) -> ProfileView:
        return cls(
            region=profile.region,
            profile_id=profile.profile_id,
            country_code=profile.country_code,
            currency_code=profile.currency_code,
            marketplace_id=profile.marketplace_id,
            account_id=profile.account_id,
            account_type=profile.account_type,
            account_name=profile.account_name,
            access_level=profile.access_level,
            gone=profile.gone,
            first_seen_at=profile.first_seen_at,
            last_seen_at=profile.last_seen_at,
        )


class RefreshAttemptView(_Response):
    region: Region
    attempted_at: datetime
    outcome: RefreshOutcome
    error_code: str | None
    latency_ms: int
    rotated: bool
    trigger: str

    @classmethod
    def of(cls, attempt: RefreshAttempt) -> RefreshAttemptView:
        return cls(
            region=attempt.region,
            attempted_at=attempt.attempted_at,
            outcome=attempt.outcome,
            error_code=attempt.error_code,
            latency_ms=attempt.latency_ms,
            rotated=attempt.rotated,
            trigger=attempt.trigger,
        )


class TenantDetail(_Response):
    tenant_id: str
    connections: list[ConnectionView]
    profiles: list[ProfileView]
    refresh_attempts: list[RefreshAttemptView]


class RefreshResult(_Response):
    tenant_id: str
    region: Region
    attempt: RefreshAttemptView
    connection: ConnectionView | None


class Reactivation(_Response):
    """``POST /admin/tenants/{tenant_id}/connections/{region}/reactivate``: whether one refresh with
    the grant's own client brought a ``reauthorization_required`` connection back."""

    tenant_id: str
    region: Region
    reactivated: bool
    # succeeded | already_active | no_refresh_token | the refresh attempt's outcome
    outcome: str
    error_code: str | None
    message: str
    connection: ConnectionView | None


class ProfileResyncResult(_Response):
    tenant_id: str
    region: Region
    connection: ConnectionView
    profiles: list[ProfileView]


class Disconnected(_Response):
    tenant_id: str
    region: Region
    status: ConnectionStatus
    disconnected_at: datetime
    recovery_window_days: int
    already_disconnected: bool
    # Unused connect sessions of the tenant (this region or none) withdrawn by the disconnect.
    sessions_revoked: int = 0


class RevocationsConfirmed(_Response):
    """``POST /admin/revocations/confirm``: held revocations applied (each connection is now
    ``reauthorization_required``, with its event); ``busy`` ones were being refreshed: repeat."""

    confirmed: list[ConnectionView]
    busy: int
    pause_cleared: bool


class SessionState(StrEnum):
    OPEN = "open"
    USED = "used"
    REVOKED = "revoked"
    EXPIRED = "expired"


class SessionView(_Response):
    """A connect session as the operator sees it: named by the SHA-256 of its id (``session_ref``),
    never by the id itself, which is the bearer part of the consent URL."""

    session_ref: str
    tenant_id: str
    region: Region | None
    display_name: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    state: SessionState


class SessionList(_Response):
    items: list[SessionView]


class SessionRevoked(_Response):
    session_ref: str
    tenant_id: str
    revoked: bool
    state: SessionState


class ErrorDetail(_Response):
    code: str
    message: str
    reference: str


class ErrorBody(_Response):
    error: ErrorDetail
