"""The emulator behaves as docs/emulator.md (and Amazon's documentation) says, over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest
import requests

from emulator import agency_profile, seller_profile
from tests.fixtures.amazon import TEST_REDIRECT_URI, RunningEmulator

CAMPAIGNS = "advertising::campaign_management"


def _token(em: RunningEmulator, region: str, **form: str) -> requests.Response:
    data = {"client_id": em.emu.client_id, "client_secret": em.emu.client_secret, **form}
    return requests.post(f"{em.base_url}/{region}/auth/o2/token", data=data, timeout=5)


def _api(em: RunningEmulator, region: str, path: str, token: str, **headers: str) -> requests.Response:
    sent = {
        "Authorization": f"Bearer {token}",
        "Amazon-Advertising-API-ClientId": em.emu.client_id,
        **headers,
    }
    return requests.get(f"{em.base_url}/{region}/api{path}", headers=sent, timeout=5)


@pytest.fixture
def em(amazon_emulator: RunningEmulator) -> RunningEmulator:
    amazon_emulator.emu.add_user(
        "u1",
        profiles={"NA": [seller_profile(2**53 + 3)], "EU": [agency_profile(42, "UK")]},
    )
    amazon_emulator.emu.headless = "allow"
    return amazon_emulator


def test_unknown_client_or_unregistered_redirect_gets_an_error_page_not_a_redirect(
    em: RunningEmulator,
) -> None:
    for params in ({"client_id": "other"}, {"redirect_uri": "https://evil.example/cb"}):
        query = {
            "client_id": em.emu.client_id,
            "scope": CAMPAIGNS,
            "response_type": "code",
            "redirect_uri": TEST_REDIRECT_URI,
            **params,
        }
        response = requests.get(f"{em.base_url}/NA/ap/oa", params=query, allow_redirects=False, timeout=5)
        assert response.status_code == 400 and "Location" not in response.headers
        assert "text/html" in response.headers["Content-Type"]


def test_unknown_scope_or_unapproved_app_redirects_with_invalid_scope(em: RunningEmulator) -> None:
    assert em.authorize("NA", scope="advertising::everything")["error"] == "invalid_scope"
    em.emu.approved_for_ads = False
    result = em.authorize("NA")
    assert (
        result["error"] == "invalid_scope" and result["error_description"] == "An unknown scope was requested"
    )
    assert result["state"] == "s"


def test_deny_redirects_access_denied_with_state(em: RunningEmulator) -> None:
    em.emu.headless = "deny"
    assert em.authorize("EU", state="xyz") == {
        "error": "access_denied",
        "error_description": "The user denied the request",
        "state": "xyz",
    }


def test_browser_mode_shows_a_consent_page_and_the_decision_redirects(em: RunningEmulator) -> None:
    em.emu.headless = None
    query = {
        "client_id": em.emu.client_id,
        "scope": CAMPAIGNS,
        "response_type": "code",
        "redirect_uri": TEST_REDIRECT_URI,
        "state": "<script>",
    }
    page = requests.get(f"{em.base_url}/FE/ap/oa", params=query, timeout=5)
    assert page.status_code == 200 and "Allow" in page.text and "<script>" not in page.text
    txid = page.text.split('name="txid" value="')[1].split('"')[0]
    answer = requests.post(
        f"{em.base_url}/FE/ap/oa/decision",
        data={"txid": txid, "decision": "allow", "user": "u1"},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302 and "code=" in answer.headers["Location"]


def test_code_is_single_use_region_bound_and_pkce_checked(em: RunningEmulator) -> None:
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    code = em.authorize("NA", code_challenge=challenge, code_challenge_method="S256")["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": TEST_REDIRECT_URI}
    assert _token(em, "NA", **form, code_verifier="wrong" * 10).json()["error"] == "invalid_grant"
    code = em.authorize("NA", code_challenge=challenge, code_challenge_method="S256")["code"]
    assert (
        _token(em, "EU", **{**form, "code": code}, code_verifier=verifier).json()["error"] == "invalid_grant"
    )
    code = em.authorize("NA", code_challenge=challenge, code_challenge_method="S256")["code"]
    ok = _token(em, "NA", **{**form, "code": code}, code_verifier=verifier)
    assert ok.status_code == 200 and ok.headers["Cache-Control"] == "no-store"
    replay = _token(em, "NA", **{**form, "code": code}, code_verifier=verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_code_expires_after_five_minutes(em: RunningEmulator) -> None:
    code = em.authorize("NA")["code"]
    em.emu.advance(301)
    response = _token(em, "NA", grant_type="authorization_code", code=code, redirect_uri=TEST_REDIRECT_URI)
    assert response.json()["error"] == "invalid_grant"


def test_bad_client_secret_is_401_invalid_client_and_basic_auth_works(em: RunningEmulator) -> None:
    grant = em.grant("NA")
    bad = requests.post(
        f"{em.base_url}/NA/auth/o2/token",
        timeout=5,
        data={
            "grant_type": "refresh_token",
            "refresh_token": grant["refresh_token"],
            "client_id": em.emu.client_id,
            "client_secret": "nope",
        },
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    basic = requests.post(
        f"{em.base_url}/NA/auth/o2/token",
        timeout=5,
        auth=(em.emu.client_id, em.emu.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]},
    )
    assert basic.status_code == 200
    assert _token(em, "NA", grant_type="password").json()["error"] == "unsupported_grant_type"


def test_profiles_are_regional_exact_and_other_region_tokens_are_401(em: RunningEmulator) -> None:
    grant = em.grant("NA")
    response = _api(em, "NA", "/v2/profiles", grant["access_token"])
    assert response.status_code == 200 and f'"profileId": {2**53 + 3}' in response.text
    other = _api(em, "EU", "/v2/profiles", grant["access_token"])
    assert other.status_code == 401 and other.json()["details"] == "Authentication failed"
    em.emu.advance(3601)
    assert _api(em, "NA", "/v2/profiles", grant["access_token"]).status_code == 401


def test_view_only_user_needs_access_level_view(em: RunningEmulator) -> None:
    em.emu.add_user("viewer", profiles={"NA": [seller_profile(7)]}, view_only=True)
    grant = em.grant("NA", "viewer")
    assert _api(em, "NA", "/v2/profiles", grant["access_token"]).status_code == 403
    assert _api(em, "NA", "/v2/profiles?accessLevel=view", grant["access_token"]).json()[0]["profileId"] == 7


def test_no_campaigns_means_no_profiles_and_propagation_hides_new_ones(em: RunningEmulator) -> None:
    em.emu.add_user("fresh", profiles={"NA": [seller_profile(8)]}, has_campaigns=False)
    assert _api(em, "NA", "/v2/profiles", em.grant("NA", "fresh")["access_token"]).json() == []
    em.emu.link_profile("u1", "NA", seller_profile(9), delay_seconds=1800)
    token = em.grant("NA", "u1")["access_token"]
    assert [p["profileId"] for p in _api(em, "NA", "/v2/profiles", token).json()] == [2**53 + 3]
    assert (
        _api(em, "NA", "/v2/sp/campaigns", token, **{"Amazon-Advertising-API-Scope": "9"}).status_code == 403
    )
    em.emu.advance(1801)
    token = em.grant("NA", "u1")["access_token"]
    assert len(_api(em, "NA", "/v2/profiles", token).json()) == 2


def test_campaigns_need_the_scope_header_and_agency_profiles_cannot_be_decrypted(em: RunningEmulator) -> None:
    na = em.grant("NA")["access_token"]
    assert _api(em, "NA", "/v2/sp/campaigns", na).status_code == 403
    assert (
        _api(em, "NA", "/v2/sp/campaigns", na, **{"Amazon-Advertising-API-Scope": str(2**53 + 3)}).status_code
        == 200
    )
    eu = em.grant("EU")["access_token"]
    agency = _api(em, "EU", "/v2/sp/campaigns", eu, **{"Amazon-Advertising-API-Scope": "42"})
    assert agency.status_code == 400 and "cannot be decrypted" in agency.text


def test_client_not_allow_listed_gets_401(em: RunningEmulator) -> None:
    token = em.grant("NA")["access_token"]
    em.emu.allow_listed = False
    assert _api(em, "NA", "/v2/profiles", token).status_code == 401


def _refresh(em: RunningEmulator, region: str, token: str) -> requests.Response:
    return _token(em, region, grant_type="refresh_token", refresh_token=token)


def test_rotation_never_keeps_the_refresh_token(em: RunningEmulator) -> None:
    grant = em.grant("NA")
    first = _refresh(em, "NA", grant["refresh_token"])
    assert first.status_code == 200 and "refresh_token" not in first.json()
    assert _refresh(em, "NA", grant["refresh_token"]).status_code == 200
    assert _refresh(em, "EU", grant["refresh_token"]).json()["error"] == "invalid_grant"


def test_rotate_grace_keeps_the_old_token_for_the_grace_period(em: RunningEmulator) -> None:
    em.emu.rotation, em.emu.grace_seconds = "rotate_grace", 60
    old = em.grant("NA")["refresh_token"]
    new = _refresh(em, "NA", old).json()["refresh_token"]
    assert new != old and _refresh(em, "NA", old).status_code == 200
    em.emu.advance(61)
    assert _refresh(em, "NA", old).status_code == 400


def test_rotate_strict_invalidates_the_old_token_at_once(em: RunningEmulator) -> None:
    em.emu.rotation = "rotate_strict"
    old = em.grant("NA")["refresh_token"]
    new = _refresh(em, "NA", old).json()["refresh_token"]
    assert _refresh(em, "NA", old).json()["error"] == "invalid_grant"
    assert _refresh(em, "NA", new).status_code == 200


def test_reuse_detection_revokes_the_whole_grant(em: RunningEmulator) -> None:
    em.emu.rotation = "rotate_reuse_detection"
    old = em.grant("NA")["refresh_token"]
    new = _refresh(em, "NA", old).json()["refresh_token"]
    assert _refresh(em, "NA", old).status_code == 400
    assert _refresh(em, "NA", new).status_code == 400
    state = em.emu.grant_state("u1", "NA")
    assert state is not None and state["revoked"] is True


def test_revoked_user_gets_the_documented_invalid_grant(em: RunningEmulator) -> None:
    grant = em.grant("FE")
    em.emu.revoke("u1")
    body = _refresh(em, "FE", grant["refresh_token"]).json()
    assert body["error"] == "invalid_grant" and "User may have revoked" in body["error_description"]
    assert {"error_index", "request_id"} <= set(body)


def test_client_secret_rotation_makes_the_old_secret_invalid_client(em: RunningEmulator) -> None:
    grant = em.grant("NA")
    old_secret = em.emu.client_secret
    em.emu.rotate_client_secret("rotated-fixture-secret")
    response = requests.post(
        f"{em.base_url}/NA/auth/o2/token",
        timeout=5,
        data={
            "grant_type": "refresh_token",
            "refresh_token": grant["refresh_token"],
            "client_id": em.emu.client_id,
            "client_secret": old_secret,
        },
    )
    assert response.status_code == 401


def test_faults_bursts_throttling_delay_and_drops(em: RunningEmulator) -> None:
    grant = em.grant("NA")
    em.emu.faults.add("token", status=503, count=2)
    assert [_refresh(em, "NA", grant["refresh_token"]).status_code for _ in range(3)] == [503, 503, 200]
    em.emu.faults.add("profiles", region="NA", status=429, retry_after=7)
    throttled = _api(em, "NA", "/v2/profiles", grant["access_token"])
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
    em.emu.faults.add("token", status=200, delay_seconds=0.3)
    started = time.monotonic()
    assert _refresh(em, "NA", grant["refresh_token"]).status_code == 200
    assert time.monotonic() - started >= 0.3
    em.emu.faults.add("token", drop_connection=True)
    with pytest.raises(requests.ConnectionError):
        _refresh(em, "NA", grant["refresh_token"])


def test_request_log_masks_every_secret(em: RunningEmulator) -> None:
    grant = em.grant("NA")
    _api(em, "NA", f"/v2/profiles?token={grant['access_token']}", grant["access_token"])
    log = repr(em.emu.received_requests())
    assert grant["access_token"] not in log and grant["refresh_token"] not in log
    assert em.emu.client_secret not in log
    assert {grant["access_token"], grant["refresh_token"], em.emu.client_secret} <= em.emu.issued_secrets()


def test_control_api_configures_a_running_emulator(em: RunningEmulator) -> None:
    base = f"{em.base_url}/__emulator__"
    assert requests.post(
        f"{base}/users", json={"user_id": "ctl", "profiles": {"FE": [seller_profile(5, "JP")]}}, timeout=5
    ).json() == {"ok": True}
    requests.post(f"{base}/sign-in", json={"user_id": "ctl"}, timeout=5)
    requests.post(f"{base}/config", json={"rotation": "rotate_strict", "headless": "allow"}, timeout=5)
    assert em.emu.rotation == "rotate_strict" and em.emu.signed_in == "ctl"
    assert requests.post(f"{base}/config", json={"rotation": "bogus"}, timeout=5).status_code == 400
    requests.post(f"{base}/faults", json={"endpoint": "token", "status": 500, "count": 1}, timeout=5)
    assert _token(em, "FE", grant_type="refresh_token", refresh_token="x").status_code == 500
    state = requests.get(f"{base}/state", timeout=5).json()
    assert state["rotation"] == "rotate_strict" and state["token_calls"] >= 1


def test_exported_state_restores_grants_in_a_new_emulator(em: RunningEmulator) -> None:
    grant = em.grant("NA")
    from emulator import Emulator

    clone = Emulator(client_id=em.emu.client_id, client_secret=em.emu.client_secret, redirect_uris=[])
    clone.import_state(em.emu.export_state())
    server = clone.serve()
    try:
        response = requests.post(
            f"{server.base_url}/NA/auth/o2/token",
            timeout=5,
            data={
                "grant_type": "refresh_token",
                "refresh_token": grant["refresh_token"],
                "client_id": clone.client_id,
                "client_secret": clone.client_secret,
            },
        )
        assert response.status_code == 200
    finally:
        server.stop()
