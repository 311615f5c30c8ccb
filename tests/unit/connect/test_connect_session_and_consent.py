"""Flows 1 and 2: creating a connect session, and starting consent from it."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from ads_connect.logic.connect_session import (
    DEFAULT_LIFETIME,
    ConnectSessionRequestError,
    create_connect_session,
)
from ads_connect.logic.consent import STATE_LIFETIME, start_consent
from ads_connect.logic.consent_errors import ConsentFlowError, FailureKind
from ads_connect.logic.ids import id_hash, looks_like_id
from ads_connect.models.records import InvalidTenantIdError
from ads_connect.regions import Region

from tests.fakes.operator import MemoryVault

from .conftest import CLIENT, PUBLIC_BASE, RETURN_URL, World, pages_settings


def _create(world: World, tenant: str = "acme", **options: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "display_name": None,
        "region": None,
        "return_url": None,
        "lifetime_seconds": None,
    }
    values.update(options)
    return create_connect_session(
        tenant,
        consent_store=world.consent_store,
        clock=world.clock,
        settings=world.settings,
        **values,  # type: ignore[arg-type]
    )


def _start(world: World, session_id: str, region: str | None = "NA", binding: str | None = None):  # type: ignore[no-untyped-def]
    return start_consent(
        session_id,
        region_choice=region,
        existing_binding=binding,
        public_base_url=PUBLIC_BASE,
        consent_store=world.consent_store,
        vault=world.vault,
        clock=world.clock,
        settings=world.settings,
    )


# --- flow 1: connect session ------------------------------------------------------------------


def test_a_session_gets_a_consent_url_with_a_random_id_and_the_default_lifetime(world: World) -> None:
    created = _create(world, display_name="Acme GmbH", region=Region.EU)
    session_id = created.consent_url.removeprefix(f"{PUBLIC_BASE}/connect/")
    assert looks_like_id(session_id)
    assert (
        created.expires_at
        == world.clock.now() + DEFAULT_LIFETIME
        == world.clock.now() + timedelta(minutes=30)
    )
    # stored under the hash of the id only
    assert list(world.consent_store.sessions) == [id_hash(session_id)]
    record = world.consent_store.get_session(session_id)
    assert record is not None and record.region is Region.EU and record.display_name == "Acme GmbH"
    assert _create(world).consent_url != created.consent_url


@pytest.mark.parametrize("tenant", ["", "-acme", "a b", "acme/../x", "x" * 65, "<script>"])
def test_tenant_ids_are_validated(world: World, tenant: str) -> None:
    with pytest.raises(InvalidTenantIdError):
        _create(world, tenant)
    assert world.consent_store.sessions == {}


@pytest.mark.parametrize(
    ("seconds", "ok"), [(59, False), (60, True), (7 * 86400, True), (7 * 86400 + 1, False)]
)
def test_the_lifetime_is_bounded_to_seven_days(world: World, seconds: int, ok: bool) -> None:
    if ok:
        assert _create(world, lifetime_seconds=seconds).expires_at == world.clock.now() + timedelta(
            seconds=seconds
        )
    else:
        with pytest.raises(ConnectSessionRequestError):
            _create(world, lifetime_seconds=seconds)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/amazon/connected",
        f"{RETURN_URL}/",
        f"{RETURN_URL}?next=https://evil.example.com",
        f"{RETURN_URL}#x",
        "javascript:alert(1)",
        "//app.example.com/amazon/connected",
    ],
)
def test_return_urls_must_be_on_the_allow_list_exactly(world: World, url: str) -> None:
    with pytest.raises(ConnectSessionRequestError):
        _create(world, return_url=url)
    assert _create(world, return_url=RETURN_URL).tenant_id == "acme"


def test_without_a_public_base_url_the_caller_must_give_one(world: World) -> None:
    world.settings = pages_settings(public_base_url=None)
    with pytest.raises(ConnectSessionRequestError):
        _create(world)
    created = _create(world, public_base_url="https://abc.execute-api.example.test")
    assert created.consent_url.startswith("https://abc.execute-api.example.test/connect/")


# --- flow 2: start consent -----------------------------------------------------------------------


def test_starting_consent_stores_a_bound_state_and_redirects_to_the_regions_amazon_page(world: World) -> None:
    session_id = world.session(region=None)
    started = _start(world, session_id, "FE")
    url = urlsplit(started.authorization_url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://apac.account.amazon.com/ap/oa"
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert params["client_id"] == CLIENT.client_id and params["response_type"] == "code"
    assert params["scope"] == "advertising::campaign_management"
    assert params["redirect_uri"] == f"{PUBLIC_BASE}/callback"
    assert params["code_challenge_method"] == "S256" and len(params["state"]) >= 43
    # the state is stored by hash with the verifier whose S256 is the challenge
    (stored_hash, record) = next(iter(world.consent_store.states.items()))
    assert stored_hash == id_hash(params["state"])
    digest = hashlib.sha256(record.code_verifier.encode()).digest()
    assert base64.urlsafe_b64encode(digest).decode().rstrip("=") == params["code_challenge"]
    assert record.region is Region.FE and record.tenant_id == "acme"
    assert record.redirect_uri == f"{PUBLIC_BASE}/callback"
    assert record.browser_binding_hash == id_hash(started.browser_binding)
    assert record.expires_at == world.clock.now() + STATE_LIFETIME
    # no secret in the URL we generate
    assert CLIENT.client_secret not in started.authorization_url
    assert record.code_verifier not in started.authorization_url


def test_the_profile_scope_is_requested_only_when_configured(world: World) -> None:
    world.settings = pages_settings(include_profile_scope=True)
    started = _start(world, world.session())
    scope = parse_qs(urlsplit(started.authorization_url).query)["scope"][0]
    assert scope.split() == ["advertising::campaign_management", "profile"]


def test_a_browser_keeps_its_binding_across_two_starts(world: World) -> None:
    session_id = world.session()
    first = _start(world, session_id)
    second = _start(world, session_id, binding=first.browser_binding)
    assert second.browser_binding == first.browser_binding
    assert len(world.consent_store.states) == 2
    # a malformed cookie value is replaced, not trusted
    assert _start(world, session_id, binding="not-an-id").browser_binding != "not-an-id"


@pytest.mark.parametrize(
    ("fixed", "choice", "kind"),
    [
        (None, None, FailureKind.INVALID_REGION),
        (None, "XX", FailureKind.INVALID_REGION),
        (None, "na", FailureKind.INVALID_REGION),
        (Region.EU, "NA", FailureKind.INVALID_REGION),
    ],
)
def test_the_region_must_be_valid_and_match_a_fixed_one(
    world: World, fixed: Region | None, choice: str | None, kind: FailureKind
) -> None:
    session_id = world.session(region=fixed)
    with pytest.raises(ConsentFlowError) as raised:
        _start(world, session_id, choice)
    assert raised.value.kind is kind and world.consent_store.states == {}


def test_a_fixed_region_needs_no_choice(world: World) -> None:
    started = _start(world, world.session(region=Region.EU), None)
    assert started.authorization_url.startswith("https://eu.account.amazon.com/ap/oa?")


def test_unknown_expired_and_used_sessions_start_nothing(world: World) -> None:
    for bad in ("", "short", "A" * 43, "A" * 42 + "!"):
        with pytest.raises(ConsentFlowError) as raised:
            _start(world, bad)
        assert raised.value.kind is FailureKind.SESSION_UNKNOWN
    expiring = world.session(lifetime_seconds=60)
    used = world.session()
    world.consent_store.mark_session_used(id_hash(used), used_at=world.clock.now())
    with pytest.raises(ConsentFlowError) as raised:
        _start(world, used)
    assert raised.value.kind is FailureKind.SESSION_USED
    world.clock.advance(seconds=60)
    with pytest.raises(ConsentFlowError) as raised:
        _start(world, expiring)
    assert raised.value.kind is FailureKind.SESSION_EXPIRED
    assert world.consent_store.states == {}


def test_opening_a_session_twice_does_not_spend_it(world: World) -> None:
    # Given a link a chat app's preview bot may open first
    session_id = world.session()
    _start(world, session_id)
    # Then the advertiser can still use it
    assert _start(world, session_id).authorization_url
    record = world.consent_store.get_session(session_id)
    assert record is not None and record.used_at is None


def test_missing_client_credentials_is_an_operator_page(world: World) -> None:
    world.vault = MemoryVault(None)
    with pytest.raises(ConsentFlowError) as raised:
        _start(world, world.session())
    assert raised.value.kind is FailureKind.CLIENT_NOT_CONFIGURED
