"""Amazon quirks at connect time that only the emulator can stage: an expired code, a client id
not yet allow-listed, throttled profile discovery, OAuth errors on the authorization redirect and
at the token endpoint, and a code exchange whose answer is lost after Amazon redeemed the code.

Handlers run in-process on moto (tests/integration/conftest.py); the browser is
tests/fakes/browser.py. Failure pages are checked by heading and escaping; their status loosely
where main is changing it (the "Amazon could not complete the sign-in" page becomes a 400).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from ads_connect.models.records import ConnectionStatus, ProfilesState
from ads_connect.regions import Region

from emulator import seller_profile
from emulator.core import CODE_LIFETIME
from tests.fakes.browser import Browser
from tests.integration.conftest import Product

MARKUP = '<img src=x onerror="alert(1)">'


@pytest.fixture
def advertiser(product: Product) -> Product:
    product.amazon.emu.add_user(
        "adv",
        name="Advertiser",
        profiles={r.value: [seller_profile(100 + i, name=f"Shop {r.value}")] for i, r in enumerate(Region)},
    )
    return product


def _at_callback(product: Product, region: str = "NA", tenant: str = "acme") -> tuple[Browser, str]:
    """A browser sent to Amazon and back: it holds the callback query, not yet delivered."""
    browser = Browser()
    session_id = product.session(tenant)
    assert browser.open_connect(session_id)["statusCode"] == 200
    started = browser.submit_region(session_id, region)
    assert started["statusCode"] == 302, started["body"]
    return browser, browser.at_amazon(started["headers"]["Location"])


def _reference(page: dict[str, object]) -> str:
    found = re.search(r'class="ref">([^<]*)<', str(page["body"]))
    assert found, "the failure page carries no reference"
    return found.group(1)


def _assert_failure_page(page: dict[str, object], heading: str) -> str:
    """A friendly failure page: the heading, a reference, nothing unescaped from Amazon."""
    body = str(page["body"])
    assert 400 <= int(str(page["statusCode"])) < 600, page["statusCode"]
    assert f"<h1>{heading}</h1>" in body, body
    assert re.fullmatch(r"[0-9A-Za-z-]{8,64}", _reference(page))
    assert "<img" not in body and 'onerror="' not in body and "Traceback" not in body
    return body


def _profile_calls(product: Product) -> list[dict[str, object]]:
    return [e for e in product.amazon.emu.received_requests() if e["endpoint"] == "profiles"]


# --- the code ----------------------------------------------------------------------------------


def test_a_code_that_expired_before_the_callback_is_not_accepted(advertiser: Product) -> None:
    # Given the advertiser consented, but the callback reaches us after the code's 5 minutes
    browser, query = _at_callback(advertiser)
    advertiser.amazon.emu.advance(CODE_LIFETIME + 1)
    # When the callback arrives
    page = browser.callback(query)
    # Then the page says Amazon did not accept the sign-in (invalid_grant is final: one call)
    assert page["statusCode"] == 400
    _assert_failure_page(page, "Amazon did not accept this sign-in")
    assert advertiser.amazon.emu.token_calls("NA", "authorization_code") == 1
    assert advertiser.store.get_connection("acme", Region.NA) is None
    assert advertiser.vault.read_refresh_token("acme", Region.NA) is None


# --- the Ads API at connect time -----------------------------------------------------------------


def test_a_client_id_not_yet_allow_listed_connects_with_profiles_pending(advertiser: Product) -> None:
    # Given a newly approved application whose client id Amazon has not allow-listed yet
    advertiser.amazon.emu.allow_listed = False
    # When the advertiser connects
    page = Browser().connect(advertiser.session("acme"), "EU")
    # Then the grant is kept and the page explains the 401 instead of failing the connect
    assert page["statusCode"] == 200, page["body"]
    assert "<h1>Amazon Ads is connected</h1>" in page["body"]
    assert "No advertising profiles yet" in page["body"] and "allow-listed" in page["body"]
    assert [e["status"] for e in _profile_calls(advertiser)] == [401]
    connection = advertiser.store.get_connection("acme", Region.EU)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE
    assert connection.profiles_state is ProfilesState.PENDING and connection.profile_count == 0
    # And the profiles are looked at again soon, not in a day
    assert connection.profile_sync_due_at is not None
    assert connection.profile_sync_due_at <= datetime.now(UTC) + timedelta(minutes=16)
    assert advertiser.vault.read_refresh_token("acme", Region.EU) is not None


def test_profiles_throttled_at_connect_are_pending_and_not_hammered(advertiser: Product) -> None:
    # Given /v2/profiles answers 429 with Retry-After: 30
    advertiser.amazon.emu.faults.add("profiles", status=429, retry_after=30)
    began = datetime.now(UTC)
    # When the advertiser connects
    page = Browser().connect(advertiser.session("acme"), "FE")
    # Then the connection succeeds with profiles pending, after exactly one profiles call
    assert page["statusCode"] == 200, page["body"]
    assert "<h1>Amazon Ads is connected</h1>" in page["body"]
    assert "checked again automatically" in page["body"]
    assert [e["status"] for e in _profile_calls(advertiser)] == [429]
    connection = advertiser.store.get_connection("acme", Region.FE)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE
    assert connection.profiles_state is ProfilesState.PENDING
    # And the re-check is not sooner than Amazon asked for
    assert connection.profile_sync_due_at is not None
    assert connection.profile_sync_due_at >= began + timedelta(seconds=30)


# --- OAuth errors on the authorization redirect -----------------------------------------------------


@pytest.mark.parametrize("error", ["server_error", "temporarily_unavailable", "unauthorized_client"])
def test_amazon_redirecting_back_with_an_error_gets_a_friendly_escaped_page(
    advertiser: Product, error: str
) -> None:
    # Given Amazon's authorization page sends the browser back with an error (and its own text)
    advertiser.amazon.emu.faults.add("authorize", oauth_error=error, error_description=MARKUP)
    # When the advertiser walks the flow
    page = Browser().connect(advertiser.session("acme"), "NA")
    # Then the page names the documented error code and never Amazon's free text
    body = _assert_failure_page(page, "Amazon could not complete the sign-in")
    assert f"(error code: {error})" in body
    # And the state came back (the product matched it: no "Something is missing" page), nothing
    # was exchanged and nothing stored
    authorize = [e for e in advertiser.amazon.emu.received_requests() if e["endpoint"] == "authorize"]
    assert len(authorize) == 1 and authorize[0]["status"] == 302 and authorize[0]["params"]["state"]
    assert advertiser.amazon.emu.token_calls() == 0
    assert advertiser.store.get_connection("acme", Region.NA) is None


def test_amazon_redirecting_back_with_invalid_scope_says_the_application_is_not_approved(
    advertiser: Product,
) -> None:
    advertiser.amazon.emu.faults.add("authorize", oauth_error="invalid_scope", error_description=MARKUP)
    page = Browser().connect(advertiser.session("acme"), "EU")
    assert page["statusCode"] == 400
    body = _assert_failure_page(page, "This application is not approved for Amazon Ads yet")
    assert "invalid_scope" in body and "For the operator" in body
    assert advertiser.amazon.emu.token_calls() == 0
    assert advertiser.store.get_connection("acme", Region.EU) is None


# --- OAuth errors at the token endpoint -------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "heading"),
    [
        ("invalid_request", "Amazon could not complete the sign-in"),
        # The operator's application is not allowed this grant: their problem, said as such.
        ("unauthorized_client", "Connecting is not available right now"),
    ],
)
def test_the_token_endpoint_refusing_the_request_gets_a_friendly_page(
    advertiser: Product, error: str, heading: str
) -> None:
    # Given the token endpoint answers 400 with an OAuth error that no retry can fix
    advertiser.amazon.emu.faults.add("token", oauth_error=error, error_description=MARKUP)
    browser, query = _at_callback(advertiser, "FE")
    # When the callback exchanges the code
    page = browser.callback(query)
    # Then a friendly page, the code sent once, nothing stored
    _assert_failure_page(page, heading)
    assert advertiser.amazon.emu.token_calls("FE", "authorization_code") == 1
    assert advertiser.store.get_connection("acme", Region.FE) is None


# --- a code exchange whose answer is lost after Amazon redeemed the code ---------------------------


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"status": 500}, id="500"),
        pytest.param({"status": 502}, id="502"),
        pytest.param({"status": 504}, id="504"),
        pytest.param({"malformed": True}, id="malformed-200"),
        pytest.param({"drop_connection": True}, id="dropped"),
    ],
)
def test_an_exchange_answer_lost_after_amazon_redeemed_the_code_is_never_resent(
    advertiser: Product, fault: dict[str, object]
) -> None:
    # Given Amazon redeems the code and then answers 5xx, a cut-off 200, or drops the connection
    advertiser.amazon.emu.faults.add("token", after_processing=True, **fault)
    browser, query = _at_callback(advertiser)
    # When the callback exchanges the code
    page = browser.callback(query)
    # Then the code was sent exactly once: a second try would be a replay
    assert advertiser.amazon.emu.token_calls("NA", "authorization_code") == 1
    # And Amazon's grant was not revoked as a replayed code would revoke it
    grant = advertiser.amazon.emu.grant_state("adv", "NA")
    assert grant is not None and not grant["revoked"]
    # And the browser is told Amazon is not answering, with nothing stored
    assert page["statusCode"] == 502
    _assert_failure_page(page, "Amazon is not answering")
    assert advertiser.store.get_connection("acme", Region.NA) is None
