"""Token handling, in one place: expiry and due times, the order of writes, publishing.

The order is the product's core promise: a refresh token Amazon returned is durably written
before the access token is published or the connection is updated.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ads_connect.logic.ports import PublishedAccessToken, TokenGrant, TokenVault
from ads_connect.models.settings import ACCESS_TOKEN_LIFETIME_SECONDS
from ads_connect.regions import Region, RegionEndpoints

# A connection's first consent installs grant version 1 (logic/callback.py); every later grant
# (re-consent, rotated refresh token, disconnect) counts up from the connection's version.
FIRST_GRANT_VERSION = 1
# Amazon says one hour; never trust a longer claim, and never schedule in the past.
MAX_ACCESS_TOKEN_SECONDS = ACCESS_TOKEN_LIFETIME_SECONDS
MIN_ACCESS_TOKEN_SECONDS = 60


def access_token_expiry(now: datetime, grant: TokenGrant) -> datetime:
    seconds = max(MIN_ACCESS_TOKEN_SECONDS, min(grant.expires_in, MAX_ACCESS_TOKEN_SECONDS))
    return now + timedelta(seconds=seconds)


def refresh_due_at(expires_at: datetime, now: datetime, lead_seconds: int) -> datetime:
    """When the scheduler must refresh: ``lead_seconds`` before expiry, and not before now."""
    return max(now, expires_at - timedelta(seconds=lead_seconds))


def publish_access_token(
    vault: TokenVault,
    *,
    tenant_id: str,
    region: Region,
    grant: TokenGrant,
    expires_at: datetime,
    endpoints: RegionEndpoints,
    client_id: str,
    grant_version: int,
) -> None:
    """Replace the consumer secret. Called only under the connection's lease (refresh, callback),
    which outlives the function holding it; the next holder reads the connection afresh, so
    publishes of one connection never overlap and a slower writer cannot land an older token
    after a newer one. No read-before-write guard: it would cost every refresh one more AWS
    call (docs/architecture.md, "Publishing order")."""
    vault.publish_access_token(
        PublishedAccessToken(
            tenant_id=tenant_id,
            region=region,
            access_token=grant.access_token,
            expires_at=expires_at,
            api_url=endpoints.api_base,
            client_id=client_id,
            grant_version=grant_version,
        )
    )
