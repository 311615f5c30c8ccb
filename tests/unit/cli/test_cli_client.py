"""SigV4 signing and finding the admin API (flag, environment, CloudFormation output)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from moto import mock_aws

from cli.client import API_URL_ENV, AdminClient, AwsContext, resolve_api_url, signing_region
from cli.errors import CliError, ExitCode
from cli.main import Io, default_client, main
from tests.unit.cli.conftest import ACCESS_KEY, API_URL, SECRET_KEY, SESSION_TOKEN, FakeHttp, response


def expected_signature(
    method: str, url: str, body: bytes | None, headers: dict[str, str], region: str
) -> str:
    """Recompute the signature the way API Gateway does, from what was actually sent."""
    amz_date = headers["X-Amz-Date"]
    signed_names = headers["Authorization"].split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
    signed = {k: v for k, v in headers.items() if k.lower() in signed_names}
    request = AWSRequest(method=method, url=url, data=body, headers=signed)
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(ReadOnlyCredentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN), "execute-api", region)
    canonical = auth.canonical_request(request)
    return auth.signature(auth.string_to_sign(request, canonical), request)


@pytest.mark.usefixtures("aws_env")
def test_requests_are_sigv4_signed_for_execute_api_over_the_exact_url_and_body() -> None:
    http = FakeHttp([response(200, {"ok": True})])
    client = AdminClient(API_URL, AwsContext(), http=http)  # type: ignore[arg-type]

    client.request("DELETE", ("tenants", "acme", "connections", "NA"), query={"recovery_days": 9})
    client_body = {"client_id": "cid", "client_secret": "fake-secret"}
    http.answers.append(response(200, {"ok": True}))
    client.request("PUT", ("client-credentials",), body=client_body)

    for sent in http.sent:
        authorization = sent.headers["Authorization"]
        date = sent.headers["X-Amz-Date"][:8]
        assert authorization.startswith(
            f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{date}/eu-west-1/execute-api/aws4_request"
        )
        assert "SignedHeaders=" in authorization and "host" in authorization and "x-amz-date" in authorization
        assert sent.headers["X-Amz-Security-Token"] == SESSION_TOKEN
        signature = authorization.rsplit("Signature=", 1)[1]
        assert signature == expected_signature(sent.method, sent.url, sent.body, sent.headers, "eu-west-1")
    assert json.loads(http.sent[1].body or b"") == client_body
    # The secret travels in the signed body only, never in the URL or a header
    assert "fake-secret" not in http.sent[1].url and "fake-secret" not in json.dumps(http.sent[1].headers)


@pytest.mark.usefixtures("aws_env")
def test_a_tampered_query_no_longer_matches_the_signature() -> None:
    http = FakeHttp([response(200, {"ok": True})])
    AdminClient(API_URL, AwsContext(), http=http).request(  # type: ignore[arg-type]
        "GET", ("connections",), query={"limit": 5}
    )
    sent = http.sent[0]
    signature = sent.headers["Authorization"].rsplit("Signature=", 1)[1]
    tampered = sent.url.replace("limit=5", "limit=6")
    assert signature != expected_signature(sent.method, tampered, sent.body, sent.headers, "eu-west-1")


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize(
    ("url", "configured", "region"),
    [
        ("https://abc.execute-api.ap-southeast-2.amazonaws.com", None, "ap-southeast-2"),
        ("https://admin.example.com", "eu-central-1", "eu-central-1"),
        ("http://127.0.0.1:8080", None, "us-east-1"),
    ],
)
def test_signing_region(url: str, configured: str | None, region: str) -> None:
    assert signing_region(url, AwsContext(region=configured)) == region


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "https://abc.execute-api.us-east-1.amazonaws.com/",
            "https://abc.execute-api.us-east-1.amazonaws.com",
        ),
        (
            "https://abc.execute-api.us-east-1.amazonaws.com/admin/",
            "https://abc.execute-api.us-east-1.amazonaws.com",
        ),
        ("http://localhost:8080/prod", "http://localhost:8080/prod"),
    ],
)
def test_api_url_from_flag_is_normalised(given: str, expected: str) -> None:
    assert resolve_api_url(api_url=given, stack_name=None, aws=AwsContext(), environ={}) == expected


@pytest.mark.usefixtures("aws_env")
def test_api_url_flag_beats_environment_beats_stack() -> None:
    environ = {API_URL_ENV: "http://env.example:1"}
    assert resolve_api_url(
        api_url="http://flag.example:1", stack_name=None, aws=AwsContext(), environ=environ
    ) == ("http://flag.example:1")
    assert (
        resolve_api_url(api_url=None, stack_name=None, aws=AwsContext(), environ=environ)
        == "http://env.example:1"
    )


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize("bad", ["ftp://x.example", "not a url", "https://"])
def test_bad_api_url_is_a_usage_error(bad: str) -> None:
    with pytest.raises(CliError) as caught:
        resolve_api_url(api_url=bad, stack_name=None, aws=AwsContext(), environ={})
    assert caught.value.exit_code is ExitCode.USAGE


TEMPLATE = {
    "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
    "Outputs": {"AdminApiUrl": {"Value": "https://abc.execute-api.us-east-1.amazonaws.com/"}},
}


@pytest.mark.usefixtures("aws_env")
def test_api_url_from_the_stack_output() -> None:
    with mock_aws():
        boto3.client("cloudformation", region_name="us-east-1").create_stack(
            StackName="AmazonAdsConnect-prod", TemplateBody=json.dumps(TEMPLATE)
        )
        url = resolve_api_url(api_url=None, stack_name=None, aws=AwsContext(), environ={})
        other = resolve_api_url(
            api_url=None,
            stack_name=None,
            aws=AwsContext(),
            environ={"ADS_CONNECT_STACK_NAME": "AmazonAdsConnect-prod"},
        )
        with pytest.raises(CliError, match="'AmazonAdsConnect-dev' not found"):
            resolve_api_url(api_url=None, stack_name=None, aws=AwsContext(), environ={}, stage="dev")
    assert url == other == "https://abc.execute-api.us-east-1.amazonaws.com"


@pytest.mark.usefixtures("aws_env")
def test_missing_stack_exit_5_and_missing_output_exit_5() -> None:
    with mock_aws():
        boto3.client("cloudformation", region_name="us-east-1").create_stack(
            StackName="Other", TemplateBody=json.dumps({"Resources": TEMPLATE["Resources"]})
        )
        run_errors = []
        for name in ("Nope", "Other"):
            with pytest.raises(CliError) as caught:
                resolve_api_url(api_url=None, stack_name=name, aws=AwsContext(), environ={})
            run_errors.append(caught.value)
    assert [e.exit_code for e in run_errors] == [ExitCode.UNREACHABLE, ExitCode.UNREACHABLE]
    assert "'Nope' not found" in run_errors[0].message
    assert "no AdminApiUrl output" in run_errors[1].message


def test_stack_lookup_without_credentials_exit_4(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    import io

    err = io.StringIO()
    code = main(["connections", "list"], io=Io(stdout=io.StringIO(), stderr=err, environ={}))
    assert code == ExitCode.AUTH
    assert "no AWS credentials" in err.getvalue()


@pytest.mark.usefixtures("aws_env")
def test_unknown_profile_exit_4() -> None:
    with pytest.raises(CliError) as caught:
        AwsContext(profile="does-not-exist").credentials()
    assert caught.value.exit_code is ExitCode.AUTH


@pytest.mark.usefixtures("aws_env")
def test_default_client_uses_the_environment_url() -> None:
    import argparse

    args = argparse.Namespace(
        profile=None, region=None, api_url=None, stack_name=None, timeout=3.0, stage="prod"
    )
    client = default_client(args, Io(environ={API_URL_ENV: "http://127.0.0.1:9999/admin"}))
    assert client.base_url == "http://127.0.0.1:9999"
    assert urlsplit(client.build_url(("tenants", "a b"), None)).path == "/admin/tenants/a%20b"
    assert client.timeout == 3.0


@pytest.mark.usefixtures("aws_env")
def test_credentials_that_fail_to_refresh_exit_4_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import TokenRetrievalError

    class ExpiredSso:
        def get_frozen_credentials(self) -> ReadOnlyCredentials:
            raise TokenRetrievalError(provider="sso", error_msg="the SSO session has expired")

    aws = AwsContext()
    monkeypatch.setattr(aws.session, "get_credentials", ExpiredSso)
    with pytest.raises(CliError) as caught:
        AdminClient(API_URL, aws).check_credentials()
    assert caught.value.exit_code is ExitCode.AUTH
    assert "TokenRetrievalError" in caught.value.message
