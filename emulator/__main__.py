"""Run the emulator standalone: ``python -m emulator --port 8400 --demo-accounts``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from emulator.core import ROTATION_MODES, Emulator
from emulator.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, add_demo_accounts


def _fault(spec: str) -> dict[str, object]:
    """``endpoint:STATUSxCOUNT[:retry_after=S][:delay=S][:drop]``, e.g. ``token:503x3``."""
    endpoint, _, rest = spec.partition(":")
    options = rest.split(":") if rest else []
    fault: dict[str, object] = {"endpoint": endpoint}
    for option in options:
        if option == "drop":
            fault["drop_connection"] = True
        elif option.startswith("retry_after="):
            fault["retry_after"] = float(option.split("=", 1)[1])
        elif option.startswith("delay="):
            fault["delay_seconds"] = float(option.split("=", 1)[1])
        elif "x" in option:
            status, count = option.split("x", 1)
            fault["status"], fault["count"] = int(status), int(count)
        else:
            fault["status"] = int(option)
    return fault


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator", description="Amazon LWA + Ads API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8400)
    parser.add_argument("--client-id", default=DEMO_CLIENT_ID)
    parser.add_argument(
        "--client-secret-stdin",
        action="store_true",
        help="read the client secret from standard input (default: the demo secret)",
    )
    parser.add_argument(
        "--redirect-uri", action="append", default=[], help="an Allowed Return URL (repeatable)"
    )
    parser.add_argument("--rotation", choices=ROTATION_MODES, default="never")
    parser.add_argument("--headless", choices=("allow", "deny"), default=None)
    parser.add_argument(
        "--fault", action="append", default=[], help="e.g. token:503x3, profiles:429x2:retry_after=5"
    )
    parser.add_argument("--demo-accounts", action="store_true")
    args = parser.parse_args(argv)
    secret = sys.stdin.readline().strip() if args.client_secret_stdin else DEMO_CLIENT_SECRET
    emu = Emulator(
        client_id=args.client_id,
        client_secret=secret,
        redirect_uris=args.redirect_uri,
        rotation=args.rotation,
    )
    emu.headless = args.headless
    if args.demo_accounts:
        add_demo_accounts(emu)
    for spec in args.fault:
        emu.faults.add(**_fault(spec))  # type: ignore[arg-type]
    server = emu.serve(args.host, args.port)
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
