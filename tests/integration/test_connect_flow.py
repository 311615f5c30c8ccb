"""Connect a tenant end to end, in-process: handlers on moto, Amazon emulated over HTTP."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from ads_connect.adapters.secrets import SecretsManagerVault
from ads_connect.models.records import ConnectionStatus, ProfilesState
from ads_connect.regions import Region

from emulator import agency_profile, seller_profile, vendor_profile
from tests.fakes.browser import PUBLIC_BASE, Browser
from tests.fakes.http_api import FakeLambdaContext
from tests.integration.conftest import Product

BIG_ID = 2**53 + 5


@pytest.fixture
def advertiser(product: Product) -> Product:
    product.amazon.emu.add_user(
        "adv",
        profiles={
            "NA": [seller_profile(BIG_ID, "US", "Shop US"), vendor_profile(11, "CA", "Vendor CA")],
            "EU": [seller_profile(21, "DE", "Shop DE"), agency_profile(22, "UK", "Agency UK")],
            "FE": [seller_profile(31, "JP", "Shop JP")],
        },
    )
    return product


def _consumer_secret(product: Product, tenant: str, region: str) -> dict[str, object]:
    client = boto3.client("secretsmanager", region_name=product.aws.region)
    return json.loads(
        client.get_secret_value(SecretId=f"ads-connect/access/{tenant}/{region}")["SecretString"]
    )


@pytest.mark.parametrize("region", list(Region))
def test_connecting_stores_tokens_maps_profiles_and_shows_them(advertiser: Product, region: Region) -> None:
    # Given a connect session for tenant acme
    session_id = advertiser.session("acme", display_name="Acme <GmbH>")
    browser = Browser()
    # When the advertiser walks the flow and allows access
    page = browser.connect(session_id, region.value)
    # Then the success page lists the region's profiles, escaped
    assert page["statusCode"] == 200, page["body"]
    assert "Amazon Ads is connected" in page["body"] and "Acme &lt;GmbH&gt;" in page["body"]
    expected = {
        Region.NA: ["Shop US", "Vendor CA"],
        Region.EU: ["Shop DE", "Agency UK"],
        Region.FE: ["Shop JP"],
    }
    assert all(name in page["body"] for name in expected[region])
    # And the connection is active, due before expiry, with its profiles mapped
    connection = advertiser.store.get_connection("acme", region)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE
    assert connection.profile_count == len(expected[region]) and connection.profiles_state is ProfilesState.OK
    assert connection.access_token_expires_at is not None and connection.refresh_due_at is not None
    assert abs((connection.access_token_expires_at - connection.refresh_due_at).total_seconds() - 900) < 1
    # And consumers read an access token (never the refresh token) for the region's Ads host
    secret = _consumer_secret(advertiser, "acme", region.value)
    assert secret["region"] == region.value and secret["api_url"].endswith(f"/{region.value}/api")  # type: ignore[union-attr]
    assert "refresh_token" not in secret
    # And the token came from the region's own token endpoint exactly once
    assert advertiser.amazon.emu.token_calls(region.value, "authorization_code") == 1
    # And a lifecycle event announced it
    (event,) = advertiser.aws.lifecycle_events()
    assert event["detail-type"] == "Connection Connected" and event["detail"]["region"] == region.value


def test_profile_ids_above_2_53_stay_exact_and_reverse_lookup_works(advertiser: Product) -> None:
    Browser().connect(advertiser.session("acme"), "NA")
    ids = {p.profile_id for p in advertiser.store.list_profiles("acme", Region.NA)}
    assert str(BIG_ID) in ids
    assert advertiser.store.find_tenants_by_profile(str(BIG_ID)) == [("acme", Region.NA)]
    types = {p.profile_id: p.account_type for p in advertiser.store.list_profiles("acme")}
    assert types["11"] == "vendor"


def test_the_consent_redirect_carries_state_pkce_and_no_secret(advertiser: Product) -> None:
    session_id = advertiser.session("acme", Region.EU)
    browser = Browser()
    browser.open_connect(session_id)
    started = browser.submit_region(session_id, "EU")
    assert started["statusCode"] == 302
    url = urlsplit(started["headers"]["Location"])
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path == "/EU/ap/oa"
    assert params["code_challenge_method"] == "S256" and len(params["state"]) >= 43
    assert params["scope"] == "advertising::campaign_management"
    assert params["redirect_uri"] == f"{PUBLIC_BASE}/callback"
    assert "client_secret" not in started["headers"]["Location"]
    cookie = started["cookies"][0]
    assert cookie.startswith("__Host-ads_connect_binding=")
    assert all(flag in cookie for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"))


def test_view_only_user_is_connected_with_view_access(product: Product) -> None:
    product.amazon.emu.add_user("viewer", profiles={"NA": [seller_profile(77)]}, view_only=True)
    page = Browser().connect(product.session("acme"), "NA")
    assert "view-only" in page["body"]
    connection = product.store.get_connection("acme", Region.NA)
    assert connection is not None and connection.view_only
    (profile,) = product.store.list_profiles("acme")
    assert profile.access_level.value == "view"


def test_no_campaigns_yet_is_a_success_with_an_explanation(product: Product) -> None:
    product.amazon.emu.add_user("fresh", profiles={"NA": [seller_profile(5)]}, has_campaigns=False)
    page = Browser().connect(product.session("acme"), "NA")
    assert page["statusCode"] == 200 and "No advertising profiles yet" in page["body"]
    connection = product.store.get_connection("acme", Region.NA)
    assert connection is not None and connection.profiles_state is ProfilesState.EMPTY
    assert connection.profile_sync_due_at is not None


def test_profiles_forbidden_during_propagation_are_pending_and_rechecked(advertiser: Product) -> None:
    advertiser.amazon.emu.faults.add("profiles", status=403, count=2)
    page = Browser().connect(advertiser.session("acme"), "NA")
    assert page["statusCode"] == 200 and "up to an hour" in page["body"]
    connection = advertiser.store.get_connection("acme", Region.NA)
    assert connection is not None and connection.profiles_state is ProfilesState.PENDING
    assert connection.profile_sync_due_at is not None


def test_too_little_time_for_discovery_connects_and_leaves_profiles_to_the_recheck(
    advertiser: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The code exchange leaves 13 s before the deadline margin: less than one Ads API call may take
    monkeypatch.setattr(FakeLambdaContext, "get_remaining_time_in_millis", lambda _self: 18_000)
    page = Browser().connect(advertiser.session("acme"), "NA")
    assert page["statusCode"] == 200 and "Amazon Ads is connected" in page["body"]
    assert "still being discovered" in page["body"]
    assert not [e for e in advertiser.amazon.emu.received_requests() if e["endpoint"] == "profiles"]
    connection = advertiser.store.get_connection("acme", Region.NA)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE
    assert connection.profiles_state is ProfilesState.PENDING
    # The profile re-check picks it up within minutes
    soon = datetime.now(UTC) + timedelta(minutes=16)
    assert ("acme", Region.NA) in advertiser.store.profile_sync_due(now=soon)
    (event,) = advertiser.aws.lifecycle_events()
    assert event["detail"]["profiles_state"] == "pending"


def test_denied_consent_ends_on_a_friendly_page_and_stores_nothing(advertiser: Product) -> None:
    advertiser.amazon.emu.headless = "deny"
    page = Browser().connect(advertiser.session("acme"), "FE")
    assert page["statusCode"] == 403 and "No access was granted" in page["body"]
    assert "Reference:" in page["body"]
    assert advertiser.store.get_connection("acme", Region.FE) is None


def test_unapproved_application_explains_invalid_scope_for_the_operator(advertiser: Product) -> None:
    advertiser.amazon.emu.approved_for_ads = False
    page = Browser().connect(advertiser.session("acme"), "NA")
    assert page["statusCode"] == 400 and "not approved for Amazon Ads yet" in page["body"]


def test_a_replayed_or_forged_state_is_refused_and_changes_nothing(advertiser: Product) -> None:
    browser = Browser()
    session_id = advertiser.session("acme")
    browser.open_connect(session_id)
    query = browser.at_amazon(browser.submit_region(session_id, "NA")["headers"]["Location"])
    assert browser.callback(query)["statusCode"] == 303
    before = advertiser.store.get_connection("acme", Region.NA)
    replay = browser.callback(query)
    assert replay["statusCode"] == 400 and "unknown or was already used" in replay["body"]
    forged = browser.callback(query.replace("state=", "state=x"))
    assert forged["statusCode"] == 400
    missing = browser.callback("code=abc")
    assert missing["statusCode"] == 400 and "missing" in missing["body"]
    assert advertiser.store.get_connection("acme", Region.NA) == before


def test_a_callback_in_another_browser_is_refused(advertiser: Product) -> None:
    browser = Browser()
    session_id = advertiser.session("acme")
    browser.open_connect(session_id)
    query = browser.at_amazon(browser.submit_region(session_id, "NA")["headers"]["Location"])
    stranger = Browser()
    page = stranger.callback(query)
    assert page["statusCode"] == 400 and "same browser" in page["body"]
    assert advertiser.store.get_connection("acme", Region.NA) is None
    assert advertiser.amazon.emu.token_calls() == 0


def test_sessions_unknown_expired_and_used(advertiser: Product) -> None:
    assert Browser().open_connect("A" * 43)["statusCode"] == 404
    assert Browser().open_connect("<script>alert(1)</script>")["statusCode"] == 404
    session_id = advertiser.session("acme")
    Browser().connect(session_id, "NA")
    used = Browser().open_connect(session_id)
    assert used["statusCode"] == 410 and "already used" in used["body"]
    record = advertiser.consent_store.get_session(session_id)
    assert record is not None and record.used_at is not None


def test_a_fixed_region_session_rejects_another_region(advertiser: Product) -> None:
    session_id = advertiser.session("acme", Region.EU)
    browser = Browser()
    landing = browser.open_connect(session_id)
    assert 'value="EU"' in landing["body"] and 'type="radio"' not in landing["body"]
    assert browser.submit_region(session_id, "NA")["statusCode"] == 400


def test_exchange_is_retried_after_a_5xx_but_never_after_a_dropped_connection(advertiser: Product) -> None:
    advertiser.amazon.emu.faults.add("token", status=503, count=1)
    page = Browser().connect(advertiser.session("acme"), "NA")
    assert page["statusCode"] == 200
    advertiser.amazon.emu.faults.add("token", drop_connection=True)
    calls_before = advertiser.amazon.emu.token_calls()
    page = Browser().connect(advertiser.session("globex"), "NA")
    assert page["statusCode"] == 502 and "not answering" in page["body"]
    assert advertiser.amazon.emu.token_calls() == calls_before + 1
    assert advertiser.store.get_connection("globex", Region.NA) is None


def test_operator_credential_problems_are_explained(advertiser: Product) -> None:
    advertiser.amazon.emu.rotate_client_secret("rotated-at-amazon")
    page = Browser().connect(advertiser.session("acme"), "NA")
    assert page["statusCode"] == 503 and "client secret is wrong" in page["body"]
    # A fresh stack's placeholders: the consent page reads only the public client id copy.
    secrets = boto3.client("secretsmanager", region_name=advertiser.aws.region)
    secrets.put_secret_value(
        SecretId=advertiser.aws.lwa_secret_id, SecretString='{"client_id": "", "client_secret": ""}'
    )
    secrets.put_secret_value(
        SecretId=f"{advertiser.aws.secret_prefix}/lwa-client-id", SecretString='{"client_id": ""}'
    )
    from ads_connect.handlers import dependencies

    dependencies.reset()
    browser = Browser()
    session_id = advertiser.session("globex")
    browser.open_connect(session_id)
    page = browser.submit_region(session_id, "NA")
    assert page["statusCode"] == 503 and "not finished setting up" in page["body"]


def test_reconsent_replaces_the_grant_in_place_and_reactivates(advertiser: Product) -> None:
    Browser().connect(advertiser.session("acme"), "NA")
    first = advertiser.vault.read_refresh_token("acme", Region.NA)
    connection = advertiser.store.get_connection("acme", Region.NA)
    assert connection is not None
    advertiser.store.save_connection(
        connection.replace(status=ConnectionStatus.REAUTHORIZATION_REQUIRED),
        expected_grant_version=connection.grant_version,
    )
    advertiser.amazon.emu.link_profile("adv", "NA", seller_profile(99, "MX", "Shop MX"))
    page = Browser().connect(advertiser.session("acme"), "NA")
    assert page["statusCode"] == 200 and "Shop MX" in page["body"]
    second = advertiser.vault.read_refresh_token("acme", Region.NA)
    updated = advertiser.store.get_connection("acme", Region.NA)
    assert first is not None and second is not None and updated is not None
    assert second.refresh_token != first.refresh_token and second.grant_version == 2
    assert updated.status is ConnectionStatus.ACTIVE and updated.grant_version == 2
    assert updated.connected_at == connection.connected_at and updated.profile_count == 3


def test_two_callbacks_racing_for_one_tenant_both_finish_consistently(advertiser: Product) -> None:
    queries = []
    browsers = [Browser(), Browser()]
    for browser in browsers:
        session_id = advertiser.session("acme")
        browser.open_connect(session_id)
        queries.append(browser.at_amazon(browser.submit_region(session_id, "EU")["headers"]["Location"]))
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda b=b, q=q: results.append(b.callback(q)["statusCode"]))
        for b, q in zip(browsers, queries, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [303, 303]
    connection = advertiser.store.get_connection("acme", Region.EU)
    stored = advertiser.vault.read_refresh_token("acme", Region.EU)
    assert connection is not None and stored is not None
    assert connection.grant_version == stored.grant_version == 2
    assert _consumer_secret(advertiser, "acme", "EU")["grant_version"] == 2


def test_two_tabs_of_one_session_racing_connect_exactly_once(advertiser: Product) -> None:
    session_id = advertiser.session("acme")
    browser = Browser()
    browser.open_connect(session_id)
    queries = [
        browser.at_amazon(browser.submit_region(session_id, region)["headers"]["Location"])
        for region in ("NA", "EU")
    ]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def finish(query: str) -> None:
        barrier.wait()
        statuses.append(browser.callback(query)["statusCode"])

    threads = [threading.Thread(target=finish, args=(query,)) for query in queries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One tab connects; the other is told the link is in use (409) or already used (410).
    assert sorted(statuses)[0] == 303 and sorted(statuses)[1] in (409, 410)
    connected = [r for r in (Region.NA, Region.EU) if advertiser.store.get_connection("acme", r)]
    assert len(connected) == 1
    assert advertiser.amazon.emu.token_calls(grant_type="authorization_code") == 1


def test_a_session_with_a_return_url_redirects_there_with_no_secret(advertiser: Product) -> None:
    session_id = advertiser.session("acme", return_url="https://app.example.com/amazon/connected")
    done = Browser().connect(session_id, "FE")
    assert done["statusCode"] == 303
    location = done["headers"]["Location"]
    assert location.startswith("https://app.example.com/amazon/connected?")
    assert parse_qs(urlsplit(location).query) == {
        "status": ["connected"],
        "tenant_id": ["acme"],
        "region": ["FE"],
        "profiles": ["1"],
    }


def test_result_page_is_only_for_the_browser_that_connected(advertiser: Product) -> None:
    browser = Browser()
    session_id = advertiser.session("acme")
    browser.open_connect(session_id)
    query = browser.at_amazon(browser.submit_region(session_id, "NA")["headers"]["Location"])
    result_id = browser.callback(query)["headers"]["Location"].rsplit("/", 1)[1]
    assert browser.result(result_id)["statusCode"] == 200
    assert Browser().result(result_id)["statusCode"] == 404


def test_every_page_carries_the_security_headers(advertiser: Product) -> None:
    browser = Browser()
    browser.connect(advertiser.session("acme"), "NA")
    for response in browser.pages:
        headers = response["headers"]
        assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src" not in headers["Content-Security-Policy"]  # default-src 'none' forbids scripts
        assert headers["Strict-Transport-Security"].startswith("max-age=")
        assert "Traceback" not in response["body"]


def test_a_failed_reconnect_after_a_disconnect_leaves_no_live_token(
    advertiser: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a connection disconnected (its secrets scheduled for deletion, as a disconnect does)
    Browser().connect(advertiser.session("acme"), "NA")
    connection = advertiser.store.get_connection("acme", Region.NA)
    assert connection is not None
    advertiser.store.save_connection(
        connection.replace(status=ConnectionStatus.DISCONNECTED, grant_version=connection.grant_version + 1),
        expected_grant_version=connection.grant_version,
    )
    advertiser.store.save_profiles("acme", Region.NA, [])
    advertiser.vault.delete_connection_secrets("acme", Region.NA, recovery_window_days=7)

    # When the re-consent restores the secrets, stores its new refresh token, then fails
    def fail(self: SecretsManagerVault, token: object) -> None:
        raise RuntimeError("AWS said no")

    monkeypatch.setattr(SecretsManagerVault, "publish_access_token", fail)
    page = Browser().connect(advertiser.session("acme"), "NA")
    # Then the page says the account is still not connected, and no token is readable again
    assert page["statusCode"] == 503 and "still not connected" in page["body"]
    assert advertiser.vault.read_refresh_token("acme", Region.NA) is None
    restored = advertiser.store.get_connection("acme", Region.NA)
    assert restored is not None and restored.status is ConnectionStatus.DISCONNECTED
    secrets = boto3.client("secretsmanager", region_name=advertiser.aws.region)
    listed = secrets.list_secrets(IncludePlannedDeletion=True)["SecretList"]
    assert all(s.get("DeletedDate") for s in listed if "acme" in s["Name"]), listed
