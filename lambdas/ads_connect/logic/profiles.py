"""Profile discovery and reconciliation (flow 4), used at consent and by periodic re-sync.

- ``GET /v2/profiles``; on 403 retry once with ``accessLevel=view`` and mark the connection
  view-only (view-only users get 403 without it).
- An empty list is not an error: the account has no campaigns yet, or lives in another region.
- 403 on both, 401 or a transient failure: profiles are "pending" (a newly linked profile can
  take up to an hour to propagate); stored mappings are left as they are and re-checked soon.
- Profiles that disappear are marked gone, never deleted.

A re-sync holds the connection's lease and saves the connection only while it still holds it:
a re-sync that outlived its lease leaves the newer writer's connection as it is.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ads_connect.logic.ports import (
    AdsApiClient,
    AdsApiForbiddenError,
    AdsApiUnauthorizedError,
    AmazonError,
    Clock,
    ConnectionStore,
    EventPublisher,
    Lease,
    StaleGrantError,
    TokenVault,
)
from ads_connect.models.records import (
    PROFILE_ID_PATTERN,
    AccessLevel,
    Connection,
    ConnectionStatus,
    ProfileMapping,
    ProfilesState,
)
from ads_connect.models.strict import RecordError
from ads_connect.observability import logger
from ads_connect.regions import Region

PROFILES_CHANGED_EVENT = "Profiles Changed"
REASON_EMPTY = (
    "Amazon returned no advertising profiles. Profiles appear only after the account's first "
    "campaign, or the account may be in another Amazon region."
)
REASON_FORBIDDEN = (
    "Amazon refused to list the profiles (403). A newly linked profile can take up to an hour "
    "to propagate; it will be checked again automatically."
)
REASON_UNAUTHORIZED = (
    "Amazon did not accept the access token for the Ads API (401). A newly approved application "
    "can take a while to be allow-listed; it will be checked again automatically."
)
REASON_UNAVAILABLE = "The Amazon Ads API was unavailable; profiles will be checked again automatically."

# Re-check cadence: soon while profiles may still be propagating, daily once they are known.
RECHECK_SOON = timedelta(minutes=15)
RECHECK_LATER = timedelta(hours=6)
RECHECK_SETTLED = timedelta(hours=24)
PROPAGATION_WINDOW = timedelta(hours=2)
RESYNC_LEASE_SECONDS = 60
PROFILE_ID = re.compile(PROFILE_ID_PATTERN)


@dataclass(frozen=True)
class ProfileSyncResult:
    state: ProfilesState
    reason: str | None
    view_only: bool
    # The non-gone mappings after this sync (unchanged stored ones when the state is PENDING).
    profiles: Sequence[ProfileMapping]
    changed: bool
    added: Sequence[str] = ()
    removed: Sequence[str] = ()
    # Entries of Amazon's answer that could not be mapped (no exact numeric profileId).
    skipped: int = 0


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def mapping_from_api(
    tenant_id: str,
    region: Region,
    raw: Mapping[str, Any],
    *,
    access_level: AccessLevel,
    now: datetime,
    first_seen_at: datetime | None,
) -> ProfileMapping:
    account_info = raw.get("accountInfo")
    account: Mapping[str, Any] = account_info if isinstance(account_info, dict) else {}
    valid_payment = account.get("validPaymentMethod")
    return ProfileMapping(
        tenant_id=tenant_id,
        region=region,
        profile_id=str(raw["profileId"]),
        country_code=_text(raw.get("countryCode")),
        currency_code=_text(raw.get("currencyCode")),
        timezone=_text(raw.get("timezone")),
        marketplace_id=_text(account.get("marketplaceStringId")),
        account_id=_text(account.get("id")),
        account_type=_text(account.get("type")),
        account_sub_type=_text(account.get("subType")),
        account_name=_text(account.get("name")),
        valid_payment_method=valid_payment if isinstance(valid_payment, bool) else None,
        access_level=access_level,
        first_seen_at=first_seen_at or now,
        last_seen_at=now,
    )


def _comparable(profile: ProfileMapping) -> tuple[Any, ...]:
    return tuple(v for k, v in profile.values().items() if k not in ("first_seen_at", "last_seen_at"))


def sync_profiles(
    tenant_id: str,
    region: Region,
    *,
    access_token: str,
    client_id: str,
    ads: AdsApiClient,
    store: ConnectionStore,
    clock: Clock,
) -> ProfileSyncResult:
    existing = {p.profile_id: p for p in store.list_profiles(tenant_id, region)}
    active_before = {pid: p for pid, p in existing.items() if not p.gone}
    view_only = False
    try:
        try:
            raw_profiles = ads.list_profiles(region, access_token=access_token, client_id=client_id)
        except AdsApiForbiddenError:
            raw_profiles = ads.list_profiles(
                region, access_token=access_token, client_id=client_id, access_level=AccessLevel.VIEW
            )
            view_only = True
    except AdsApiForbiddenError:
        return ProfileSyncResult(
            ProfilesState.PENDING, REASON_FORBIDDEN, False, list(active_before.values()), False
        )
    except AdsApiUnauthorizedError:
        return ProfileSyncResult(
            ProfilesState.PENDING, REASON_UNAUTHORIZED, False, list(active_before.values()), False
        )
    except AmazonError:
        return ProfileSyncResult(
            ProfilesState.PENDING, REASON_UNAVAILABLE, False, list(active_before.values()), False
        )

    now = clock.now()
    level = AccessLevel.VIEW if view_only else AccessLevel.EDIT
    profiles: list[ProfileMapping] = []
    seen: set[str] = set()
    skipped = 0
    for raw in raw_profiles:
        profile_id = str(raw.get("profileId", ""))
        # An entry without a usable id (missing, or a float that lost digits) cannot be mapped
        # exactly; it is counted, never guessed at. Duplicates keep their first occurrence.
        if not PROFILE_ID.fullmatch(profile_id):
            skipped += 1
            continue
        if profile_id in seen:
            continue
        seen.add(profile_id)
        previous = existing.get(profile_id)
        try:
            profiles.append(
                mapping_from_api(
                    tenant_id,
                    region,
                    raw,
                    access_level=level,
                    now=now,
                    first_seen_at=previous.first_seen_at if previous else None,
                )
            )
        except RecordError:
            skipped += 1
    store.save_profiles(tenant_id, region, profiles)
    after = {p.profile_id: p for p in profiles}
    added = sorted(set(after) - set(active_before))
    removed = sorted(set(active_before) - set(after))
    changed = bool(added or removed) or any(
        _comparable(after[pid]) != _comparable(active_before[pid]) for pid in set(after) & set(active_before)
    )
    state = ProfilesState.OK if profiles else ProfilesState.EMPTY
    return ProfileSyncResult(
        state, None if profiles else REASON_EMPTY, view_only, profiles, changed, added, removed, skipped
    )


def next_profile_check(connection: Connection, result: ProfileSyncResult, now: datetime) -> datetime:
    if result.state is ProfilesState.OK:
        return now + RECHECK_SETTLED
    young = now - (connection.consented_at or connection.connected_at) < PROPAGATION_WINDOW
    return now + (RECHECK_SOON if young else RECHECK_LATER)


def apply_profile_result(connection: Connection, result: ProfileSyncResult, now: datetime) -> Connection:
    update: dict[str, Any] = {
        "profiles_state": result.state,
        "profiles_state_reason": result.reason,
        "profiles_checked_at": now,
        "profile_sync_due_at": next_profile_check(connection, result, now),
    }
    if result.state is not ProfilesState.PENDING:
        update["view_only"] = result.view_only
        update["profile_count"] = len(result.profiles)
    return connection.replace(**update)


def profiles_changed_detail(
    connection: Connection, result: ProfileSyncResult, trigger: str
) -> dict[str, Any]:
    return {
        "tenant_id": connection.tenant_id,
        "region": connection.region.value,
        "profile_count": len(result.profiles),
        "added_profile_ids": list(result.added),
        "removed_profile_ids": list(result.removed),
        "view_only": result.view_only,
        "trigger": trigger,
    }


def resync_connection_profiles(
    connection: Connection,
    *,
    trigger: str,
    store: ConnectionStore,
    vault: TokenVault,
    ads_api: AdsApiClient,
    events: EventPublisher,
    clock: Clock,
    **_unused: Any,
) -> Connection:
    """Re-read ``/v2/profiles`` for one connection under its lease (so a concurrent refresh
    cannot write back an older copy of the profile fields). Returns the stored connection: the
    re-sync's result, or, when the lease was lost before the save, the newer writer's."""
    lease = store.acquire_lease(
        connection.tenant_id,
        connection.region,
        owner=f"resync-{uuid.uuid4().hex[:12]}",
        seconds=RESYNC_LEASE_SECONDS,
    )
    try:
        current = store.get_connection(connection.tenant_id, connection.region)
        if current is None or current.status is not ConnectionStatus.ACTIVE:
            return current or connection
        now = clock.now()
        token = vault.read_access_token(current.tenant_id, current.region)
        if token is None or token.expires_at <= now + timedelta(minutes=2):
            # No usable access token right now: the next refresh publishes one; check after it.
            result = ProfileSyncResult(ProfilesState.PENDING, REASON_UNAVAILABLE, False, [], False)
            postponed = current.replace(profile_sync_due_at=now + RECHECK_SOON)
            if _save_under_lease(store, postponed, lease, expected_grant_version=current.grant_version):
                return postponed
            return store.get_connection(current.tenant_id, current.region) or current
        result = sync_profiles(
            current.tenant_id,
            current.region,
            access_token=token.access_token,
            client_id=token.client_id,
            ads=ads_api,
            store=store,
            clock=clock,
        )
        updated = apply_profile_result(current, result, now)
        saved = _save_under_lease(store, updated, lease, expected_grant_version=current.grant_version)
    finally:
        store.release_lease(lease)
    # Announced even when the connection was not saved: the profile mappings themselves were
    # stored by sync_profiles, and the next re-sync would find no difference to announce.
    if result.changed:
        events.publish(PROFILES_CHANGED_EVENT, profiles_changed_detail(updated, result, trigger))
    if saved:
        return updated
    return store.get_connection(current.tenant_id, current.region) or current


def _save_under_lease(
    store: ConnectionStore, connection: Connection, lease: Lease, *, expected_grant_version: int
) -> bool:
    """Save the re-sync's connection only while ``lease`` is still ours. False (logged, nothing
    written) when it expired and another writer took over: that writer's copy (a refresh's new
    token expiry, a re-consent's grant) is newer than the one this re-sync started from."""
    try:
        store.save_connection(connection, expected_grant_version=expected_grant_version, lease=lease)
    except StaleGrantError:
        logger.warning(
            "profile re-sync not saved: its lease was lost or the connection changed meanwhile",
            extra={"tenant_id": connection.tenant_id, "region": connection.region.value},
        )
        return False
    return True
