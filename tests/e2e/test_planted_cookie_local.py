"""The planted-binding attack of docs/security.md (T1) against local mode, over real HTTP through
the local gateway (which splits the Cookie header into the event's ``cookies`` as API Gateway
does): the advertiser approves the attacker's authorization URL with
``x=1 __Host-ads_connect_binding=<attacker's>`` planted, and gets the friendly 400 page while
nothing is linked to the attacker's tenant."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from emulator import seller_profile
from tests.e2e.conftest import BINDING_COOKIE

pytestmark = pytest.mark.e2e
ATTACKER_TENANT = "mallory-e2e"


def test_a_planted_binding_in_local_mode_gets_the_start_again_page_and_links_nothing(local: Any) -> None:
    local.emulator.add_user("victim-e2e", profiles={"NA": [seller_profile(777, "US", "Victim Shop")]})
    local.emulator.sign_in("victim-e2e")
    local.emulator.headless = "allow"
    # Given the attacker starts a flow for the attacker's tenant in the attacker's own browser
    consent_url = local.create_session(ATTACKER_TENANT, region="NA")
    attacker = requests.Session()
    landing = attacker.get(consent_url, timeout=15)
    binding = landing.cookies.get(BINDING_COOKIE)
    assert landing.status_code == 200 and binding
    start = attacker.post(
        consent_url,
        data={"region": "NA"},
        headers={"Sec-Fetch-Site": "same-origin", "Cookie": f"{BINDING_COOKIE}={binding}"},
        allow_redirects=False,
        timeout=15,
    )
    assert start.status_code == 302
    # When the advertiser, with the attacker's binding planted inside a plain cookie, approves
    # the attacker's authorization URL at Amazon and is sent back to the callback
    at_amazon = requests.get(start.headers["Location"], allow_redirects=False, timeout=15)
    assert at_amazon.status_code == 302 and "code=" in at_amazon.headers["Location"]
    tokens_before = local.emulator.token_calls()
    callback = requests.get(
        at_amazon.headers["Location"],
        headers={"Cookie": f"theme=dark; x=1 {BINDING_COOKIE}={binding}"},
        allow_redirects=False,
        timeout=30,
    )
    # Then the friendly "start again" page, and the advertiser's account is linked to no one
    assert callback.status_code == 400 and "Please start again" in callback.text
    assert binding not in callback.text and "Set-Cookie" not in callback.headers
    assert local.emulator.token_calls() == tokens_before  # the code was never exchanged
    assert local.admin("GET", f"tenants/{ATTACKER_TENANT}").status_code == 404
