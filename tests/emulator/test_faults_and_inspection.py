"""Fault injection on every endpoint, and what tests can inspect (never a raw secret)."""

from __future__ import annotations

import time

import pytest
import requests

from tests.emulator.helpers import api, callback_params, exchange, get_authorize, refresh, s256, token
from tests.fixtures.amazon import RunningEmulator


def test_a_region_filtered_fault_hits_only_that_region(em: RunningEmulator) -> None:
    na, eu = em.grant("NA", "u1"), em.grant("EU", "u1")
    em.emu.faults.add("token", region="EU", status=503, count=1)
    assert refresh(em, "NA", na["refresh_token"]).status_code == 200
    failed = refresh(em, "EU", eu["refresh_token"])
    assert failed.status_code == 503 and failed.json()["error"] == "temporarily_unavailable"
    assert failed.headers["Cache-Control"] == "no-store"
    assert refresh(em, "EU", eu["refresh_token"]).status_code == 200


def test_a_token_429_carries_retry_after(em: RunningEmulator) -> None:
    grant = em.grant("NA", "u1")
    em.emu.faults.add("token", status=429, retry_after=12)
    throttled = refresh(em, "NA", grant["refresh_token"])
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "12"
    assert {"error", "error_description", "error_index", "request_id"} <= set(throttled.json())


def test_an_authorize_fault_is_an_html_page(em: RunningEmulator) -> None:
    em.emu.faults.add("authorize", status=500)
    page = get_authorize(em)
    assert page.status_code == 500 and page.headers["Content-Type"].startswith("text/html")
    assert "Location" not in page.headers
    assert "code" in callback_params(get_authorize(em))


def test_any_endpoint_faults_until_cleared(em: RunningEmulator) -> None:
    grant = em.grant("NA", "u1")
    em.emu.faults.add("any", status=502, count=None)
    statuses = [
        refresh(em, "NA", grant["refresh_token"]).status_code,
        api(em, "NA", "/v2/profiles", grant["access_token"]).status_code,
        api(em, "NA", "/v2/sp/campaigns", grant["access_token"]).status_code,
        get_authorize(em).status_code,
    ]
    assert statuses == [502] * 4
    em.emu.faults.clear()
    assert api(em, "NA", "/v2/profiles", grant["access_token"]).status_code == 200


def test_ads_api_faults_use_the_ads_error_shape(em: RunningEmulator) -> None:
    grant = em.grant("NA", "u1")
    em.emu.faults.add("campaigns", status=429, retry_after=3)
    answer = api(em, "NA", "/v2/sp/campaigns", grant["access_token"])
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "3"
    assert answer.json()["code"] == "429" and answer.json()["requestId"]


def test_slow_answers_and_dropped_connections_on_the_ads_api(em: RunningEmulator) -> None:
    grant = em.grant("NA", "u1")
    em.emu.faults.add("profiles", status=200, delay_seconds=0.3)
    started = time.monotonic()
    assert api(em, "NA", "/v2/profiles", grant["access_token"]).status_code == 200
    assert time.monotonic() - started >= 0.3
    em.emu.faults.add("profiles", status=200, delay_seconds=1.0)
    with pytest.raises(requests.Timeout):
        requests.get(
            f"{em.base_url}/NA/api/v2/profiles",
            headers={"Authorization": f"Bearer {grant['access_token']}"},
            timeout=0.2,
        )
    em.emu.faults.add("profiles", drop_connection=True)
    with pytest.raises(requests.ConnectionError):
        api(em, "NA", "/v2/profiles", grant["access_token"])


def test_faults_are_validated(em: RunningEmulator) -> None:
    for bad in (
        {"endpoint": "tokens"},
        {"endpoint": "token", "region": "US"},
        {"endpoint": "token", "status": 42},
    ):
        with pytest.raises(ValueError):
            em.emu.faults.add(**bad)


def test_faulted_and_dropped_calls_are_logged_and_counted(em: RunningEmulator) -> None:
    grant = em.grant("NA", "u1")
    before = em.emu.token_calls("NA")
    em.emu.faults.add("token", status=503, count=1)
    em.emu.faults.add("token", drop_connection=True)
    refresh(em, "NA", grant["refresh_token"])
    with pytest.raises(requests.ConnectionError):
        refresh(em, "NA", grant["refresh_token"])
    assert em.emu.token_calls("NA") == before + 2
    faulted = [e for e in em.emu.received_requests() if e["fault"]]
    assert [e["status"] for e in faulted] == [503, 0]


def test_the_request_log_masks_secrets_by_name_and_by_value(em: RunningEmulator) -> None:
    # Given a PKCE code exchange, a refresh with a wrong (never issued) secret, and an API call
    verifier = "k" * 60
    code = callback_params(get_authorize(em, code_challenge=s256(verifier), code_challenge_method="S256"))[
        "code"
    ]
    tokens = exchange(em, "NA", code, code_verifier=verifier).json()
    token(
        em,
        "NA",
        grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
        client_secret="typo-secret",
    )
    api(em, "NA", "/v2/profiles", tokens["access_token"])
    log = em.emu.received_requests()
    text = repr(log)
    # Then no code, token, verifier or secret appears anywhere
    for value in (code, verifier, tokens["access_token"], tokens["refresh_token"], em.emu.client_secret):
        assert value not in text
    assert "typo-secret" not in text
    # And the entries still say what was sent
    exchange_entry = next(e for e in log if e["grant_type"] == "authorization_code")
    assert exchange_entry["form"]["code"] == "***" and exchange_entry["form"]["code_verifier"] == "***"
    assert exchange_entry["form"]["client_id"] == em.emu.client_id
    authorize_entry = next(e for e in log if e["endpoint"] == "authorize")
    assert authorize_entry["params"]["code_challenge_method"] == "S256"
    api_entry = next(e for e in log if e["endpoint"] == "profiles")
    assert api_entry["headers"]["Authorization"] == "Bearer ***" and api_entry["status"] == 200
    assert {"method", "path", "region", "endpoint", "status", "time"} <= set(api_entry)
    # And the verifier counts as a secret for the no-leak checks
    assert verifier in em.emu.issued_secrets()


def test_token_calls_count_per_region_and_grant_type(em: RunningEmulator) -> None:
    grant = em.grant("FE", "u1")
    refresh(em, "FE", grant["refresh_token"])
    refresh(em, "FE", grant["refresh_token"])
    assert em.emu.token_calls("FE") == 3 and em.emu.token_calls("NA") == 0
    assert (
        em.emu.token_calls("FE", "refresh_token") == 2
        and em.emu.token_calls(grant_type="authorization_code") == 1
    )
