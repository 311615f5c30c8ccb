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
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from emulator.core import (
    REGIONS,
    ROTATION_MODES,
    Answer,
    Emulator,
    strict_bool,
)

_CONTROL = "/__emulator__/"
_MAX_BODY = 1_000_000
# (method, path below the region) -> endpoint name (the names faults and the request log use).
_ROUTES = {
    ("GET", "/ap/oa"): "authorize",
    ("POST", "/ap/oa/decision"): "authorize",
    ("POST", "/auth/o2/token"): "token",
    ("GET", "/api/v2/profiles"): "profiles",
    ("GET", "/api/v2/sp/campaigns"): "campaigns",
    ("POST", "/api/sp/campaigns/list"): "campaigns",
}


_PAGE_HEADERS = (
    # The page loads nothing from anywhere (no scripts, no third-party resources).
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
)
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#111}"
    "fieldset{margin:1rem 0;padding:.5rem 1rem}label{display:block;padding:.25rem 0}"
    "button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem}"
    ".note{color:#444;font-size:.9rem}"
)
_SCOPE_WORDS = {
    "advertising::campaign_management": "manage your Amazon Ads campaigns and read your advertising profiles",
    "profile": "read your name, e-mail address and Amazon account id",
}


def _consent_page(emu: Emulator, region: str, context: dict[str, Any]) -> Answer:
    esc = html.escape
    users = context["users"]
    signed_in = context["signed_in"]
    if users:
        options = "".join(
            f'<label><input type="radio" name="user" value="{esc(uid)}"'
            f"{' checked' if uid == signed_in else ''} required> {esc(name)}</label>"
            for uid, name in users
        )
        current = next((name for uid, name in users if uid == signed_in), None)
        who = (
            f"<p>Signed in as <strong>{esc(current)}</strong>.</p>"
            if current
            else "<p>Nobody is signed in.</p>"
        ) + f"<fieldset><legend>Amazon account</legend>{options}</fieldset>"
    else:
        who = "<p>No Amazon user exists in this emulator: add one first.</p>"
    wants = "".join(
        f"<li>{esc(_SCOPE_WORDS.get(scope, scope))} (<code>{esc(scope)}</code>)</li>"
        for scope in context["scope"].split()
    )
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Amazon Sign-In (emulator): allow {esc(context['app_name'])}?</title>"
        f"<style>{_STYLE}</style></head><body><main>"
        f'<h1>Allow <span id="app-name">{esc(context["app_name"])}</span> to access your account?</h1>'
        f'<p class="note">Amazon emulator, region {esc(region)}. This is not Amazon.</p>'
        f"<p>{esc(context['app_name'])} would like to:</p><ul>{wants}</ul>"
        f'<form method="post" action="/{esc(region)}/ap/oa/decision">'
        f'<input type="hidden" name="txid" value="{esc(context["txid"])}">{who}'
        '<button type="submit" name="decision" value="allow" id="allow">Allow</button>'
        '<button type="submit" name="decision" value="deny" id="deny">Deny</button>'
        "</form></main></body></html>"
    )
    return Answer(200, body.encode(), "text/html; charset=utf-8", _PAGE_HEADERS)


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
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= _MAX_BODY:
            self.close_connection = True
            self._write(Answer(400 if length < 0 else 413, b'{"error": "invalid_request"}'))
            return
        raw_body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        if parts.path.startswith(_CONTROL):
            self._write(self._control(method, parts.path[len(_CONTROL) :], raw_body, query))
            return
        segments = parts.path.strip("/").split("/", 1)
        region = segments[0] if segments else ""
        rest = "/" + segments[1] if len(segments) > 1 else "/"
        endpoint = _ROUTES.get((method, rest))
        if region not in REGIONS or endpoint is None:
            self._write(Answer(404, b'{"code": "404", "details": "Not found"}'))
            return
        form = dict(parse_qsl(raw_body.decode(errors="replace"), keep_blank_values=True))
        if (
            endpoint == "token"
            and raw_body
            and "x-www-form-urlencoded" not in headers.get("content-type", "")
        ):
            form = {}  # the token endpoint reads form-encoded bodies only
        fault = self.emu.faults.take(endpoint, region)
        answer = None
        forced_error = fault.redirect_error(endpoint) if fault is not None else None
        if fault is not None and not fault.after_processing:
            # Before processing: nothing happens at "Amazon" (no code redeemed, nothing rotated).
            if fault.delay_seconds:
                time.sleep(fault.delay_seconds)
            answer = fault.answer(endpoint)
        if answer is None:
            answer = self._answer(method, endpoint, region, query, form, headers, forced_error)
        if fault is not None and fault.after_processing:
            # After processing: the work is done and kept; only the answer is late, lost or wrong.
            if fault.delay_seconds:
                time.sleep(fault.delay_seconds)
            answer = fault.answer(endpoint) or answer
        self.emu.record(
            method=method,
            path=parts.path,
            region=region,
            endpoint=endpoint,
            status=answer.status,
            query=parts.query,
            form=form,
            headers=dict(self.headers.items()),
            fault=fault is not None,
            fault_after_processing=fault is not None and fault.after_processing,
        )
        self._write(answer)

    def _answer(
        self,
        method: str,
        endpoint: str,
        region: str,
        query: dict[str, str],
        form: dict[str, str],
        headers: dict[str, str],
        forced_error: tuple[str, str] | None = None,
    ) -> Answer:
        if endpoint == "authorize":
            if method == "POST":
                return self.emu.decide(
                    form.get("txid", ""), form.get("decision", "deny"), form.get("user"), forced_error
                )
            outcome = self.emu.authorize(region, query, forced_error)
            return outcome if isinstance(outcome, Answer) else _consent_page(self.emu, region, outcome)
        if endpoint == "token":
            return self.emu.token(region, form, _basic_credentials(headers.get("authorization", "")))
        if endpoint == "profiles":
            return self.emu.profiles(region, headers, query)
        return self.emu.campaigns(region, headers, v3=method == "POST")

    def _control(self, method: str, action: str, raw_body: bytes, query: dict[str, str]) -> Answer:
        """The JSON control API (docs/emulator.md lists every action)."""
        try:
            body = json.loads(raw_body or b"{}")
        except ValueError:
            return _json({"error": "body must be JSON"}, 400)
        if not isinstance(body, dict):
            return _json({"error": "body must be a JSON object"}, 400)
        handler = _CONTROL_ACTIONS.get((method, action))
        if handler is None:
            return _json({"error": "unknown control action"}, 404)
        try:
            return handler(self.emu, body, query)
        except KeyError as error:
            return _json({"error": f"bad control request: missing or unknown {error}"}, 400)
        except (TypeError, ValueError) as error:
            return _json({"error": f"bad control request: {error}"}, 400)

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


def _flag(body: dict[str, Any], name: str, default: bool) -> bool:
    """A boolean field of a control request: absent is ``default``; anything but true/false
    (the string "false", 0, null) is a 400, never read as its truthiness."""
    return strict_bool(body[name], name) if name in body else default


def _seconds(body: dict[str, Any], name: str, default: float | None = None) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    return float(value)


def _json(body: Any, status: int = 200) -> Answer:
    return Answer(status, json.dumps(body).encode())


_OK = _json({"ok": True})


def _ctl_requests(emu: Emulator, body: dict[str, Any], query: dict[str, str]) -> Answer:
    entries = emu.received_requests()
    for key in ("endpoint", "region"):
        if query.get(key):
            entries = [e for e in entries if e[key] == query[key]]
    return _json(entries)


def _ctl_state(emu: Emulator, body: dict[str, Any], query: dict[str, str]) -> Answer:
    user, region = query.get("user", ""), query.get("region", "NA")
    return _json(
        {
            "grant": emu.grant_state(user, region) if user else None,
            "token_calls": emu.token_calls(),
            "token_calls_by_region": {r: emu.token_calls(r) for r in REGIONS},
            "rotation": emu.rotation,
            "grace_seconds": emu.grace_seconds,
            "headless": emu.headless,
            "approved_for_ads": emu.approved_for_ads,
            "allow_listed": emu.allow_listed,
            "signed_in": emu.signed_in,
            "users": sorted(emu.users),
            "redirect_uris": sorted(emu.redirect_uris),
            # Ids and Allowed Return URLs only: a secret never leaves through the state.
            "clients": {c.client_id: sorted(c.redirect_uris) for c in emu.clients.values()},
            "faults": emu.faults.describe(),
            "clock": emu.clock(),
        }
    )


def _ctl_grant(emu: Emulator, body: dict[str, Any], query: dict[str, str]) -> Answer:
    state = emu.grant_state(query["user"], query.get("region", "NA"))
    return _json(state) if state else _json({"error": "no grant for this user and region"}, 404)


def _ctl_counters(emu: Emulator, body: dict[str, Any], query: dict[str, str]) -> Answer:
    return _json(
        {
            "requests": len(emu.received_requests()),
            "token_calls": {"total": emu.token_calls(), **{r: emu.token_calls(r) for r in REGIONS}},
            "token_calls_by_grant_type": {
                g: emu.token_calls(grant_type=g) for g in ("authorization_code", "refresh_token")
            },
        }
    )


def _ctl_issued_secrets(emu: Emulator, body: dict[str, Any], query: dict[str, str]) -> Answer:
    # For a no-leak check run by another process (e2e); the emulator is never deployed.
    return _json(sorted(emu.issued_secrets()))


def _ctl_users(emu: Emulator, body: dict[str, Any], query: dict[str, str]) -> Answer:
    unknown = set(body) - {
        "user_id",
        "profiles",
        "name",
        "view_only",
        "has_campaigns",
        "decision",
        "propagation_delay_seconds",
    }
    if unknown:
        raise ValueError(f"unknown user fields {sorted(unknown)}")
    emu.add_user(
        body["user_id"],
        profiles=body.get("profiles"),
        name=body.get("name"),
        view_only=_flag(body, "view_only", False),
        has_campaigns=_flag(body, "has_campaigns", True),
        decision=body.get("decision"),
        propagation_delay_seconds=_seconds(body, "propagation_delay_seconds", 0),
    )
    return _OK


def _ctl_clients(emu: Emulator, body: dict[str, Any], query: dict[str, str]) -> Answer:
    unknown = set(body) - {"client_id", "client_secret", "redirect_uris"}
    if unknown:
        raise ValueError(f"unknown client fields {sorted(unknown)}")
    client_id, secret, uris = body["client_id"], body["client_secret"], body.get("redirect_uris", [])
    if not isinstance(client_id, str) or not isinstance(secret, str):
        raise ValueError("client_id and client_secret must be strings")
    if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
        raise ValueError("redirect_uris must be a list of strings")
    emu.add_client(client_id, secret, uris)
    return _OK


def _ctl_config(emu: Emulator, body: dict[str, Any], query: dict[str, str]) -> Answer:
    unknown = set(body) - {
        "headless",
        "rotation",
        "grace_seconds",
        "approved_for_ads",
        "allow_listed",
        "redirect_uris",
        "app_name",
    }
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}")
    if body.get("headless") not in (None, "allow", "deny"):
        raise ValueError("headless must be allow, deny or null")
    if "rotation" in body and body["rotation"] not in ROTATION_MODES:
        raise ValueError(f"unknown rotation mode (one of {', '.join(ROTATION_MODES)})")
    uris = body.get("redirect_uris", [])
    if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
        raise ValueError("redirect_uris must be a list of strings")
    flags = {
        name: strict_bool(body[name], name) for name in ("approved_for_ads", "allow_listed") if name in body
    }
    grace = _seconds(body, "grace_seconds") if "grace_seconds" in body else None
    if "app_name" in body and not isinstance(body["app_name"], str):
        raise ValueError("app_name must be a string")
    # Every field was checked above, before any change: a refused request changes nothing.
    if "headless" in body:
        emu.headless = body["headless"]
    if "rotation" in body:
        emu.rotation = body["rotation"]
    if grace is not None:
        emu.grace_seconds = grace
    for name, value in flags.items():
        setattr(emu, name, value)
    if "app_name" in body:
        emu.app_name = body["app_name"]
    for uri in uris:
        emu.register_redirect_uri(uri)
    return _OK


def _ctl_sign_in(emu: Emulator, body: dict[str, Any], query: dict[str, str]) -> Answer:
    emu.sign_in(body["user_id"])
    return _OK


def _ctl_revoke(emu: Emulator, body: dict[str, Any], query: dict[str, str]) -> Answer:
    emu.revoke(body["user_id"])
    return _OK


def _ctl_advance(emu: Emulator, body: dict[str, Any], query: dict[str, str]) -> Answer:
    emu.advance(_seconds(body, "seconds"))
    return _json({"ok": True, "clock": emu.clock()})


def _ctl_faults(emu: Emulator, body: dict[str, Any], query: dict[str, str]) -> Answer:
    emu.faults.add(**body)
    return _OK


def _ctl_faults_clear(emu: Emulator, body: dict[str, Any], query: dict[str, str]) -> Answer:
    emu.faults.clear()
    return _OK


def _ctl_link_profile(emu: Emulator, body: dict[str, Any], query: dict[str, str]) -> Answer:
    emu.link_profile(
        body["user_id"],
        body["region"],
        body["profile"],
        delay_seconds=None if body.get("delay_seconds") is None else _seconds(body, "delay_seconds"),
    )
    return _OK


def _ctl_rotate_client_secret(emu: Emulator, body: dict[str, Any], query: dict[str, str]) -> Answer:
    secret, client_id = body["client_secret"], body.get("client_id")
    if not isinstance(secret, str) or not secret:
        raise ValueError("client_secret must be a non-empty string")
    if client_id is not None and client_id not in emu.clients:
        raise ValueError("unknown client_id")
    emu.rotate_client_secret(secret, client_id)
    return _OK


_CONTROL_ACTIONS: dict[tuple[str, str], Callable[[Emulator, dict[str, Any], dict[str, str]], Answer]] = {
    ("GET", "requests"): _ctl_requests,
    ("GET", "state"): _ctl_state,
    ("GET", "grant"): _ctl_grant,
    ("GET", "counters"): _ctl_counters,
    ("GET", "issued-secrets"): _ctl_issued_secrets,
    ("POST", "users"): _ctl_users,
    ("POST", "clients"): _ctl_clients,
    ("POST", "config"): _ctl_config,
    ("POST", "sign-in"): _ctl_sign_in,
    ("POST", "revoke"): _ctl_revoke,
    ("POST", "advance"): _ctl_advance,
    ("POST", "faults"): _ctl_faults,
    ("POST", "faults/clear"): _ctl_faults_clear,
    ("POST", "link-profile"): _ctl_link_profile,
    ("POST", "rotate-client-secret"): _ctl_rotate_client_secret,
}


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
        address = self._httpd.server_address
        self.host, self.port = str(address[0]), int(address[1])
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
        # shutdown() waits for serve_forever to acknowledge: only ask a thread that is serving.
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()
