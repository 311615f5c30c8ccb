"""python-amazon-ad-api, the real library, on connections the product made: in every region
it lists the profiles and calls a Scope-protected endpoint (Sponsored Products v3 campaign
list) against the emulator, with the token read from the consumer secret on moto."""

from __future__ import annotations

import boto3
import pytest
from ad_api.api import Profiles
from ad_api.api.sp import CampaignsV3
from ad_api.base.exceptions import AdvertisingApiForbiddenException
from ads_connect.consumer import ad_api_client

from emulator import seller_profile
from tests.fakes.browser import Browser
from tests.integration.conftest import Product

PROFILES = {"NA": (2000, "US"), "EU": (2001, "DE"), "FE": (2002, "JP")}


@pytest.fixture
def connected(product: Product) -> Product:
    product.amazon.emu.add_user(
        "adv",
        profiles={region: [seller_profile(pid, country)] for region, (pid, country) in PROFILES.items()},
    )
    for region in PROFILES:
        assert Browser().connect(product.session("acme"), region)["statusCode"] == 200
    return product


@pytest.mark.parametrize("region", list(PROFILES))
def test_the_library_lists_profiles_and_campaigns_in_every_region(connected: Product, region: str) -> None:
    secrets = boto3.client("secretsmanager", region_name=connected.aws.region)
    prefix = connected.aws.secret_prefix
    profile_id, country = PROFILES[region]
    # When the consumer lists the connection's profiles through python-amazon-ad-api
    profiles = ad_api_client(Profiles, "acme", region, secret_prefix=prefix, secrets_client=secrets)
    listed = profiles.list_profiles().payload
    # Then it reached this region's Ads host (the emulator answers only its region's profiles)
    assert [(p["profileId"], p["countryCode"]) for p in listed] == [(profile_id, country)]
    # And a Scope-protected call with that profile succeeds
    campaigns = ad_api_client(
        CampaignsV3, "acme", region, profile_id=profile_id, secret_prefix=prefix, secrets_client=secrets
    )
    listed_campaigns = campaigns.list_campaigns(body="{}").payload
    assert listed_campaigns["totalResults"] == 1
    # And every request went to this region with the connection's client id, none elsewhere
    log = connected.amazon.emu.received_requests()
    [profiles_call, campaigns_call] = [e for e in log if e["endpoint"] in ("profiles", "campaigns")][-2:]
    assert (profiles_call["region"], campaigns_call["region"]) == (region, region)
    assert (campaigns_call["method"], campaigns_call["status"]) == ("POST", 200)


def test_a_scoped_call_for_another_regions_profile_is_refused_by_amazon(connected: Product) -> None:
    secrets = boto3.client("secretsmanager", region_name=connected.aws.region)
    campaigns = ad_api_client(
        CampaignsV3,
        "acme",
        "NA",
        profile_id=PROFILES["EU"][0],
        secret_prefix=connected.aws.secret_prefix,
        secrets_client=secrets,
    )
    with pytest.raises(AdvertisingApiForbiddenException):
        campaigns.list_campaigns(body="{}")
