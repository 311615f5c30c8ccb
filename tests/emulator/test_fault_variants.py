"""Fault variants: after processing (the work is done, then the answer is wrong or lost), malformed
200s, OAuth errors on the authorization redirect and the token endpoint, and Retry-After rules."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import requests

from emulator import DEFAULT_RETRY_AFTER_SECONDS
from tests.emulator.helpers import TIMEOUT, api, callback_params, exchange, get_authorize, refresh
from tests.fixtures.amazon import TEST_REDIRECT_URI, RunningEmulator


def _code(em: RunningEmulator, region: str = "NA") -> str:
    return callback_params(get_authorize(em, region))["code"]


# --- after processing -----------------------------------------------------------------------------


def test_a_500_after_processing_has_redeemed_the_code(em: RunningEmulator) -> None:
    # Given a 500 that fires once the code exchange has been done
    em.emu.faults.add("token", status=500, after_processing=True)
    code = _code(em)
    failed = exchange(em, "NA", code)
    # Then the client sees a server error in the OAuth shape
    assert failed.status_code == 500 and failed.json()["error"] == "server_error"
    # And yet the grant exists at "Amazon": the code was redeemed
    state = em.emu.grant_state("u1", "NA")
    assert state is not None and state["token_calls"] == 1 and not state["revoked"]
    # And resending the code is a replay: invalid_grant, and the grant it produced is revoked
    assert exchange(em, "NA", code).json()["error"] == "invalid_grant"
    state = em.emu.grant_state("u1", "NA")
    assert state is not None and state["revoked"] and state["revoked_reason"] == "code_replayed"


def test_a_500_before_processing_leaves_the_code_usable(em: RunningEmulator) -> None:
    # The contrast with the test above: the default fault fires before anything is done.
    em.emu.faults.add("token", status=500)
    code = _code(em)
    assert exchange(em, "NA", code).status_code == 500
    assert em.emu.grant_state("u1", "NA") is None
    assert exchange(em, "NA", code).status_code == 200


def test_a_refresh_answered_503_after_processing_has_rotated_the_token(em: RunningEmulator) -> None:
    # Given strict rotation and a refresh whose answer is lost after the rotation happened
    em.emu.rotation = "rotate_strict"
    tokens = em.grant("NA", "u1")
    before = em.emu.grant_state("u1", "NA")
    em.emu.faults.add("token", status=503, after_processing=True)
    assert refresh(em, "NA", tokens["refresh_token"]).status_code == 503
    # Then the grant moved on: the token the client still holds is dead
    after = em.emu.grant_state("u1", "NA")
    assert before is not None and after is not None
    assert after["generation"] == before["generation"] + 1
    assert after["refresh_token_id"] != before["refresh_token_id"]
    assert refresh(em, "NA", tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_a_connection_dropped_after_processing_has_redeemed_the_code(em: RunningEmulator) -> None:
    em.emu.faults.add("token", drop_connection=True, after_processing=True)
    code = _code(em)
    with pytest.raises(requests.ConnectionError):
        exchange(em, "NA", code)
    assert em.emu.grant_state("u1", "NA") is not None
    (entry,) = [e for e in em.emu.received_requests() if e["endpoint"] == "token"]
    assert entry["status"] == 0 and entry["fault"] and entry["fault_after_processing"]


def test_a_slow_answer_after_processing_arrives_late_but_correct(em: RunningEmulator) -> None:
    # A read timeout after the work: the client gives up, the grant exists all the same
    em.emu.faults.add("token", status=200, delay_seconds=1.0, after_processing=True)
    code = _code(em)
    with pytest.raises(requests.Timeout):
        requests.post(
            f"{em.base_url}/NA/auth/o2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": TEST_REDIRECT_URI,
                "client_id": em.emu.client_id,
                "client_secret": em.emu.client_secret,
            },
            timeout=0.3,
        )
    deadline = time.monotonic() + 3
    while em.emu.grant_state("u1", "NA") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert em.emu.grant_state("u1", "NA") is not None


def test_an_after_processing_fault_on_the_authorization_page_issues_an_orphan_code(
    em: RunningEmulator,
) -> None:
    # The consent is recorded and a code minted, but the browser only sees Amazon's error page
    em.emu.faults.add("authorize", status=500, after_processing=True)
    page = get_authorize(em)
    assert page.status_code == 500 and "Location" not in page.headers
    assert page.headers["Content-Type"].startswith("text/html")
    minted = [s for s in em.emu.issued_secrets() if s.startswith("ANc")]
    assert len(minted) == 1


# --- malformed 200 ----------------------------------------------------------------------------


def test_a_malformed_200_after_processing_redeems_the_code_and_answers_a_cut_off_body(
    em: RunningEmulator,
) -> None:
    em.emu.faults.add("token", malformed=True, after_processing=True)
    code = _code(em)
    answer = exchange(em, "NA", code)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        answer.json()
    # No secret in the cut-off body, and the grant exists
    assert not any(secret in answer.text for secret in em.emu.issued_secrets())
    assert em.emu.grant_state("u1", "NA") is not None


def test_a_malformed_200_before_processing_redeems_nothing(em: RunningEmulator) -> None:
    grant = em.grant("NA", "u1")
    em.emu.faults.add("profiles", malformed=True)
    answer = api(em, "NA", "/v2/profiles", grant["access_token"])
    assert answer.status_code == 200
    with pytest.raises(ValueError):
        answer.json()
    code = _code(em)
    em.emu.faults.add("token", malformed=True)
    assert exchange(em, "NA", code).status_code == 200
    assert exchange(em, "NA", code).json()["token_type"] == "bearer"  # the code was still fresh


# --- OAuth errors on the authorization redirect ------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    ["server_error", "temporarily_unavailable", "unauthorized_client", "invalid_request", "invalid_scope"],
)
def test_the_authorization_page_can_redirect_back_with_an_oauth_error(
    em: RunningEmulator, error: str
) -> None:
    em.emu.faults.add("authorize", oauth_error=error, error_description="<b>Amazon's own words</b>")
    answer = get_authorize(em, state="st-123")
    # Then the browser goes back to the client with the error, Amazon's text and the state
    assert answer.status_code == 302
    assert callback_params(answer) == {
        "error": error,
        "error_description": "<b>Amazon's own words</b>",
        "state": "st-123",
    }
    assert "code" not in callback_params(answer)
    # And only once: the next request gets a code
    assert "code" in callback_params(get_authorize(em))


def test_an_injected_redirect_error_has_a_default_description_and_no_invented_state(
    em: RunningEmulator,
) -> None:
    em.emu.faults.add("authorize", oauth_error="unsupported_response_type")
    query = {
        "client_id": em.emu.client_id,
        "scope": "advertising::campaign_management",
        "response_type": "code",
        "redirect_uri": TEST_REDIRECT_URI,
    }
    answer = requests.get(f"{em.base_url}/NA/ap/oa", params=query, allow_redirects=False, timeout=TIMEOUT)
    params = callback_params(answer)
    assert params["error"] == "unsupported_response_type" and params["error_description"]
    assert "state" not in params


def test_an_injected_redirect_error_never_goes_to_an_unregistered_address(em: RunningEmulator) -> None:
    em.emu.faults.add("authorize", oauth_error="server_error")
    answer = get_authorize(em, redirect_uri="https://evil.example.test/cb")
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_an_injected_redirect_error_also_answers_the_consent_form(em: RunningEmulator) -> None:
    # Given the consent page shown in browser mode
    em.emu.headless = None
    page = get_authorize(em, state="st-form")
    found = re.search(r'name="txid" value="([^"]+)"', page.text)
    assert page.status_code == 200 and found
    # When Amazon fails as the user presses Allow
    em.emu.faults.add("authorize", oauth_error="temporarily_unavailable")
    answer = requests.post(
        f"{em.base_url}/NA/ap/oa/decision",
        data={"txid": found.group(1), "decision": "allow", "user": "u1"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    # Then the browser goes back with the error and the original state, and no code was minted
    params = callback_params(answer)
    assert params["error"] == "temporarily_unavailable" and params["state"] == "st-form"
    assert not [s for s in em.emu.issued_secrets() if s.startswith("ANc")]


# --- OAuth errors at the token endpoint -------------------------------------------------------------


def test_the_token_endpoint_can_answer_unauthorized_client(em: RunningEmulator) -> None:
    tokens = em.grant("NA", "u1")
    em.emu.faults.add("token", oauth_error="unauthorized_client", count=None)
    for _ in range(2):
        answer = refresh(em, "NA", tokens["refresh_token"])
        body = answer.json()
        assert answer.status_code == 400 and body["error"] == "unauthorized_client"
        assert body["error_description"] and {"error_index", "request_id"} <= set(body)
        assert answer.headers["Cache-Control"] == "no-store"
    em.emu.faults.clear()
    assert refresh(em, "NA", tokens["refresh_token"]).status_code == 200


@pytest.mark.parametrize(
    ("error", "status"),
    [
        ("invalid_request", 400),
        ("invalid_client", 401),
        ("server_error", 500),
        ("temporarily_unavailable", 503),
    ],
)
def test_token_oauth_errors_take_their_documented_status(
    em: RunningEmulator, error: str, status: int
) -> None:
    em.emu.faults.add("token", oauth_error=error)
    code = _code(em)
    answer = exchange(em, "NA", code)
    assert answer.status_code == status and answer.json()["error"] == error
    assert exchange(em, "NA", code).status_code == 200  # before processing: the code is intact


def test_a_token_oauth_error_status_can_be_chosen(em: RunningEmulator) -> None:
    em.emu.faults.add("token", oauth_error="unauthorized_client", status=401)
    assert exchange(em, "NA", _code(em)).status_code == 401


# --- Retry-After ---------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["token", "profiles"])
def test_a_429_without_retry_after_still_sends_the_default(em: RunningEmulator, endpoint: str) -> None:
    grant = em.grant("NA", "u1")
    em.emu.faults.add(endpoint, status=429)
    answer = (
        refresh(em, "NA", grant["refresh_token"])
        if endpoint == "token"
        else api(em, "NA", "/v2/profiles", grant["access_token"])
    )
    assert answer.status_code == 429 and answer.headers["Retry-After"] == str(DEFAULT_RETRY_AFTER_SECONDS)


def test_other_statuses_send_retry_after_only_when_asked(em: RunningEmulator) -> None:
    grant = em.grant("NA", "u1")
    em.emu.faults.add("profiles", status=503)
    em.emu.faults.add("profiles", status=503, retry_after=4)
    assert "Retry-After" not in api(em, "NA", "/v2/profiles", grant["access_token"]).headers
    assert api(em, "NA", "/v2/profiles", grant["access_token"]).headers["Retry-After"] == "4"


def test_retry_after_is_whole_seconds_never_truncated(em: RunningEmulator) -> None:
    for bad in (1.5, 0.25, -1):
        with pytest.raises(ValueError, match="whole seconds"):
            em.emu.faults.add("token", status=429, retry_after=bad)
    assert em.emu.faults.add("token", status=429, retry_after=2.0).retry_after == 2
    assert em.emu.faults.describe()[0]["retry_after"] == 2


# --- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"endpoint": "profiles", "oauth_error": "server_error"},  # not an OAuth endpoint
        {"endpoint": "any", "oauth_error": "server_error"},
        {"endpoint": "authorize", "oauth_error": "invalid_grant"},  # a token-endpoint error
        {"endpoint": "token", "oauth_error": "access_denied"},  # a redirect-only error
        {"endpoint": "token", "oauth_error": "made_up"},
        {"endpoint": "authorize", "oauth_error": "server_error", "after_processing": True},
        {"endpoint": "token", "oauth_error": "invalid_request", "status": 200},
        {"endpoint": "token", "error_description": "no error to describe"},
        {"endpoint": "token", "malformed": True, "drop_connection": True},
        {"endpoint": "token", "malformed": True, "status": 500},
        {"endpoint": "token", "drop_connection": "false"},  # a string is not a boolean
        {"endpoint": "token", "after_processing": 1},
        {"endpoint": "token", "status": "500"},
        {"endpoint": "token", "count": True},
        {"endpoint": "token", "delay_seconds": -1},
    ],
)
def test_fault_variants_are_validated(em: RunningEmulator, bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        em.emu.faults.add(**bad)
    assert em.emu.faults.describe() == []


def test_describe_shows_the_variant_and_its_resolved_status(em: RunningEmulator) -> None:
    em.emu.faults.add("authorize", oauth_error="server_error")
    em.emu.faults.add("token", malformed=True, after_processing=True)
    described = em.emu.faults.describe()
    assert described[0]["status"] == 302 and described[0]["oauth_error"] == "server_error"
    assert described[1]["status"] == 200 and described[1]["malformed"] and described[1]["after_processing"]
