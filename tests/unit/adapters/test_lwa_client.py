"""HttpLwaClient: request shape per region, and every documented answer mapped to a typed error."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
import requests
from ads_connect.adapters.lwa import HttpLwaClient
from ads_connect.logic.ports import (
    AmazonNotProcessedError,
    AmazonRequestRejectedError,
    AmbiguousAmazonError,
    ClientCredentials,
    InvalidClientError,
    InvalidGrantError,
    TransientAmazonError,
    UnauthorizedClientError,
)
from ads_connect.regions import AMAZON_ENDPOINTS, Region
from urllib3.exceptions import NewConnectionError, ProtocolError

from tests.fakes.transport import response, scripted_session

CREDENTIALS = ClientCredentials("amzn1.application-oa2-client.unit", "unit-fixture-secret")
GRANT = {
    "access_token": "Atza|unit-access",
    "refresh_token": "Atzr|unit-refresh",
    "token_type": "bearer",
    "expires_in": 3600,
}


def _client(outcome: requests.Response | Exception) -> tuple[HttpLwaClient, list[requests.PreparedRequest]]:
    session, transport = scripted_session(lambda _request: outcome)
    return HttpLwaClient(AMAZON_ENDPOINTS, session=session), transport.requests


@pytest.mark.parametrize(
    ("region", "url"),
    [
        (Region.NA, "https://api.amazon.com/auth/o2/token"),
        (Region.EU, "https://api.amazon.co.uk/auth/o2/token"),
        (Region.FE, "https://api.amazon.co.jp/auth/o2/token"),
    ],
)
def test_code_exchange_posts_the_form_to_the_regions_own_token_endpoint(region: Region, url: str) -> None:
    client, sent = _client(response(200, json.dumps(GRANT)))
    grant = client.exchange_code(
        region,
        code="unit-code",
        redirect_uri="https://x.example/callback",
        code_verifier="v" * 43,
        credentials=CREDENTIALS,
    )
    assert (grant.access_token, grant.refresh_token, grant.expires_in) == (
        "Atza|unit-access",
        "Atzr|unit-refresh",
        3600,
    )
    (request,) = sent
    assert request.method == "POST" and request.url == url
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded;charset=UTF-8"
    form = {k: v[0] for k, v in parse_qs(str(request.body)).items()}
    assert form == {
        "grant_type": "authorization_code",
        "code": "unit-code",
        "redirect_uri": "https://x.example/callback",
        "code_verifier": "v" * 43,
        "client_id": CREDENTIALS.client_id,
        "client_secret": CREDENTIALS.client_secret,
    }


def test_refresh_without_a_new_refresh_token_reports_none() -> None:
    client, sent = _client(
        response(200, json.dumps({"access_token": "Atza|a", "token_type": "bearer", "expires_in": 3600}))
    )
    grant = client.refresh(Region.EU, refresh_token="Atzr|old", credentials=CREDENTIALS)
    assert grant.refresh_token is None
    assert parse_qs(str(sent[0].body))["grant_type"] == ["refresh_token"]
    assert "Atza|a" not in repr(grant)


def test_every_request_has_a_timeout() -> None:
    session, transport = scripted_session(lambda _r: response(200, json.dumps(GRANT)))
    HttpLwaClient(AMAZON_ENDPOINTS, session=session).refresh(
        Region.NA, refresh_token="r", credentials=CREDENTIALS
    )
    assert transport.timeouts[0] is not None


DEAD_TOKEN = (
    "The request has an invalid grant parameter : refresh_token. "
    "User may have revoked or didn't grant the permission."
)


@pytest.mark.parametrize(
    ("status", "body", "headers", "error_type", "code"),
    [
        (
            400,
            {"error": "invalid_grant", "error_description": DEAD_TOKEN},
            {},
            InvalidGrantError,
            "invalid_grant",
        ),
        (
            401,
            {"error": "invalid_client", "error_description": "Client authentication failed"},
            {},
            InvalidClientError,
            "invalid_client",
        ),
        (
            400,
            {"error": "invalid_request", "error_description": "x"},
            {},
            AmazonRequestRejectedError,
            "invalid_request",
        ),
        (400, {"error": "unsupported_grant_type"}, {}, AmazonRequestRejectedError, "unsupported_grant_type"),
        (400, {"error": "unauthorized_client"}, {}, UnauthorizedClientError, "unauthorized_client"),
        (500, {"error": "server_error"}, {}, TransientAmazonError, "server_error"),
        (503, {"error": "temporarily_unavailable"}, {}, AmazonNotProcessedError, "temporarily_unavailable"),
        (502, "<html>bad gateway</html>", {}, TransientAmazonError, "http_502"),
        (429, {}, {"Retry-After": "7"}, TransientAmazonError, "http_429"),
    ],
)
def test_error_answers_map_to_typed_errors_without_amazon_text(
    status: int, body: object, headers: dict[str, str], error_type: type[Exception], code: str
) -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    client, _ = _client(response(status, text, headers))
    with pytest.raises(error_type) as raised:
        client.refresh(Region.NA, refresh_token="Atzr|secret-value", credentials=CREDENTIALS)
    assert raised.value.error_code == code  # type: ignore[attr-defined]
    message = str(raised.value)
    assert "Atzr|secret-value" not in message and CREDENTIALS.client_secret not in message
    assert "revoked" not in message and "html" not in message
    if status == 429:
        assert raised.value.retry_after == 7.0  # type: ignore[attr-defined]


def test_connection_refused_is_transient_but_a_dropped_or_timed_out_request_is_ambiguous() -> None:
    refused = requests.ConnectionError(NewConnectionError(None, "Connection refused"))  # type: ignore[arg-type]
    client, _ = _client(refused)
    with pytest.raises(TransientAmazonError) as raised:
        client.exchange_code(
            Region.NA, code="c", redirect_uri="r", code_verifier="v", credentials=CREDENTIALS
        )
    assert not isinstance(raised.value, AmbiguousAmazonError)

    for failure in (
        requests.ConnectionError(ProtocolError("Connection aborted.")),
        requests.ReadTimeout("slow"),
    ):
        client, _ = _client(failure)
        with pytest.raises(AmbiguousAmazonError):
            client.exchange_code(
                Region.NA, code="c", redirect_uri="r", code_verifier="v", credentials=CREDENTIALS
            )

    client, _ = _client(requests.ConnectTimeout("no route"))
    with pytest.raises(TransientAmazonError) as raised:
        client.refresh(Region.NA, refresh_token="r", credentials=CREDENTIALS)
    assert not isinstance(raised.value, AmbiguousAmazonError)


def test_a_success_without_an_access_token_is_not_accepted() -> None:
    client, _ = _client(response(200, json.dumps({"token_type": "bearer"})))
    with pytest.raises(TransientAmazonError):
        client.refresh(Region.NA, refresh_token="r", credentials=CREDENTIALS)
