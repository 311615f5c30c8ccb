"""Arbitrary input at every public route (hypothesis): never a 5xx, never a reflected payload,
never a changed stored connection. Handlers run in-process on moto; a real connection exists."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest
from ads_connect.handlers import callback, consent
from ads_connect.handlers.cookies import BINDING_COOKIE
from ads_connect.pages.text import Language
from ads_connect.regions import Region
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import seller_profile
from tests.fakes.browser import PUBLIC_BASE, Browser, public_event
from tests.fakes.http_api import FakeLambdaContext
from tests.fixtures.leak_guard import record_response
from tests.integration.conftest import Product

# Every generated value carries this marker; if it ever comes back unescaped, it was reflected.
PROBE = "<probe-x7>"
ROUTES = (
    ("GET", "/connect/{session_id}"),
    ("POST", "/connect/{session_id}"),
    ("GET", "/callback"),
    ("GET", "/result/{result_id}"),
)
PARAMETER_NAMES = ("state", "code", "error", "error_description", "scope", "region", "session_id", "x")

texts = st.text(max_size=60)
probed = st.builds(lambda a, b: f"{a}{PROBE}{b}", texts, texts)
values = st.one_of(probed, texts, st.sampled_from(["", "A" * 43, "access_denied", "invalid_scope", "NA"]))


@st.composite
def raw_queries(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(probed)  # not even a query string
    pairs = draw(st.lists(st.tuples(st.sampled_from(PARAMETER_NAMES), values), max_size=6))
    return urlencode(pairs)


cookie_lists = st.lists(
    st.one_of(probed, st.builds(lambda v: f"{BINDING_COOKIE}={v}", values), st.just("a=b; c=d")),
    max_size=4,
)
accept_languages = st.one_of(
    probed,
    st.sampled_from(["de-DE,de;q=0.9,en;q=0.8", "ja", "fr;q=0.1, it", "es;q=0", "*", "", "x" * 3000]),
    st.lists(
        st.tuples(st.sampled_from(["de", "fr", "es", "it", "ja", "en", "pt", "*", PROBE]), st.floats(0, 1)),
        max_size=6,
    ).map(lambda entries: ", ".join(f"{tag};q={q:.3f}" for tag, q in entries)),
)
header_maps = st.dictionaries(
    st.sampled_from(
        ["user-agent", "referer", "x-forwarded-for", "cookie", "origin", "sec-fetch-site", "accept-language"]
    ),
    st.one_of(probed, st.sampled_from(["same-origin", "cross-site", PUBLIC_BASE, "null"]), accept_languages),
)
LANGUAGES = {language.value for language in Language}
bodies = st.one_of(st.none(), probed, st.builds(lambda v: f"region={v}", values), st.binary(max_size=80))


@pytest.fixture
def connected(product: Product) -> dict[str, Any]:
    """Given tenant acme connected in NA, and a live session for it."""
    product.amazon.emu.add_user("adv", profiles={"NA": [seller_profile(42, "US", "Shop US")]})
    page = Browser().connect(product.session("acme"), "NA")
    assert page["statusCode"] == 200
    return {"product": product, "session_id": product.session("acme"), "before": _snapshot(product)}


def _snapshot(product: Product) -> tuple[Any, ...]:
    secrets = boto3.client("secretsmanager", region_name=product.aws.region)
    stored = tuple(
        json.loads(secrets.get_secret_value(SecretId=f"ads-connect/{kind}/acme/NA")["SecretString"])
        for kind in ("refresh", "access")
    )
    return (
        product.store.get_connection("acme", Region.NA),
        sorted(json.dumps(p.to_json()) for p in product.store.list_profiles("acme")),
        stored,
    )


def _path_parameters(route: str, value: str) -> dict[str, str] | None:
    for name in ("session_id", "result_id"):
        if "{" + name + "}" in route:
            return {name: value}
    return None


def _call(
    method: str,
    route: str,
    path_value: str,
    query: str,
    cookies: list[str],
    headers: dict[str, str],
    body: str | bytes | None,
) -> dict[str, Any]:
    path = route.replace("{session_id}", path_value).replace("{result_id}", path_value)
    encoded = isinstance(body, bytes)
    text = base64.b64encode(body).decode() if isinstance(body, bytes) else body
    event = public_event(
        method,
        path,
        query=query,
        body=text,
        cookies=cookies,
        route_key=f"{method} {route}",
        path_parameters=_path_parameters(route, path_value),
        headers=headers,
    )
    event["isBase64Encoded"] = encoded
    handler = consent.handler if route.startswith("/connect/") else callback.handler
    return record_response(handler(event, FakeLambdaContext()))


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    route=st.sampled_from(ROUTES),
    path_value=st.one_of(probed, st.just("LIVE"), texts),
    query=raw_queries(),
    cookies=cookie_lists,
    headers=header_maps,
    body=bodies,
)
def test_arbitrary_requests_never_crash_reflect_or_change_a_connection(
    connected: dict[str, Any],
    route: tuple[str, str],
    path_value: str,
    query: str,
    cookies: list[str],
    headers: dict[str, str],
    body: str | bytes | None,
) -> None:
    method, template = route
    value = connected["session_id"] if path_value == "LIVE" else path_value
    response = _call(method, template, value, query, cookies, headers, body)
    # never a 5xx (a live session + a valid region is a 302 to Amazon; everything else a 4xx page)
    assert response["statusCode"] < 500, response["body"]
    assert response["statusCode"] in (200, 302, 303) or '<span class="ref">' in response["body"]
    # never a reflected payload, in the body or in a header we set
    assert PROBE not in response["body"]
    assert all(PROBE not in v for v in response["headers"].values())
    assert all(PROBE not in c for c in response.get("cookies", []))
    assert response["headers"]["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response["headers"]["Content-Security-Policy"]
    # a page is in one of the pages' languages, whatever Accept-Language said
    if response["body"]:
        assert response["headers"]["Content-Language"] in LANGUAGES
        assert f'<html lang="{response["headers"]["Content-Language"]}">' in response["body"]
    # never a changed stored connection
    assert _snapshot(connected["product"]) == connected["before"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    pairs=st.lists(st.tuples(st.sampled_from(PARAMETER_NAMES), values), max_size=5),
    same_browser=st.booleans(),
)
def test_a_live_state_with_arbitrary_amazon_answers_never_crashes_reflects_or_changes_a_connection(
    connected: dict[str, Any], pairs: list[tuple[str, str]], same_browser: bool
) -> None:
    """The callback past the state check: a real state from the live session, then any code,
    error and description Amazon (or an attacker) could put beside it."""
    browser = Browser()
    started = browser.submit_region(connected["session_id"], "NA")
    assert started["statusCode"] == 302
    state = parse_qs(urlsplit(started["headers"]["Location"]).query)["state"][0]
    query = urlencode([("state", state), *pairs])
    response = (browser if same_browser else Browser()).callback(query)
    assert response["statusCode"] < 500, response["body"]
    assert PROBE not in response["body"]
    assert all(PROBE not in v for v in response["headers"].values())
    assert _snapshot(connected["product"]) == connected["before"]
