"""No operator mistake costs a tenant its grant (issue 11), on moto and the emulator, whose
refresh tokens are bound to the client that obtained them, as Amazon's are."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from ads_connect.handlers import admin, refresh_scheduler, refresh_worker
from ads_connect.logic.ports import CLIENT_MISMATCH_PAUSE, REVOCATION_HOLD_PAUSE
from ads_connect.models.records import ConnectionStatus
from ads_connect.regions import Region

from emulator import seller_profile
from local.schedule import sqs_event
from tests.fakes.browser import Browser
from tests.fakes.http_api import FakeLambdaContext, http_event
from tests.fixtures.aws import TEST_CLIENT_ID, TEST_CLIENT_SECRET
from tests.fixtures.leak_guard import record_response
from tests.integration.conftest import Product

WORK_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:ads-connect-work"
DEV_CLIENT_ID = "amzn1.application-oa2-client.dev-fixture"
DEV_CLIENT_SECRET = "dev-fixture-client-secret"
TENANTS = ("acme", "globex", "initech")
REGIONS = (Region.NA, Region.EU, Region.FE)


@pytest.fixture
def connected(product: Product, monkeypatch: pytest.MonkeyPatch) -> Iterator[Product]:
    """Nine real grants (three tenants x three regions) obtained by the production client, and
    a second valid Security Profile (dev) registered at the emulator."""
    product.amazon.emu.add_client(DEV_CLIENT_ID, DEV_CLIENT_SECRET, tuple(product.amazon.emu.redirect_uris))
    for number, tenant in enumerate(TENANTS):
        product.amazon.emu.add_user(
            f"adv-{tenant}",
            profiles={
                r.value: [seller_profile(200 + 10 * number + i, c)]
                for i, (r, c) in enumerate(((Region.NA, "US"), (Region.EU, "DE"), (Region.FE, "JP")))
            },
        )
        product.amazon.emu.sign_in(f"adv-{tenant}")
        for region in REGIONS:
            assert Browser().connect(product.session(tenant), region.value)["statusCode"] == 200
    product.aws.lifecycle_events()
    refresh_worker.reset()
    refresh_scheduler.reset()
    monkeypatch.setattr(admin, "_service", admin.build_service())
    yield product
    refresh_worker.reset()
    refresh_scheduler.reset()


def _admin(product: Product, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    response = record_response(admin.handler(http_event(method, path, **kwargs), FakeLambdaContext()))  # type: ignore[arg-type]
    for issued in product.amazon.emu.issued_secrets():
        assert issued not in response["body"], "a secret leaked into an admin response"
    return response["statusCode"], json.loads(response["body"])


def _all_due(product: Product) -> None:
    for tenant in TENANTS:
        for region in REGIONS:
            connection = product.store.get_connection(tenant, region)
            assert connection is not None
            product.store.save_connection(
                connection.replace(refresh_due_at=connection.connected_at - timedelta(hours=1)),
                expected_grant_version=connection.grant_version,
            )


def _past_the_credential_cache() -> None:
    """The worker's five-minute cache of the client credentials has run out."""
    vault = refresh_worker._dependencies()["vault"]
    vault._credentials_read_at -= 301


def _run_schedule(product: Product) -> dict[str, Any]:
    summary = refresh_scheduler.handler({}, FakeLambdaContext())
    sqs = boto3.client("sqs", region_name=product.aws.region)
    while True:
        messages = sqs.receive_message(QueueUrl=product.aws.work_queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            return summary
        event = {"Records": sqs_event(messages, WORK_QUEUE_ARN)["Records"]}
        assert refresh_worker.handler(event, FakeLambdaContext()) == {"batchItemFailures": []}


def _statuses(product: Product) -> list[ConnectionStatus]:
    return [c.status for t in TENANTS for c in product.store.list_connections(t)]


def _store_client(product: Product, client_id: str, client_secret: str, **flags: bool) -> tuple[int, Any]:
    """``PUT /admin/client-credentials`` as the CLI sends it (``add_client`` / ``replace_client``)."""
    return _admin(
        product,
        "PUT",
        "/admin/client-credentials",
        body={"client_id": client_id, "client_secret": client_secret, **flags},
    )


def _events(product: Product, detail_type: str) -> list[dict[str, Any]]:
    return [e for e in product.aws.lifecycle_events() if e["detail-type"] == detail_type]


def test_storing_another_valid_client_is_refused_with_the_grant_counts(connected: Product) -> None:
    # When the operator stores the dev Security Profile's id and secret (a valid client!)
    status, body = _store_client(connected, DEV_CLIENT_ID, DEV_CLIENT_SECRET)
    # Then it is refused, saying who holds the grants and what to do; nothing was stored
    assert status == 409 and body["error"]["code"] == "client_change_refused"
    assert f"9 with {TEST_CLIENT_ID}" in body["error"]["message"]
    assert "--add-client" in body["error"]["message"]
    stored = json.loads(
        boto3.client("secretsmanager", region_name=connected.aws.region).get_secret_value(
            SecretId=connected.aws.lwa_secret_id
        )["SecretString"]
    )
    assert stored["client_id"] == TEST_CLIENT_ID


def test_swapping_to_another_valid_client_loses_no_tenant_and_restoring_brings_every_one_back(
    connected: Product,
) -> None:
    # Given the worker has the production client cached (a warm Lambda)
    _all_due(connected)
    assert len(_run_schedule(connected)) > 0
    calls_before = connected.amazon.emu.token_calls(grant_type="refresh_token")
    assert calls_before == 9
    # When the operator confirms storing the dev client in its place
    status, body = _store_client(connected, DEV_CLIENT_ID, DEV_CLIENT_SECRET, replace_client=True)
    assert status == 200 and body["uncovered_grants"] == {TEST_CLIENT_ID: 9}
    # And `credentials check` says Amazon accepts it, but that it covers none of the grants
    status, check = _admin(connected, "POST", "/admin/client-credentials/check")
    assert check["result"] == "accepted" and check["covers_all_grants"] is False
    calls_before = connected.amazon.emu.token_calls(grant_type="refresh_token")  # + the check's probe
    # And the schedule runs past the worker's credential cache
    _past_the_credential_cache()
    _all_due(connected)
    _run_schedule(connected)
    # Then Amazon was not asked with the wrong client, 0 connections are lost, one alarm/event
    assert connected.amazon.emu.token_calls(grant_type="refresh_token") == calls_before
    assert _statuses(connected) == [ConnectionStatus.ACTIVE] * 9
    assert len(_events(connected, "Client Credentials Mismatch")) == 1
    assert _events(connected, "Connection Reauthorization Required") == []
    assert connected.store.get_operator_pause(CLIENT_MISMATCH_PAUSE) is not None
    # When the operator stores the production client again (no flag needed: it holds the grants)
    status, body = _store_client(connected, TEST_CLIENT_ID, TEST_CLIENT_SECRET)
    assert status == 200 and body["uncovered_grants"] == {} and body["mismatch_pause_cleared"] is True
    _past_the_credential_cache()
    _all_due(connected)  # the paused grants' recheck time (15 minutes) has come
    _run_schedule(connected)
    # Then every connection refreshes, with its own client
    assert connected.amazon.emu.token_calls(grant_type="refresh_token") == calls_before + 9
    assert _statuses(connected) == [ConnectionStatus.ACTIVE] * 9
    for tenant in TENANTS:
        for connection in connected.store.list_connections(tenant):
            assert connection.last_refresh_error_code is None and connection.client_id == TEST_CLIENT_ID


def test_a_migration_keeps_old_grants_on_their_client_and_new_consents_use_the_new_one(
    connected: Product,
) -> None:
    # When the operator moves to the dev client explicitly (--add-client)
    status, body = _store_client(connected, DEV_CLIENT_ID, DEV_CLIENT_SECRET, add_client=True)
    assert status == 200 and body["stored_client_ids"] == [DEV_CLIENT_ID, TEST_CLIENT_ID]
    assert body["uncovered_grants"] == {}
    # And a new tenant consents (with the dev client)
    connected.amazon.emu.add_user("adv-new", profiles={"NA": [seller_profile(900, "US")]})
    connected.amazon.emu.sign_in("adv-new")
    refresh_worker.reset()
    from ads_connect.handlers import dependencies

    dependencies.reset()
    assert Browser().connect(connected.session("newco"), "NA")["statusCode"] == 200
    newco = connected.store.get_connection("newco", Region.NA)
    assert newco is not None and newco.client_id == DEV_CLIENT_ID
    # Then every grant, old and new, refreshes with its own client
    _all_due(connected)
    product_connection = connected.store.get_connection("newco", Region.NA)
    assert product_connection is not None
    connected.store.save_connection(
        product_connection.replace(refresh_due_at=product_connection.connected_at),
        expected_grant_version=product_connection.grant_version,
    )
    _run_schedule(connected)
    assert _statuses(connected) == [ConnectionStatus.ACTIVE] * 9
    refreshed = connected.store.get_connection("newco", Region.NA)
    assert refreshed is not None and refreshed.last_refresh_success_at is not None
    assert refreshed.client_id == DEV_CLIENT_ID


def _mark_reauthorization_required(product: Product, tenant: str, region: Region) -> None:
    connection = product.store.get_connection(tenant, region)
    assert connection is not None
    product.store.save_connection(
        connection.replace(
            status=ConnectionStatus.REAUTHORIZATION_REQUIRED,
            reauthorization_required_at=connection.connected_at,
        ),
        expected_grant_version=connection.grant_version,
    )


def test_reactivate_brings_back_a_grant_that_still_works_and_not_one_really_revoked(
    connected: Product,
) -> None:
    # Given two connections marked reauthorization_required: acme's grant still works, globex's
    # advertiser really removed the app at Amazon
    _mark_reauthorization_required(connected, "acme", Region.NA)
    _mark_reauthorization_required(connected, "globex", Region.NA)
    connected.amazon.emu.revoke("adv-globex")
    # When the operator reactivates both
    status, acme = _admin(connected, "POST", "/admin/tenants/acme/connections/NA/reactivate")
    assert status == 200, acme
    status, globex = _admin(connected, "POST", "/admin/tenants/globex/connections/NA/reactivate")
    # Then acme is active again (one refresh with its own client), globex stays and the answer says why
    assert acme["reactivated"] is True and acme["connection"]["status"] == "active"
    assert globex["reactivated"] is False and globex["outcome"] == "reauthorization_required"
    assert "invalid_grant" in globex["message"]
    statuses = {t: connected.store.get_connection(t, Region.NA).status for t in ("acme", "globex")}  # type: ignore[union-attr]
    assert statuses == {
        "acme": ConnectionStatus.ACTIVE,
        "globex": ConnectionStatus.REAUTHORIZATION_REQUIRED,
    }
    assert len(_events(connected, "Connection Reactivated")) == 1


def test_a_disconnect_withdraws_every_outstanding_link_of_the_tenant_and_region(
    connected: Product,
) -> None:
    # Given links sent to acme before the disconnect: one for any region, one for NA, one for EU,
    # and one an advertiser is in the middle of (at Amazon's consent page right now)
    any_region = connected.session("acme")
    na_only = connected.session("acme", Region.NA)
    eu_only = connected.session("acme", Region.EU)
    in_flight = connected.session("acme")
    browser = Browser()
    assert browser.open_connect(in_flight)["statusCode"] == 200
    started = browser.submit_region(in_flight, "NA")
    assert started["statusCode"] == 302
    amazon_answer = browser.at_amazon(started["headers"]["Location"])
    # When the operator disconnects acme in NA
    status, body = _admin(connected, "DELETE", "/admin/tenants/acme/connections/NA")
    assert status == 200 and body["sessions_revoked"] == 3
    # Then none of the NA-capable links works any more, and the one at Amazon does not reconnect
    for session in (any_region, na_only):
        assert Browser().open_connect(session)["statusCode"] == 410
    finished = browser.callback(amazon_answer)
    assert finished["statusCode"] == 410 and "withdrew" in finished["body"]
    connection = connected.store.get_connection("acme", Region.NA)
    assert connection is not None and connection.status is ConnectionStatus.DISCONNECTED
    # And the EU link is untouched; the listing shows which is which
    status, listed = _admin(connected, "GET", "/admin/tenants/acme/connect-sessions")
    states = sorted(item["state"] for item in listed["items"])
    assert states.count("revoked") == 3 and "open" in states
    assert Browser().open_connect(eu_only)["statusCode"] == 200


def test_an_operator_withdraws_one_link_by_its_reference(connected: Product) -> None:
    import hashlib

    session = connected.session("newco")
    ref = hashlib.sha256(session.encode()).hexdigest()
    status, body = _admin(connected, "DELETE", f"/admin/connect-sessions/{ref}")
    assert status == 200 and body["revoked"] is True and body["tenant_id"] == "newco"
    assert Browser().open_connect(session)["statusCode"] == 410
    status, again = _admin(connected, "DELETE", f"/admin/connect-sessions/{ref}")
    assert status == 200 and again["revoked"] is False and again["state"] == "revoked"
    status, missing = _admin(connected, "DELETE", f"/admin/connect-sessions/{'0' * 64}")
    assert status == 404 and missing["error"]["code"] == "session_not_found"


def test_mass_invalid_grant_is_held_with_one_alarm_and_every_connection_comes_back(
    connected: Product,
) -> None:
    # Given Amazon answering invalid_grant for every refresh token for a while (no advertiser
    # revoked anything)
    connected.amazon.emu.faults.add("token", status=400, oauth_error="invalid_grant", count=None)
    # When the schedule runs over the nine due connections
    _all_due(connected)
    _run_schedule(connected)
    # Then the first two (under the threshold of 3) are marked, the other seven are held, still active
    statuses = _statuses(connected)
    assert statuses.count(ConnectionStatus.REAUTHORIZATION_REQUIRED) == 2
    assert statuses.count(ConnectionStatus.ACTIVE) == 7
    status, held = _admin(connected, "GET", "/admin/revocations")
    assert status == 200 and len(held["items"]) == 7
    assert len(_events(connected, "Revocations Held")) == 1
    assert connected.store.get_operator_pause(REVOCATION_HOLD_PAUSE) is not None
    # When Amazon answers normally again and the next run refreshes
    connected.amazon.emu.faults.clear()
    _all_due(connected)
    _run_schedule(connected)
    # Then every held connection is clear again, and the two marked ones come back with reactivate
    status, held = _admin(connected, "GET", "/admin/revocations")
    assert held["items"] == []
    assert connected.store.get_operator_pause(REVOCATION_HOLD_PAUSE) is None
    for tenant in TENANTS:
        for connection in connected.store.list_connections(tenant):
            if connection.status is ConnectionStatus.REAUTHORIZATION_REQUIRED:
                status, body = _admin(
                    connected,
                    "POST",
                    f"/admin/tenants/{tenant}/connections/{connection.region.value}/reactivate",
                )
                assert body["reactivated"] is True
    assert _statuses(connected) == [ConnectionStatus.ACTIVE] * 9


def test_tenants_revoked_at_amazon_all_at_once_are_held_until_the_operator_confirms(
    connected: Product,
) -> None:
    # Given all three advertisers remove the app at Amazon at once
    for tenant in TENANTS:
        connected.amazon.emu.revoke(f"adv-{tenant}")
    _all_due(connected)
    _run_schedule(connected)
    events = [e["detail-type"] for e in connected.aws.lifecycle_events()]
    assert events.count("Revocations Held") == 1
    assert events.count("Connection Reauthorization Required") == 2  # under the threshold
    # When the operator looks and confirms
    status, held = _admin(connected, "GET", "/admin/revocations")
    assert len(held["items"]) == 7
    status, confirmed = _admin(connected, "POST", "/admin/revocations/confirm")
    # Then every connection is reauthorization_required, each announced once
    assert status == 200 and len(confirmed["confirmed"]) == 7 and confirmed["pause_cleared"] is True
    assert _statuses(connected) == [ConnectionStatus.REAUTHORIZATION_REQUIRED] * 9
    assert len(_events(connected, "Connection Reauthorization Required")) == 7


def _consent_started(product: Product, tenant: str) -> tuple[Browser, str]:
    """A consent started (with the client current now) up to Amazon's redirect back: the
    browser and the callback query, the code not yet exchanged."""
    product.amazon.emu.add_user(f"adv-{tenant}", profiles={"NA": [seller_profile(950, "US")]})
    product.amazon.emu.sign_in(f"adv-{tenant}")
    browser = Browser()
    session_id = product.session(tenant)
    assert browser.open_connect(session_id)["statusCode"] == 200
    started = browser.submit_region(session_id, "NA")
    assert started["statusCode"] == 302 and TEST_CLIENT_ID in started["headers"]["Location"]
    return browser, browser.at_amazon(started["headers"]["Location"])


def _store_dev_client_cold(product: Product, **flags: bool) -> None:
    """The operator stores the dev client as current; the callback container starts cold (it
    reads the new client as current, as any container does within five minutes)."""
    status, _ = _store_client(product, DEV_CLIENT_ID, DEV_CLIENT_SECRET, **flags)
    assert status == 200
    from ads_connect.handlers import dependencies

    dependencies.reset()


def test_a_consent_started_before_another_client_was_added_is_exchanged_with_its_own_client(
    connected: Product,
) -> None:
    # Given an advertiser is at Amazon with a consent the production client started
    browser, query = _consent_started(connected, "lateco")
    # When the operator adds the dev client as current (--add-client) before Amazon redirects back
    _store_dev_client_cold(connected, add_client=True)
    exchanges = connected.amazon.emu.token_calls(grant_type="authorization_code")
    # Then the callback exchanges the code with the client Amazon issued it to, and succeeds
    assert browser.callback(query)["statusCode"] == 303
    assert connected.amazon.emu.token_calls(grant_type="authorization_code") == exchanges + 1
    connection = connected.store.get_connection("lateco", Region.NA)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE
    assert connection.client_id == TEST_CLIENT_ID
    stored = connected.vault.read_refresh_token("lateco", Region.NA)
    assert stored is not None and stored.client_id == TEST_CLIENT_ID
    # And the grant refreshes with that client (the dev client would get invalid_grant)
    refresh_worker.reset()
    _all_due(connected)
    connected.store.save_connection(
        connection.replace(refresh_due_at=connection.connected_at),
        expected_grant_version=connection.grant_version,
    )
    _run_schedule(connected)
    refreshed = connected.store.get_connection("lateco", Region.NA)
    assert refreshed is not None and refreshed.status is ConnectionStatus.ACTIVE
    assert refreshed.last_refresh_success_at is not None and refreshed.client_id == TEST_CLIENT_ID


def test_a_consent_whose_client_was_dropped_meanwhile_is_an_operator_page_not_another_client(
    connected: Product,
) -> None:
    # Given an advertiser is at Amazon with a consent the production client started
    browser, query = _consent_started(connected, "lateco")
    # When the operator replaces it with the dev client (--replace-client) before the redirect back
    _store_dev_client_cold(connected, replace_client=True)
    exchanges = connected.amazon.emu.token_calls(grant_type="authorization_code")
    # Then the code is not sent with the dev client: the operator's "not configured" page
    page = browser.callback(query)
    assert page["statusCode"] == 503
    assert connected.amazon.emu.token_calls(grant_type="authorization_code") == exchanges
    assert connected.store.get_connection("lateco", Region.NA) is None


def test_replace_client_counts_reauthorization_required_grants_and_they_reactivate_after_a_restore(
    connected: Product,
) -> None:
    # Given every connection is reauthorization_required (the breaker let them through), each
    # refresh token still stored
    for tenant in TENANTS:
        for region in REGIONS:
            _mark_reauthorization_required(connected, tenant, region)
    # When the operator stores the dev client: refused, the grants still need their client
    status, body = _store_client(connected, DEV_CLIENT_ID, DEV_CLIENT_SECRET)
    assert status == 409 and body["error"]["code"] == "client_change_refused"
    assert f"reactivate` still needs (9 with {TEST_CLIENT_ID})" in body["error"]["message"]
    # And --replace-client says what it orphans
    status, body = _store_client(connected, DEV_CLIENT_ID, DEV_CLIENT_SECRET, replace_client=True)
    assert status == 200 and "9 reauthorization_required grant(s)" in body["message"]
    # Then storing the production client again (never refused) lets a reactivate work
    status, _ = _store_client(connected, TEST_CLIENT_ID, TEST_CLIENT_SECRET)
    assert status == 200
    status, acme = _admin(connected, "POST", "/admin/tenants/acme/connections/NA/reactivate")
    assert status == 200 and acme["reactivated"] is True, acme


def test_an_unreadable_stored_secret_does_not_let_another_client_take_the_grants(connected: Product) -> None:
    # Given the stored LWA secret is the placeholder again (nothing readable)
    secrets = boto3.client("secretsmanager", region_name=connected.aws.region)
    secrets.put_secret_value(
        SecretId=connected.aws.lwa_secret_id, SecretString=json.dumps({"client_id": "", "client_secret": ""})
    )
    # When the operator stores the dev client without a flag
    status, body = _store_client(connected, DEV_CLIENT_ID, DEV_CLIENT_SECRET)
    # Then it is refused: the nine grants belong to the production client
    assert status == 409 and body["error"]["code"] == "client_change_refused"
    assert f"9 with {TEST_CLIENT_ID}" in body["error"]["message"]
    assert "no readable client stored" in body["error"]["message"]
