"""API Gateway HTTP API (payload format 2.0) events and a Lambda context, as AWS sends them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

CALLER_ARN = "arn:aws:iam::123456789012:user/operator"


@dataclass
class FakeLambdaContext:
    function_name: str = "ads-connect-admin"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:ads-connect-admin"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    # A fresh invocation of the admin function (90 s timeout, stacks/ads_connect.py).
    remaining_millis: int = 90_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    query: dict[str, str] | None = None,
    iam: bool = True,
) -> dict[str, Any]:
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "abc123",
        "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "abc123",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "t",
        },
        "requestId": "req-1",
        "routeKey": "ANY /admin/{proxy+}",
        "stage": "$default",
        "time": "01/Jan/2026:12:00:00 +0000",
        "timeEpoch": 1767268800000,
    }
    if iam:
        context["authorizer"] = {
            "iam": {
                "accessKey": "AKIAFAKEFAKEFAKE",
                "accountId": "123456789012",
                "callerId": "AIDAFAKEFAKEFAKE",
                "principalOrgId": None,
                "userArn": CALLER_ARN,
                "userId": "AIDAFAKEFAKEFAKE",
            }
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "ANY /admin/{proxy+}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {"content-type": "application/json", "host": context["domainName"]},
        "requestContext": context,
        "pathParameters": {"proxy": path.removeprefix("/admin/")},
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if text is not None:
        event["body"] = text
    return event
