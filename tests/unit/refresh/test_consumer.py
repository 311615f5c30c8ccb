"""The consumer helper: headers (Ads API origin only), base URL, timeouts, bounded cache (never
an expired token), one re-read on 401."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests
from ads_connect.consumer import (
    CLOCK_SKEW_SECONDS,
    DEFAULT_TIMEOUT,
    EXPIRY_MARGIN_SECONDS,
    MAX_CACHE_SECONDS,
    AccessTokenCache,
    AdsApiSession,
    get_session,
)

from tests.fakes.transport import ScriptedTransport, response

NOW = 1_800_000_000.0


class FakeSecrets:
    """``get_secret_value`` answering the current consumer secret; counts reads."""

    def __init__(self, token: str, expires_in: float) -> None:
        self.reads: list[str] = []
        self.set(token, expires_in)

    def set(self, token: str, expires_in: float) -> None:
        self.value = {
            "access_token": token,
            "token_type": "bearer",
            "expires_at_epoch": int(NOW + expires_in),
            "region": "EU",
            "api_url": "https://ads.example.test/EU/api/",
            "client_id": "amzn1.application-oa2-client.fake",
            "tenant_id": "acme",
            "grant_version": 1,
        }

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        self.reads.append(SecretId)
        return {"SecretString": json.dumps(self.value)}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def _session(secrets: FakeSecrets, clock: Clock, responder: Any, profile_id: str | None = None):  # type: ignore[no-untyped-def]
    cache = AccessTokenCache("ads-connect/access/acme/EU", secrets_client=secrets, clock=clock)
    session = AdsApiSession(cache, profile_id)
    transport = ScriptedTransport(responder)
    session.mount("https://", transport)
    return session, transport


def test_requests_carry_the_headers_base_url_and_a_timeout() -> None:
    secrets, clock = FakeSecrets("Atza|fake-one", 3000), Clock()
    session, transport = _session(
        secrets, clock, lambda _r: response(200, "[]"), profile_id="3456789012345678"
    )
    assert session.get("/v2/sp/campaigns").status_code == 200
    sent = transport.requests[0]
    assert sent.url == "https://ads.example.test/EU/api/v2/sp/campaigns"
    assert sent.headers["Authorization"] == "Bearer Atza|fake-one"
    assert sent.headers["Amazon-Advertising-API-ClientId"] == "amzn1.application-oa2-client.fake"
    assert sent.headers["Amazon-Advertising-API-Scope"] == "3456789012345678"
    assert transport.timeouts[0] == DEFAULT_TIMEOUT


def test_no_scope_header_without_a_profile_and_an_explicit_timeout_wins() -> None:
    session, transport = _session(FakeSecrets("Atza|fake-one", 3000), Clock(), lambda _r: response(200, "[]"))
    session.get("/v2/profiles", timeout=2)
    assert "Amazon-Advertising-API-Scope" not in transport.requests[0].headers
    assert transport.timeouts[0] == 2


def test_the_secret_is_cached_at_most_five_minutes() -> None:
    secrets, clock = FakeSecrets("Atza|fake-one", 3000), Clock()
    session, _ = _session(secrets, clock, lambda _r: response(200, "[]"))
    session.get("/a")
    clock.now += MAX_CACHE_SECONDS - 1
    session.get("/b")
    assert len(secrets.reads) == 1
    clock.now += 2
    session.get("/c")
    assert len(secrets.reads) == 2


def test_the_secret_is_cached_no_longer_than_the_token_lives() -> None:
    # Given a token with 90 s of life left: cached only until 60 s before expiry
    secrets, clock = FakeSecrets("Atza|fake-old", 90), Clock()
    session, transport = _session(secrets, clock, lambda _r: response(200, "[]"))
    session.get("/a")
    secrets.set("Atza|fake-new", 3600)
    clock.now += 90 - EXPIRY_MARGIN_SECONDS + 1
    session.get("/b")
    assert transport.requests[-1].headers["Authorization"] == "Bearer Atza|fake-new"


def test_an_expired_secret_is_read_again_once_and_the_fresh_one_is_cached() -> None:
    # Given the secret read just before the worker replaced an expired token
    secrets, clock = FakeSecrets("Atza|fake-expired", -5), Clock()
    fresh = {"access_token": "Atza|fake-fresh", "expires_at_epoch": int(NOW + 3600)}
    reads = iter([dict(secrets.value), {**secrets.value, **fresh}])
    secrets.get_secret_value = lambda SecretId: {"SecretString": json.dumps(next(reads))}  # type: ignore[method-assign]
    cache = AccessTokenCache("ads-connect/access/acme/EU", secrets_client=secrets, clock=clock)
    # When it is read: once more, and the fresh token is handed out and cached
    assert cache.get()["access_token"] == "Atza|fake-fresh"
    clock.now += 60
    assert cache.get()["access_token"] == "Atza|fake-fresh"  # from the cache: no third read


@pytest.mark.parametrize("expires_in", [-600, 0, CLOCK_SKEW_SECONDS])
def test_a_token_still_expired_after_the_second_read_is_used_but_never_cached(expires_in: float) -> None:
    # Given a secret whose token is expired, or as good as (the refresh is failing)
    secrets, clock = FakeSecrets("Atza|fake-stale", expires_in), Clock()
    cache = AccessTokenCache("ads-connect/access/acme/EU", secrets_client=secrets, clock=clock)
    # Then it is handed out after exactly one more read (the Ads API's 401 tells the caller)
    assert cache.get()["access_token"] == "Atza|fake-stale"
    assert len(secrets.reads) == 2
    # And the next call, at the same instant, reads again rather than trusting the cache
    assert cache.get()["access_token"] == "Atza|fake-stale"
    assert len(secrets.reads) == 4
    # And once the worker publishes a fresh token, it is picked up and cached
    secrets.set("Atza|fake-fresh", 3600)
    assert cache.get()["access_token"] == "Atza|fake-fresh"
    assert cache.get()["access_token"] == "Atza|fake-fresh"
    assert len(secrets.reads) == 5


def test_a_token_inside_the_margin_but_not_expired_is_read_once_per_call_and_not_cached() -> None:
    secrets, clock = FakeSecrets("Atza|fake-short", EXPIRY_MARGIN_SECONDS + 10), Clock()
    cache = AccessTokenCache("ads-connect/access/acme/EU", secrets_client=secrets, clock=clock)
    cache.get()
    clock.now += 9
    cache.get()
    assert len(secrets.reads) == 1  # cached until the margin
    clock.now += 1
    cache.get()
    cache.get()
    assert len(secrets.reads) == 3  # inside the margin: one read per call, no second read


def test_an_absolute_url_on_the_ads_api_origin_carries_the_headers() -> None:
    session, transport = _session(FakeSecrets("Atza|fake-one", 3000), Clock(), lambda _r: response(200, "[]"))
    assert session.get("https://ads.example.test:443/v2/profiles").status_code == 200
    assert session.get("HTTPS://ADS.example.test/other/path").status_code == 200
    assert all(r.headers["Authorization"] == "Bearer Atza|fake-one" for r in transport.requests)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.test/v2/profiles",
        "http://ads.example.test/EU/api/v2/profiles",  # scheme differs
        "https://ads.example.test:8443/EU/api/v2/profiles",  # port differs
        "https://ads.example.test.evil.example/v2/profiles",
        "https://user@evil.example.test/@ads.example.test/",
    ],
)
def test_a_request_to_another_origin_is_refused_before_anything_is_sent(url: str) -> None:
    session, transport = _session(
        FakeSecrets("Atza|fake-one", 3000), Clock(), lambda _r: response(200, "[]"), profile_id="42"
    )
    with pytest.raises(ValueError, match=re.escape("only to https://ads.example.test:443")) as refused:
        session.get(url)
    assert transport.requests == []
    assert "Atza|" not in str(refused.value) and "fake" not in str(refused.value)
    # A prepared request sent by hand is refused the same way (the headers merge there)
    with pytest.raises(ValueError):
        session.prepare_request(requests.Request("GET", url))


def test_a_redirect_off_the_ads_api_is_followed_without_the_connection_headers() -> None:
    # Given the Ads API answering a report download with a redirect to S3
    download = "https://reports.s3.amazonaws.com/r.json.gz?X-Amz-Signature=abc"
    answers = iter([response(307, headers={"Location": download}), response(200, "{}")])
    session, transport = _session(
        FakeSecrets("Atza|fake-one", 3000), Clock(), lambda _r: next(answers), profile_id="42"
    )
    # When the session follows it
    assert session.get("/v2/reports/1/download").status_code == 200
    # Then the Ads API got the headers and S3 got none of them
    first, second = transport.requests
    assert first.headers["Authorization"] == "Bearer Atza|fake-one"
    assert second.url == download
    assert not {"Authorization", "Amazon-Advertising-API-ClientId", "Amazon-Advertising-API-Scope"} & set(
        second.headers
    )


def test_a_redirect_within_the_ads_api_keeps_the_headers() -> None:
    answers = iter([response(302, headers={"Location": "/EU/api/v2/moved"}), response(200, "[]")])
    session, transport = _session(
        FakeSecrets("Atza|fake-one", 3000), Clock(), lambda _r: next(answers), profile_id="42"
    )
    assert session.get("/v2/old").status_code == 200
    assert transport.requests[1].headers["Amazon-Advertising-API-Scope"] == "42"
    assert transport.requests[1].headers["Authorization"] == "Bearer Atza|fake-one"


def test_a_401_re_reads_the_secret_once_and_retries_once() -> None:
    secrets, clock = FakeSecrets("Atza|fake-old", 3000), Clock()
    answers = iter([response(401, "{}"), response(200, "[]")])
    session, transport = _session(secrets, clock, lambda _r: next(answers))
    secrets.set("Atza|fake-new", 3600)  # the worker refreshed meanwhile
    assert session.get("/v2/profiles").status_code == 200
    assert [r.headers["Authorization"] for r in transport.requests] == [
        "Bearer Atza|fake-old",
        "Bearer Atza|fake-new",
    ]
    assert len(secrets.reads) == 2


class _TrackedBody:
    """The raw body of a response: records whether the response gave its connection back."""

    def __init__(self) -> None:
        self.closed = False
        self.released = False

    def close(self) -> None:
        self.closed = True

    def release_conn(self) -> None:
        self.released = True


@pytest.mark.parametrize("stream", [False, True])
def test_the_first_401_is_closed_before_the_retry(stream: bool) -> None:
    first, body = response(401, "{}"), _TrackedBody()
    first.raw = body
    first._content_consumed = False  # as a streamed answer whose body nobody read
    answers = iter([first, response(200, "[]")])
    released_when_sent: list[bool] = []

    def responder(_request: requests.PreparedRequest) -> requests.Response:
        released_when_sent.append(body.released)
        return next(answers)

    session, _ = _session(FakeSecrets("Atza|fake-old", 3000), Clock(), responder)
    assert session.get("/v2/profiles", stream=stream).status_code == 200
    # The 401's connection went back to the pool before the retry was sent
    assert released_when_sent == [False, True]
    # A streamed 401 body that nobody read is closed, not left hanging on the socket
    assert body.closed is stream


def test_a_second_401_is_returned_not_retried_again() -> None:
    secrets = FakeSecrets("Atza|fake-old", 3000)
    session, transport = _session(secrets, Clock(), lambda _r: response(401, "{}"))
    assert session.get("/v2/profiles").status_code == 401
    assert len(transport.requests) == 2 and len(secrets.reads) == 2


def test_get_session_builds_the_documented_secret_name() -> None:
    secrets = FakeSecrets("Atza|fake-one", 3000)
    session = get_session("acme", "EU", 42, secret_prefix="reports/ads", secrets_client=secrets)
    assert secrets.reads == ["reports/ads/access/acme/EU"]
    assert session.headers["Amazon-Advertising-API-Scope"] == "42"
    assert isinstance(session, requests.Session)


@pytest.mark.parametrize("field", ["access_token", "expires_at_epoch", "api_url", "client_id"])
def test_a_malformed_secret_fails_clearly(field: str) -> None:
    secrets = FakeSecrets("Atza|fake-one", 3000)
    del secrets.value[field]
    with pytest.raises(KeyError):
        AdsApiSession(AccessTokenCache("x", secrets_client=secrets, clock=Clock()))
