"""Several registered clients (Security Profiles): each has its own secret and Allowed Return URLs,
and codes, refresh tokens and access tokens are bound to the client that obtained them."""

from __future__ import annotations

import pytest
import requests

from tests.emulator.helpers import TIMEOUT, api, callback_params, control, get_authorize
from tests.fixtures.amazon import TEST_REDIRECT_URI, RunningEmulator

OTHER_ID = "amzn1.application-oa2-client.other-fixture"
OTHER_SECRET = "other-fixture-client-secret"
OTHER_URI = "https://other-app.example.test/callback"


@pytest.fixture
def two(em: RunningEmulator) -> RunningEmulator:
    em.emu.add_client(OTHER_ID, OTHER_SECRET, [OTHER_URI, TEST_REDIRECT_URI])
    return em


def _token(em: RunningEmulator, region: str, client: tuple[str, str], **form: str) -> requests.Response:
    data = {"client_id": client[0], "client_secret": client[1], **form}
    return requests.post(f"{em.base_url}/{region}/auth/o2/token", data=data, timeout=TIMEOUT)


def _default(em: RunningEmulator) -> tuple[str, str]:
    return em.emu.client_id, em.emu.client_secret


OTHER = (OTHER_ID, OTHER_SECRET)


def test_a_second_client_runs_its_own_flow(two: RunningEmulator) -> None:
    tokens = two.grant("NA", "u1", client_id=OTHER_ID, redirect_uri=OTHER_URI)
    answer = requests.get(
        f"{two.base_url}/NA/api/v2/profiles",
        headers={
            "Authorization": f"Bearer {tokens['access_token']}",
            "Amazon-Advertising-API-ClientId": OTHER_ID,
        },
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200 and len(answer.json()) == 1


def test_each_client_has_its_own_allowed_return_urls(two: RunningEmulator) -> None:
    # OTHER_URI is the other client's, not the default client's
    assert get_authorize(two, redirect_uri=OTHER_URI).status_code == 400
    assert "code" in callback_params(get_authorize(two, redirect_uri=OTHER_URI, client_id=OTHER_ID))


def test_each_client_has_its_own_secret(two: RunningEmulator) -> None:
    mixed = _token(
        two, "NA", (OTHER_ID, two.emu.client_secret), grant_type="refresh_token", refresh_token="x"
    )
    assert mixed.status_code == 401 and mixed.json()["error"] == "invalid_client"


def test_a_code_presented_by_another_valid_client_is_invalid_grant_and_used_up(two: RunningEmulator) -> None:
    # Given a code issued to the default client
    code = callback_params(get_authorize(two))["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": TEST_REDIRECT_URI}
    # When the other client (authenticated correctly) redeems it
    stolen = _token(two, "NA", OTHER, **form)
    # Then Amazon refuses the grant, not the client
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    # And the code is burnt for its rightful owner too
    assert _token(two, "NA", _default(two), **form).json()["error"] == "invalid_grant"
    assert two.emu.grant_state("u1", "NA") is None


def test_a_refresh_token_presented_by_another_valid_client_is_invalid_grant(two: RunningEmulator) -> None:
    tokens = two.grant("EU", "u1")
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    stolen = _token(two, "EU", OTHER, **form)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    state = two.emu.grant_state("u1", "EU")
    assert state is not None and state["rejected_refresh_calls"] == 1 and not state["revoked"]
    # The rightful client still refreshes
    assert _token(two, "EU", _default(two), **form).status_code == 200


def test_an_access_token_works_only_with_its_own_client_id_header(two: RunningEmulator) -> None:
    tokens = two.grant("NA", "u1")
    wrong = api(
        two,
        "NA",
        "/v2/profiles",
        tokens["access_token"],
        headers={"Amazon-Advertising-API-ClientId": OTHER_ID},
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "401"
    assert api(two, "NA", "/v2/profiles", tokens["access_token"]).status_code == 200


def test_rotating_one_clients_secret_leaves_the_other_alone(two: RunningEmulator) -> None:
    default_tokens = two.grant("NA", "u1")
    two.emu.rotate_client_secret("other-rotated-fixture-secret", client_id=OTHER_ID)
    form = {"grant_type": "refresh_token", "refresh_token": default_tokens["refresh_token"]}
    assert _token(two, "NA", _default(two), **form).status_code == 200
    assert _token(two, "NA", OTHER, **form).status_code == 401  # the old secret
    assert "other-rotated-fixture-secret" in two.emu.issued_secrets()


def test_the_default_client_api_is_unchanged(em: RunningEmulator) -> None:
    assert list(em.emu.clients) == [em.emu.client_id]
    em.emu.register_redirect_uri(OTHER_URI)
    assert OTHER_URI in em.emu.redirect_uris and OTHER_URI in em.emu.clients[em.emu.client_id].redirect_uris


def test_clients_are_validated(two: RunningEmulator) -> None:
    for bad in ((OTHER_ID, "again"), ("", "s"), ("id", "")):
        with pytest.raises(ValueError):
            two.emu.add_client(*bad)
    with pytest.raises(KeyError):
        two.emu.register_redirect_uri("https://x.test/cb", client_id="nobody")


def test_clients_through_the_control_api(em: RunningEmulator) -> None:
    body = {"client_id": OTHER_ID, "client_secret": OTHER_SECRET, "redirect_uris": [OTHER_URI]}
    assert control(em, "POST", "clients", body).json() == {"ok": True}
    assert control(em, "POST", "clients", body).status_code == 400  # already registered
    state = control(em, "GET", "state").json()
    assert state["clients"][OTHER_ID] == [OTHER_URI]
    assert OTHER_SECRET not in str(state)  # ids and URLs only
    assert OTHER_SECRET in control(em, "GET", "issued-secrets").json()
    rotated = {"client_id": OTHER_ID, "client_secret": "ctl-other-rotated-secret"}
    assert control(em, "POST", "rotate-client-secret", rotated).ok
    assert em.emu.clients[OTHER_ID].client_secret == "ctl-other-rotated-secret"
    for bad in (
        {"client_id": "x", "client_secret": 5},
        {"client_id": "x", "client_secret": "s", "redirect_uris": "https://one.test/cb"},
        {"client_id": "x", "client_secret": "s", "colour": "blue"},
        {"client_id": "x"},
    ):
        assert control(em, "POST", "clients", bad).status_code == 400
    unknown = {"client_id": "nobody", "client_secret": "s2"}
    assert control(em, "POST", "rotate-client-secret", unknown).status_code == 400
