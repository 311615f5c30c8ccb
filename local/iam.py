"""LOCAL-ONLY stand-in for API Gateway's IAM authorization (``AuthorizationType: AWS_IAM``).

API Gateway verifies the SigV4 signature against IAM and fills ``requestContext.authorizer.iam``.
Here there is no IAM: the signature is recomputed with botocore against the one pair of local
credentials local mode hands out. Nothing in this module is ever deployed or used by the stack.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import ReadOnlyCredentials

from local.lambda_runtime import LOCAL_ACCOUNT_ID

SIGNING_SERVICE = "execute-api"
# SigV4 requests older or newer than this are refused, as AWS does.
MAX_CLOCK_SKEW = timedelta(minutes=15)
LOCAL_OPERATOR_ARN = f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:user/local-operator"
LOCAL_OPERATOR_ID = "AIDALOCALOPERATOR"

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class LocalCredentials:
    """The only credentials the local IAM stand-in accepts (obviously fake, local-only)."""

    access_key_id: str = "LOCALADSCONNECTOPERATOR"
    secret_access_key: str = "local-only-not-a-real-secret"  # noqa: S105 - documented local value


@dataclass(frozen=True)
class Denial:
    """API Gateway's answer when IAM authorization fails: 403 with ``{"message": ...}``."""

    message: str
    error_type: str


MISSING = Denial("Forbidden", "ForbiddenException")
INCOMPLETE = Denial(
    "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
    "IncompleteSignatureException",
)
UNKNOWN_KEY = Denial("The security token included in the request is invalid.", "UnrecognizedClientException")
BAD_SIGNATURE = Denial(
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method.",
    "InvalidSignatureException",
)
EXPIRED = Denial(
    "Signature expired: the request time is too far from the server time.", "InvalidSignatureException"
)


class _Recompute(SigV4Auth):
    """SigV4 over exactly the headers the client says it signed (botocore picks its own set)."""

    def __init__(self, credentials: ReadOnlyCredentials, region: str, signed: list[str]) -> None:
        super().__init__(credentials, SIGNING_SERVICE, region)
        self._signed = signed

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        # Exactly the client's list: botocore's own choice would drop e.g. user-agent.
        chosen = HTTPHeaders()
        for name in self._signed:
            value = request.headers.get(name)
            if value is not None:
                chosen[name] = value
        return chosen


def verify(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: LocalCredentials,
    now: datetime | None = None,
) -> dict[str, Any] | Denial:
    """The ``requestContext.authorizer.iam`` object for a validly signed request, else a Denial.

    ``headers`` are the request's headers with lower-case names; ``url`` is the URL the client
    addressed (scheme, host as in the Host header, raw path and query).
    """
    authorization = headers.get("authorization")
    if not authorization:
        return MISSING
    match = _AUTHORIZATION.match(authorization.strip())
    if match is None:
        return INCOMPLETE
    scope = match["credential"].split("/")
    if len(scope) != 5 or scope[3] != SIGNING_SERVICE or scope[4] != "aws4_request":
        return INCOMPLETE
    access_key, day, region = scope[0], scope[1], scope[2]
    if not hmac.compare_digest(access_key, credentials.access_key_id):
        return UNKNOWN_KEY
    amz_date = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return INCOMPLETE
    current = now or datetime.now(UTC)
    if abs(current - signed_at) > MAX_CLOCK_SKEW or not amz_date.startswith(day):
        return EXPIRED
    signed = match["signed"].split(";")
    if "host" not in signed:
        return INCOMPLETE
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    request.context["timestamp"] = amz_date
    auth = _Recompute(
        ReadOnlyCredentials(credentials.access_key_id, credentials.secret_access_key, None), region, signed
    )
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, match["signature"]):
        return BAD_SIGNATURE
    return {
        "accessKey": access_key,
        "accountId": LOCAL_ACCOUNT_ID,
        "callerId": LOCAL_OPERATOR_ID,
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": LOCAL_OPERATOR_ARN,
        "userId": LOCAL_OPERATOR_ID,
    }
