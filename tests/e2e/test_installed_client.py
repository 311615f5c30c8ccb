"""What "done" means for a consumer in another repository: `pip install` the client wheel (with
python-amazon-ad-api) into a fresh virtualenv, then call the Ads API in three lines, against
local mode (moto server + the emulator + the real handlers), with AWS reached the way a deployed
service reaches it (environment only)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import seller_profile
from tests.e2e.conftest import LocalModeHandle, walk_consent_headless
from tests.fixtures.wheels import build_wheels, fresh_venv, run_in

pytestmark = pytest.mark.e2e

TENANT = "e2e-installed"
PROFILE_IDS = {"EU": 4440000000001, "FE": 4440000000002}

CONSUMER = """
import json, os, sys
from amazon_ads_connect_client import get_session, list_profiles, ad_api_client
from ad_api.api import Profiles
from ad_api.api.sp import CampaignsV3

prefix, table = os.environ["SECRET_PREFIX"], os.environ["TABLE"]
eu_profile, fe_profile = sys.argv[1], sys.argv[2]

# The three lines of docs/consumers.md (with the local stage's prefix)
session = get_session("e2e-installed", "EU", profile_id=eu_profile, secret_prefix=prefix)
campaigns = session.get("/v2/sp/campaigns").json()

listed = list_profiles("e2e-installed", table_name=table)
fe_profiles = ad_api_client(Profiles, "e2e-installed", "FE", secret_prefix=prefix).list_profiles().payload
fe_campaigns = ad_api_client(
    CampaignsV3, "e2e-installed", "FE", profile_id=fe_profile, secret_prefix=prefix
).list_campaigns(body="{}").payload
print(json.dumps({
    "campaigns": campaigns,
    "profiles": sorted((p["region"], p["profile_id"]) for p in listed),
    "fe_profiles": [p["profileId"] for p in fe_profiles],
    "fe_campaigns": fe_campaigns["totalResults"],
}))
"""


@pytest.fixture(scope="module")
def connected(local_mode: LocalModeHandle) -> Iterator[LocalModeHandle]:
    emu = local_mode.emulator
    emu.add_user(
        "adv-installed",
        profiles={
            region: [seller_profile(pid, "DE" if region == "EU" else "JP")]
            for region, pid in PROFILE_IDS.items()
        },
        decision="allow",  # this user answers the consent page headlessly
    )
    previous = emu.signed_in
    emu.sign_in("adv-installed")
    try:
        for region in PROFILE_IDS:
            final = walk_consent_headless(local_mode.create_session(TENANT, region=region), region)
            assert final.status_code == 200, final.text[:500]
    finally:
        if previous is not None:
            emu.sign_in(previous)
    yield local_mode


@pytest.fixture(scope="module")
def consumer_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    [client_wheel] = [w for w in build_wheels(dist) if w.name.startswith("amazon_ads_connect_client-")]
    # The dev lock pins python-amazon-ad-api too (the extra's version the tests run)
    return fresh_venv(tmp_path_factory.mktemp("consumer"), [f"{client_wheel}[ad-api]"], lock="dev.lock")


def test_an_installed_client_calls_the_ads_api_in_three_lines(
    connected: LocalModeHandle, consumer_venv: Path
) -> None:
    env = {
        **connected.environ,
        "SECRET_PREFIX": connected.ready["function_environment"]["ADS_CONNECT_SECRET_PREFIX"],
        "TABLE": connected.table_name,
    }
    ran = run_in(
        consumer_venv,
        str(consumer_venv / "bin" / "python"),
        "-c",
        CONSUMER,
        str(PROFILE_IDS["EU"]),
        str(PROFILE_IDS["FE"]),
        env=env,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    result = json.loads(ran.stdout.splitlines()[-1])
    assert result["campaigns"][0]["campaignId"] == int(str(PROFILE_IDS["EU"])[-6:]) + 1
    assert result["profiles"] == [["EU", str(PROFILE_IDS["EU"])], ["FE", str(PROFILE_IDS["FE"])]]
    assert result["fe_profiles"] == [PROFILE_IDS["FE"]]
    assert result["fe_campaigns"] == 1
