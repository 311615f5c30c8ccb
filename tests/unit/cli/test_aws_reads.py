"""Every AWS failure of the preflight/doctor reads becomes one line and an exit code (never a
traceback, never AWS's message): denied 4, unreachable 5, anything else 1; "not there" is None."""

from __future__ import annotations

import io

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError, NoCredentialsError
from botocore.stub import Stubber

from cli.aws_reads import AwsReads
from cli.errors import CliError, ExitCode
from cli.main import Io, main


def reads_with(service: str) -> tuple[AwsReads, Stubber]:
    reads = AwsReads(boto3.Session(region_name="us-east-1"))
    stubber = Stubber(reads.client(service))
    stubber.activate()
    return reads, stubber


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize(
    ("code", "exit_code"),
    [
        ("AccessDenied", ExitCode.AUTH),
        ("ExpiredToken", ExitCode.AUTH),
        ("Throttling", ExitCode.API_ERROR),
        ("InternalFailure", ExitCode.API_ERROR),
    ],
)
def test_an_aws_error_is_a_cli_error_naming_the_operation_and_code(code: str, exit_code: ExitCode) -> None:
    reads, stubber = reads_with("cloudformation")
    stubber.add_client_error(
        "describe_stacks", service_error_code=code, service_message="arn:secret-ish detail"
    )
    with pytest.raises(CliError) as caught:
        reads.stack("AmazonAdsConnect-prod")
    assert caught.value.exit_code is exit_code
    assert "cloudformation:describe_stacks" in caught.value.message and code in caught.value.message
    assert "secret-ish" not in caught.value.message


@pytest.mark.usefixtures("aws_env")
def test_not_there_is_none_not_an_error() -> None:
    reads, stubber = reads_with("secretsmanager")
    stubber.add_client_error("describe_secret", service_error_code="ResourceNotFoundException")
    assert reads.secret("ads-connect/prod/lwa-client") is None
    reads, stubber = reads_with("ssm")
    stubber.add_client_error("get_parameter", service_error_code="ParameterNotFound")
    assert reads.ssm_parameter("/cdk-bootstrap/hnb659fds/version") is None


@pytest.mark.usefixtures("aws_env")
@pytest.mark.parametrize(
    ("error", "exit_code"),
    [
        (EndpointConnectionError(endpoint_url="https://sts.amazonaws.com"), ExitCode.UNREACHABLE),
        (NoCredentialsError(), ExitCode.AUTH),
    ],
)
def test_no_network_or_no_credentials_exit_5_or_4(
    monkeypatch: pytest.MonkeyPatch, error: Exception, exit_code: ExitCode
) -> None:
    reads = AwsReads(boto3.Session(region_name="us-east-1"))
    client = reads.client("sts")

    def fail(**_: object) -> None:
        raise error

    monkeypatch.setattr(client, "get_caller_identity", fail)
    out, err = io.StringIO(), io.StringIO()
    code = main(["preflight"], io=Io(stdout=out, stderr=err, environ={}), reads_factory=lambda _args: reads)
    assert code == exit_code
    assert err.getvalue().startswith("error: ") and "Traceback" not in err.getvalue()
    assert out.getvalue() == ""


@pytest.mark.usefixtures("aws_env")
def test_no_region_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    err = io.StringIO()
    code = main(["preflight"], io=Io(stdout=io.StringIO(), stderr=err, environ={}))
    assert code == ExitCode.USAGE and "no AWS region" in err.getvalue()
