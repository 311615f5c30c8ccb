"""The local gateway's API Gateway HTTP API (payload 2.0) event building and response mapping."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from local.gateway import Route, build_event, response_parts, select_route
from local.lambda_runtime import LocalFunction

FN = LocalFunction("Consent", "consent-fn", "ads_connect.handlers.consent.handler")
ADMIN = LocalFunction("Admin", "admin-fn", "ads_connect.handlers.admin.handler")
ROUTES = [
    Route("GET /connect/{session_id}", FN),
    Route("POST /connect/{session_id}", FN),
    Route("GET /callback", FN),
    Route("ANY /admin/{proxy+}", ADMIN, iam_authorized=True),
    Route("GET /admin/special", FN),
]
NOW = datetime(2026, 3, 12, 19, 3, 58, 123000, tzinfo=UTC)


def test_route_selection_prefers_exact_routes_and_extracts_parameters() -> None:
    route, params = select_route(ROUTES, "GET", "/connect/abc%2Fdef") or (None, None)
    assert route is not None and route.route_key == "GET /connect/{session_id}"
    assert params == {"session_id": "abc/def"}
    route, params = select_route(ROUTES, "DELETE", "/admin/tenants/t1/connections/NA") or (None, None)
    assert route is not None and route.route_key == "ANY /admin/{proxy+}"
    assert params == {"proxy": "tenants/t1/connections/NA"}
    route, _ = select_route(ROUTES, "GET", "/admin/special") or (None, None)
    assert route is not None and route.route_key == "GET /admin/special"
    assert select_route(ROUTES, "PUT", "/connect/abc") is None
    assert select_route(ROUTES, "GET", "/connect/a/b") is None
    assert select_route(ROUTES, "GET", "/admin") is None


def test_a_get_event_has_every_payload_2_field() -> None:
    event = build_event(
        method="GET",
        raw_target="/callback?code=c&state=s&x=1&x=2",
        headers=[
            ("Host", "localhost:8300"),
            ("User-Agent", "Chromium"),
            ("Cookie", "__Host-b=v1; other=v2"),
            ("Accept", "text/html"),
            ("X-Multi", "a"),
            ("x-multi", "b"),
        ],
        body=b"",
        route=ROUTES[2],
        path_parameters={},
        source_ip="127.0.0.1",
        now=NOW,
        request_id="REQ",
    )
    assert event == {
        "version": "2.0",
        "routeKey": "GET /callback",
        "rawPath": "/callback",
        "rawQueryString": "code=c&state=s&x=1&x=2",
        "cookies": ["__Host-b=v1", "other=v2"],
        "headers": {
            "host": "localhost:8300",
            "user-agent": "Chromium",
            "accept": "text/html",
            "x-multi": "a,b",
        },
        "queryStringParameters": {"code": "c", "state": "s", "x": "1,2"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost:8300",
            "domainPrefix": "localhost:8300",
            "http": {
                "method": "GET",
                "path": "/callback",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "Chromium",
            },
            "requestId": "REQ",
            "routeKey": "GET /callback",
            "stage": "$default",
            "time": "12/Mar/2026:19:03:58 +0000",
            "timeEpoch": 1773342238123,
        },
        "isBase64Encoded": False,
    }


def test_form_posts_arrive_base64_encoded_and_json_as_text() -> None:
    form = build_event(
        method="POST",
        raw_target="/connect/s1",
        headers=[("Host", "localhost"), ("Content-Type", "application/x-www-form-urlencoded")],
        body=b"region=EU",
        route=ROUTES[1],
        path_parameters={"session_id": "s1"},
        source_ip="127.0.0.1",
    )
    assert form["isBase64Encoded"] is True
    assert base64.b64decode(form["body"]) == b"region=EU"
    assert form["pathParameters"] == {"session_id": "s1"}
    assert "cookies" not in form and "queryStringParameters" not in form
    as_json = build_event(
        method="PUT",
        raw_target="/admin/client-credentials",
        headers=[("Host", "localhost"), ("Content-Type", "application/json; charset=utf-8")],
        body=b'{"a": 1}',
        route=ROUTES[3],
        path_parameters={"proxy": "client-credentials"},
        source_ip="127.0.0.1",
        authorizer_iam={"accessKey": "K"},
    )
    assert (as_json["body"], as_json["isBase64Encoded"]) == ('{"a": 1}', False)
    assert as_json["requestContext"]["authorizer"] == {"iam": {"accessKey": "K"}}


def test_response_mapping_cookies_headers_and_base64() -> None:
    answer = response_parts(
        {
            "statusCode": 302,
            "headers": {"Location": "http://127.0.0.1:9/NA/ap/oa?x=1", "Cache-Control": "no-store"},
            "multiValueHeaders": {"X-Two": ["1", "2"]},
            "cookies": ["__Host-a=1; Path=/; Secure; HttpOnly", "b=2"],
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }
    )
    assert answer.status == 302
    assert ("Location", "http://127.0.0.1:9/NA/ap/oa?x=1") in answer.headers
    assert [v for k, v in answer.headers if k == "Set-Cookie"] == [
        "__Host-a=1; Path=/; Secure; HttpOnly",
        "b=2",
    ]
    assert [v for k, v in answer.headers if k == "X-Two"] == ["1", "2"]
    assert answer.body == b"\x00\x01"


def test_a_result_without_status_code_is_inferred_as_json_200() -> None:
    answer = response_parts({"ok": True})
    assert (answer.status, answer.body) == (200, b'{"ok": true}')
    assert ("Content-Type", "application/json") in answer.headers
    empty = response_parts({"statusCode": 204})
    assert (empty.status, empty.body) == (204, b"")
