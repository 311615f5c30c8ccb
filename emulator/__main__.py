"""Run the emulator standalone: ``python -m emulator --port 8400 --demo-accounts``.

docs/emulator.md describes every flag and the control API.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any
from urllib.parse import unquote

from emulator.core import ENDPOINTS, REGIONS, ROTATION_MODES, Emulator, fault_rule
from emulator.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, add_demo_accounts


def parse_fault(spec: str) -> dict[str, Any]:
    """``endpoint[:STATUS[xCOUNT]][:OPTION...]``, the options in any order:

    - ``retry_after=S`` (whole seconds), ``delay=S``, ``region=R``;
    - ``drop`` (no answer), ``malformed`` (a cut-off 200), ``error=CODE`` (an OAuth error: a
      redirect back from ``authorize``, an error body from ``token``), ``description=TEXT``
      (percent-encoded, with ``error``);
    - ``after`` (the emulator does the work first), ``always`` (until cleared).

    E.g. ``token:503x3``, ``profiles:429x2:retry_after=5``, ``token:200:delay=2``,
    ``token:500:after``, ``token:malformed:after``, ``authorize:error=server_error``.
    ``endpoint`` is authorize, token, profiles, campaigns or any."""
    endpoint, _, rest = spec.partition(":")
    if endpoint not in (*ENDPOINTS, "any"):
        raise argparse.ArgumentTypeError(f"unknown endpoint {endpoint!r} in fault {spec!r}")
    fault: dict[str, Any] = {"endpoint": endpoint}
    flags = {"drop": "drop_connection", "malformed": "malformed", "after": "after_processing"}
    named = {"retry_after": "retry_after", "delay": "delay_seconds"}
    try:
        for option in rest.split(":") if rest else []:
            name, has_value, value = option.partition("=")
            if option in flags:
                fault[flags[option]] = True
            elif option == "always":
                fault["count"] = None
            elif has_value and name in named:
                fault[named[name]] = float(value)
            elif has_value and name == "region" and value in REGIONS:
                fault["region"] = value
            elif has_value and name == "error" and value:
                fault["oauth_error"] = value
            elif has_value and name == "description":
                fault["error_description"] = unquote(value)
            elif has_value:
                raise ValueError(f"unknown option {option!r}")
            elif "x" in option:
                status, count = option.split("x", 1)
                fault["status"], fault["count"] = int(status), int(count)
            else:
                fault["status"] = int(option)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"bad fault {spec!r}: {error}") from error
    try:
        fault_rule(**fault)  # the checks faults.add makes: a bad spec fails at parse time
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"bad fault {spec!r}: {error}") from error
    return fault


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Amazon LWA + Ads API emulator (NA, EU, FE). Never deployed; for tests and local mode.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8400, help="port (0: a free one; default 8400)")
    parser.add_argument("--client-id", default=DEMO_CLIENT_ID, help="the LWA client id to accept")
    parser.add_argument(
        "--client-secret-stdin",
        action="store_true",
        help="read the client secret from the first line of standard input (default: the demo secret)",
    )
    parser.add_argument(
        "--redirect-uri", action="append", default=[], help="an Allowed Return URL (repeatable)"
    )
    parser.add_argument("--rotation", choices=ROTATION_MODES, default="never", help="refresh-token rotation")
    parser.add_argument(
        "--grace-seconds", type=float, default=300.0, help="rotate_grace: how long an old token lives"
    )
    parser.add_argument(
        "--headless", choices=("allow", "deny"), default=None, help="decide consent without a page"
    )
    parser.add_argument(
        "--not-approved",
        action="store_true",
        help="the app is not approved for the Ads API yet: authorization answers invalid_scope",
    )
    parser.add_argument(
        "--not-allow-listed",
        action="store_true",
        help="the client id is not allow-listed yet: every Ads API call answers 401",
    )
    parser.add_argument("--app-name", default=None, help="the application name on the consent page")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        type=parse_fault,
        help="inject a fault (repeatable), e.g. token:503x3, profiles:429x2:retry_after=5, token:drop, "
        "token:500:after, token:malformed:after, authorize:error=server_error (docs/emulator.md)",
    )
    parser.add_argument(
        "--demo-accounts",
        action="store_true",
        help="add the demo advertiser (profiles in NA, EU, FE) and one with no campaigns",
    )
    return parser


def build_emulator(args: argparse.Namespace, secret: str) -> Emulator:
    emu = Emulator(
        client_id=args.client_id,
        client_secret=secret,
        redirect_uris=args.redirect_uri,
        rotation=args.rotation,
        grace_seconds=args.grace_seconds,
    )
    emu.headless = args.headless
    emu.approved_for_ads = not args.not_approved
    emu.allow_listed = not args.not_allow_listed
    if args.app_name:
        emu.app_name = args.app_name
    if args.demo_accounts:
        add_demo_accounts(emu)
    for fault in args.fault:
        emu.faults.add(**fault)
    return emu


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    secret = DEMO_CLIENT_SECRET
    if args.client_secret_stdin:
        secret = sys.stdin.readline().strip()
        if not secret:
            parser.error("--client-secret-stdin: standard input gave no secret")
    emu = build_emulator(args, secret)
    try:
        server = emu.serve(args.host, args.port)
    except OSError as error:
        parser.error(f"cannot listen on {args.host}:{args.port} ({error.strerror}): choose another --port")
    print(f"Amazon emulator on {server.base_url} (control API: {server.base_url}/__emulator__/)", flush=True)
    print(f"ADS_CONNECT_AMAZON_ENDPOINTS='{server.endpoints_json}'", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
