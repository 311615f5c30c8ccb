"""Short-lived records of the consent flow: connect sessions, OAuth states, result pages.

Stored under SESSION#/STATE#/RESULT# keys named by the SHA-256 of their random id, so a table
read never yields a usable consent URL, state or result link.
"""

from __future__ import annotations

from dataclasses import field
from datetime import datetime
from enum import StrEnum

from ads_connect.models.records import AccessLevel, ProfilesState, TenantId
from ads_connect.models.strict import Record
from ads_connect.regions import Region


class ConnectSessionRecord(Record):
    tenant_id: TenantId
    display_name: str | None = None
    region: Region | None = None
    return_url: str | None = None
    created_at: datetime
    expires_at: datetime
    # Set when the session produced a connection; a used session starts nothing more.
    used_at: datetime | None = None
    # Set when the operator withdrew the link (``sessions revoke``) or disconnected the tenant:
    # a revoked session starts nothing more either.
    revoked_at: datetime | None = None


class OAuthStateRecord(Record):
    session_hash: str
    tenant_id: TenantId
    region: Region
    redirect_uri: str
    # The PKCE verifier is a secret of this flow: it lives only here, for minutes, never logged.
    code_verifier: str = field(repr=False)
    browser_binding_hash: str
    created_at: datetime
    expires_at: datetime
    # The LWA client the authorization URL named: Amazon binds the code to it, so the callback
    # exchanges the code with exactly this client. None: a state written before it was recorded
    # (the callback then uses the current client, as it did then).
    client_id: str | None = None


class ResultOutcome(StrEnum):
    CONNECTED = "connected"


class ResultProfile(Record):
    profile_id: str
    name: str | None = None
    country_code: str | None = None
    account_type: str | None = None
    access_level: AccessLevel = AccessLevel.EDIT


class ConnectResultRecord(Record):
    """What the success page shows after the callback redirected away from the code."""

    tenant_id: TenantId
    display_name: str | None = None
    region: Region
    reconsent: bool = False
    profiles: list[ResultProfile] = field(default_factory=list)
    profiles_state: ProfilesState
    profiles_state_reason: str | None = None
    view_only: bool = False
    browser_binding_hash: str
    expires_at: datetime
