"""The LOCAL-ONLY IAM stand-in: SigV4 recomputed with botocore against the local credentials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from local import iam

CREDS = iam.LocalCredentials()
URL = "http://localhost:8300/admin/connections?status=active&limit=5"


def signed(
    *,
    url: str = URL,
    method: str = "GET",
    body: bytes = b"",
    secret: str | None = None,
    key: str | None = None,
) -> dict[str, str]:
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(
        ReadOnlyCredentials(key or CREDS.access_key_id, secret or CREDS.secret_access_key, None),
        "execute-api",
        "us-east-1",
    ).add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = "localhost:8300"
    headers["user-agent"] = "python-requests"  # unsigned extra headers do not matter
    return headers


def check(headers: dict[str, str], *, url: str = URL, method: str = "GET", body: bytes = b"", **kw: object):  # type: ignore[no-untyped-def]
    return iam.verify(method=method, url=url, headers=headers, body=body, credentials=CREDS, **kw)  # type: ignore[arg-type]


def test_a_correctly_signed_request_gets_the_iam_context() -> None:
    result = check(signed())
    assert isinstance(result, dict)
    assert result["accessKey"] == CREDS.access_key_id
    assert result["userArn"] == iam.LOCAL_OPERATOR_ARN
    body = b'{"client_id": "x"}'
    assert isinstance(check(signed(method="PUT", body=body), method="PUT", body=body), dict)


def test_unsigned_requests_are_forbidden_like_api_gateway() -> None:
    assert check({"host": "localhost:8300"}) is iam.MISSING
    assert iam.MISSING.message == "Forbidden"


def test_a_wrong_secret_key_fails_the_signature() -> None:
    assert check(signed(secret="some-other-secret")) is iam.BAD_SIGNATURE


def test_an_unknown_access_key_is_refused() -> None:
    assert check(signed(key="SOMEONEELSE")) is iam.UNKNOWN_KEY


def test_tampering_with_body_query_or_method_fails_the_signature() -> None:
    headers = signed(method="PUT", body=b'{"a": 1}')
    assert check(headers, method="PUT", body=b'{"a": 2}') is iam.BAD_SIGNATURE
    assert check(signed(), url=URL.replace("limit=5", "limit=6")) is iam.BAD_SIGNATURE
    assert check(signed(), method="DELETE") is iam.BAD_SIGNATURE


def test_stale_signatures_and_malformed_headers_are_refused() -> None:
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert check(signed(), now=later) is iam.EXPIRED
    headers = signed()
    headers["authorization"] = "AWS4-HMAC-SHA256 Credential=x"
    assert check(headers) is iam.INCOMPLETE
    headers = signed()
    headers["authorization"] = headers["authorization"].replace("/execute-api/", "/s3/")
    assert check(headers) is iam.INCOMPLETE
