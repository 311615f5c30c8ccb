"""The JSON control API, the standalone command and the demo accounts."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from emulator import Emulator, demo_accounts, seller_profile
from emulator.__main__ import build_emulator, build_parser, parse_fault
from emulator.core import REGIONS
from emulator.demo import DEMO_USER, NEW_ADVERTISER, add_demo_accounts
from tests.emulator.helpers import TIMEOUT, api, control, refresh
from tests.fixtures.amazon import TEST_REDIRECT_URI, RunningEmulator

ROOT = Path(__file__).resolve().parents[2]


def test_control_link_profile_rotate_secret_grant_and_counters(em: RunningEmulator) -> None:
    grant = em.grant("NA", "u1")
    linked = control(
        em,
        "POST",
        "link-profile",
        {"user_id": "u1", "region": "NA", "profile": seller_profile(31), "delay_seconds": 0},
    )
    assert linked.json() == {"ok": True}
    assert 31 in [p["profileId"] for p in api(em, "NA", "/v2/profiles", grant["access_token"]).json()]
    state = control(em, "GET", "grant", user="u1", region="NA").json()
    assert state["generation"] == 1 and state["token_calls"] == 1
    assert control(em, "GET", "grant", user="nobody").status_code == 404
    assert (
        control(em, "POST", "rotate-client-secret", {"client_secret": "ctl-rotated-secret"}).status_code
        == 200
    )
    stale = refresh(em, "NA", grant["refresh_token"])  # the helper still sends the new secret
    assert stale.status_code == 200
    counters = control(em, "GET", "counters").json()
    assert counters["token_calls"]["NA"] == 2 and counters["token_calls_by_grant_type"]["refresh_token"] == 1
    assert "ctl-rotated-secret" in control(em, "GET", "issued-secrets").json()


def test_control_state_requests_advance_and_revoke(em: RunningEmulator) -> None:
    grant = em.grant("EU", "u1")
    before = em.emu.clock()
    assert control(em, "POST", "advance", {"seconds": 3601}).json()["clock"] >= before + 3601
    assert api(em, "EU", "/v2/profiles", grant["access_token"]).status_code == 401  # expired
    control(em, "POST", "revoke", {"user_id": "u1"})
    assert refresh(em, "EU", grant["refresh_token"]).json()["error"] == "invalid_grant"
    state = control(em, "GET", "state", user="u1", region="EU").json()
    assert state["grant"]["revoked"] and state["token_calls_by_region"]["EU"] == 2
    entries = control(em, "GET", "requests", endpoint="token").json()
    assert [e["status"] for e in entries] == [200, 400]
    assert grant["refresh_token"] not in json.dumps(entries)


def test_control_config_and_faults(em: RunningEmulator) -> None:
    body = {
        "approved_for_ads": False,
        "grace_seconds": 5,
        "app_name": "Ctl App",
        "redirect_uris": ["https://c.test/cb"],
    }
    assert control(em, "POST", "config", body).status_code == 200
    assert (em.emu.approved_for_ads, em.emu.grace_seconds, em.emu.app_name) == (False, 5.0, "Ctl App")
    assert "https://c.test/cb" in em.emu.redirect_uris
    assert control(
        em, "POST", "faults", {"endpoint": "profiles", "region": "FE", "status": 429, "retry_after": 2}
    ).ok
    assert control(em, "GET", "state").json()["faults"][0]["region"] == "FE"
    assert control(em, "POST", "faults/clear").ok and em.emu.faults.describe() == []


@pytest.mark.parametrize(
    ("method", "action", "body", "status"),
    [
        ("POST", "config", {"headless": "maybe"}, 400),
        ("POST", "config", {"rotation": "sometimes"}, 400),
        ("POST", "config", {"colour": "blue"}, 400),
        ("POST", "faults", {"endpoint": "nowhere"}, 400),
        ("POST", "faults", {"endpoint": "token", "bogus": 1}, 400),
        ("POST", "users", {"name": "no id"}, 400),
        ("POST", "users", {"user_id": "x", "profiles": {"NA": [{"profileId": 1.5}]}}, 400),
        ("POST", "sign-in", {"user_id": "nobody"}, 400),
        ("POST", "rotate-client-secret", {"client_secret": ""}, 400),
        ("POST", "users", [1, 2], 400),
        ("GET", "nothing-here", None, 404),
        ("DELETE", "users", None, 501),
    ],
)
def test_control_refuses_bad_requests_clearly(
    em: RunningEmulator, method: str, action: str, body: object, status: int
) -> None:
    assert control(em, method, action, body).status_code == status


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("users", {"user_id": "strict", "view_only": "false"}),
        ("users", {"user_id": "strict", "has_campaigns": "true"}),
        ("users", {"user_id": "strict", "view_only": 0}),
        ("users", {"user_id": "strict", "view_only": None}),
        ("users", {"user_id": "strict", "propagation_delay_seconds": "60"}),
        ("users", {"user_id": "strict", "viewonly": True}),
        ("config", {"approved_for_ads": "false"}),
        ("config", {"allow_listed": 1}),
        ("config", {"app_name": "Changed", "allow_listed": "no"}),  # nothing changes, not half
        ("config", {"grace_seconds": "5"}),
        ("config", {"redirect_uris": "https://one.test/cb"}),
        ("faults", {"endpoint": "token", "drop_connection": "false"}),
        ("faults", {"endpoint": "token", "after_processing": "yes"}),
        ("faults", {"endpoint": "token", "status": "500"}),
        ("advance", {"seconds": "60"}),
    ],
)
def test_control_booleans_and_numbers_are_strict(em: RunningEmulator, action: str, body: object) -> None:
    # A string "false" must never turn into True (nor anything else into a setting)
    before = control(em, "GET", "state").json()
    answer = control(em, "POST", action, body)
    assert answer.status_code == 400 and answer.json()["error"].startswith("bad control request")
    after = control(em, "GET", "state").json()
    assert {k: v for k, v in after.items() if k != "clock"} == {
        k: v for k, v in before.items() if k != "clock"
    }
    assert em.emu.app_name != "Changed" and "strict" not in em.emu.users


def test_control_booleans_that_are_booleans_are_taken_as_given(em: RunningEmulator) -> None:
    body = {"user_id": "viewer", "view_only": False, "has_campaigns": False}
    assert control(em, "POST", "users", body).ok
    viewer = em.emu.users["viewer"]
    assert viewer.view_only is False and viewer.has_campaigns is False
    assert control(em, "POST", "config", {"allow_listed": False, "approved_for_ads": True}).ok
    assert em.emu.allow_listed is False and em.emu.approved_for_ads is True


def test_control_faults_take_the_new_variants(em: RunningEmulator) -> None:
    for body in (
        {"endpoint": "token", "status": 500, "after_processing": True},
        {"endpoint": "token", "malformed": True},
        {"endpoint": "authorize", "oauth_error": "server_error", "error_description": "<b>x</b>"},
    ):
        assert control(em, "POST", "faults", body).ok, body
    described = control(em, "GET", "state").json()["faults"]
    assert [(f["status"], f["after_processing"], f["malformed"], f["oauth_error"]) for f in described] == [
        (500, True, False, None),
        (200, False, True, None),
        (302, False, False, "server_error"),
    ]
    refused = control(em, "POST", "faults", {"endpoint": "token", "status": 429, "retry_after": 1.5})
    assert refused.status_code == 400 and "whole seconds" in refused.json()["error"]


def test_control_refuses_a_body_that_is_not_json(em: RunningEmulator) -> None:
    response = requests.post(f"{em.base_url}/__emulator__/users", data=b"{not json", timeout=TIMEOUT)
    assert response.status_code == 400 and response.json()["error"] == "body must be JSON"


def test_demo_accounts_cover_the_documented_cases() -> None:
    accounts = {a["user_id"]: a for a in demo_accounts()}
    demo = accounts[DEMO_USER]["profiles"]
    assert set(demo) == set(REGIONS)
    profiles = [p for region in demo.values() for p in region]
    assert {p["accountInfo"]["type"] for p in profiles} == {"seller", "vendor", "agency"}
    assert any(p["profileId"] > 2**53 for p in profiles)
    assert accounts[NEW_ADVERTISER]["has_campaigns"] is False
    demo_accounts()[0]["profiles"]["NA"].clear()  # callers get a copy
    assert demo_accounts()[0]["profiles"]["NA"]


def test_demo_accounts_serve_their_profiles(amazon_emulator: RunningEmulator) -> None:
    add_demo_accounts(amazon_emulator.emu)
    assert amazon_emulator.emu.signed_in == DEMO_USER
    ids = {}
    for region in REGIONS:
        grant = amazon_emulator.grant(region, DEMO_USER)
        ids[region] = [
            p["profileId"] for p in api(amazon_emulator, region, "/v2/profiles", grant["access_token"]).json()
        ]
    assert len(ids["NA"]) == 2 and len(ids["EU"]) == 2 and len(ids["FE"]) == 1
    empty = amazon_emulator.grant("NA", NEW_ADVERTISER)
    assert api(amazon_emulator, "NA", "/v2/profiles", empty["access_token"]).json() == []


def test_fault_specs_parse_and_bad_ones_are_refused() -> None:
    assert parse_fault("token:503x3") == {"endpoint": "token", "status": 503, "count": 3}
    assert parse_fault("profiles:429x2:retry_after=5:region=EU") == {
        "endpoint": "profiles",
        "status": 429,
        "count": 2,
        "retry_after": 5.0,
        "region": "EU",
    }
    assert parse_fault("token:200:delay=1.5:always") == {
        "endpoint": "token",
        "status": 200,
        "delay_seconds": 1.5,
        "count": None,
    }
    assert parse_fault("any:drop") == {"endpoint": "any", "drop_connection": True}
    for bad in ("tokens:503", "token:abc", "token:503:region=US", "token:42"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_fault(bad)


def test_fault_specs_for_the_new_variants() -> None:
    assert parse_fault("token:500:after") == {"endpoint": "token", "status": 500, "after_processing": True}
    assert parse_fault("token:drop:after") == {
        "endpoint": "token",
        "drop_connection": True,
        "after_processing": True,
    }
    assert parse_fault("token:malformed:after:region=FE") == {
        "endpoint": "token",
        "malformed": True,
        "after_processing": True,
        "region": "FE",
    }
    assert parse_fault("token:200:delay=12:after") == {
        "endpoint": "token",
        "status": 200,
        "delay_seconds": 12.0,
        "after_processing": True,
    }
    assert parse_fault("authorize:error=server_error:description=Try%20again%3A%20later") == {
        "endpoint": "authorize",
        "oauth_error": "server_error",
        "error_description": "Try again: later",
    }
    assert parse_fault("token:error=unauthorized_client:always") == {
        "endpoint": "token",
        "oauth_error": "unauthorized_client",
        "count": None,
    }
    assert parse_fault("profiles:429") == {"endpoint": "profiles", "status": 429}
    for bad in (
        "profiles:429:retry_after=1.5",  # Retry-After is whole seconds: refused, not truncated
        "profiles:error=server_error",  # the Ads API has no OAuth errors
        "authorize:error=invalid_grant",  # a token-endpoint error
        "authorize:error=server_error:after",
        "token:malformed:drop",
        "token:500:description=no%20error",
        "token:500:colour=blue",
        "token:500:later",
    ):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_fault(bad)


def test_standalone_flags_build_the_new_fault_variants() -> None:
    # The in-process equivalent of `python -m emulator --fault ...` (the subprocess test below
    # runs the command itself)
    args = build_parser().parse_args(
        [
            *("--redirect-uri", TEST_REDIRECT_URI, "--headless", "allow", "--demo-accounts"),
            *("--fault", "authorize:error=temporarily_unavailable", "--fault", "token:500:after"),
        ]
    )
    emu = build_emulator(args, "standalone-fixture-secret")
    server = emu.serve()
    try:
        query = {
            "client_id": emu.client_id,
            "scope": "advertising::campaign_management",
            "response_type": "code",
            "redirect_uri": TEST_REDIRECT_URI,
            "state": "st",
        }
        url = f"{server.base_url}/NA/ap/oa"
        first = requests.get(url, params=query, allow_redirects=False, timeout=TIMEOUT)
        assert "error=temporarily_unavailable" in first.headers["Location"]
        second = requests.get(url, params=query, allow_redirects=False, timeout=TIMEOUT)
        code = second.headers["Location"].split("code=", 1)[1].split("&", 1)[0]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": TEST_REDIRECT_URI,
            "client_id": emu.client_id,
            "client_secret": "standalone-fixture-secret",
        }
        answer = requests.post(f"{server.base_url}/NA/auth/o2/token", data=form, timeout=TIMEOUT)
        assert answer.status_code == 500 and emu.grant_state(DEMO_USER, "NA") is not None
    finally:
        server.stop()


def test_standalone_runs_with_flags_and_stops_on_sigterm() -> None:
    # Given the emulator started as a command, with its secret on stdin and a token fault
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            *("--port", "0", "--client-id", "cli-fixture-client", "--client-secret-stdin"),
            *("--redirect-uri", TEST_REDIRECT_URI, "--headless", "allow", "--rotation", "rotate_strict"),
            *("--fault", "token:503x1", "--demo-accounts"),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdin and process.stdout
        process.stdin.write("cli-fixture-secret\n")
        process.stdin.close()
        first = process.stdout.readline()
        base = first.split(" on ", 1)[1].split(" ", 1)[0]
        endpoints = json.loads(process.stdout.readline().split("=", 1)[1].strip().strip("'"))
        assert endpoints["EU"]["token_url"] == f"{base}/EU/auth/o2/token"
        # When an authorization runs headlessly and the code is exchanged
        answer = requests.get(
            endpoints["NA"]["authorization_url"],
            params={
                "client_id": "cli-fixture-client",
                "scope": "advertising::campaign_management",
                "response_type": "code",
                "redirect_uri": TEST_REDIRECT_URI,
            },
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        code = answer.headers["Location"].split("code=", 1)[1].split("&", 1)[0]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": TEST_REDIRECT_URI,
            "client_id": "cli-fixture-client",
            "client_secret": "cli-fixture-secret",
        }
        # Then the injected fault answers first (the code is not consumed), and the retry succeeds
        assert requests.post(endpoints["NA"]["token_url"], data=form, timeout=TIMEOUT).status_code == 503
        tokens = requests.post(endpoints["NA"]["token_url"], data=form, timeout=TIMEOUT).json()
        listed = requests.get(
            f"{endpoints['NA']['api_url']}/v2/profiles",
            headers={
                "Authorization": f"Bearer {tokens['access_token']}",
                "Amazon-Advertising-API-ClientId": "cli-fixture-client",
            },
            timeout=TIMEOUT,
        )
        assert len(listed.json()) == 2  # the demo advertiser's NA profiles
        state = requests.get(f"{base}/__emulator__/state", timeout=TIMEOUT).json()
        assert state["rotation"] == "rotate_strict" and state["headless"] == "allow"
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=10)
    assert process.stdout and process.stderr
    out, err = process.stdout.read(), process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    assert returncode == 0, err
    assert "cli-fixture-secret" not in out + err


def test_standalone_refuses_an_empty_secret_on_stdin() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--client-secret-stdin"],
        cwd=ROOT,
        check=False,
        input="\n",
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 2 and "no secret" in done.stderr


def test_serve_on_a_busy_port_fails_clearly() -> None:
    first = Emulator(client_id="c", client_secret="fixture-s").serve()
    try:
        with pytest.raises(OSError):
            Emulator(client_id="c", client_secret="fixture-s").serve(port=first.port)
    finally:
        first.stop()
