"""The python-amazon-ad-api adapter: clients built from a connection (no placeholder secret, no
AD_API_* environment override), the token sent to the connection's Ads API origin only, report
downloads off that origin without the connection's headers, a default timeout, one re-read on
401. The real library runs; a scripted transport answers (no network)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests
from ad_api.api import Profiles
from ad_api.api.sd import Reports as DisplayReports
from ad_api.api.sp import CampaignsV3
from ads_connect.consumer import DEFAULT_TIMEOUT, ad_api_client

from tests.fakes.transport import ScriptedTransport, response

API_URL = "https://advertising-api-eu.amazon.com"
CLIENT_ID = "amzn1.application-oa2-client.fake"


class FakeSecrets:
    def __init__(self, token: str = "Atza|fake-one") -> None:
        self.reads = 0
        self.token = token

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        self.reads += 1
        value = {
            "access_token": self.token,
            "token_type": "bearer",
            "expires_at_epoch": 4_000_000_000,
            "region": "EU",
            "api_url": API_URL,
            "client_id": CLIENT_ID,
            "tenant_id": "acme",
            "grant_version": 1,
        }
        return {"SecretString": json.dumps(value)}


@pytest.fixture
def transport(monkeypatch: pytest.MonkeyPatch) -> ScriptedTransport:
    """Every requests session (the library calls ``requests.request``) sends through the script."""
    scripted = ScriptedTransport(lambda _r: response(200, "[]"))
    monkeypatch.setattr(requests.Session, "get_adapter", lambda _self, url: scripted)
    return scripted


def test_a_client_runs_on_the_connection_without_any_placeholder_secret(
    transport: ScriptedTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given AD_API_* variables in the environment (the library would let them win)
    monkeypatch.setenv("AD_API_CLIENT_ID", "someone-else")
    monkeypatch.setenv("AD_API_CLIENT_SECRET", "other-secret")
    monkeypatch.setenv("AD_API_REFRESH_TOKEN", "Atzr|other")
    transport.responder = lambda _r: response(200, '[{"profileId": 1}]')
    # When a Profiles client is built from the connection and used
    client = ad_api_client(Profiles, "acme", "EU", secrets_client=FakeSecrets())
    result = client.list_profiles()
    # Then it called the connection's Ads host with its token and client id, and a timeout
    assert result.payload == [{"profileId": 1}]
    [sent] = transport.requests
    assert sent.url == f"{API_URL}/v2/profiles"
    assert sent.headers["Authorization"] == "Bearer Atza|fake-one"
    assert sent.headers["Amazon-Advertising-API-ClientId"] == CLIENT_ID
    assert "Amazon-Advertising-API-Scope" not in sent.headers
    assert transport.timeouts == [DEFAULT_TIMEOUT]
    # And the client holds no refresh token or client secret, not even a placeholder
    assert client.credentials == {"client_id": CLIENT_ID}
    assert not any("secret" in name or "refresh" in name for name in vars(client))


def test_a_profile_scoped_client_sends_the_scope_and_an_explicit_timeout(
    transport: ScriptedTransport,
) -> None:
    transport.responder = lambda _r: response(200, '{"campaigns": [], "totalResults": 0}')
    client = ad_api_client(
        CampaignsV3, "acme", "EU", profile_id=3456789012345, timeout=7.5, secrets_client=FakeSecrets()
    )
    client.list_campaigns(body="{}")
    [sent] = transport.requests
    assert sent.method == "POST"
    assert sent.url == f"{API_URL}/sp/campaigns/list"
    assert sent.headers["Amazon-Advertising-API-Scope"] == "3456789012345"
    assert transport.timeouts == [7.5]


@pytest.mark.parametrize(
    "path",
    [
        "@attacker.example/v2/profiles",  # userinfo: the host becomes attacker.example
        ".attacker.example/v2/profiles",  # a longer host name
        ":8443/v2/profiles",  # another port
    ],
)
def test_a_request_leaving_the_ads_origin_is_refused_before_anything_is_sent(
    transport: ScriptedTransport, path: str
) -> None:
    client = ad_api_client(Profiles, "acme", "EU", secrets_client=FakeSecrets())
    with pytest.raises(ValueError, match=re.escape("only to https://advertising-api-eu.amazon.com:443")):
        client._request(path, params={"method": "GET"})
    assert transport.requests == []


def test_the_host_and_debug_logging_cannot_be_switched(transport: ScriptedTransport) -> None:
    client = ad_api_client(Profiles, "acme", "EU", secrets_client=FakeSecrets())
    with pytest.raises(AttributeError):
        client.endpoint = "https://attacker.example"
    with pytest.raises(ValueError, match="bearer token"):
        client.debug = True
    assert client.endpoint == API_URL
    assert client.debug is False


def test_a_report_download_off_the_ads_origin_carries_no_connection_header(
    transport: ScriptedTransport,
) -> None:
    # Given a report whose file lives on S3 (sd.Reports sends the library's own headers: token included)
    transport.responder = lambda _r: response(200, b"report-bytes")
    client = ad_api_client(DisplayReports, "acme", "EU", profile_id=1, secrets_client=FakeSecrets())
    url = "https://offline-report-storage-eu-west-1-prod.s3.eu-west-1.amazonaws.com/r/1.json.gz?X-Amz-Signature=x"
    # When it is downloaded
    result = client.download_report(url=url, format="raw")
    # Then the download host got neither the token nor the client id nor the scope, with a timeout
    assert result.payload == b"report-bytes"
    [sent] = transport.requests
    assert sent.url == url
    assert not {"Authorization", "Amazon-Advertising-API-ClientId", "Amazon-Advertising-API-Scope"} & set(
        sent.headers
    )
    assert transport.timeouts == [DEFAULT_TIMEOUT]


def test_a_download_on_the_ads_origin_keeps_the_headers(transport: ScriptedTransport) -> None:
    transport.responder = lambda _r: response(200, b"{}")
    client = ad_api_client(DisplayReports, "acme", "EU", profile_id=1, secrets_client=FakeSecrets())
    client.download_report(url=f"{API_URL}/v2/reports/amzn1.report.1/download", format="raw")
    [sent] = transport.requests
    assert sent.headers["Authorization"] == "Bearer Atza|fake-one"


def test_a_401_rereads_the_secret_once_and_retries_once(transport: ScriptedTransport) -> None:
    # Given a cached token the refresh has just replaced
    secrets = FakeSecrets("Atza|old")
    client = ad_api_client(Profiles, "acme", "EU", secrets_client=secrets)
    answers = iter([response(401, '{"code": "UNAUTHORIZED"}'), response(200, '[{"profileId": 2}]')])
    transport.responder = lambda _r: next(answers)
    client.auth  # noqa: B018 - the first read caches the old token
    secrets.token = "Atza|new"
    # When the call is answered 401 first
    assert client.list_profiles().payload == [{"profileId": 2}]
    # Then it was retried once with the token read afresh
    assert [r.headers["Authorization"] for r in transport.requests] == ["Bearer Atza|old", "Bearer Atza|new"]


def test_a_second_401_reaches_the_caller(transport: ScriptedTransport) -> None:
    from ad_api.base.exceptions import AdvertisingApiUnauthorizedException

    transport.responder = lambda _r: response(401, '{"code": "UNAUTHORIZED"}')
    client = ad_api_client(Profiles, "acme", "EU", secrets_client=FakeSecrets())
    with pytest.raises(AdvertisingApiUnauthorizedException):
        client.list_profiles()
    assert len(transport.requests) == 2


def test_only_a_library_client_class_is_accepted() -> None:
    with pytest.raises(TypeError, match="python-amazon-ad-api client class"):
        ad_api_client(dict, "acme", "EU", secrets_client=FakeSecrets())
