"""Pure rules of the flows: ids and PKCE, backoff, token timing, sessions, regions, profiles."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from ads_connect.logic.backoff import CAP_SECONDS, backoff_delay
from ads_connect.logic.connect_session import (
    ConnectSessionRequestError,
    check_return_url,
    create_connect_session,
)
from ads_connect.logic.consent import parse_region
from ads_connect.logic.consent_errors import ConsentFlowError, FailureKind
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
from ads_connect.models.consent import ConnectSessionRecord
from ads_connect.models.records import (
    AccessLevel,
    Connection,
    ConnectionStatus,
    InvalidTenantIdError,
    ProfilesState,
)
from ads_connect.models.settings import PagesSettings
from ads_connect.regions import Region

from tests.fakes.clock import FakeClock

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


def _settings() -> PagesSettings:
    return PagesSettings.from_environment(
        {
            "ADS_CONNECT_TABLE_NAME": "tbl",
            "ADS_CONNECT_SECRET_PREFIX": "p",
            "ADS_CONNECT_LWA_SECRET_ID": "s",
            "ADS_CONNECT_EVENT_BUS_NAME": "b",
            "ADS_CONNECT_APP_NAME": "App",
            "ADS_CONNECT_ALLOWED_RETURN_URLS": '["https://app.example.com/done"]',
            "ADS_CONNECT_PUBLIC_BASE_URL": "https://connect.example.com",
        }
    )


class _SessionStore:
    def __init__(self) -> None:
        self.sessions: dict[str, ConnectSessionRecord] = {}

    def put_session(self, session_id: str, record: ConnectSessionRecord) -> None:
        self.sessions[session_id] = record


def test_connect_session_defaults_and_bounds() -> None:
    store = _SessionStore()
    created = create_connect_session(
        "acme",
        display_name=None,
        region=None,
        return_url=None,
        lifetime_seconds=None,
        consent_store=store,
        clock=FakeClock(NOW),
        settings=_settings(),
    )  # type: ignore[arg-type]
    session_id = created.consent_url.rsplit("/", 1)[1]
    assert created.consent_url == f"https://connect.example.com/connect/{session_id}"
    assert (
        created.expires_at == NOW + timedelta(minutes=30) and store.sessions[session_id].tenant_id == "acme"
    )
    for lifetime in (59, 7 * 86400 + 1):
        with pytest.raises(ConnectSessionRequestError):
            create_connect_session(
                "acme",
                display_name=None,
                region=None,
                return_url=None,
                lifetime_seconds=lifetime,
                consent_store=store,
                clock=FakeClock(NOW),
                settings=_settings(),
            )  # type: ignore[arg-type]
    with pytest.raises(InvalidTenantIdError):
        create_connect_session(
            "../etc",
            display_name=None,
            region=None,
            return_url=None,
            lifetime_seconds=None,
            consent_store=store,
            clock=FakeClock(NOW),
            settings=_settings(),
        )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/done",
        "https://app.example.com/done?x=1",
        "https://app.example.com/done#f",
        "javascript:alert(1)",
        "https://app.example.com/done/",
    ],
)
def test_return_urls_must_match_the_allow_list_exactly(url: str) -> None:
    with pytest.raises(ConnectSessionRequestError):
        check_return_url(url, ("https://app.example.com/done",))
    assert check_return_url("https://app.example.com/done", ("https://app.example.com/done",))


def test_region_choice_respects_a_fixed_region() -> None:
    free = ConnectSessionRecord(tenant_id="t", created_at=NOW, expires_at=NOW)
    assert parse_region("EU", free) is Region.EU
    for bad in (None, "", "eu", "XX"):
        with pytest.raises(ConsentFlowError) as raised:
            parse_region(bad, free)
        assert raised.value.kind is FailureKind.INVALID_REGION
    fixed = free.model_copy(update={"region": Region.FE})
    assert parse_region(None, fixed) is Region.FE
    with pytest.raises(ConsentFlowError):
        parse_region("NA", fixed)


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
