"""Pure rules of the flows: ids and PKCE, backoff, token timing, sessions, regions, profiles."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

from ads_connect.logic.backoff import CAP_SECONDS, backoff_delay
from ads_connect.logic.grants import access_token_expiry, refresh_due_at
from ads_connect.logic.ids import id_hash, looks_like_id, new_id, pkce_pair
from ads_connect.logic.ports import TokenGrant
from ads_connect.logic.profiles import (
    RECHECK_SETTLED,
    RECHECK_SOON,
    ProfileSyncResult,
    apply_profile_result,
    mapping_from_api,
)
from ads_connect.models.records import (
    AccessLevel,
    Connection,
    ConnectionStatus,
    ProfilesState,
)
from ads_connect.regions import Region

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_ids_are_256_bit_urlsafe_and_stored_hashed() -> None:
    value = new_id()
    assert looks_like_id(value) and len(value) == 43 and value != new_id()
    assert id_hash(value) == hashlib.sha256(value.encode()).hexdigest()
    assert not looks_like_id("short") and not looks_like_id("x" * 42 + "!") and not looks_like_id(None)


def test_pkce_pair_is_s256() -> None:
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert challenge == base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip(
        "="
    )


def test_backoff_is_jittered_capped_and_honours_retry_after() -> None:
    assert backoff_delay(1, rng=lambda: 1.0) == 0.5
    assert backoff_delay(3, rng=lambda: 1.0) == 2.0
    assert backoff_delay(20, rng=lambda: 1.0) == CAP_SECONDS
    assert backoff_delay(2, rng=lambda: 0.0) == 0.0
    assert backoff_delay(5, retry_after=7) == 7
    assert backoff_delay(1, retry_after=600) == 60.0


def test_token_timing_is_bounded_and_never_schedules_the_past() -> None:
    grant = TokenGrant(access_token="a", refresh_token=None, expires_in=3600)
    expiry = access_token_expiry(NOW, grant)
    assert expiry == NOW + timedelta(hours=1)
    assert refresh_due_at(expiry, NOW, 900) == NOW + timedelta(minutes=45)
    assert access_token_expiry(NOW, TokenGrant("a", None, 10**6)) == NOW + timedelta(hours=1)
    short = access_token_expiry(NOW, TokenGrant("a", None, 5))
    assert refresh_due_at(short, NOW, 900) == NOW


def test_profile_mapping_keeps_ids_exact_and_tolerates_missing_fields() -> None:
    raw = {
        "profileId": "9007199254740993",
        "countryCode": "DE",
        "accountInfo": {"type": "vendor", "name": "V", "id": "ENTITY1", "validPaymentMethod": True},
    }
    mapping = mapping_from_api(
        "t", Region.EU, raw, access_level=AccessLevel.VIEW, now=NOW, first_seen_at=None
    )
    assert mapping.profile_id == "9007199254740993" and mapping.account_type == "vendor"
    assert mapping.first_seen_at == NOW and mapping.currency_code is None
    bare = mapping_from_api(
        "t",
        Region.EU,
        {"profileId": "1"},
        access_level=AccessLevel.EDIT,
        now=NOW,
        first_seen_at=NOW - timedelta(days=1),
    )
    assert bare.account_type is None and bare.first_seen_at == NOW - timedelta(days=1)


def test_profile_recheck_cadence() -> None:
    connection = Connection(
        tenant_id="t", region=Region.NA, status=ConnectionStatus.ACTIVE, grant_version=1, connected_at=NOW
    )
    ok = apply_profile_result(connection, ProfileSyncResult(ProfilesState.OK, None, False, [], False), NOW)
    assert ok.profile_sync_due_at == NOW + RECHECK_SETTLED
    pending = apply_profile_result(
        connection, ProfileSyncResult(ProfilesState.PENDING, "r", False, [], False), NOW
    )
    assert pending.profile_sync_due_at == NOW + RECHECK_SOON and pending.profiles_state_reason == "r"
    later = apply_profile_result(
        connection, ProfileSyncResult(ProfilesState.EMPTY, "r", False, [], False), NOW + timedelta(hours=3)
    )
    assert later.profile_sync_due_at == NOW + timedelta(hours=9)
