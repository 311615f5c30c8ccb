"""HttpAdsApiClient: headers, the view-only parameter, exact profile ids, error mapping."""

from __future__ import annotations

import pytest
import requests
from ads_connect.adapters.ads_api import HttpAdsApiClient
from ads_connect.logic.ports import (
    AdsApiForbiddenError,
    AdsApiUnauthorizedError,
    AmazonRequestRejectedError,
    TransientAmazonError,
)
from ads_connect.models.records import AccessLevel
from ads_connect.regions import AMAZON_ENDPOINTS, Region

from tests.fakes.transport import response, scripted_session

HUGE_ID = 2**53 + 1  # 9007199254740993: a float would turn it into ...992


def _client(
    outcome: requests.Response | Exception,
) -> tuple[HttpAdsApiClient, list[requests.PreparedRequest]]:
    session, transport = scripted_session(lambda _request: outcome)
    return HttpAdsApiClient(AMAZON_ENDPOINTS, session=session), transport.requests


def test_profiles_are_read_from_the_regions_host_with_both_headers_and_exact_ids() -> None:
    body = f'[{{"profileId": {HUGE_ID}, "countryCode": "DE", "accountInfo": {{"type": "seller"}}}}]'
    client, sent = _client(response(200, body))
    profiles = client.list_profiles(Region.EU, access_token="Atza|unit", client_id="cid")
    assert profiles[0]["profileId"] == str(HUGE_ID)
    (request,) = sent
    assert request.url == "https://advertising-api-eu.amazon.com/v2/profiles"
    assert request.headers["Authorization"] == "Bearer Atza|unit"
    assert request.headers["Amazon-Advertising-API-ClientId"] == "cid"
    assert "Amazon-Advertising-API-Scope" not in request.headers


def test_view_only_fallback_appends_access_level_view() -> None:
    client, sent = _client(response(200, "[]"))
    assert (
        client.list_profiles(Region.FE, access_token="a", client_id="c", access_level=AccessLevel.VIEW) == []
    )
    assert sent[0].url == "https://advertising-api-fe.amazon.com/v2/profiles?accessLevel=view"


@pytest.mark.parametrize(
    ("status", "headers", "error_type"),
    [
        (403, {}, AdsApiForbiddenError),
        (401, {}, AdsApiUnauthorizedError),
        (429, {"Retry-After": "3"}, TransientAmazonError),
        (503, {}, TransientAmazonError),
        (404, {}, AmazonRequestRejectedError),
    ],
)
def test_error_statuses_map_to_typed_errors(
    status: int, headers: dict[str, str], error_type: type[Exception]
) -> None:
    client, _ = _client(response(status, '{"code": "x", "details": "Authentication failed"}', headers))
    with pytest.raises(error_type) as raised:
        client.list_profiles(Region.NA, access_token="Atza|secret", client_id="c")
    assert "Atza|secret" not in str(raised.value)
    if status == 429:
        assert raised.value.retry_after == 3.0  # type: ignore[attr-defined]


@pytest.mark.parametrize("body", ["not json", '{"profiles": []}', "[1, 2]"])
def test_malformed_bodies_are_transient_errors(body: str) -> None:
    client, _ = _client(response(200, body))
    with pytest.raises(TransientAmazonError):
        client.list_profiles(Region.NA, access_token="a", client_id="c")


def test_transport_failures_are_transient() -> None:
    client, _ = _client(requests.ReadTimeout("slow"))
    with pytest.raises(TransientAmazonError):
        client.list_profiles(Region.NA, access_token="a", client_id="c")
