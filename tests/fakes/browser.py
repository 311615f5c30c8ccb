"""A browser stand-in for the public routes: builds HTTP API 2.0 events, keeps cookies, and
follows redirects through the emulator, calling the handlers in-process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from ads_connect.handlers import callback, consent

from tests.fakes.http_api import FakeLambdaContext
from tests.fixtures.leak_guard import record_response

PUBLIC_HOST = "connect.example.test"
PUBLIC_BASE = f"https://{PUBLIC_HOST}"
# What a current browser sends with a form POST from the landing page: the consent CSRF guard
# decides on it (Origin plays no part: under no-referrer browsers send "null").
SAME_ORIGIN_FORM_HEADERS = {"sec-fetch-site": "same-origin"}


def public_event(
    method: str,
    path: str,
    *,
    query: str = "",
    body: str | None = None,
    cookies: list[str] | None = None,
    route_key: str,
    path_parameters: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": PUBLIC_HOST, **(headers or {})},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": PUBLIC_HOST,
            "domainPrefix": "connect",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": "test-browser",
            },
            "requestId": "req",
            "routeKey": route_key,
            "stage": "$default",
            "time": "01/Jan/2026:12:00:00 +0000",
            "timeEpoch": 1767268800000,
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        event["body"] = body
        event["headers"]["content-type"] = "application/x-www-form-urlencoded"
    return event


@dataclass
class Browser:
    cookies: dict[str, str] = field(default_factory=dict)
    pages: list[dict[str, Any]] = field(default_factory=list)
    # Raw ``cookies`` entries an attacker planted (another subdomain, plain HTTP), sent first.
    planted: list[str] = field(default_factory=list)

    def _cookie_list(self) -> list[str]:
        return [*self.planted, *(f"{k}={v}" for k, v in self.cookies.items())]

    def _keep(self, response: dict[str, Any]) -> dict[str, Any]:
        record_response(response)
        for raw in response.get("cookies", []):
            name, _, rest = raw.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        self.pages.append(response)
        return response

    def open_connect(self, session_id: str) -> dict[str, Any]:
        event = public_event(
            "GET",
            f"/connect/{session_id}",
            cookies=self._cookie_list(),
            route_key="GET /connect/{session_id}",
            path_parameters={"session_id": session_id},
        )
        return self._keep(consent.handler(event, FakeLambdaContext()))

    def submit_region(
        self,
        session_id: str,
        region: str | None,
        *,
        form_token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The landing page's form; ``headers`` replace a current browser's fetch metadata (an
        older browser sends none, and then ``form_token`` is what the guard checks)."""
        fields = {"region": region} if region else {}
        if form_token is not None:
            fields["form_token"] = form_token
        event = public_event(
            "POST",
            f"/connect/{session_id}",
            body=urlencode(fields),
            cookies=self._cookie_list(),
            route_key="POST /connect/{session_id}",
            path_parameters={"session_id": session_id},
            headers=SAME_ORIGIN_FORM_HEADERS if headers is None else headers,
        )
        return self._keep(consent.handler(event, FakeLambdaContext()))

    def callback(self, query: str) -> dict[str, Any]:
        event = public_event(
            "GET", "/callback", query=query, cookies=self._cookie_list(), route_key="GET /callback"
        )
        return self._keep(callback.handler(event, FakeLambdaContext()))

    def result(self, result_id: str) -> dict[str, Any]:
        event = public_event(
            "GET",
            f"/result/{result_id}",
            cookies=self._cookie_list(),
            route_key="GET /result/{result_id}",
            path_parameters={"result_id": result_id},
        )
        return self._keep(callback.handler(event, FakeLambdaContext()))

    def at_amazon(self, authorization_url: str) -> str:
        """Follow the 302 to the emulator (headless decision); return the callback query."""
        answer = requests.get(authorization_url, allow_redirects=False, timeout=5)
        assert answer.status_code == 302, answer.text
        return urlsplit(answer.headers["Location"]).query

    def connect(self, session_id: str, region: str | None) -> dict[str, Any]:
        """The whole walk: landing, region, Amazon, callback, and the result page if any."""
        assert self.open_connect(session_id)["statusCode"] == 200
        started = self.submit_region(session_id, region)
        if started["statusCode"] != 302:
            return started
        done = self.callback(self.at_amazon(started["headers"]["Location"]))
        location = done["headers"].get("Location", "")
        if done["statusCode"] == 303 and location.startswith(f"{PUBLIC_BASE}/result/"):
            return self.result(location.rsplit("/", 1)[1])
        return done
