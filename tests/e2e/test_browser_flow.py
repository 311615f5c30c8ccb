"""The advertiser's side in a real browser (headless Chromium) against local mode, then the
schedule and the consumer helper: what a customer's advertiser and the operator's services see.

Three tenants (NA, EU, FE) walk the flow at the same time, interleaved step by step, each as a
different Amazon user; a fourth denies. Every page is saved under test-artifacts/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from ads_connect.consumer import get_session, list_profiles
from ads_connect.regions import Region

from emulator import seller_profile, vendor_profile
from tests.e2e.conftest import LocalModeHandle

pytestmark = pytest.mark.e2e

BINDING_COOKIE = "__Host-ads_connect_binding"
PROFILES: dict[str, list[dict[str, Any]]] = {
    "NA": [
        seller_profile(1110000000001, "US", "E2E Outdoor (US)"),
        vendor_profile(2**53 + 101, "CA", "E2E Vendor (CA)", currency="CAD", marketplace="A2EUQ1WTGCTBG2"),
    ],
    "EU": [
        seller_profile(2220000000002, "DE", "E2E Outdoor (DE)", currency="EUR", marketplace="A1PA6795UKMFR9")
    ],
    "FE": [
        seller_profile(3330000000003, "JP", "E2E Outdoor (JP)", currency="JPY", marketplace="A1VC38T7YXB528"),
        seller_profile(3330000000004, "AU", "E2E Outdoor (AU)", currency="AUD", marketplace="A39IBJ37TRP1C6"),
    ],
}
# One tenant per region of the product's table; PROFILES must name each (a new region fails here).
TENANTS = [(f"e2e-{region.value.lower()}", region.value) for region in Region]
assert set(PROFILES) == {region for _, region in TENANTS}, "PROFILES needs one entry per region"


@dataclass
class Walk:
    tenant: str
    region: str
    user: str
    context: Any
    page: Any
    shots: list[Path] = field(default_factory=list)
    final_status: int | None = None
    final_text: str = ""
    final_url: str = ""
    binding_cookie: dict[str, Any] | None = None
    amazon_url: str = ""


def shoot(walk: Walk, artifacts: Path, step: str) -> None:
    path = artifacts / f"{walk.tenant}-{step}.png"
    walk.page.screenshot(path=str(path), full_page=True)
    walk.shots.append(path)


def open_consent(local_mode: LocalModeHandle, browser: Any, tenant: str, region: str, user: str) -> Walk:
    context = browser.new_context()
    page = context.new_page()
    walk = Walk(tenant, region, user, context, page)
    url = local_mode.create_session(tenant, display_name=f"Tenant {tenant}")  # no region: the page asks
    response = page.goto(url)
    assert response is not None and response.status == 200
    return walk


def choose_region(walk: Walk, local_mode: LocalModeHandle) -> None:
    walk.page.check(f'input[name="region"][value="{walk.region}"]')
    with walk.page.expect_navigation(url=f"{local_mode.emulator_url}/**"):
        walk.page.click('button[type="submit"]')
    walk.amazon_url = walk.page.url
    walk.binding_cookie = next((c for c in walk.context.cookies() if c["name"] == BINDING_COOKIE), None)


def decide(walk: Walk, local_mode: LocalModeHandle, decision: str) -> None:
    walk.page.check(f'input[name="user"][value="{walk.user}"]')
    with walk.page.expect_response(
        lambda r: r.url.startswith(local_mode.base_url) and r.status != 303
    ) as info:
        walk.page.click(f"#{decision}")
    walk.page.wait_for_load_state()
    walk.final_status = info.value.status
    walk.final_url = walk.page.url
    walk.final_text = walk.page.inner_text("body")


@pytest.fixture(scope="module")
def walked(local_mode: LocalModeHandle, browser: Any, artifacts: Path) -> Iterator[dict[str, Walk]]:
    emu = local_mode.emulator
    for tenant, region in TENANTS:
        emu.add_user(f"adv-{tenant}", name=f"Advertiser {tenant}", profiles={region: PROFILES[region]})
    emu.add_user("adv-deny", name="Advertiser who declines", profiles={"NA": PROFILES["NA"]})
    emu.headless = None  # the real consent page with Allow / Deny buttons
    walks = {t: open_consent(local_mode, browser, t, r, f"adv-{t}") for t, r in TENANTS}
    walks["e2e-deny"] = open_consent(local_mode, browser, "e2e-deny", "NA", "adv-deny")
    # Interleaved: every session is in flight at the same time, at every step.
    for walk in walks.values():
        shoot(walk, artifacts, "1-landing")
    for walk in walks.values():
        choose_region(walk, local_mode)
        shoot(walk, artifacts, "2-amazon-consent")
    for walk in walks.values():
        decide(walk, local_mode, "deny" if walk.tenant == "e2e-deny" else "allow")
        shoot(walk, artifacts, "3-result")
    yield walks
    for walk in walks.values():
        walk.context.close()


@pytest.mark.parametrize(("tenant", "region"), TENANTS)
def test_allow_ends_on_a_success_page_listing_the_profiles(
    walked: dict[str, Walk], local_mode: LocalModeHandle, tenant: str, region: str
) -> None:
    walk = walked[tenant]
    # The region choice led to that region's Amazon consent page
    assert walk.amazon_url.startswith(f"{local_mode.emulator_url}/{region}/ap/oa")
    # The browser-binding cookie is a __Host- Secure cookie, accepted on http://localhost
    assert walk.binding_cookie is not None
    assert walk.binding_cookie["secure"] and walk.binding_cookie["httpOnly"]
    assert walk.binding_cookie["sameSite"] == "Lax" and walk.binding_cookie["path"] == "/"
    # Allow -> the result page, with the code gone from the address bar
    assert walk.final_status == 200
    assert walk.final_url.startswith(f"{local_mode.base_url}/result/")
    assert "code=" not in walk.final_url and "state=" not in walk.final_url
    assert "Amazon Ads is connected" in walk.final_text
    assert f"Tenant {tenant}" in walk.final_text
    for profile in PROFILES[region]:
        assert str(profile["profileId"]) in walk.final_text  # exact, even above 2^53
        assert profile["accountInfo"]["name"] in walk.final_text
    assert all(shot.stat().st_size > 5000 for shot in walk.shots)


def test_deny_ends_on_a_friendly_page(walked: dict[str, Walk], local_mode: LocalModeHandle) -> None:
    walk = walked["e2e-deny"]
    assert walk.final_status == 403
    assert walk.final_url.startswith(f"{local_mode.base_url}/callback?")
    assert "No access was granted" in walk.final_text
    assert "Nothing was connected" in walk.final_text
    assert "Reference" in walk.final_text
    assert "Traceback" not in walk.final_text
    detail = local_mode.admin("GET", "tenants/e2e-deny")
    assert detail.status_code == 404  # nothing stored for a tenant who declined


def test_the_schedule_refreshes_and_the_consumer_calls_every_profile(
    walked: dict[str, Walk], local_mode: LocalModeHandle
) -> None:
    # Given three connected tenants and their consumer secrets in the local Secrets Manager
    prefix = local_mode.ready["function_environment"]["ADS_CONNECT_SECRET_PREFIX"]
    secrets = local_mode.client("secretsmanager")

    def access(tenant: str, region: str) -> dict[str, Any]:
        raw = secrets.get_secret_value(SecretId=f"{prefix}/access/{tenant}/{region}")["SecretString"]
        return dict(json.loads(raw))

    before = {tenant: access(tenant, region) for tenant, region in TENANTS}
    # When 50 minutes pass (product and Amazon clocks) and the schedule runs
    local_mode.advance_clock(3000)
    round_report = local_mode.run_schedule()
    # Then every connection was refreshed through the queue, none failed
    assert round_report["scheduler"]["refreshes_enqueued"] >= len(TENANTS)
    assert round_report["delivered"] >= len(TENANTS)
    assert (round_report["failed"], round_report["errors"]) == (0, [])
    after = {tenant: access(tenant, region) for tenant, region in TENANTS}
    for tenant, region in TENANTS:
        assert after[tenant]["access_token"] != before[tenant]["access_token"]
        assert after[tenant]["expires_at_epoch"] >= before[tenant]["expires_at_epoch"] + 2900
        assert after[tenant]["region"] == region and after[tenant]["tenant_id"] == tenant
        assert "refresh_token" not in after[tenant] and "client_secret" not in after[tenant]
    # And the consumer helper, reading local AWS, calls the Scope-protected endpoint per profile
    dynamodb = local_mode.client("dynamodb")
    for tenant, region in TENANTS:
        mapped = list_profiles(tenant, table_name=local_mode.table_name, dynamodb_client=dynamodb)
        assert {str(p["profile_id"]) for p in mapped} == {str(p["profileId"]) for p in PROFILES[region]}
        for profile in mapped:
            session = get_session(
                tenant, region, profile_id=profile["profile_id"], secret_prefix=prefix, secrets_client=secrets
            )
            assert session.headers["Authorization"] == f"Bearer {after[tenant]['access_token']}"
            campaigns = session.get("/v2/sp/campaigns")
            assert campaigns.status_code == 200, campaigns.text
            assert campaigns.json()[0]["campaignId"] == int(str(profile["profile_id"])[-6:]) + 1
        # Without the Scope header Amazon refuses: the endpoint really is Scope-protected
        assert (
            get_session(tenant, region, secret_prefix=prefix, secrets_client=secrets)
            .get("/v2/sp/campaigns")
            .status_code
            == 403
        )


def test_no_secret_reaches_the_console_the_logs_or_the_pages(
    walked: dict[str, Walk], local_mode: LocalModeHandle
) -> None:
    issued = {s for s in local_mode.emulator.issued_secrets() if len(s) >= 8}
    assert issued, "the emulator issued codes and tokens during the flow"
    haystacks = {
        "console": local_mode.console(),
        "handler logs": local_mode.handler_logs(),
        "pages": "\n".join(w.final_text + w.final_url + w.amazon_url for w in walked.values()),
    }
    assert haystacks["handler logs"], "the handlers' JSON logs go to the log file"
    for where, text in haystacks.items():
        leaked = [s[:6] + "..." for s in issued if s in text]
        assert not leaked, f"secrets in the {where}: {leaked}"


def test_local_only_routes_and_api_gateway_answers(
    walked: dict[str, Walk], local_mode: LocalModeHandle
) -> None:
    # `walked` connects the tenants listed below: this test must not depend on running after it
    unsigned = requests.get(f"{local_mode.admin_url}/connections", timeout=10)
    assert unsigned.status_code == 403 and unsigned.json() == {"message": "Forbidden"}
    assert requests.get(f"{local_mode.base_url}/nowhere", timeout=10).status_code == 404
    bad = requests.post(f"{local_mode.base_url}/__local__/advance-clock", data=b"nope", timeout=10)
    assert bad.status_code == 400
    listed = local_mode.admin("GET", "connections?status=active&limit=50")
    assert listed.status_code == 200
    assert {c["tenant_id"] for c in listed.json()["items"]} >= {t for t, _ in TENANTS}
