"""``python -m local``: run Amazon Ads Connect on this machine (see docs/local-mode.md)."""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from local.runner import ENDPOINTS_ENV, LocalMode, LocalOptions, Ready
from local.template import StartCancelled

ENV_PREFIX = "ADS_CONNECT_LOCAL_"


def _env_number(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(ENV_PREFIX + name)
    return float(raw) if raw not in (None, "") else default


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "timestamp": self.formatTime(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def loopback_host(host: str) -> str:
    """The IPv4 loopback address to bind, or ValueError saying why ``host`` is refused.

    Local mode's admin API accepts one fixed pair of printed credentials and its /__local__
    routes need none, so it never listens on an address another machine can reach.
    """
    candidate = "127.0.0.1" if host.strip().lower() == "localhost" else host.strip()
    why = (
        "local mode has fixed admin credentials and unauthenticated /__local__ routes,"
        " so it listens on this machine only"
    )
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        raise ValueError(
            f"--host {host!r}: give a loopback address (127.0.0.1 or another 127.x.x.x, or localhost); {why}"
        ) from None
    if not address.is_loopback:
        raise ValueError(f"--host {host}: not a loopback address (use 127.0.0.1 or another 127.x.x.x); {why}")
    if address.version != 4:
        raise ValueError(f"--host {host}: local mode's servers listen on IPv4 only; use 127.0.0.1")
    return str(address)


def parse_options(argv: list[str] | None, environ: Mapping[str, str]) -> tuple[LocalOptions, Path | None]:
    parser = argparse.ArgumentParser(
        prog="python -m local",
        description="Amazon Ads Connect on one machine: moto server, the Amazon emulator, the real handlers.",
        epilog="Every flag also reads ADS_CONNECT_LOCAL_<NAME> (e.g. ADS_CONNECT_LOCAL_PORT).",
    )
    parser.add_argument(
        "--port", type=int, default=int(_env_number(environ, "PORT", 8300)), help="gateway (8300)"
    )
    parser.add_argument("--moto-port", type=int, default=int(_env_number(environ, "MOTO_PORT", 8301)))
    parser.add_argument("--emulator-port", type=int, default=int(_env_number(environ, "EMULATOR_PORT", 8302)))
    parser.add_argument(
        "--host",
        default=environ.get(ENV_PREFIX + "HOST", "127.0.0.1"),
        help="bind address: a loopback address (127.0.0.1 or another 127.x.x.x, or localhost)",
    )
    parser.add_argument(
        "--schedule-seconds",
        type=float,
        default=_env_number(environ, "SCHEDULE_SECONDS", 60.0),
        help="run the refresh schedule this often (0: only on POST /__local__/run-schedule)",
    )
    parser.add_argument("--state-dir", type=Path, default=environ.get(ENV_PREFIX + "STATE_DIR") or None)
    parser.add_argument("--log-file", type=Path, default=environ.get(ENV_PREFIX + "LOG_FILE") or None)
    parser.add_argument(
        "--template",
        type=Path,
        default=environ.get(ENV_PREFIX + "TEMPLATE") or None,
        help="use this synthesized template (JSON) instead of synthesizing the stack",
    )
    parser.add_argument(
        "--amazon-endpoints",
        default=environ.get(ENDPOINTS_ENV) or None,
        help=f"external Amazon-compatible endpoints (JSON, as {ENDPOINTS_ENV}); default: the emulator",
    )
    parser.add_argument("--no-demo", action="store_true", help="no demo accounts or demo connect sessions")
    parser.add_argument("--ready-file", type=Path, default=None, help="write the URLs as JSON here once up")
    args = parser.parse_args(argv)
    try:
        args.host = loopback_host(args.host)
    except ValueError as error:
        parser.error(str(error))
    options = LocalOptions(
        host=args.host,
        port=args.port,
        moto_port=args.moto_port,
        emulator_port=args.emulator_port,
        schedule_seconds=max(0.0, args.schedule_seconds),
        state_dir=args.state_dir,
        log_file=args.log_file,
        template_file=args.template,
        amazon_endpoints=args.amazon_endpoints,
        # The LWA client for external endpoints comes from the environment, never from argv.
        client_id=environ.get(ENV_PREFIX + "LWA_CLIENT_ID") or None,
        client_secret=environ.get(ENV_PREFIX + "LWA_CLIENT_SECRET") or None,
        demo=not args.no_demo,
    )
    return options, args.ready_file


def summary(ready: Ready, mode: LocalMode, *, scratch: Path | None = None) -> list[str]:
    env = ready.environ
    lines = ["", "Amazon Ads Connect runs locally.", ""]
    if ready.consent_urls:
        who = " (the emulator signs you in as the demo advertiser)" if ready.emulator_url else ""
        lines.append(f"Consent URLs for demo tenants{who}:")
        lines += [f"  {region}  {url}" for region, url in ready.consent_urls.items()]
        lines.append("")
    lines += [
        f"Admin API (SigV4; LOCAL-ONLY IAM stand-in accepts only these credentials): {ready.admin_url}",
        f"  export AWS_ACCESS_KEY_ID={env['AWS_ACCESS_KEY_ID']}"
        f" AWS_SECRET_ACCESS_KEY={env['AWS_SECRET_ACCESS_KEY']}"
        f" AWS_DEFAULT_REGION={env['AWS_DEFAULT_REGION']}",
        f"  .venv/bin/python -m cli --api-url {ready.base_url} connections list",
        "",
        f"Local AWS (moto server): {ready.moto_endpoint} (any credentials work, e.g. the export above)",
    ]
    lines += [
        f"  aws --endpoint-url {ready.moto_endpoint} dynamodb scan --table-name {t}" for t in ready.tables
    ]
    lines.append(f"  aws --endpoint-url {ready.moto_endpoint} secretsmanager list-secrets")
    if ready.emulator_url:
        lines.append(
            f"Amazon emulator: {ready.emulator_url} (control API: {ready.emulator_url}/__emulator__/)"
        )
    if ready.schedule_seconds > 0:
        lines.append(f"Refresh schedule: every {ready.schedule_seconds:g}s")
    lines += [
        f"Run the schedule now:  curl -X POST {ready.base_url}/__local__/run-schedule",
        f"Travel in time:        curl -X POST {ready.base_url}/__local__/advance-clock"
        " -d '{\"seconds\": 3000}'",
        f"Handler logs (JSON lines): {ready.log_file}"
        + (f" (removed on stop with {scratch}; --log-file FILE keeps them)" if scratch is not None else ""),
        "State: "
        + (
            f"kept in {mode.options.state_dir}"
            if mode.options.state_dir
            else "thrown away on stop (--state-dir DIR keeps it)"
        ),
        "Stop: Ctrl-C",
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    options, ready_file = parse_options(argv, os.environ)
    console: TextIO = sys.stdout
    # Without --state-dir or --log-file, this run's log file and template live in a temporary
    # directory: removed on stop, kept (and named) when local mode failed.
    scratch: Path | None = None
    if options.log_file is None:
        if options.state_dir is None:
            scratch = Path(tempfile.mkdtemp(prefix="ads-connect-local-"))
        base = options.state_dir or scratch
        assert base is not None
        options.log_file = base / "handlers.log"
    options.log_file.parent.mkdir(parents=True, exist_ok=True)
    log_stream = options.log_file.open("a", buffering=1, encoding="utf-8")
    # The handlers' powertools JSON logs and EMF metrics go to stdout on Lambda; here to the file.
    # The console keeps short human lines only.
    sys.stdout = log_stream
    # Local mode's own log lines (not the handlers': those are powertools JSON already).
    handler = logging.StreamHandler(log_stream)
    handler.setFormatter(_JsonFormatter())
    logging.basicConfig(handlers=[handler], level=logging.WARNING)
    logging.getLogger("local").setLevel(logging.INFO)
    logging.captureWarnings(True)  # library warnings belong in the log file, not on the console
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            console.write(line + "\n")
            console.flush()

    stop = threading.Event()
    received: list[int] = []

    def request_stop(signum: int, _frame: object) -> None:
        received.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    mode = LocalMode(options, console=say, stop=stop)
    code = 0
    try:
        ready = mode.start()
        for line in summary(ready, mode, scratch=scratch):
            say(line)
        if ready_file:
            partial = ready_file.with_suffix(".partial")
            partial.write_text(json.dumps(ready.__dict__))
            partial.replace(ready_file)
        stop.wait()
        say("Stopping...")
    except StartCancelled:
        say("Stopping (asked to stop during start-up)...")
        code = 128 + (received[0] if received else signal.SIGINT)
    except Exception as error:
        logging.getLogger("local").exception("local mode failed")
        if stop.is_set():
            # What failed was most likely interrupted by the stop itself: not worth a report.
            say("Stopping (asked to stop during start-up)...")
            code = 128 + (received[0] if received else signal.SIGINT)
        else:
            say(f"Local mode failed: {type(error).__name__}: {error}")
            say(f"(details in {options.log_file})")
            code = 1
    finally:
        mode.stop()
        sys.stdout = console
        log_stream.close()
        if scratch is not None and code == 1:
            say(f"Kept {scratch} (handler logs and template of this run)")
        elif scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
            if scratch.exists():
                say(f"  ! could not remove {scratch}")
        say("Stopped.")
        for sig, handler in previous.items():
            if handler is not None:
                signal.signal(sig, handler)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
