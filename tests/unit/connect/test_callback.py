"""Flow 3: the callback (logic/callback.py) against in-memory ports and a fake Amazon."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from ads_connect.logic.callback import (
    CONNECTED_EVENT,
    EXCHANGE_ATTEMPTS,
    LEASE_WAIT_SECONDS,
    MAX_EXCHANGE_RETRY_DELAY,
    REASON_DISCOVERING,
    SESSION_CLAIM,
    CallbackOutcome,
    handle_callback,
    read_result,
)
from ads_connect.logic.consent import start_consent
from ads_connect.logic.consent_errors import ConsentFlowError, FailureKind
from ads_connect.logic.deadlines import AMAZON_CALL_SECONDS
from ads_connect.logic.ids import id_hash
from ads_connect.logic.ports import (
    AdsApiForbiddenError,
    AdsApiUnauthorizedError,
    AmazonNotProcessedError,
    AmazonRequestRejectedError,
    AmbiguousAmazonError,
    ClientCredentials,
    ClientKeyring,
    InvalidClientError,
    InvalidGrantError,
    StaleGrantError,
    TransientAmazonError,
    UnauthorizedClientError,
)
from ads_connect.logic.profiles import PROFILES_CHANGED_EVENT, RECHECK_SOON
from ads_connect.models.consent import OAuthStateRecord
from ads_connect.models.records import AccessLevel, ConnectionStatus, ProfilesState
from ads_connect.pages.text import Language
from ads_connect.pages.views import PageContext, success_page
from ads_connect.regions import Region

from tests.fakes.amazon import FAKE_ACCESS_TOKEN, FAKE_REFRESH_TOKEN, api_profile, fake_grant

from .conftest import CLIENT, PUBLIC_BASE, RETURN_URL, World


def _begin(world: World, region: str = "NA", **session_options: object) -> tuple[str, str]:
    """A started flow: returns (state, browser binding)."""
    fixed = session_options.pop("fixed_region", None)
    session_id = world.session(region=fixed, **session_options)  # type: ignore[arg-type]
    return _start(world, session_id, region)


def _start(world: World, session_id: str, region: str = "NA") -> tuple[str, str]:
    """Another start of the consent flow from an existing session (a second tab)."""
    started = start_consent(
        session_id,
        region_choice=region,
        existing_binding=None,
        public_base_url=PUBLIC_BASE,
        consent_store=world.consent_store,
        vault=world.vault,
        clock=world.clock,
        settings=world.settings,
    )
    state = parse_qs(urlsplit(started.authorization_url).query)["state"][0]
    return state, started.browser_binding


def _callback(
    world: World,
    params: dict[str, str],
    binding: str | None,
    remaining_seconds: Callable[[], float] | None = None,
) -> CallbackOutcome:
    if remaining_seconds is None:
        return handle_callback(params, binding, result_base_url=PUBLIC_BASE, deps=world.deps)
    return handle_callback(
        params, binding, result_base_url=PUBLIC_BASE, deps=world.deps, remaining_seconds=remaining_seconds
    )


def _fails(world: World, params: dict[str, str], binding: str | None) -> FailureKind:
    with pytest.raises(ConsentFlowError) as raised:
        _callback(world, params, binding)
    return raised.value.kind


def test_a_good_callback_stores_the_grant_in_order_and_ends_on_a_result(world: World) -> None:
    state, binding = _begin(world, "EU")
    outcome = _callback(world, {"code": "fake-code", "state": state, "scope": "x"}, binding)
    # exchanged once, at the state's region, with its redirect URI and verifier
    (call,) = world.lwa.exchanges
    assert call.region is Region.EU and call.code == "fake-code"
    assert call.redirect_uri == f"{PUBLIC_BASE}/callback" and len(call.code_verifier) >= 43
    # refresh token (private) and access token (consumer) stored
    stored = world.vault.read_refresh_token("acme", Region.EU)
    assert stored is not None and stored.refresh_token == FAKE_REFRESH_TOKEN and stored.grant_version == 1
    published = world.vault.read_access_token("acme", Region.EU)
    assert published is not None and published.access_token == FAKE_ACCESS_TOKEN
    assert published.expires_at == world.clock.now() + timedelta(hours=1)
    # connection active, due `lead` before expiry, profiles mapped
    connection = world.store.get_connection("acme", Region.EU)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE
    assert connection.refresh_due_at == published.expires_at - timedelta(seconds=900)
    assert connection.profiles_state is ProfilesState.OK and connection.profile_count == 1
    assert world.store.leases == {}
    # event, session consumed, result record bound to the browser
    ((detail_type, detail),) = world.events.published
    assert detail_type == CONNECTED_EVENT
    assert detail == {
        "tenant_id": "acme",
        "region": "EU",
        "profile_count": 1,
        "profiles_state": "ok",
        "view_only": False,
        "reconsent": False,
        "grant_version": 1,
    }
    (session,) = world.consent_store.sessions.values()
    assert session.used_at == world.clock.now()
    assert outcome.location.startswith(f"{PUBLIC_BASE}/result/") and "code" not in outcome.location
    result = read_result(
        outcome.location.rsplit("/", 1)[1], binding, consent_store=world.consent_store, now=world.clock.now()
    )
    assert [p.name for p in result.profiles] == ["Shop US"] and result.region is Region.EU


def test_the_state_is_single_use(world: World) -> None:
    state, binding = _begin(world)
    _callback(world, {"code": "c", "state": state}, binding)
    assert _fails(world, {"code": "c", "state": state}, binding) is FailureKind.STATE_UNKNOWN
    assert len(world.lwa.exchanges) == 1


@pytest.mark.parametrize(
    ("params", "kind"),
    [
        ({"code": "c"}, FailureKind.STATE_MISSING),
        ({"code": "c", "state": ""}, FailureKind.STATE_MISSING),
        ({"code": "c", "state": "forged"}, FailureKind.STATE_UNKNOWN),
        ({"code": "c", "state": "A" * 43}, FailureKind.STATE_UNKNOWN),
        ({"code": "c", "state": "A" * 5000}, FailureKind.BAD_REQUEST),
    ],
)
def test_missing_forged_and_oversized_states_exchange_nothing(
    world: World, params: dict[str, str], kind: FailureKind
) -> None:
    _begin(world)
    assert _fails(world, params, None) is kind
    assert world.lwa.exchanges == [] and world.store.connections == {}


def test_an_expired_state_is_refused_and_spent(world: World) -> None:
    state, binding = _begin(world)
    world.clock.advance(minutes=10)
    assert _fails(world, {"code": "c", "state": state}, binding) is FailureKind.STATE_EXPIRED
    assert world.consent_store.states == {} and world.lwa.exchanges == []


@pytest.mark.parametrize("cookie", [None, "", "A" * 43])
def test_a_state_from_another_browser_is_refused(world: World, cookie: str | None) -> None:
    state, _ = _begin(world)
    assert _fails(world, {"code": "c", "state": state}, cookie) is FailureKind.STATE_OTHER_BROWSER
    assert world.lwa.exchanges == []


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("access_denied", FailureKind.CONSENT_DENIED),
        ("invalid_scope", FailureKind.APP_NOT_APPROVED),
        ("server_error", FailureKind.AMAZON_ERROR),
        ("unauthorized_client", FailureKind.AMAZON_ERROR),
        ("<b>made-up</b>", FailureKind.AMAZON_ERROR),
    ],
)
def test_amazon_errors_on_the_redirect_are_explained_and_spend_the_state(
    world: World, error: str, kind: FailureKind
) -> None:
    state, binding = _begin(world)
    params = {"error": error, "error_description": "<script>x</script>", "state": state}
    with pytest.raises(ConsentFlowError) as raised:
        _callback(world, params, binding)
    assert raised.value.kind is kind
    # only documented codes are kept for the page; free text never
    assert raised.value.oauth_error == (error if error.isidentifier() else None)
    assert world.consent_store.states == {} and world.lwa.exchanges == []
    # the session is still usable: the advertiser may try again
    (session,) = world.consent_store.sessions.values()
    assert session.used_at is None


def test_a_callback_without_code_or_error_is_malformed(world: World) -> None:
    state, binding = _begin(world)
    assert _fails(world, {"state": state}, binding) is FailureKind.BAD_REQUEST


def test_a_used_or_vanished_session_refuses_the_callback(world: World) -> None:
    state, binding = _begin(world)
    (session_hash,) = world.consent_store.sessions
    world.consent_store.mark_session_used(session_hash, used_at=world.clock.now())
    assert _fails(world, {"code": "c", "state": state}, binding) is FailureKind.SESSION_USED
    state, binding = _begin(world)
    world.consent_store.sessions.clear()
    assert _fails(world, {"code": "c", "state": state}, binding) is FailureKind.SESSION_UNKNOWN
    assert world.lwa.exchanges == []


def test_two_states_of_one_session_connect_only_once(world: World) -> None:
    session_id = world.session()
    first, second = _start(world, session_id), _start(world, session_id, "EU")
    _callback(world, {"code": "c", "state": first[0]}, first[1])
    assert _fails(world, {"code": "c", "state": second[0]}, second[1]) is FailureKind.SESSION_USED
    assert len(world.lwa.exchanges) == 1 and world.store.get_connection("acme", Region.EU) is None


def test_a_session_claimed_by_another_callback_exchanges_nothing(world: World) -> None:
    state, binding = _begin(world)
    (session_hash,) = world.consent_store.sessions
    now = world.clock.now()
    assert world.consent_store.claim_session(
        session_hash, claim_id="other-callback", now=now, until=now + SESSION_CLAIM
    )
    assert _fails(world, {"code": "c", "state": state}, binding) is FailureKind.SESSION_IN_PROGRESS
    assert world.lwa.exchanges == [] and world.consent_store.claims[session_hash][0] == "other-callback"


def test_a_lapsed_claim_of_a_crashed_callback_frees_the_session(world: World) -> None:
    session_id = world.session()
    (session_hash,) = world.consent_store.sessions
    now = world.clock.now()
    world.consent_store.claim_session(session_hash, claim_id="crashed", now=now, until=now + SESSION_CLAIM)
    world.clock.advance(seconds=SESSION_CLAIM.total_seconds())
    state, binding = _start(world, session_id)
    _callback(world, {"code": "c", "state": state}, binding)
    assert world.consent_store.sessions[session_hash].used_at is not None
    assert session_hash not in world.consent_store.claims


def test_a_failed_callback_gives_the_session_back_for_a_retry(world: World) -> None:
    session_id = world.session()
    (session_hash,) = world.consent_store.sessions
    world.lwa.exchange_script = [InvalidGrantError("x", error_code="invalid_grant", status=400)]
    state, binding = _start(world, session_id)
    assert _fails(world, {"code": "c", "state": state}, binding) is FailureKind.CODE_REJECTED
    assert session_hash not in world.consent_store.claims
    state, binding = _start(world, session_id)
    _callback(world, {"code": "c", "state": state}, binding)
    assert world.store.get_connection("acme", Region.NA) is not None


def test_a_state_that_does_not_match_its_session_is_refused(world: World) -> None:
    state, binding = _begin(world, "EU", fixed_region=Region.EU)
    record = world.consent_store.states[id_hash(state)]
    tampered: OAuthStateRecord = record.replace(region=Region.NA)
    world.consent_store.states[id_hash(state)] = tampered
    assert _fails(world, {"code": "c", "state": state}, binding) is FailureKind.STATE_UNKNOWN
    assert world.lwa.exchanges == []


def test_missing_client_credentials_is_an_operator_page(world: World) -> None:
    state, binding = _begin(world)
    world.vault.credentials = None
    assert _fails(world, {"code": "c", "state": state}, binding) is FailureKind.CLIENT_NOT_CONFIGURED


NEW_CLIENT = ClientCredentials(client_id="amzn1.application-oa2-client.new", client_secret="new-secret")


def test_the_code_is_exchanged_with_the_client_that_started_the_flow(world: World) -> None:
    state, binding = _begin(world)
    assert world.consent_store.states[id_hash(state)].client_id == CLIENT.client_id
    # `credentials set --add-client` between the consent page and the callback
    world.vault.write_client_keyring(ClientKeyring(NEW_CLIENT, (CLIENT,)))
    _callback(world, {"code": "c", "state": state}, binding)
    (call,) = world.lwa.exchanges
    assert call.client_id == CLIENT.client_id
    connection = world.store.get_connection("acme", Region.NA)
    assert connection is not None and connection.client_id == CLIENT.client_id
    stored = world.vault.read_refresh_token("acme", Region.NA)
    published = world.vault.read_access_token("acme", Region.NA)
    assert stored is not None and stored.client_id == CLIENT.client_id
    assert published is not None and published.client_id == CLIENT.client_id


def test_a_cached_keyring_without_the_flows_client_is_read_again_once(world: World) -> None:
    # The consent page already saw the new client as current; this container's cache has not.
    world.vault.write_client_keyring(ClientKeyring(NEW_CLIENT, (CLIENT,)))
    state, binding = _begin(world)
    # (a cached read yields the old client as current; a fresh one what is stored)
    world.vault.stale_cache = CLIENT
    world.vault.credential_reads.clear()
    _callback(world, {"code": "c", "state": state}, binding)
    assert world.vault.credential_reads[:2] == [False, True]
    (call,) = world.lwa.exchanges
    assert call.client_id == NEW_CLIENT.client_id


def test_a_flow_whose_client_is_no_longer_stored_never_uses_another_client(world: World) -> None:
    state, binding = _begin(world)
    # `credentials set --replace-client`: only the new client is stored
    world.vault.write_client_keyring(ClientKeyring(NEW_CLIENT, ()))
    assert _fails(world, {"code": "c", "state": state}, binding) is FailureKind.CLIENT_NOT_CONFIGURED
    assert world.lwa.exchanges == []
    assert world.vault.credential_reads[-1] is True  # looked again before giving up
    assert world.store.get_connection("acme", Region.NA) is None


def test_a_state_from_before_states_recorded_their_client_uses_the_current_client(world: World) -> None:
    state, binding = _begin(world)
    legacy: OAuthStateRecord = world.consent_store.states[id_hash(state)].replace(client_id=None)
    world.consent_store.states[id_hash(state)] = legacy
    world.vault.write_client_keyring(ClientKeyring(NEW_CLIENT, (CLIENT,)))
    _callback(world, {"code": "c", "state": state}, binding)
    (call,) = world.lwa.exchanges
    assert call.client_id == NEW_CLIENT.client_id


def test_not_processed_answers_at_the_exchange_are_retried_briefly_then_succeed(world: World) -> None:
    state, binding = _begin(world)
    world.lwa.exchange_script = [
        AmazonNotProcessedError("x", error_code="http_503", status=503),
        AmazonNotProcessedError("x", error_code="http_429", status=429, retry_after=1.5),
    ]
    _callback(world, {"code": "c", "state": state}, binding)
    assert len(world.lwa.exchanges) == 3
    assert world.sleeps == [0.5, 1.5]  # backoff, then exactly the Retry-After Amazon asked for


def test_a_refused_connection_at_the_exchange_is_retried(world: World) -> None:
    state, binding = _begin(world)
    world.lwa.exchange_script = [TransientAmazonError("x", error_code="connection_error")]
    _callback(world, {"code": "c", "state": state}, binding)
    assert len(world.lwa.exchanges) == 2 and world.sleeps == [0.5]


def test_a_retry_after_longer_than_the_browser_can_wait_is_honoured_by_not_retrying(
    world: World,
) -> None:
    state, binding = _begin(world)
    world.lwa.exchange_script = [
        TransientAmazonError(
            "x", error_code="throttled", status=429, retry_after=MAX_EXCHANGE_RETRY_DELAY + 1
        )
    ]
    assert _fails(world, {"code": "c", "state": state}, binding) is FailureKind.AMAZON_UNREACHABLE
    assert len(world.lwa.exchanges) == 1 and world.sleeps == []


@pytest.mark.parametrize(
    "error",
    [
        TransientAmazonError("x", error_code="server_error", status=500),
        TransientAmazonError("x", error_code="http_502", status=502),
        TransientAmazonError("x", error_code="http_504", status=504),
        TransientAmazonError("x", error_code="malformed_response", status=200),
    ],
    ids=["500", "502", "504", "malformed-200"],
)
def test_answers_that_may_have_spent_the_code_are_never_retried(
    world: World, error: TransientAmazonError
) -> None:
    state, binding = _begin(world)
    world.lwa.exchange_script = [error]
    assert _fails(world, {"code": "c", "state": state}, binding) is FailureKind.AMAZON_UNREACHABLE
    assert len(world.lwa.exchanges) == 1 and world.vault.refresh_tokens == {}


def test_persistent_5xx_at_the_exchange_ends_on_amazon_unreachable(world: World) -> None:
    state, binding = _begin(world)
    world.lwa.exchange_script = [
        AmazonNotProcessedError("x", error_code="http_503", status=503) for _ in range(EXCHANGE_ATTEMPTS)
    ]
    assert _fails(world, {"code": "c", "state": state}, binding) is FailureKind.AMAZON_UNREACHABLE
    assert len(world.lwa.exchanges) == EXCHANGE_ATTEMPTS and world.store.connections == {}


def test_an_ambiguous_failure_is_never_retried(world: World) -> None:
    state, binding = _begin(world)
    world.lwa.exchange_script = [AmbiguousAmazonError("x", error_code="read_timeout")]
    assert _fails(world, {"code": "c", "state": state}, binding) is FailureKind.AMAZON_UNREACHABLE
    assert len(world.lwa.exchanges) == 1 and world.vault.refresh_tokens == {}


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (InvalidGrantError("x", error_code="invalid_grant", status=400), FailureKind.CODE_REJECTED),
        (InvalidClientError("x", error_code="invalid_client", status=401), FailureKind.CLIENT_REJECTED),
        (AmazonRequestRejectedError("x", error_code="invalid_request", status=400), FailureKind.AMAZON_ERROR),
        (
            UnauthorizedClientError("x", error_code="unauthorized_client", status=400),
            FailureKind.CLIENT_REJECTED,
        ),
    ],
)
def test_token_endpoint_rejections_map_to_their_pages(
    world: World, error: Exception, kind: FailureKind
) -> None:
    state, binding = _begin(world)
    world.lwa.exchange_script = [error]
    assert _fails(world, {"code": "c", "state": state}, binding) is kind
    assert len(world.lwa.exchanges) == 1 and world.store.connections == {}


def test_a_grant_without_a_refresh_token_is_not_stored(world: World) -> None:
    state, binding = _begin(world)
    world.lwa.exchange_script = [fake_grant(refresh_token=None)]
    assert _fails(world, {"code": "c", "state": state}, binding) is FailureKind.AMAZON_ERROR
    assert world.vault.access_tokens == {} and world.store.connections == {}


def test_view_only_and_empty_profiles_are_successes(world: World) -> None:
    state, binding = _begin(world)
    world.ads.script = [AdsApiForbiddenError("x", error_code="forbidden", status=403)]
    outcome = _callback(world, {"code": "c", "state": state}, binding)
    assert outcome.connection.view_only
    assert world.store.list_profiles("acme")[0].access_level is AccessLevel.VIEW
    state, binding = _begin(world, "FE")
    world.ads.profiles = []
    outcome = _callback(world, {"code": "c", "state": state}, binding)
    assert outcome.connection.profiles_state is ProfilesState.EMPTY
    assert outcome.connection.profile_sync_due_at is not None


def test_reconsent_replaces_the_grant_in_place_and_reactivates(world: World) -> None:
    state, binding = _begin(world)
    first = _callback(world, {"code": "c1", "state": state}, binding).connection
    dead = first.replace(
        status=ConnectionStatus.REAUTHORIZATION_REQUIRED,
        consecutive_failures=4,
        reauthorization_required_at=world.clock.now(),
    )
    world.store.save_connection(dead, expected_grant_version=1)
    world.clock.advance(days=2)
    world.lwa.exchange_script = [fake_grant(access_token="Atza|second", refresh_token="Atzr|second")]
    state, binding = _begin(world)
    outcome = _callback(world, {"code": "c2", "state": state}, binding)
    assert outcome.reconsent
    now = outcome.connection
    assert now.status is ConnectionStatus.ACTIVE and now.grant_version == 2
    assert now.consecutive_failures == 0 and now.reauthorization_required_at is None
    assert now.connected_at == first.connected_at
    stored = world.vault.read_refresh_token("acme", Region.NA)
    assert stored is not None and stored.refresh_token == "Atzr|second" and stored.grant_version == 2
    assert world.events.published[-1][1]["reconsent"] is True


def test_a_reconsent_that_finds_other_profiles_announces_the_change(world: World) -> None:
    state, binding = _begin(world)
    world.ads.profiles = [api_profile(1, name="Shop US")]
    _callback(world, {"code": "c1", "state": state}, binding)
    assert [name for name, _ in world.events.published] == [CONNECTED_EVENT]
    world.ads.profiles = [api_profile(1, name="Shop US"), api_profile(2, "CA", "Shop CA")]
    state, binding = _begin(world)
    _callback(world, {"code": "c2", "state": state}, binding)
    assert [name for name, _ in world.events.published] == [
        CONNECTED_EVENT,
        CONNECTED_EVENT,
        PROFILES_CHANGED_EVENT,
    ]
    detail = world.events.published[-1][1]
    assert detail["trigger"] == "reconsent" and detail["added_profile_ids"] == ["2"]
    state, binding = _begin(world)
    _callback(world, {"code": "c3", "state": state}, binding)  # same profiles: no change to announce
    assert [name for name, _ in world.events.published][-1] == CONNECTED_EVENT


def test_a_reconsent_rechecks_empty_profiles_soon_however_old_the_connection(world: World) -> None:
    state, binding = _begin(world)
    _callback(world, {"code": "c1", "state": state}, binding)
    world.clock.advance(days=30)
    world.ads.profiles = []  # e.g. a newly linked account still propagating
    state, binding = _begin(world)
    connection = _callback(world, {"code": "c2", "state": state}, binding).connection
    assert connection.consented_at == world.clock.now()
    assert connection.profile_sync_due_at == world.clock.now() + RECHECK_SOON


def test_a_lease_held_by_a_refresh_is_waited_for(world: World) -> None:
    state, binding = _begin(world)
    world.store.acquire_lease("acme", Region.NA, owner="refresh-worker", seconds=1)

    def sleep(seconds: float) -> None:
        world.sleeps.append(seconds)
        world.clock.advance(seconds=seconds)  # the worker's lease runs out

    world.sleep = sleep
    _callback(world, {"code": "c", "state": state}, binding)
    assert world.sleeps and sum(world.sleeps) <= LEASE_WAIT_SECONDS
    assert world.store.get_connection("acme", Region.NA) is not None


def test_a_lease_held_too_long_ends_on_a_busy_page_and_stores_nothing(world: World) -> None:
    state, binding = _begin(world)
    world.store.acquire_lease("acme", Region.NA, owner="refresh-worker", seconds=600)
    assert _fails(world, {"code": "c", "state": state}, binding) is FailureKind.CONNECTION_BUSY
    assert sum(world.sleeps) == pytest.approx(LEASE_WAIT_SECONDS)
    assert world.vault.refresh_tokens == {} and world.store.connections == {}
    (session,) = world.consent_store.sessions.values()
    assert session.used_at is None


def test_a_failed_connection_write_releases_the_lease(world: World) -> None:
    state, binding = _begin(world)

    def refuse(*_: object, **__: object) -> None:
        raise StaleGrantError("lost")

    world.store.save_connection = refuse  # type: ignore[method-assign]
    with pytest.raises(StaleGrantError):
        _callback(world, {"code": "c", "state": state}, binding)
    assert world.store.leases == {} and world.events.published == []


def test_a_return_url_gets_only_non_secret_parameters(world: World) -> None:
    state, binding = _begin(world, return_url=RETURN_URL)
    outcome = _callback(world, {"code": "fake-code", "state": state}, binding)
    url = urlsplit(outcome.location)
    assert f"{url.scheme}://{url.netloc}{url.path}" == RETURN_URL
    assert parse_qs(url.query) == {
        "status": ["connected"],
        "tenant_id": ["acme"],
        "region": ["NA"],
        "profiles": ["1"],
    }
    assert world.consent_store.results == {}


def test_the_result_is_for_the_same_browser_and_expires(world: World) -> None:
    state, binding = _begin(world)
    result_id = _callback(world, {"code": "c", "state": state}, binding).location.rsplit("/", 1)[1]
    for cookie in (None, "A" * 43):
        with pytest.raises(ConsentFlowError):
            read_result(result_id, cookie, consent_store=world.consent_store, now=world.clock.now())
    with pytest.raises(ConsentFlowError):
        read_result("nope", binding, consent_store=world.consent_store, now=world.clock.now())
    later = world.clock.now() + timedelta(minutes=31)
    with pytest.raises(ConsentFlowError):
        read_result(result_id, binding, consent_store=world.consent_store, now=later)


def test_two_callbacks_racing_for_one_tenant_leave_one_consistent_grant(world: World) -> None:
    flows = [_begin(world, "EU") for _ in range(2)]
    world.lwa.exchange_script = [
        fake_grant(access_token=f"Atza|{i}", refresh_token=f"Atzr|{i}") for i in range(2)
    ]
    errors: list[BaseException] = []
    world.sleep = lambda _seconds: time.sleep(0.005)  # a real pause, so the loser really waits

    def run(state: str, binding: str) -> None:
        try:
            _callback(world, {"code": "c", "state": state}, binding)
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=run, args=flow) for flow in flows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    connection = world.store.get_connection("acme", Region.EU)
    stored = world.vault.read_refresh_token("acme", Region.EU)
    published = world.vault.read_access_token("acme", Region.EU)
    assert connection is not None and stored is not None and published is not None
    assert connection.grant_version == stored.grant_version == published.grant_version == 2
    assert stored.refresh_token[-1] == published.access_token[-1]  # both from the same grant


# -- the connection comes before profile discovery; discovery keeps to the deadline ----------


def _page_of(world: World, outcome: CallbackOutcome, binding: str) -> str:
    result = read_result(
        outcome.location.rsplit("/", 1)[1], binding, consent_store=world.consent_store, now=world.clock.now()
    )
    return success_page(
        PageContext(world.settings.brand, Language.EN),
        tenant_label=result.tenant_id,
        region=result.region,
        profiles=result.profiles,
        profiles_state=result.profiles_state,
        reason=result.profiles_state_reason,
        view_only=result.view_only,
    ).body


def test_the_grant_and_the_connection_are_stored_before_profile_discovery(world: World) -> None:
    calls: list[str] = []

    def recorded(owner: Any, name: str) -> None:
        original = getattr(owner, name)

        def record(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return original(*args, **kwargs)

        setattr(owner, name, record)

    for owner, name in (
        (world.vault, "write_refresh_token"),
        (world.vault, "publish_access_token"),
        (world.store, "save_connection"),
        (world.ads, "list_profiles"),
        (world.store, "save_profiles"),
        (world.events, "publish"),
        (world.consent_store, "put_result"),
    ):
        recorded(owner, name)
    seen_at_discovery = []
    original_list = world.ads.list_profiles

    def list_profiles(*args: Any, **kwargs: Any) -> Any:
        seen_at_discovery.append(world.store.get_connection("acme", Region.NA))
        return original_list(*args, **kwargs)

    world.ads.list_profiles = list_profiles  # type: ignore[method-assign]
    state, binding = _begin(world)

    _callback(world, {"code": "c", "state": state}, binding)

    assert calls == [
        "write_refresh_token",
        "publish_access_token",
        "save_connection",  # active, grant stored, profiles pending a re-check
        "list_profiles",
        "save_profiles",
        "save_connection",  # the discovered profile state
        "publish",
        "put_result",
    ]
    (during,) = seen_at_discovery
    assert during is not None and during.status is ConnectionStatus.ACTIVE and during.grant_version == 1
    assert during.profiles_state is ProfilesState.PENDING
    assert during.profile_sync_due_at == world.clock.now() + RECHECK_SOON


def test_a_crash_during_profile_discovery_leaves_a_live_connection_to_recheck(world: World) -> None:
    state, binding = _begin(world)
    world.ads.script = [RuntimeError("the Ads API client blew up")]  # type: ignore[list-item]

    with pytest.raises(RuntimeError):
        _callback(world, {"code": "c", "state": state}, binding)

    # The grant is a connection the refresh schedule keeps alive and the re-sync completes
    connection = world.store.get_connection("acme", Region.NA)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE
    assert connection.refresh_due_at is not None and connection.grant_version == 1
    assert connection.profiles_state is ProfilesState.PENDING
    assert connection.profile_sync_due_at == world.clock.now() + RECHECK_SOON
    stored = world.vault.read_refresh_token("acme", Region.NA)
    assert stored is not None and stored.grant_version == 1
    assert world.store.leases == {}
    # Nothing was announced and the session can be used again (a retry is a re-consent)
    assert world.events.published == []
    (session,) = world.consent_store.sessions.values()
    assert session.used_at is None


def test_the_deadline_during_discovery_ends_on_success_with_profiles_pending(world: World) -> None:
    state, binding = _begin(world)
    # 403 on the first listing (a view-only user?), then too little time for the second one
    world.ads.script = [AdsApiForbiddenError("x", error_code="forbidden", status=403)]

    def remaining() -> float:
        return 25.0 if not world.ads.calls else AMAZON_CALL_SECONDS - 1

    outcome = _callback(world, {"code": "c", "state": state}, binding, remaining)

    assert [level for _, level, _ in world.ads.calls] == [None]  # the view retry never started
    assert outcome.profile_discovery_deferred
    connection = world.store.get_connection("acme", Region.NA)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE
    assert connection.profiles_state is ProfilesState.PENDING
    assert connection.profiles_state_reason == REASON_DISCOVERING
    assert connection.profile_sync_due_at == world.clock.now() + RECHECK_SOON  # the scheduled re-sync
    assert world.store.leases == {}
    ((_, detail),) = world.events.published
    assert detail["profiles_state"] == "pending" and detail["profile_count"] == 0
    (session,) = world.consent_store.sessions.values()
    assert session.used_at == world.clock.now()
    page = _page_of(world, outcome, binding)
    assert "Amazon Ads is connected" in page and "still being discovered" in page


def test_no_profile_listing_starts_without_time_for_it(world: World) -> None:
    state, binding = _begin(world)

    outcome = _callback(world, {"code": "c", "state": state}, binding, lambda: AMAZON_CALL_SECONDS - 0.1)

    assert world.ads.calls == [] and outcome.profile_discovery_deferred
    assert outcome.connection.profiles_state is ProfilesState.PENDING
    assert outcome.connection.profile_sync_due_at is not None


def test_a_deferred_reconsent_keeps_the_known_profiles(world: World) -> None:
    state, binding = _begin(world)
    _callback(world, {"code": "c1", "state": state}, binding)
    world.clock.advance(days=2)  # past the propagation window: Amazon's own "pending" waits hours
    world.lwa.exchange_script = [fake_grant(access_token="Atza|second", refresh_token="Atzr|second")]
    state, binding = _begin(world)

    outcome = _callback(world, {"code": "c2", "state": state}, binding, lambda: 1.0)

    assert outcome.reconsent and outcome.profile_discovery_deferred
    assert outcome.connection.grant_version == 2 and outcome.connection.profile_count == 1
    assert outcome.connection.profile_sync_due_at == world.clock.now() + RECHECK_SOON
    assert [p.gone for p in world.store.list_profiles("acme")] == [False]
    assert "Shop US" in _page_of(world, outcome, binding)


def test_an_answered_discovery_within_the_deadline_is_not_deferred(world: World) -> None:
    state, binding = _begin(world)
    world.ads.script = [AdsApiUnauthorizedError("x", error_code="unauthorized", status=401)]

    outcome = _callback(world, {"code": "c", "state": state}, binding, lambda: 25.0)

    # Amazon's own "not yet" stays the propagation case, with its own reason
    assert not outcome.profile_discovery_deferred
    assert outcome.connection.profiles_state is ProfilesState.PENDING
    assert outcome.connection.profiles_state_reason != REASON_DISCOVERING


def _fails_within(
    world: World, params: dict[str, str], binding: str | None, remaining: Callable[[], float]
) -> FailureKind:
    with pytest.raises(ConsentFlowError) as raised:
        _callback(world, params, binding, remaining)
    return raised.value.kind


def test_the_exchange_is_not_retried_past_the_deadline(world: World) -> None:
    state, binding = _begin(world)
    world.lwa.exchange_script = [AmazonNotProcessedError("x", error_code="http_503", status=503)]

    kind = _fails_within(world, {"code": "c", "state": state}, binding, lambda: AMAZON_CALL_SECONDS)

    assert kind is FailureKind.AMAZON_UNREACHABLE
    assert len(world.lwa.exchanges) == 1 and world.sleeps == []
    assert world.vault.refresh_tokens == {} and world.store.connections == {}


@pytest.mark.parametrize("failing_step", ["publish", "profiles", "connection"])
def test_a_reconsent_that_fails_after_the_new_token_was_stored_puts_the_previous_grant_back(
    world: World, failing_step: str
) -> None:
    # Given a working connection with its profile
    state, binding = _begin(world)
    first = _callback(world, {"code": "c1", "state": state}, binding).connection
    before_token = world.vault.read_refresh_token("acme", Region.NA)
    before_access = world.vault.read_access_token("acme", Region.NA)
    before_profiles = {p.profile_id for p in world.store.list_profiles("acme", Region.NA) if not p.gone}
    assert before_token is not None and before_access is not None and before_profiles == {"1"}
    # When a re-consent (another Amazon account, another profile) fails after storing the new token
    world.lwa.exchange_script = [fake_grant(access_token="Atza|second", refresh_token="Atzr|second")]
    world.ads.profiles = [api_profile(2, name="Other account")]
    if failing_step == "publish":
        world.vault.publish_access_token = _fails_on_call(world.vault.publish_access_token, 1)  # type: ignore[method-assign]
    elif failing_step == "profiles":
        world.ads.script = [RuntimeError("the Ads API client blew up")]  # type: ignore[list-item]
    else:
        world.store.save_connection = _fails_on_call(world.store.save_connection, 2)  # type: ignore[method-assign]
    state, binding = _begin(world)
    with pytest.raises(ConsentFlowError) as failed:
        _callback(world, {"code": "c2", "state": state}, binding)
    # Then the page tells the truth, and the previous grant, tokens and profiles are usable as before
    assert failed.value.kind is FailureKind.RECONSENT_NOT_SAVED
    restored = world.vault.read_refresh_token("acme", Region.NA)
    assert restored is not None and restored.refresh_token == before_token.refresh_token
    access = world.vault.read_access_token("acme", Region.NA)
    assert access is not None and access.access_token == before_access.access_token
    assert {p.profile_id for p in world.store.list_profiles("acme", Region.NA) if not p.gone} == {"1"}
    connection = world.store.get_connection("acme", Region.NA)
    assert connection is not None and connection.status is ConnectionStatus.ACTIVE
    assert connection.client_id == first.client_id and connection.grant_version > first.grant_version
    assert restored.grant_version == connection.grant_version
    assert world.store.leases == {}


@pytest.mark.parametrize(
    "previous_status", [ConnectionStatus.DISCONNECTED, ConnectionStatus.REAUTHORIZATION_REQUIRED]
)
def test_a_failed_reconnect_of_a_connection_that_did_not_work_leaves_no_live_token_and_says_so(
    world: World, previous_status: ConnectionStatus
) -> None:
    # Given a connection that was disconnected (its secrets scheduled for deletion) or marked
    # reauthorization_required
    state, binding = _begin(world)
    first = _callback(world, {"code": "c1", "state": state}, binding).connection
    if previous_status is ConnectionStatus.DISCONNECTED:
        world.vault.delete_connection_secrets("acme", Region.NA, recovery_window_days=7)
        world.store.save_profiles("acme", Region.NA, [])
    stopped = first.replace(status=previous_status, grant_version=first.grant_version + 1)
    world.store.save_connection(stopped, expected_grant_version=first.grant_version)
    world.vault.deleted.clear()
    before_token = world.vault.read_refresh_token("acme", Region.NA)
    # When the re-consent fails after its new tokens were stored
    world.lwa.exchange_script = [fake_grant(access_token="Atza|second", refresh_token="Atzr|second")]
    world.ads.script = [RuntimeError("the Ads API client blew up")]  # type: ignore[list-item]
    state, binding = _begin(world)
    with pytest.raises(ConsentFlowError) as failed:
        _callback(world, {"code": "c2", "state": state}, binding)
    # Then the page does not claim an old connection that works
    assert failed.value.kind is FailureKind.RECONNECT_NOT_SAVED
    connection = world.store.get_connection("acme", Region.NA)
    assert connection is not None and connection.status is previous_status
    token = world.vault.read_refresh_token("acme", Region.NA)
    if previous_status is ConnectionStatus.DISCONNECTED:
        # And the new tokens are deleted again as a disconnect deletes them
        assert token is None and world.vault.read_access_token("acme", Region.NA) is None
        assert world.vault.deleted == [("acme", Region.NA, 7)]
    else:
        # And a reauthorization_required grant keeps its old token (reactivate can still try it)
        assert before_token is not None and token is not None
        assert token.refresh_token == before_token.refresh_token and world.vault.deleted == []
    assert world.store.leases == {}


def _fails_on_call(method, number: int):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == number:
            raise RuntimeError("AWS said no")
        return method(*args, **kwargs)

    return wrapper
