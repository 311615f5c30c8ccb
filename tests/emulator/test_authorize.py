"""The authorization page (/ap/oa): validation, consent page, headless and per-user decisions."""

from __future__ import annotations

import re

import pytest
import requests

from emulator import seller_profile
from tests.emulator.helpers import (
    TIMEOUT,
    authorize_query,
    callback_params,
    exchange,
    get_authorize,
    s256,
)
from tests.fixtures.amazon import TEST_REDIRECT_URI, RunningEmulator

OTHER_URI = "https://other.example.test/callback"


def test_redirect_uri_must_match_exactly(em: RunningEmulator) -> None:
    # Given the registered URI, when a near miss is sent (trailing slash, other case, extra query)
    for near_miss in (TEST_REDIRECT_URI + "/", TEST_REDIRECT_URI.upper(), TEST_REDIRECT_URI + "?x=1"):
        response = get_authorize(em, redirect_uri=near_miss)
        # Then Amazon shows its own error page and never redirects
        assert response.status_code == 400 and "Location" not in response.headers
        assert near_miss not in response.text


def test_a_registered_redirect_uri_works_after_registration(em: RunningEmulator) -> None:
    assert get_authorize(em, redirect_uri=OTHER_URI).status_code == 400
    em.register_redirect_uri(OTHER_URI)
    response = get_authorize(em, redirect_uri=OTHER_URI)
    assert response.headers["Location"].startswith(OTHER_URI + "?code=")


@pytest.mark.parametrize("amazon_emulator", [{"redirect_uris": [OTHER_URI]}], indirect=True)
def test_the_fixture_registers_redirect_uris_given_by_parametrization(em: RunningEmulator) -> None:
    assert "code" in callback_params(get_authorize(em, redirect_uri=OTHER_URI))


def test_unsupported_response_type_redirects_with_the_error(em: RunningEmulator) -> None:
    result = callback_params(get_authorize(em, response_type="token"))
    assert result["error"] == "unsupported_response_type" and result["state"] == "st"


@pytest.mark.parametrize("scope", ["", "advertising::everything", "profile advertising::nope"])
def test_unknown_or_missing_scope_is_invalid_scope(em: RunningEmulator, scope: str) -> None:
    result = callback_params(get_authorize(em, scope=scope))
    assert result == {
        "error": "invalid_scope",
        "error_description": "An unknown scope was requested",
        "state": "st",
    }


def test_profile_scope_may_be_added_and_comes_back_in_the_callback(em: RunningEmulator) -> None:
    result = callback_params(get_authorize(em, scope="advertising::campaign_management profile"))
    assert result["scope"] == "advertising::campaign_management profile" and result["code"]


def test_state_is_optional_and_never_invented(em: RunningEmulator) -> None:
    query = authorize_query(em)
    del query["state"]
    response = requests.get(f"{em.base_url}/NA/ap/oa", params=query, allow_redirects=False, timeout=TIMEOUT)
    assert "state" not in callback_params(response)


@pytest.mark.parametrize(
    "pkce",
    [
        {"code_challenge_method": "S256"},  # a method without a challenge
        {"code_challenge": "c" * 43, "code_challenge_method": "S512"},  # an unknown method
    ],
)
def test_bad_pkce_parameters_are_invalid_request(em: RunningEmulator, pkce: dict[str, str]) -> None:
    assert callback_params(get_authorize(em, **pkce))["error"] == "invalid_request"


@pytest.mark.parametrize(
    "challenge",
    [
        "c" * 42,  # one short
        "c" * 44,  # one long
        s256("v" * 64) + "=",  # padded
        "+" + s256("v" * 64)[1:],  # standard base64, not base64url
        "a" * 40 + "%2F",  # percent-encoded junk
    ],
)
def test_a_malformed_s256_challenge_is_invalid_request(em: RunningEmulator, challenge: str) -> None:
    result = callback_params(get_authorize(em, code_challenge=challenge, code_challenge_method="S256"))
    assert result["error"] == "invalid_request" and result["state"] == "st"
    assert "code_challenge" in result["error_description"]


def test_a_well_formed_s256_challenge_gets_a_code(em: RunningEmulator) -> None:
    challenge = s256("w" * 50)
    assert len(challenge) == 43
    assert "code" in callback_params(
        get_authorize(em, code_challenge=challenge, code_challenge_method="S256")
    )
    # base64url's own characters are accepted
    assert "code" in callback_params(
        get_authorize(em, code_challenge="-_" + "A" * 41, code_challenge_method="S256")
    )


def test_pkce_method_defaults_to_plain(em: RunningEmulator) -> None:
    # Given a challenge sent without a method (Amazon then assumes "plain")
    verifier = "p" * 43
    code = callback_params(get_authorize(em, code_challenge=verifier))["code"]
    # Then the S256 transform of the verifier is not what was bound
    assert exchange(em, "NA", code, code_verifier="q" * 43).json()["error"] == "invalid_grant"
    code = callback_params(get_authorize(em, code_challenge=verifier))["code"]
    # And the verifier equal to the challenge is
    assert exchange(em, "NA", code, code_verifier=verifier).status_code == 200


def test_s256_code_needs_the_verifier(em: RunningEmulator) -> None:
    verifier = "v" * 64
    code = callback_params(get_authorize(em, code_challenge=s256(verifier), code_challenge_method="S256"))[
        "code"
    ]
    assert exchange(em, "NA", code).json()["error"] == "invalid_grant"  # no verifier at all


def _page(em: RunningEmulator, region: str = "NA", **params: str) -> requests.Response:
    em.emu.headless = None
    response = get_authorize(em, region, **params)
    assert response.status_code == 200, response.status_code
    return response


def _txid(page: requests.Response) -> str:
    found = re.search(r'name="txid" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def _decide(
    em: RunningEmulator, region: str, txid: str, decision: str, user: str | None
) -> requests.Response:
    form = {"txid": txid, "decision": decision} | ({"user": user} if user else {})
    return requests.post(
        f"{em.base_url}/{region}/ap/oa/decision", data=form, allow_redirects=False, timeout=TIMEOUT
    )


def test_consent_page_names_the_app_and_the_signed_in_user_with_a_picker(em: RunningEmulator) -> None:
    # Given two users, the second with a name full of markup
    em.emu.add_user("u2", name='<img src=x onerror="alert(1)">', profiles={"NA": [seller_profile(5)]})
    em.emu.app_name = "Acme <Ads>"
    page = _page(em)
    # Then the page names the application and who is signed in, escaped
    assert "Acme &lt;Ads&gt;" in page.text and "Signed in as <strong>First Advertiser</strong>" in page.text
    assert "<img" not in page.text and "&lt;img src=x" in page.text
    # And offers each user as a labelled radio button, the signed-in one checked
    assert re.search(r'<label><input type="radio" name="user" value="u1" checked required>', page.text)
    assert 'value="u2"' in page.text
    # And Allow / Deny buttons posting back to Amazon's own page
    assert 'id="allow"' in page.text and 'id="deny"' in page.text
    assert '<form method="post" action="/NA/ap/oa/decision">' in page.text


def test_consent_page_loads_nothing_from_anywhere(em: RunningEmulator) -> None:
    page = _page(em, state='"><script>alert(1)</script>')
    assert page.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert '<html lang="en">' in page.text
    assert not re.search(r"<script|src=|href=|https?://", page.text)


def test_allow_on_the_page_redirects_with_a_code_for_the_chosen_user(em: RunningEmulator) -> None:
    em.emu.add_user("u2", profiles={"FE": [seller_profile(77, "JP")]})
    answer = _decide(em, "FE", _txid(_page(em, "FE")), "allow", "u2")
    result = callback_params(answer)
    assert result["state"] == "st"
    tokens = exchange(em, "FE", result["code"]).json()
    assert em.emu.grant_state("u2", "FE") is not None and em.emu.grant_state("u1", "FE") is None
    assert tokens["token_type"] == "bearer"


def test_deny_on_the_page_redirects_access_denied(em: RunningEmulator) -> None:
    result = callback_params(_decide(em, "NA", _txid(_page(em)), "deny", "u1"))
    assert result["error"] == "access_denied" and result["state"] == "st"


def test_a_consent_decision_counts_once(em: RunningEmulator) -> None:
    txid = _txid(_page(em))
    assert _decide(em, "NA", txid, "allow", "u1").status_code == 302
    again = _decide(em, "NA", txid, "allow", "u1")
    assert again.status_code == 400 and "Location" not in again.headers


def test_an_unknown_user_on_the_page_is_refused(em: RunningEmulator) -> None:
    answer = _decide(em, "NA", _txid(_page(em)), "allow", "nobody")
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_a_user_configured_to_deny_decides_alone(em: RunningEmulator) -> None:
    # Given headless off and a signed-in user who always says no
    em.emu.add_user("refuser", profiles={"NA": [seller_profile(6)]}, decision="deny")
    em.emu.sign_in("refuser")
    em.emu.headless = None
    # Then no page: the browser goes straight back with access_denied
    assert callback_params(get_authorize(em))["error"] == "access_denied"
    # And headless mode overrides per-user behaviour
    em.emu.headless = "allow"
    assert "code" in callback_params(get_authorize(em))
