"""Threat T1 (docs/security.md): a cookie-planting attacker (a sibling subdomain writing a
cookie on the parent domain, or a network attacker on plain HTTP before HSTS is cached) plants
its own binding value in the advertiser's browser, then hands the advertiser Amazon's
authorization URL for a flow the attacker started for the attacker's tenant. Had the callback
read the planted value, the advertiser's Amazon Ads account would be connected to the
attacker's tenant. Every cookie form is refused with the friendly "start again" page (400)
on the landing page, the form POST and the callback, and nothing is linked."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from ads_connect.handlers.cookies import BINDING_COOKIE
from ads_connect.logic.consent import form_token
from ads_connect.regions import Region

from emulator import seller_profile
from tests.fakes.browser import Browser
from tests.security.conftest import Product

ATTACKER_TENANT = "mallory-corp"


def planted_forms(attacker_binding: str) -> dict[str, list[str]]:
    """Each way the attacker's value can reach the server beside (or instead of) a real one."""
    b = attacker_binding
    return {
        "space-joined inside a plain cookie": [f"x=1 {BINDING_COOKIE}={b}"],
        "duplicated (attacker's first)": [f"{BINDING_COOKIE}={b}"],
        "quoted value": [f'{BINDING_COOKIE}="{b}"'],
        "quoted pair inside a plain cookie": ['x="1', f'{BINDING_COOKIE}={b}"'],
        "percent-encoded inside a plain cookie": [f"x=1%20{BINDING_COOKIE}%3D{b}"],
        "oversized value": [f"{BINDING_COOKIE}={b}{'A' * 4096}"],
        "oversized plain cookie carrying it": [f"x={'A' * 4096} {BINDING_COOKIE}={b}"],
    }


FORMS = list(planted_forms("B"))


@pytest.fixture
def world(product: Product) -> Product:
    product.amazon.emu.add_user("advertiser", profiles={"NA": [seller_profile(501, "US", "Victim Shop")]})
    return product


def attacker_starts_a_flow(world: Product) -> tuple[str, str]:
    """The attacker's own browser starts a flow for the attacker's tenant: its binding value
    and the Amazon authorization URL it will hand the advertiser."""
    attacker = Browser()
    session = world.session(ATTACKER_TENANT)
    assert attacker.open_connect(session)["statusCode"] == 200
    started = attacker.submit_region(session, "NA")
    assert started["statusCode"] == 302
    return attacker.cookies[BINDING_COOKIE], started["headers"]["Location"]


def browser_with_its_own_binding(world: Product) -> Browser:
    """The advertiser's browser after any earlier visit: it holds its own binding. (A lone
    planted cookie of the exact ``__Host-`` name is what the browser itself refuses to store
    from another origin; docs/security.md states what is left when a browser does not.)"""
    browser = Browser()
    assert browser.open_connect(world.session("earlier-visit"))["statusCode"] == 200
    assert BINDING_COOKIE in browser.cookies
    return browser


def nothing_linked(world: Product) -> bool:
    return world.store.get_connection(ATTACKER_TENANT, Region.NA) is None and not world.store.list_profiles(
        ATTACKER_TENANT
    )


def refused(page: dict[str, Any]) -> bool:
    return page["statusCode"] == 400 and "Please start again" in page["body"] and "cookies" not in page


@pytest.mark.parametrize("form", FORMS)
def test_the_callback_refuses_a_planted_binding_and_links_nothing(world: Product, form: str) -> None:
    # Given the attacker's flow and its binding value planted in the advertiser's browser, which
    # may hold a binding of its own from an earlier visit
    attacker_binding, authorization_url = attacker_starts_a_flow(world)
    advertiser = browser_with_its_own_binding(world)
    advertiser.planted = planted_forms(attacker_binding)[form]
    # When the advertiser approves at Amazon and comes back to the callback
    answer = requests.get(authorization_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    page = advertiser.callback(urlsplit(answer.headers["Location"]).query)
    # Then the friendly "start again" page, and the advertiser's account is linked to no one
    assert refused(page), page["body"][:300]
    assert nothing_linked(world)


@pytest.mark.parametrize("form", FORMS)
def test_the_landing_page_refuses_a_planted_binding(world: Product, form: str) -> None:
    # Given a browser carrying an attacker's binding in any form beside its own
    advertiser = browser_with_its_own_binding(world)
    advertiser.planted = planted_forms(attacker_starts_a_flow(world)[0])[form]
    # When it opens a connect link
    page = advertiser.open_connect(world.session("acme"))
    # Then it is refused, and no binding is issued on top of the planted one
    assert refused(page), page["body"][:300]


@pytest.mark.parametrize("form", FORMS)
def test_the_form_token_fallback_refuses_a_planted_binding(world: Product, form: str) -> None:
    # Given the attacker knows its own binding value, so it can compute the form token a page
    # read with that binding carries, for the attacker's session
    attacker_binding, _ = attacker_starts_a_flow(world)
    session = world.session(ATTACKER_TENANT)
    advertiser = browser_with_its_own_binding(world)
    advertiser.planted = planted_forms(attacker_binding)[form]
    # When the attacker's site auto-submits the form from a browser without fetch metadata
    page = advertiser.submit_region(
        session, "NA", form_token=form_token(attacker_binding, session), headers={}
    )
    # Then nothing starts (no redirect to Amazon, no state for the attacker's tenant)
    assert refused(page), page["body"][:300]


def test_the_attack_as_filed_fails_end_to_end(world: Product) -> None:
    """The issue's exact attack: `x=1 __Host-ads_connect_binding=<attacker's>` planted, the
    advertiser approves the attacker's authorization URL, and the callback refuses."""
    attacker_binding, authorization_url = attacker_starts_a_flow(world)
    advertiser = Browser(planted=[f"x=1 {BINDING_COOKIE}={attacker_binding}"])  # no binding of its own
    answer = requests.get(authorization_url, allow_redirects=False, timeout=5)
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert "code" in query  # Amazon did issue a code for the attacker's state
    page = advertiser.callback(urlsplit(answer.headers["Location"]).query)
    assert refused(page)
    assert nothing_linked(world)
    assert world.amazon.emu.token_calls() == 0  # the code was never even exchanged


def test_the_genuine_flow_still_connects(world: Product) -> None:
    # Given an advertiser's browser with unrelated cookies of the parent domain
    advertiser = Browser(planted=["_ga=GA1.2.3", "theme=dark; lang=en"])
    # When it walks the flow
    page = advertiser.connect(world.session("acme"), "NA")
    # Then it connects as before
    assert page["statusCode"] == 200 and "Victim Shop" in page["body"]
    assert world.store.get_connection("acme", Region.NA) is not None
