"""Threats T2 (cross-site start of a flow), T5 (a malicious advertiser's text) and T6 (replayed
or forged callbacks), played through the real handlers on moto and the emulator."""

from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit

import boto3
import pytest
import requests
from ads_connect import table_schema as schema
from ads_connect.handlers.cookies import BINDING_COOKIE
from ads_connect.logic.ids import new_id
from ads_connect.regions import Region

from cli import output
from emulator import seller_profile
from tests.fakes.browser import Browser
from tests.security.conftest import Product

HOSTILE_NAME = '<script>alert(1)</script>"\x1b[2J\x1b]8;;https://evil.example\x07Shop\r\u202e'


@pytest.fixture
def world(product: Product) -> Product:
    product.amazon.emu.add_user("advertiser", profiles={"NA": [seller_profile(601, "US", HOSTILE_NAME)]})
    return product


def no_state_stored(world: Product) -> bool:
    dynamodb = boto3.client("dynamodb", region_name=world.aws.region)
    items = dynamodb.scan(TableName=world.aws.table_name)["Items"]
    states = schema.consent_pk_pattern(schema.ConsentKind.STATE).removesuffix("*")
    return not any(item[schema.PARTITION_KEY]["S"].startswith(states) for item in items)


@pytest.mark.parametrize(
    ("headers", "with_token"),
    [
        pytest.param({"sec-fetch-site": "cross-site"}, True, id="another site, current browser"),
        pytest.param({"sec-fetch-site": "same-site"}, True, id="a sibling subdomain"),
        pytest.param({}, False, id="no fetch metadata, no form token"),
    ],
)
def test_t2_a_flow_started_from_another_sites_form_starts_nothing(
    world: Product, headers: dict[str, str], with_token: bool
) -> None:
    # Given the advertiser's browser, bound by an earlier visit, and another site's form that
    # posts to a session of the attacker's choosing (it cannot read the page's form token)
    advertiser = Browser()
    advertiser.open_connect(world.session("earlier"))
    # When that form is submitted
    page = advertiser.submit_region(
        world.session("mallory-corp"), "NA", form_token=new_id() if with_token else None, headers=headers
    )
    # Then the "start from the connection page" refusal, and no state was written
    assert page["statusCode"] == 403 and "Please start from the connection page" in page["body"]
    assert no_state_stored(world)


def test_t5_an_advertisers_hostile_account_name_is_inert_on_the_page_and_in_the_cli(world: Product) -> None:
    # Given an Amazon account whose name carries markup, escape sequences and bidi marks
    # When it is connected
    page = Browser().connect(world.session("acme"), "NA")
    # Then the result page shows it escaped, never as markup
    assert page["statusCode"] == 200
    assert "<script>" not in page["body"] and "&lt;script&gt;" in page["body"]
    # And the operator's table of the tenant carries no control character
    [profile] = world.store.list_profiles("acme")
    listed = {"region": "NA", "profile_id": profile.profile_id, "account_name": profile.account_name}
    detail = {"tenant_id": "acme", "connections": [], "refresh_attempts": [], "profiles": [listed]}
    shown = output.tenant_text(detail)
    assert "Shop" in shown
    assert not any(c in shown for c in ("\x1b", "\x07", "\r", "\u202e")), repr(shown)
    # While the JSON the CLI prints with --json keeps the name exactly
    assert json.loads(output.as_json(detail))["profiles"][0]["account_name"] == HOSTILE_NAME


def test_t6_a_replayed_callback_is_refused_and_changes_nothing(world: Product) -> None:
    # Given a completed connection
    advertiser = Browser()
    session = world.session("acme")
    advertiser.open_connect(session)
    started = advertiser.submit_region(session, "NA")
    at_amazon = requests.get(started["headers"]["Location"], allow_redirects=False, timeout=5)
    query = urlsplit(at_amazon.headers["Location"]).query
    assert advertiser.callback(query)["statusCode"] == 303
    connection = world.store.get_connection("acme", Region.NA)
    assert connection is not None
    # When the same callback URL is replayed, from the same browser or another with a forged binding
    replays = [advertiser.callback(query), Browser(cookies={BINDING_COOKIE: new_id()}).callback(query)]
    # Then each is refused and the connection is unchanged
    for page in replays:
        assert page["statusCode"] == 400 and "unknown or was already used" in page["body"]
    after = world.store.get_connection("acme", Region.NA)
    assert after is not None and after.grant_version == connection.grant_version


def test_t6_a_forged_state_exchanges_nothing(world: Product) -> None:
    browser = Browser()
    browser.open_connect(world.session("acme"))
    page = browser.callback(urlencode({"code": "forged-code", "state": new_id()}))
    assert page["statusCode"] == 400
    assert world.amazon.emu.token_calls() == 0
