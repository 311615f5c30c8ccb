"""A local stand-in for API Gateway (HTTP API, payload format 2.0) in front of the real handlers.

``build_event`` turns an HTTP request into exactly the event API Gateway sends a Lambda
integration; ``response_parts`` turns the handler's answer back into status, headers and body
the way API Gateway does. ``LocalGateway`` serves the stack's routes (read from the template)
with a ThreadingHTTPServer on loopback, plus a few clearly local-only ``/__local__/`` routes.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local import iam
from local.lambda_runtime import LOCAL_ACCOUNT_ID, LocalFunction
from local.servers import stop_serving

LOCAL_API_ID = "local"
# API Gateway's payload limit for HTTP APIs.
MAX_BODY_BYTES = 10 * 1024 * 1024
LOCAL_PREFIX = "/__local__/"

# Bodies API Gateway passes as text; anything else (form posts included) arrives base64-encoded.
_TEXT_TYPES = re.compile(
    r"^(text/.*|application/(json|xml|javascript|x-javascript|[\w.+-]+\+json|[\w.+-]+\+xml))$"
)

log = logging.getLogger("local.gateway")


@dataclass(frozen=True)
class Route:
    """One AWS::ApiGatewayV2::Route: ``route_key`` like ``GET /connect/{session_id}``."""

    route_key: str
    function: LocalFunction
    iam_authorized: bool = False
    method: str = field(init=False)
    path: str = field(init=False)
    _pattern: re.Pattern[str] = field(init=False, repr=False)
    _names: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        method, _, path = self.route_key.partition(" ")
        if self.route_key != "$default" and (not path.startswith("/") or not method):
            raise ValueError(f"unsupported route key {self.route_key!r}")
        names: list[str] = []
        regex = ""
        for segment in path.strip("/").split("/") if path.strip("/") else []:
            greedy = re.fullmatch(r"\{(\w+)\+\}", segment)
            single = re.fullmatch(r"\{(\w+)\}", segment)
            if greedy:
                names.append(greedy.group(1))
                regex += r"/(.+)"
            elif single:
                names.append(single.group(1))
                regex += r"/([^/]+)"
            else:
                regex += "/" + re.escape(segment)
        object.__setattr__(self, "method", method.upper())
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "_pattern", re.compile(f"^{regex or '/'}$"))
        object.__setattr__(self, "_names", tuple(names))

    @property
    def specificity(self) -> tuple[int, int, int]:
        """API Gateway prefers exact methods, then fewer greedy variables, then more literals."""
        greedy = self.path.count("+}")
        literals = sum(1 for s in self.path.split("/") if s and not s.startswith("{"))
        return (self.method != "ANY", -greedy, literals)

    def match(self, method: str, raw_path: str) -> dict[str, str] | None:
        if self.route_key == "$default" or self.method not in {"ANY", method}:
            return None
        found = self._pattern.match(raw_path)
        if found is None:
            return None
        return {name: unquote(value) for name, value in zip(self._names, found.groups(), strict=True)}


def select_route(routes: list[Route], method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
    candidates = [(r, p) for r in routes if (p := r.match(method, raw_path)) is not None]
    if candidates:
        return max(candidates, key=lambda c: c[0].specificity)
    default = next((r for r in routes if r.route_key == "$default"), None)
    return (default, {}) if default else None


def _request_time(now: datetime) -> str:
    return now.strftime("%d/%b/%Y:%H:%M:%S +0000")


def build_event(
    *,
    method: str,
    raw_target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    route: Route,
    path_parameters: Mapping[str, str],
    source_ip: str,
    protocol: str = "HTTP/1.1",
    authorizer_iam: dict[str, Any] | None = None,
    now: datetime | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API payload 2.0 event for one request."""
    now = now or datetime.now(UTC)
    parts = urlsplit(raw_target)
    raw_path, raw_query = parts.path or "/", parts.query
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "cookie":
            # API Gateway moves cookies to their own array (one entry per cookie) and drops the header.
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        merged[lower] = f"{merged[lower]},{value}" if lower in merged else value
    host = merged.get("host", "localhost")
    request_id = request_id or base64.b32encode(uuid.uuid4().bytes[:10]).decode().rstrip("=")
    context: dict[str, Any] = {
        "accountId": LOCAL_ACCOUNT_ID,
        "apiId": LOCAL_API_ID,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": protocol,
            "sourceIp": source_ip,
            "userAgent": merged.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route.route_key,
        "stage": "$default",
        "time": _request_time(now),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if authorizer_iam is not None:
        context["authorizer"] = {"iam": authorizer_iam}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = merged
    if raw_query:
        query: dict[str, str] = {}
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
        event["queryStringParameters"] = query
    event["requestContext"] = context
    if body:
        content_type = merged.get("content-type", "").split(";", 1)[0].strip().lower()
        if _TEXT_TYPES.match(content_type):
            event["body"] = body.decode("utf-8", errors="replace")
            event["isBase64Encoded"] = False
        else:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    return event


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def json_answer(status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> HttpAnswer:
    return HttpAnswer(
        status, [("Content-Type", "application/json"), *(headers or [])], json.dumps(body).encode()
    )


def response_parts(result: Any) -> HttpAnswer:
    """Map a payload-2.0 handler result to HTTP like API Gateway does.

    A dict with ``statusCode`` is used as given; anything else is "inferred": 200, JSON body.
    """
    if not (isinstance(result, dict) and "statusCode" in result):
        text = result if isinstance(result, str) else json.dumps(result)
        return HttpAnswer(200, [("Content-Type", "application/json")], text.encode())
    status = int(result["statusCode"])
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((str(name), str(value)))
    # Payload 1.0's multiValueHeaders: accepted for compatibility, each value its own header line.
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(str(name), str(v)) for v in values]
    headers += [("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or []]
    raw_body = result.get("body")
    if raw_body is None:
        body = b""
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(str(raw_body))
    else:
        body = str(raw_body).encode()
    if not any(name.lower() == "content-type" for name, _ in headers) and body:
        headers.append(("Content-Type", "application/json"))
    return HttpAnswer(status, headers, body)


# Invoked for a stack route: (function, event) -> handler result. Raises when the handler raised.
Invoker = Callable[[LocalFunction, dict[str, Any]], Any]
# A local-only route: (method, body) -> answer.
LocalAction = Callable[[bytes], HttpAnswer]


@dataclass
class GatewayConfig:
    routes: list[Route]
    invoke: Invoker
    credentials: iam.LocalCredentials
    local_actions: dict[tuple[str, str], LocalAction] = field(default_factory=dict)
    # (method, route_key or path, status, milliseconds): one short line per request for people.
    on_request: Callable[[str, str, int, float], None] | None = None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "ads-connect-local-gateway"

    def log_message(self, format: str, *args: Any) -> None:
        return  # one line per request goes through GatewayConfig.on_request instead (never a query string)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def _serve(self) -> None:
        started = time.monotonic()
        config = self.server.config
        method = self.command.upper()
        path = urlsplit(self.path).path
        label = path
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self._write(json_answer(413, {"message": "Request Entity Too Large"}))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        local_action = config.local_actions.get((method, path)) if path.startswith(LOCAL_PREFIX) else None
        if local_action is not None:
            try:
                answer = local_action(body)
            except Exception as error:
                # Answered and logged: a raised action would otherwise drop the caller's connection.
                log.exception("local action %s %s failed", method, path)
                answer = json_answer(
                    500, {"message": "local action failed", "error_type": type(error).__name__}
                )
        else:
            answer, label = self._stack_route(method, body)
        self._write(answer, head_only=method == "HEAD")
        if config.on_request:
            config.on_request(method, label, answer.status, (time.monotonic() - started) * 1000)

    def _stack_route(self, method: str, body: bytes) -> tuple[HttpAnswer, str]:
        config = self.server.config
        raw_path = urlsplit(self.path).path or "/"
        selected = select_route(config.routes, method, raw_path)
        if selected is None:
            return json_answer(404, {"message": "Not Found"}), "(no route)"
        route, params = selected
        header_list = list(self.headers.items())
        lower = {name.lower(): value for name, value in header_list}
        authorizer = None
        if route.iam_authorized:
            host = lower.get("host", "")
            verdict = iam.verify(
                method=method,
                url=f"http://{host}{self.path}",
                headers=lower,
                body=body,
                credentials=config.credentials,
            )
            if isinstance(verdict, iam.Denial):
                log.warning(
                    "local IAM stand-in refused a request to %s: %s", route.route_key, verdict.error_type
                )
                return (
                    json_answer(
                        403, {"message": verdict.message}, [("x-amzn-ErrorType", verdict.error_type)]
                    ),
                    route.path,
                )
            authorizer = verdict
        event = build_event(
            method=method,
            raw_target=self.path,
            headers=header_list,
            body=body,
            route=route,
            path_parameters=params,
            source_ip=self.client_address[0],
            protocol=self.request_version,
            authorizer_iam=authorizer,
        )
        try:
            result = config.invoke(route.function, event)
            answer = response_parts(result)
        except Exception:
            log.exception("function %s failed for %s", route.function.name, route.route_key)
            answer = json_answer(500, {"message": "Internal Server Error"})
        request_id = event["requestContext"]["requestId"]
        # The route's path template, never the raw path or query (a callback carries the code).
        return HttpAnswer(answer.status, [*answer.headers, ("apigw-requestid", request_id)], answer.body), (
            route.path
        )

    def _write(self, answer: HttpAnswer, *, head_only: bool = False) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if not head_only:
            self.wfile.write(answer.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], config: GatewayConfig) -> None:
        super().__init__(address, _Handler)
        self.config = config


class LocalGateway:
    """The running gateway on a loopback port, served from a daemon thread."""

    def __init__(self, config: GatewayConfig, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._httpd = _Server((host, port), config)
        self.host = host
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="local-gateway", daemon=True)

    @property
    def config(self) -> GatewayConfig:
        return self._httpd.config

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket; returns when start() never ran (failed start-up)."""
        stop_serving(self._httpd, self._thread)
