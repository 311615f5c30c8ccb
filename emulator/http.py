"""HTTP front of the emulator: Amazon's paths per region, the consent page, faults, and a JSON
control API under ``/__emulator__/`` (clearly not Amazon's) for tests and local mode."""

from __future__ import annotations

import base64
import binascii
import contextlib
import html
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from emulator.core import REGIONS, ROTATION_MODES, Answer, Emulator

_CONTROL = "/__emulator__/"


def _consent_page(emu: Emulator, region: str, context: dict[str, Any]) -> Answer:
    users = context["users"]
    if users:
        options = "".join(
            f'<label><input type="radio" name="user" value="{html.escape(uid)}"'
            f"{' checked' if uid == context['signed_in'] else ''}> {html.escape(name)}</label>"
            for uid, name in users
        )
        who = f"<fieldset><legend>Signed in as</legend>{options}</fieldset>"
    else:
        who = "<p>No Amazon user exists in this emulator.</p>"
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Amazon Sign-In (emulator)</title>'
        "</head><body><main><h1>Amazon (emulator)</h1>"
        f"<p>An application asks for access to your Amazon Ads account in region {html.escape(region)}: "
        f"<code>{html.escape(context['scope'])}</code>.</p>"
        f'<form method="post" action="/{html.escape(region)}/ap/oa/decision">'
        f'<input type="hidden" name="txid" value="{html.escape(context["txid"])}">{who}'
        '<button type="submit" name="decision" value="allow" id="allow">Allow</button> '
        '<button type="submit" name="decision" value="deny" id="deny">Deny</button>'
        "</form></main></body></html>"
    )
    return Answer(200, body.encode(), "text/html; charset=utf-8")


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return  # requests are recorded in the emulator's own (masked) log instead

    @property
    def emu(self) -> Emulator:
        return self.server.emulator

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        if parts.path.startswith(_CONTROL):
            self._write(self._control(method, parts.path[len(_CONTROL) :], raw_body, query))
            return
        segments = parts.path.strip("/").split("/", 1)
        region = segments[0] if segments else ""
        rest = "/" + segments[1] if len(segments) > 1 else "/"
        endpoint = {
            ("GET", "/ap/oa"): "authorize",
            ("POST", "/ap/oa/decision"): "authorize",
            ("POST", "/auth/o2/token"): "token",
            ("GET", "/api/v2/profiles"): "profiles",
            ("GET", "/api/v2/sp/campaigns"): "campaigns",
        }.get((method, rest))
        if region not in REGIONS or endpoint is None:
            self._write(Answer(404, b'{"code": "404", "details": "Not found"}'))
            return
        form = dict(parse_qsl(raw_body.decode(errors="replace"), keep_blank_values=True))
        fault = self.emu.faults.take(endpoint, region)
        answer = self._answer(method, endpoint, rest, region, query, form, headers) if fault is None else None
        if fault is not None:
            if fault.delay_seconds:
                time.sleep(fault.delay_seconds)
            if fault.drop_connection:
                answer = Answer(0, drop=True)
            elif fault.status and fault.status != 200:
                extra = (
                    (("Retry-After", str(int(fault.retry_after))),) if fault.retry_after is not None else ()
                )
                body = {
                    "error": "server_error" if fault.status >= 500 else "throttled",
                    "error_description": "fault",
                }
                if endpoint in ("profiles", "campaigns"):
                    body = {"code": str(fault.status), "details": "Injected fault"}
                answer = Answer(fault.status, json.dumps(body).encode(), "application/json", extra)
            else:
                answer = self._answer(method, endpoint, rest, region, query, form, headers)
        assert answer is not None
        self.emu.log_request(
            {
                "method": method,
                "path": parts.path,
                "region": region,
                "endpoint": endpoint,
                "status": answer.status,
                "grant_type": form.get("grant_type"),
                "query": self.emu.mask(parts.query),
                "has_scope_header": "amazon-advertising-api-scope" in headers,
                "time": self.emu.clock(),
            }
        )
        self._write(answer)

    def _answer(
        self,
        method: str,
        endpoint: str,
        rest: str,
        region: str,
        query: dict[str, str],
        form: dict[str, str],
        headers: dict[str, str],
    ) -> Answer:
        if endpoint == "authorize":
            if method == "POST":
                return self.emu.decide(form.get("txid", ""), form.get("decision", "deny"), form.get("user"))
            outcome = self.emu.authorize(region, query)
            return outcome if isinstance(outcome, Answer) else _consent_page(self.emu, region, outcome)
        if endpoint == "token":
            return self.emu.token(region, form, _basic_credentials(headers.get("authorization", "")))
        if endpoint == "profiles":
            return self.emu.profiles(region, headers, query)
        return self.emu.campaigns(region, headers)

    def _control(self, method: str, action: str, raw_body: bytes, query: dict[str, str]) -> Answer:
        emu = self.emu
        try:
            body = json.loads(raw_body or b"{}")
        except ValueError:
            return Answer(400, b'{"error": "body must be JSON"}')
        try:
            if method == "GET" and action == "requests":
                return _json(emu.received_requests())
            if method == "GET" and action == "state":
                user, region = query.get("user", ""), query.get("region", "NA")
                return _json(
                    {
                        "grant": emu.grant_state(user, region),
                        "token_calls": emu.token_calls(),
                        "rotation": emu.rotation,
                        "headless": emu.headless,
                        "signed_in": emu.signed_in,
                    }
                )
            if method != "POST":
                return Answer(404, b'{"error": "unknown control action"}')
            if action == "users":
                emu.add_user(
                    body["user_id"],
                    profiles=body.get("profiles"),
                    name=body.get("name"),
                    view_only=bool(body.get("view_only")),
                    has_campaigns=body.get("has_campaigns", True),
                    decision=body.get("decision"),
                    propagation_delay_seconds=float(body.get("propagation_delay_seconds", 0)),
                )
            elif action == "config":
                if "headless" in body:
                    emu.headless = body["headless"]
                if "rotation" in body:
                    if body["rotation"] not in ROTATION_MODES:
                        return Answer(400, b'{"error": "unknown rotation mode"}')
                    emu.rotation = body["rotation"]
                for flag in ("approved_for_ads", "allow_listed"):
                    if flag in body:
                        setattr(emu, flag, bool(body[flag]))
                for uri in body.get("redirect_uris", []):
                    emu.register_redirect_uri(uri)
            elif action == "sign-in":
                emu.sign_in(body["user_id"])
            elif action == "revoke":
                emu.revoke(body["user_id"])
            elif action == "advance":
                emu.advance(float(body["seconds"]))
            elif action == "faults":
                emu.faults.add(**body)
            elif action == "faults/clear":
                emu.faults.clear()
            else:
                return Answer(404, b'{"error": "unknown control action"}')
        except (KeyError, TypeError, ValueError) as error:
            return Answer(400, json.dumps({"error": f"bad control request: {type(error).__name__}"}).encode())
        return _json({"ok": True})

    def _write(self, answer: Answer) -> None:
        if answer.delay:
            time.sleep(answer.delay)
        if answer.drop:
            # Close without a status line: the client sees a dropped connection.
            self.close_connection = True
            with contextlib.suppress(OSError):  # the peer may be gone already
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)


def _json(body: Any) -> Answer:
    return Answer(200, json.dumps(body).encode())


def _basic_credentials(header: str) -> tuple[str, str] | None:
    if not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, emulator: Emulator, host: str, port: int) -> None:
        super().__init__((host, port), _Handler)
        self.emulator = emulator


class EmulatorServer:
    """A running emulator on a loopback port (a daemon thread)."""

    def __init__(self, emulator: Emulator, host: str, port: int) -> None:
        self.emulator = emulator
        self._httpd = EmulatorHTTPServer(emulator, host, port)
        self.host, self.port = self._httpd.server_address[0], int(self._httpd.server_address[1])
        self.base_url = f"http://{self.host}:{self.port}"
        # A short poll interval: stop() returns quickly (each test starts and stops one).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="amazon-emulator",
            daemon=True,
        )
        self._thread.start()

    @property
    def endpoints_json(self) -> str:
        return self.emulator.endpoints_json(self.base_url)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
