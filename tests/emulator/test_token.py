"""The token endpoint: grants, bodies, statuses, client authentication, regions."""

from __future__ import annotations

import requests

from tests.emulator.helpers import TIMEOUT, api, callback_params, exchange, get_authorize, refresh, token
from tests.fixtures.amazon import TEST_REDIRECT_URI, RunningEmulator


def _code(em: RunningEmulator, region: str = "NA") -> str:
    return callback_params(get_authorize(em, region))["code"]


def test_code_exchange_answers_the_documented_success_body(em: RunningEmulator) -> None:
    response = exchange(em, "NA", _code(em))
    body = response.json()
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["access_token"].startswith("Atza|") and len(body["access_token"].encode()) <= 2048
    assert body["refresh_token"].startswith("Atzr|")


def test_refresh_answers_a_new_access_token(em: RunningEmulator) -> None:
    first = exchange(em, "NA", _code(em)).json()
    again = refresh(em, "NA", first["refresh_token"])
    assert again.status_code == 200 and again.headers["Cache-Control"] == "no-store"
    assert again.json()["access_token"] != first["access_token"]
    assert api(em, "NA", "/v2/profiles", again.json()["access_token"]).status_code == 200


def test_errors_carry_error_index_and_request_id_and_no_store(em: RunningEmulator) -> None:
    response = refresh(em, "NA", "Atzr|not-a-real-token")
    body = response.json()
    assert response.status_code == 400 and response.headers["Cache-Control"] == "no-store"
    assert set(body) == {"error", "error_description", "error_index", "request_id"}
    assert body["error"] == "invalid_grant"
    assert body["error_description"] == (
        "The request has an invalid grant parameter : refresh_token. "
        "User may have revoked or didn't grant the permission."
    )


def test_missing_parameters_are_invalid_request(em: RunningEmulator) -> None:
    assert token(em, "NA").json()["error"] == "invalid_request"  # no grant_type
    assert token(em, "NA", grant_type="refresh_token").json()["error"] == "invalid_request"
    missing_code = token(em, "NA", grant_type="authorization_code", redirect_uri="https://x.test/cb")
    assert missing_code.status_code == 400 and missing_code.json()["error"] == "invalid_request"
    missing_uri = token(em, "NA", grant_type="authorization_code", code=_code(em))
    assert missing_uri.json()["error"] == "invalid_request"


def test_unknown_grant_types_are_unsupported(em: RunningEmulator) -> None:
    for grant_type in ("client_credentials", "password", "implicit"):
        response = token(em, "NA", grant_type=grant_type)
        assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"


def test_bad_or_missing_client_credentials_are_401_invalid_client(em: RunningEmulator) -> None:
    tokens = exchange(em, "NA", _code(em)).json()
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    url = f"{em.base_url}/NA/auth/o2/token"
    for data in (
        form | {"client_id": "amzn1.application-oa2-client.other", "client_secret": em.emu.client_secret},
        form | {"client_id": em.emu.client_id, "client_secret": "wrong-fixture-secret"},
        form,  # no credentials at all
    ):
        response = requests.post(url, data=data, timeout=TIMEOUT)
        assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    basic = requests.post(url, data=form, auth=(em.emu.client_id, "wrong-fixture-secret"), timeout=TIMEOUT)
    assert basic.status_code == 401


def test_http_basic_credentials_work_for_the_code_exchange(em: RunningEmulator) -> None:
    response = requests.post(
        f"{em.base_url}/EU/auth/o2/token",
        data={"grant_type": "authorization_code", "code": _code(em, "EU"), "redirect_uri": TEST_REDIRECT_URI},
        auth=(em.emu.client_id, em.emu.client_secret),
        timeout=TIMEOUT,
    )
    assert response.status_code == 200


def test_a_json_body_is_not_read(em: RunningEmulator) -> None:
    # Amazon reads form-encoded bodies only: the same fields as JSON carry no credentials.
    response = requests.post(
        f"{em.base_url}/NA/auth/o2/token",
        json={
            "grant_type": "refresh_token",
            "client_id": em.emu.client_id,
            "client_secret": em.emu.client_secret,
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_the_code_is_bound_to_the_redirect_uri(em: RunningEmulator) -> None:
    response = exchange(em, "NA", _code(em), redirect_uri="https://elsewhere.test/cb")
    assert response.json()["error"] == "invalid_grant"


def test_a_code_failing_once_is_used_up(em: RunningEmulator) -> None:
    # A code presented with the wrong region is burnt, like at Amazon: no second try.
    code = _code(em)
    assert exchange(em, "EU", code).json()["error"] == "invalid_grant"
    assert exchange(em, "NA", code).json()["error"] == "invalid_grant"


def test_a_replayed_code_revokes_what_it_produced(em: RunningEmulator) -> None:
    code = _code(em)
    tokens = exchange(em, "NA", code).json()
    assert exchange(em, "NA", code).json()["error"] == "invalid_grant"
    assert api(em, "NA", "/v2/profiles", tokens["access_token"]).status_code == 401
    assert refresh(em, "NA", tokens["refresh_token"]).json()["error"] == "invalid_grant"
    state = em.emu.grant_state("u1", "NA")
    assert state is not None and state["revoked"] and state["revoked_reason"] == "code_replayed"


def test_code_is_still_valid_just_before_five_minutes(em: RunningEmulator) -> None:
    code = _code(em)
    em.emu.advance(299)
    assert exchange(em, "NA", code).status_code == 200


def test_refresh_token_is_bound_to_its_region(em: RunningEmulator) -> None:
    tokens = exchange(em, "FE", _code(em, "FE")).json()
    for other in ("NA", "EU"):
        assert refresh(em, other, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert refresh(em, "FE", tokens["refresh_token"]).status_code == 200


def test_refresh_tokens_outlive_access_tokens(em: RunningEmulator) -> None:
    tokens = exchange(em, "NA", _code(em)).json()
    em.emu.advance(90 * 24 * 3600)
    assert api(em, "NA", "/v2/profiles", tokens["access_token"]).status_code == 401
    fresh = refresh(em, "NA", tokens["refresh_token"])
    assert fresh.status_code == 200
    assert api(em, "NA", "/v2/profiles", fresh.json()["access_token"]).status_code == 200


def test_rotated_client_secret_works_and_the_old_one_is_invalid_client(em: RunningEmulator) -> None:
    tokens = exchange(em, "NA", _code(em)).json()
    old = em.emu.client_secret
    em.emu.rotate_client_secret("rotated-fixture-secret-2")
    stale = token(
        em, "NA", grant_type="refresh_token", refresh_token=tokens["refresh_token"], client_secret=old
    )
    assert stale.status_code == 401 and stale.json()["error"] == "invalid_client"
    # Grants survive the operator's rotation: the new secret refreshes the same token
    assert refresh(em, "NA", tokens["refresh_token"]).status_code == 200
    assert "rotated-fixture-secret-2" in em.emu.issued_secrets()


def test_the_token_endpoint_only_takes_post(em: RunningEmulator) -> None:
    response = requests.get(f"{em.base_url}/NA/auth/o2/token", timeout=TIMEOUT)
    assert response.status_code == 404
