"""Connect-flow failure pages and Amazon quirks not covered by test_connect_flow.py, on moto and
the emulator: every page is friendly, escaped, carries a reference, and stores nothing wrong."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from ads_connect.logic.connect_session import create_connect_session
from ads_connect.models.records import ProfilesState
from ads_connect.regions import Region

from emulator import seller_profile
from tests.fakes.browser import Browser
from tests.fakes.clock import FakeClock
from tests.integration.conftest import Product


@pytest.fixture
def advertiser(product: Product) -> Product:
    product.amazon.emu.add_user(
        "adv", profiles={r.value: [seller_profile(10 + i)] for i, r in enumerate(Region)}
    )
    return product


def _started(product: Product, region: str = "NA") -> tuple[Browser, str]:
    """A browser that has been sent to Amazon; returns it and the state it carries."""
    browser = Browser()
    session_id = product.session("acme")
    browser.open_connect(session_id)
    location = browser.submit_region(session_id, region)["headers"]["Location"]
    return browser, parse_qs(urlsplit(location).query)["state"][0]


def _reference(page: dict[str, object]) -> str:
    return str(page["body"]).split('class="ref">', 1)[1].split("<", 1)[0]


def test_an_expired_session_link_says_so(product: Product) -> None:
    past = FakeClock(datetime.now(UTC) - timedelta(minutes=5))
    created = create_connect_session(
        "acme",
        display_name=None,
        region=None,
        return_url=None,
        lifetime_seconds=60,
        consent_store=product.consent_store,
        clock=past,
        settings=product.settings,
    )
    page = Browser().open_connect(created.consent_url.rsplit("/", 1)[1])
    assert page["statusCode"] == 410 and "expired" in page["body"] and _reference(page)


def test_an_expired_state_is_refused_and_exchanges_nothing(advertiser: Product) -> None:
    browser, state = _started(advertiser)
    record = advertiser.consent_store.consume_state(state)
    assert record is not None
    advertiser.consent_store.put_state(
        state, record.replace(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    page = browser.callback(urlencode({"code": "ANc-not-used", "state": state}))
    assert page["statusCode"] == 400 and "took too long" in page["body"]
    assert advertiser.amazon.emu.token_calls() == 0


@pytest.mark.parametrize("error", ["server_error", "temporarily_unavailable", "unsupported_response_type"])
def test_other_amazon_errors_on_the_redirect_get_a_clear_page_without_amazons_text(
    advertiser: Product, error: str
) -> None:
    browser, state = _started(advertiser)
    query = urlencode({"error": error, "error_description": "<img src=x onerror=alert(1)>", "state": state})
    page = browser.callback(query)
    assert page["statusCode"] == 400 and "Amazon could not complete the sign-in" in page["body"]
    assert f"error code: {error}" in page["body"] and "onerror" not in page["body"]
    assert advertiser.store.get_connection("acme", Region.NA) is None


def test_amazon_unreachable_at_the_exchange_is_retried_then_explained(advertiser: Product) -> None:
    browser, _ = _started(advertiser)
    query = browser.at_amazon(browser.pages[-1]["headers"]["Location"])
    advertiser.amazon.server.stop()  # connection refused from now on: provably never sent
    page = browser.callback(query)
    assert page["statusCode"] == 502 and "not answering" in page["body"] and _reference(page)
    assert advertiser.store.get_connection("acme", Region.NA) is None


def test_throttling_at_the_exchange_honours_retry_after_and_succeeds(advertiser: Product) -> None:
    advertiser.amazon.emu.faults.add("token", status=429, count=1, retry_after=1)
    browser, _ = _started(advertiser, "EU")
    query = browser.at_amazon(browser.pages[-1]["headers"]["Location"])
    began = time.monotonic()
    done = browser.callback(query)
    assert done["statusCode"] == 303 and time.monotonic() - began >= 1.0  # waited Retry-After
    # the throttled call redeemed nothing: the same code succeeded on the second call
    assert advertiser.amazon.emu.token_calls("EU", "authorization_code") == 2
    assert advertiser.store.get_connection("acme", Region.EU) is not None


def test_profiles_5xx_at_consent_is_a_success_with_a_pending_recheck(advertiser: Product) -> None:
    advertiser.amazon.emu.faults.add("profiles", status=503, count=1)
    page = Browser().connect(advertiser.session("acme"), "FE")
    assert page["statusCode"] == 200 and "checked again automatically" in page["body"]
    connection = advertiser.store.get_connection("acme", Region.FE)
    assert connection is not None and connection.profiles_state is ProfilesState.PENDING
    assert connection.profile_sync_due_at is not None


def test_profiles_still_propagating_are_no_profiles_yet_with_a_recheck(advertiser: Product) -> None:
    advertiser.amazon.emu.add_user(
        "late", profiles={"NA": [seller_profile(555, "US", "Late Shop")]}, propagation_delay_seconds=3600
    )
    advertiser.amazon.emu.sign_in("late")
    page = Browser().connect(advertiser.session("globex"), "NA")
    assert page["statusCode"] == 200 and "No advertising profiles yet" in page["body"]
    connection = advertiser.store.get_connection("globex", Region.NA)
    assert connection is not None and connection.profiles_state is ProfilesState.EMPTY
    assert connection.profile_sync_due_at is not None


def test_unknown_result_and_malformed_callback_pages(advertiser: Product) -> None:
    assert Browser().result("A" * 43)["statusCode"] == 404
    browser, state = _started(advertiser)
    page = browser.callback(urlencode({"state": state}))  # neither code nor error
    assert page["statusCode"] == 400 and "malformed" in page["body"]
