"""Finding the admin API and calling it with SigV4 (service ``execute-api``).

The caller's AWS credentials come from botocore's usual chain (env, profile, SSO, instance
role). Every request has a timeout. Errors become ``CliError`` with a stable exit code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import boto3
import botocore.session
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from cli.errors import CliError, ExitCode
from cli.stages import DEFAULT_STAGE, stack_name_for

API_URL_ENV = "ADS_CONNECT_ADMIN_URL"
STACK_NAME_ENV = "ADS_CONNECT_STACK_NAME"
API_URL_OUTPUT = "AdminApiUrl"
SIGNING_SERVICE = "execute-api"
# Signing region when neither the URL (``*.execute-api.<region>.amazonaws.com``) nor the
# configuration names one: local mode accepts any region.
FALLBACK_REGION = "us-east-1"
DEFAULT_TIMEOUT = 30.0
CONNECT_TIMEOUT = 5.0

_EXECUTE_API_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$")


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any


class AwsContext:
    """The caller's botocore session: credentials, region, CloudFormation look-ups."""

    def __init__(self, *, profile: str | None = None, region: str | None = None) -> None:
        try:
            self.session = botocore.session.Session(profile=profile)
            if region:
                self.session.set_config_variable("region", region)
        except ProfileNotFound as exc:
            raise CliError(ExitCode.AUTH, f"AWS profile not found: {exc.kwargs.get('profile')}") from None

    @property
    def region(self) -> str | None:
        region = self.session.get_config_variable("region")
        return str(region) if region else None

    def credentials(self) -> ReadOnlyCredentials:
        try:
            credentials: Credentials | None = self.session.get_credentials()
            # Refreshable credentials (SSO, assumed roles) are fetched here: an expired SSO
            # login fails now, as a BotoCoreError.
            frozen = credentials.get_frozen_credentials() if credentials is not None else None
        except (PartialCredentialsError, ProfileNotFound, BotoCoreError) as exc:
            raise CliError(
                ExitCode.AUTH, f"AWS credentials could not be loaded: {type(exc).__name__}"
            ) from None
        if frozen is None or not frozen.access_key or not frozen.secret_key:
            raise CliError(
                ExitCode.AUTH,
                "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                "or run `aws sso login`",
            )
        return frozen

    def stack_output(self, stack_name: str, output_key: str) -> str:
        try:
            cloudformation = boto3.Session(botocore_session=self.session).client("cloudformation")
            stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
        except NoCredentialsError:
            raise CliError(
                ExitCode.AUTH, "no AWS credentials found: cannot look up the stack's admin API URL"
            ) from None
        except NoRegionError:
            raise CliError(
                ExitCode.USAGE,
                "no AWS region configured: pass --region or set AWS_REGION / AWS_DEFAULT_REGION",
            ) from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ValidationError":
                # CloudFormation's only ValidationError for DescribeStacks by name: no such stack.
                raise CliError(
                    ExitCode.UNREACHABLE,
                    f"stack {stack_name!r} not found in {self.region or 'the default region'}: deploy it, "
                    f"or pass --stack-name / --api-url (or set {API_URL_ENV})",
                ) from None
            if code in {"AccessDenied", "AccessDeniedException", "ExpiredToken", "InvalidClientTokenId"}:
                raise CliError(ExitCode.AUTH, f"AWS denied the stack look-up ({code})") from None
            raise CliError(ExitCode.API_ERROR, f"CloudFormation error ({code or 'unknown'})") from None
        except BotoCoreError as exc:
            raise CliError(
                ExitCode.UNREACHABLE, f"could not reach CloudFormation: {type(exc).__name__}"
            ) from None
        for output in stacks[0].get("Outputs", []) if stacks else []:
            if output.get("OutputKey") == output_key and output.get("OutputValue"):
                return str(output["OutputValue"])
        raise CliError(
            ExitCode.UNREACHABLE,
            f"stack {stack_name!r} has no {output_key} output: is it an Amazon Ads Connect stack?",
        )


def resolve_api_url(
    *,
    api_url: str | None,
    stack_name: str | None,
    aws: AwsContext,
    environ: Mapping[str, str],
    stage: str = DEFAULT_STAGE,
) -> str:
    """``--api-url``, else ``$ADS_CONNECT_ADMIN_URL``, else the ``AdminApiUrl`` output of
    ``--stack-name`` / ``$ADS_CONNECT_STACK_NAME``, else of the stage's ``AmazonAdsConnect-<stage>``."""
    url = api_url or environ.get(API_URL_ENV)
    if not url:
        name = stack_name or environ.get(STACK_NAME_ENV) or stack_name_for(stage)
        url = aws.stack_output(name, API_URL_OUTPUT)
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise CliError(ExitCode.USAGE, "the admin API URL must be an http(s) URL")
    return admin_base_url(url)


def admin_base_url(url: str) -> str:
    """The API root: an output or URL may name it or its /admin prefix, and requests always add
    /admin/... themselves."""
    return url.rstrip("/").removesuffix("/admin")


def signing_region(url: str, aws: AwsContext) -> str:
    match = _EXECUTE_API_HOST.search(urlsplit(url).hostname or "")
    if match:
        return match.group(1)
    return aws.region or FALLBACK_REGION


class AdminClient:
    def __init__(
        self,
        base_url: str,
        aws: AwsContext,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        http: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.aws = aws
        self.timeout = timeout
        self.http = http or requests.Session()
        self.region = signing_region(self.base_url, aws)

    def request(
        self,
        method: str,
        path_segments: tuple[str, ...],
        *,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, str | int | None] | None = None,
    ) -> ApiResponse:
        """Sign and send ``/admin/<segments>``; raises ``CliError`` for anything but 2xx."""
        url = self.build_url(path_segments, query)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        prepared = self.sign(method, url, data, headers)
        try:
            response = self.http.request(
                method,
                prepared.url,
                data=prepared.body,
                headers=dict(prepared.headers.items()),
                timeout=(CONNECT_TIMEOUT, self.timeout),
                allow_redirects=False,
            )
        except requests.Timeout:
            raise CliError(
                ExitCode.UNREACHABLE, f"the admin API did not answer within {self.timeout:g}s"
            ) from None
        except requests.RequestException as exc:
            raise CliError(
                ExitCode.UNREACHABLE, f"could not reach the admin API: {type(exc).__name__}"
            ) from None
        return _interpret(response)

    def check_credentials(self) -> None:
        """Fail now (exit 4) unless AWS credentials to sign with are loaded; sends nothing. For
        commands that must not ask for input they could not use (``credentials set``)."""
        self.aws.credentials()

    def build_url(self, path_segments: tuple[str, ...], query: Mapping[str, str | int | None] | None) -> str:
        path = "/admin/" + "/".join(quote(segment, safe="") for segment in path_segments)
        params = {key: str(value) for key, value in (query or {}).items() if value is not None}
        return self.base_url + path + (f"?{urlencode(params)}" if params else "")

    def sign(self, method: str, url: str, data: bytes | None, headers: dict[str, str]) -> Any:
        request = AWSRequest(method=method, url=url, data=data, headers=headers)
        SigV4Auth(self.aws.credentials(), SIGNING_SERVICE, self.region).add_auth(request)
        return request.prepare()


_STATUS_EXIT = {
    400: ExitCode.USAGE,
    401: ExitCode.AUTH,
    403: ExitCode.AUTH,
    404: ExitCode.NOT_FOUND,
    409: ExitCode.CONFLICT,
}


def _interpret(response: requests.Response) -> ApiResponse:
    try:
        body: Any = response.json() if response.content else None
    except ValueError:
        body = None
    if 200 <= response.status_code < 300:
        if response.content and body is None:
            raise CliError(ExitCode.API_ERROR, "the admin API answered with something that is not JSON")
        return ApiResponse(response.status_code, body)
    error = body.get("error") if isinstance(body, dict) else None
    exit_code = _STATUS_EXIT.get(response.status_code, ExitCode.API_ERROR)
    if isinstance(error, dict):
        raise CliError(
            exit_code,
            str(error.get("message") or f"HTTP {response.status_code}"),
            code=str(error.get("code")) if error.get("code") else None,
            reference=str(error.get("reference")) if error.get("reference") else None,
        )
    # API Gateway's own answers ({"message": "Forbidden"}) when IAM or routing refuses the call.
    gateway_message = body.get("message") if isinstance(body, dict) else None
    if response.status_code == 403:
        message = "IAM denied the call: the caller needs execute-api:Invoke on the admin API"
    else:
        message = f"the admin API answered HTTP {response.status_code}"
    if isinstance(gateway_message, str) and gateway_message:
        message += f" ({gateway_message[:200]})"
    raise CliError(exit_code, message)
