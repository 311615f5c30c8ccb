"""Domain records: what the product knows about tenants, connections and profiles.

Pure data (checked dataclasses, models/strict.py), no I/O. The DynamoDB store adapter maps
these to and from items. Times are timezone-aware UTC ``datetime`` values; the store keeps epoch
seconds where an index sorts on them.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from ads_connect.models.strict import Bounds, Record, pattern
from ads_connect.regions import Region

# Secrets Manager accepts a recovery window of 7 to 30 days (DeleteSecret, RecoveryWindowInDays).
MIN_RECOVERY_DAYS = 7
MAX_RECOVERY_DAYS = 30
DEFAULT_RECOVERY_DAYS = 7

# Tenant ids come from the operator's system: letters, digits, dot, dash, underscore; 1-64.
# Narrow on purpose: they appear in secret names, DynamoDB keys and IAM resource patterns.
TENANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


# An Ads API profile id: digits only (logic/profiles.py skips any other the API returns).
PROFILE_ID_PATTERN = r"[0-9]{1,30}"


class InvalidTenantIdError(ValueError):
    """A tenant id that does not match TENANT_ID_PATTERN."""


def validate_tenant_id(value: str) -> str:
    if not TENANT_ID_PATTERN.fullmatch(value):
        raise InvalidTenantIdError(
            "tenant id must be 1-64 letters, digits, '.', '-' or '_', starting with a letter or digit"
        )
    return value


TenantId = Annotated[str, validate_tenant_id]


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    REAUTHORIZATION_REQUIRED = "reauthorization_required"
    DISCONNECTED = "disconnected"


class ProfilesState(StrEnum):
    OK = "ok"
    # Consent succeeded but /v2/profiles returned []: no campaigns yet, or wrong region.
    EMPTY = "empty"
    # Profiles could not be read yet (403 during propagation, throttling, 5xx): re-checked later.
    PENDING = "pending"


class AccessLevel(StrEnum):
    EDIT = "edit"
    VIEW = "view"


class RefreshOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    TRANSIENT_FAILURE = "transient_failure"
    REAUTHORIZATION_REQUIRED = "reauthorization_required"
    CLIENT_CREDENTIALS_INVALID = "client_credentials_invalid"
    SKIPPED_LEASE_HELD = "skipped_lease_held"
    SKIPPED_NOT_DUE = "skipped_not_due"
    # Refreshes are paused (client credentials invalid) and this was not the probe: no call made.
    SKIPPED_PAUSED = "skipped_paused"
    # The grant's own client is not among the stored clients: LWA was not called, nothing marked.
    CLIENT_MISMATCH = "client_mismatch"
    # invalid_grant while many connections answer it at once: held by the breaker, not applied.
    REVOCATION_HELD = "revocation_held"


class Connection(Record):
    """One tenant's grant in one Amazon region."""

    tenant_id: TenantId
    region: Region
    status: ConnectionStatus
    display_name: str | None = None
    # Bumped on every stored grant change (re-consent, rotated refresh token); a writer that
    # read an older version loses its conditional write.
    grant_version: Annotated[int, Bounds(ge=1)]
    # The LWA client that obtained the grant (a refresh token works only with it). None on
    # connections stored before it was recorded: their first successful refresh records it.
    client_id: str | None = None
    connected_at: datetime
    # The latest consent (first connection or re-consent): a just-linked profile can take an hour
    # to appear, counted from here. None on connections stored before the field existed.
    consented_at: datetime | None = None
    access_token_expires_at: datetime | None = None
    refresh_due_at: datetime | None = None
    view_only: bool = False
    profiles_state: ProfilesState = ProfilesState.PENDING
    profiles_state_reason: str | None = None
    profile_count: int = 0
    profiles_checked_at: datetime | None = None
    profile_sync_due_at: datetime | None = None
    last_refresh_success_at: datetime | None = None
    last_refresh_failure_at: datetime | None = None
    last_refresh_error_code: str | None = None
    consecutive_failures: int = 0
    reauthorization_required_at: datetime | None = None
    # Set while an invalid_grant of this connection is held by the mass-revocation breaker
    # (logic/breaker.py): still active and retried; a success clears it, the operator may confirm.
    revocation_held_at: datetime | None = None
    disconnected_at: datetime | None = None


class ProfileMapping(Record):
    """One advertising profile reachable through a connection."""

    tenant_id: TenantId
    region: Region
    # Kept as a string: profile ids can exceed 2^53 and must never pass through a float.
    profile_id: Annotated[str, pattern(PROFILE_ID_PATTERN, "1 to 30 digits")]
    country_code: str | None = None
    currency_code: str | None = None
    timezone: str | None = None
    marketplace_id: str | None = None
    account_id: str | None = None
    account_type: str | None = None  # seller | vendor | agency
    account_sub_type: str | None = None
    account_name: str | None = None
    valid_payment_method: bool | None = None
    access_level: AccessLevel = AccessLevel.EDIT
    gone: bool = False
    first_seen_at: datetime
    last_seen_at: datetime


class RefreshAttempt(Record):
    tenant_id: TenantId
    region: Region
    attempted_at: datetime
    outcome: RefreshOutcome
    error_code: str | None = None
    latency_ms: int = 0
    rotated: bool = False
    trigger: str = "schedule"  # schedule | probe | admin | sqs-redelivery
