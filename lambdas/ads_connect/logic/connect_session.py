"""Flow 1: the operator creates a connect session; the tenant's advertiser gets its URL.

A session stays usable until it produces a connection (then it is used) or expires: opening
the link does not spend it, so a chat app's link preview cannot burn an invitation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from ads_connect.logic.ids import new_id
from ads_connect.logic.ports import Clock, ConsentStore
from ads_connect.models.consent import ConnectSessionRecord
from ads_connect.models.records import validate_tenant_id
from ads_connect.models.settings import PagesSettings
from ads_connect.regions import Region

DEFAULT_LIFETIME = timedelta(minutes=30)
MIN_LIFETIME = timedelta(minutes=1)
MAX_LIFETIME = timedelta(days=7)


class ConnectSessionRequestError(ValueError):
    """The operator's request is not acceptable (message says why; no secret in it)."""


@dataclass(frozen=True)
class CreatedConnectSession:
    tenant_id: str
    consent_url: str
    expires_at: datetime
    region: Region | None


def check_return_url(return_url: str, allowed: tuple[str, ...]) -> str:
    """Exact match against the allow-list (scheme, host, port and path), so a session can never
    send the browser somewhere the operator did not configure."""
    parts = urlsplit(return_url)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment or parts.query:
        raise ConnectSessionRequestError("return_url must be an absolute URL without query or fragment")
    if return_url not in allowed:
        raise ConnectSessionRequestError("return_url is not in the stack's allowed return URLs")
    return return_url


def consent_url(public_base_url: str, session_id: str) -> str:
    return f"{public_base_url.rstrip('/')}/connect/{session_id}"


def create_connect_session(
    tenant_id: str,
    *,
    display_name: str | None,
    region: Region | None,
    return_url: str | None,
    lifetime_seconds: int | None,
    consent_store: ConsentStore,
    clock: Clock,
    settings: PagesSettings,
    public_base_url: str | None = None,
    **_unused: Any,
) -> CreatedConnectSession:
    validate_tenant_id(tenant_id)
    lifetime = DEFAULT_LIFETIME if lifetime_seconds is None else timedelta(seconds=lifetime_seconds)
    if not MIN_LIFETIME <= lifetime <= MAX_LIFETIME:
        raise ConnectSessionRequestError("lifetime_seconds must be between 60 and 604800 (7 days)")
    if return_url is not None:
        check_return_url(return_url, settings.allowed_return_urls)
    base = public_base_url or settings.public_base_url
    if not base:
        raise ConnectSessionRequestError("the public base URL of the consent pages is unknown")
    now = clock.now()
    session_id = new_id()
    record = ConnectSessionRecord(
        tenant_id=tenant_id,
        display_name=display_name,
        region=region,
        return_url=return_url,
        created_at=now,
        expires_at=now + lifetime,
    )
    consent_store.put_session(session_id, record)
    return CreatedConnectSession(tenant_id, consent_url(base, session_id), record.expires_at, region)
