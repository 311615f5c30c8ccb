"""The Ads API per region: authentication, /v2/profiles and the Scope-protected endpoint."""

from __future__ import annotations

import json

import pytest
import requests

from emulator import agency_profile, check_profile, seller_profile, vendor_profile
from tests.emulator.conftest import BIG_ID
from tests.emulator.helpers import api, scoped
from tests.fixtures.amazon import RunningEmulator


@pytest.fixture
def access(em: RunningEmulator) -> str:
    return str(em.grant("NA", "u1")["access_token"])


def test_every_call_needs_bearer_token_and_client_id_header(em: RunningEmulator, access: str) -> None:
    for response in (
        api(em, "NA", "/v2/profiles", None),  # no Authorization
        api(em, "NA", "/v2/profiles", access, headers={"Amazon-Advertising-API-ClientId": "someone-else"}),
        api(em, "NA", "/v2/profiles", "Atza|forged"),
    ):
        assert response.status_code == 401
        body = response.json()
        assert body["code"] == "401" and body["details"] == "Authentication failed" and body["requestId"]


def test_profile_ids_are_exact_json_integers_above_2_53(em: RunningEmulator, access: str) -> None:
    response = api(em, "NA", "/v2/profiles", access)
    # The raw body spells the integer (no float, no exponent, no quotes)
    assert f'"profileId": {BIG_ID},' in response.text
    assert json.loads(response.text, parse_int=str)[0]["profileId"] == str(BIG_ID)


def test_profiles_follow_the_documented_shape(em: RunningEmulator) -> None:
    em.emu.add_user(
        "shapes",
        profiles={"NA": [seller_profile(1, sub_type="KDP_AUTHOR"), vendor_profile(2), agency_profile(3)]},
    )
    listed = api(em, "NA", "/v2/profiles", em.grant("NA", "shapes")["access_token"]).json()
    seller, vendor, agency = listed
    assert set(seller) == {
        "profileId",
        "countryCode",
        "currencyCode",
        "dailyBudget",
        "timezone",
        "accountInfo",
    }
    assert set(seller["accountInfo"]) == {
        "marketplaceStringId",
        "id",
        "type",
        "subType",
        "name",
        "validPaymentMethod",
    }
    assert seller["accountInfo"]["subType"] == "KDP_AUTHOR"
    assert "dailyBudget" not in vendor and vendor["accountInfo"]["id"].startswith("ENTITY")
    assert agency["accountInfo"]["type"] == "agency" and agency["accountInfo"]["id"].startswith("ENTITY")
    for profile in listed:
        check_profile(profile)


def test_malformed_profiles_are_refused_when_configured(em: RunningEmulator) -> None:
    broken = seller_profile(1)
    broken["profileId"] = "1"  # Amazon sends integers
    with pytest.raises(ValueError, match="integer profileId"):
        em.emu.add_user("broken", profiles={"NA": [broken]})
    with pytest.raises(ValueError, match="region"):
        em.emu.add_user("nowhere", profiles={"US": [seller_profile(1)]})


def test_profiles_are_per_region(em: RunningEmulator) -> None:
    eu = em.grant("EU", "u1")["access_token"]
    assert [p["profileId"] for p in api(em, "EU", "/v2/profiles", eu).json()] == [42]
    fe = em.grant("FE", "u1")["access_token"]
    assert api(em, "FE", "/v2/profiles", fe).json() == []  # nothing in FE: an empty array


def test_profile_filters(em: RunningEmulator) -> None:
    em.emu.add_user(
        "mixed",
        profiles={
            "NA": [seller_profile(1), vendor_profile(2), seller_profile(3, valid_payment_method=False)]
        },
    )
    token = em.grant("NA", "mixed")["access_token"]

    def ids(**params: str) -> list[int]:
        return [p["profileId"] for p in api(em, "NA", "/v2/profiles", token, params=params).json()]

    assert ids() == [1, 2, 3]
    assert ids(profileTypeFilter="vendor") == [2]
    assert ids(profileTypeFilter="seller,vendor", validPaymentMethodFilter="false") == [3]
    assert ids(apiProgram="campaign", accessLevel="edit") == [1, 2, 3]
    assert api(em, "NA", "/v2/profiles", token, params={"accessLevel": "admin"}).status_code == 400


def test_view_only_users_get_403_without_access_level_view(em: RunningEmulator) -> None:
    em.emu.add_user("viewer", profiles={"NA": [seller_profile(7)]}, view_only=True)
    token = em.grant("NA", "viewer")["access_token"]
    refused = api(em, "NA", "/v2/profiles", token, params={"accessLevel": "edit"})
    assert refused.status_code == 403 and refused.json()["code"] == "403"
    viewed = api(em, "NA", "/v2/profiles", token, params={"accessLevel": "view"})
    assert [p["profileId"] for p in viewed.json()] == [7]


def test_revoked_users_access_tokens_stop_working(em: RunningEmulator, access: str) -> None:
    em.emu.revoke("u1")
    assert api(em, "NA", "/v2/profiles", access).status_code == 401
    state = em.emu.grant_state("u1", "NA")
    assert state is not None and state["revoked_reason"] == "user_revoked"


def test_scope_header_missing_or_foreign_is_403(em: RunningEmulator, access: str) -> None:
    em.emu.add_user("other", profiles={"NA": [seller_profile(999)]})
    missing = api(em, "NA", "/v2/sp/campaigns", access)
    assert missing.status_code == 403 and missing.json()["code"] == "403"
    assert scoped(em, "NA", access, 999).status_code == 403  # another account's profile
    assert scoped(em, "NA", access, 42).status_code == 403  # own profile, but in EU
    ok = scoped(em, "NA", access, BIG_ID)
    assert ok.status_code == 200 and ok.json()[0]["campaignType"] == "sponsoredProducts"


def test_the_v3_campaign_list_has_the_same_scope_checks_and_the_v3_shape(
    em: RunningEmulator, access: str
) -> None:
    def v3_list(profile_id: int | None) -> requests.Response:
        headers = {
            "Amazon-Advertising-API-ClientId": em.emu.client_id,
            "Authorization": f"Bearer {access}",
            "Content-Type": "application/vnd.spCampaign.v3+json",
            "Accept": "application/vnd.spCampaign.v3+json",
        }
        if profile_id is not None:
            headers["Amazon-Advertising-API-Scope"] = str(profile_id)
        return requests.post(
            f"{em.base_url}/NA/api/sp/campaigns/list", headers=headers, data="{}", timeout=10
        )

    assert v3_list(None).status_code == 403
    assert v3_list(42).status_code == 403  # own profile, but in EU
    ok = v3_list(BIG_ID)
    assert ok.status_code == 200
    assert ok.headers["Content-Type"] == "application/vnd.spCampaign.v3+json"
    body = ok.json()
    assert body["totalResults"] == 1 and body["campaigns"][0]["state"] == "ENABLED"
    assert isinstance(body["campaigns"][0]["campaignId"], str)  # v3 ids are strings


def test_agency_profiles_cannot_run_sponsored_products(em: RunningEmulator) -> None:
    token = em.grant("EU", "u1")["access_token"]
    answer = scoped(em, "EU", token, 42)
    assert answer.status_code == 400 and answer.json()["details"] == "Advertiser ID cannot be decrypted"


def test_a_new_account_propagates_after_its_delay(em: RunningEmulator) -> None:
    # Given an account whose profiles were just linked (30 minutes to propagate)
    em.emu.add_user("late", profiles={"NA": [seller_profile(11)]}, propagation_delay_seconds=1800)
    token = em.grant("NA", "late")["access_token"]
    # Then /v2/profiles is empty and scoped calls get 403 until then
    assert api(em, "NA", "/v2/profiles", token).json() == []
    assert scoped(em, "NA", token, 11).status_code == 403
    em.emu.advance(1800)
    token = em.grant("NA", "late")["access_token"]
    assert [p["profileId"] for p in api(em, "NA", "/v2/profiles", token).json()] == [11]
    assert scoped(em, "NA", token, 11).status_code == 200


def test_link_profile_later_uses_the_users_propagation_delay(em: RunningEmulator) -> None:
    em.emu.add_user("grower", profiles={"NA": [seller_profile(20)]}, propagation_delay_seconds=600)
    em.emu.advance(600)
    em.emu.link_profile("grower", "NA", seller_profile(21))
    token = em.grant("NA", "grower")["access_token"]
    assert [p["profileId"] for p in api(em, "NA", "/v2/profiles", token).json()] == [20]
    em.emu.advance(601)
    token = em.grant("NA", "grower")["access_token"]
    assert [p["profileId"] for p in api(em, "NA", "/v2/profiles", token).json()] == [20, 21]
    # And an explicit zero delay shows a profile at once
    em.emu.link_profile("grower", "NA", seller_profile(22), delay_seconds=0)
    assert len(api(em, "NA", "/v2/profiles", token).json()) == 3


def test_unknown_paths_and_regions_are_404(em: RunningEmulator, access: str) -> None:
    assert api(em, "NA", "/v2/unknown", access).status_code == 404
    assert api(em, "CN", "/v2/profiles", access).status_code == 404
