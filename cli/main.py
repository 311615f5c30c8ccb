"""``ads-connect`` (or ``python -m cli`` in a checkout): the operator's command line for the admin API.

The LWA client secret is read from stdin (when piped) or a hidden prompt: there is no option
that takes it, so it never lands in shell history or ``ps`` output.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import boto3
import requests

from cli import __version__, completion, output
from cli.aws_reads import AwsReads
from cli.client import DEFAULT_TIMEOUT, AdminClient, AwsContext, admin_base_url, resolve_api_url
from cli.doctor import STATUSES, DoctorTarget, run_doctor
from cli.errors import CliError, ExitCode
from cli.findings import exit_code, render_json, render_table
from cli.preflight import DeploymentNeeds, run_preflight
from cli.stages import STAGE_ENV, resolve_stage, stack_name_for

# Amazon region codes are not listed here: the CLI does not import the Lambda package, whose region
# table (ads_connect/regions.py) is the one list. The admin API refuses an unknown code with a 400
# naming the accepted ones (exit code 2), so adding a region never touches the CLI.
REGION_HELP = "Amazon region code such as NA (the admin API names the accepted codes)"
# The admin API's page sizes (models/admin_api.py; the CLI does not import the Lambda package).
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


@dataclass
class Io:
    """Where the CLI reads and writes; tests pass their own."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    getpass: Callable[[str], str] = getpass.getpass
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def print(self, text: str) -> None:
        self.stdout.write(text + "\n")

    def note(self, text: str) -> None:
        self.stderr.write(text + "\n")


ClientFactory = Callable[[argparse.Namespace, Io], AdminClient]
ReadsFactory = Callable[[argparse.Namespace], AwsReads]


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors exit with ``ExitCode.USAGE`` through ``CliError``."""

    def error(self, message: str) -> Any:  # argparse's signature says NoReturn; we raise instead
        prefix = "unrecognized arguments: "
        if message.startswith(prefix):
            # Never echo unknown values: someone may have typed a secret on the command line.
            names = [
                token.split("=", 1)[0] for token in message[len(prefix) :].split() if token.startswith("-")
            ]
            message = prefix + (", ".join(names) if names else "(values not shown)")
        raise CliError(ExitCode.USAGE, f"{message}\n{self.format_usage().strip()}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ads-connect",
        description="Operate Amazon Ads Connect through its IAM-authorized admin API.",
        epilog="Exit codes: 0 ok, 1 API error or failed check, 2 usage / rejected input, 3 not found, "
        "4 AWS credentials or IAM denied, 5 API unreachable or stack not found, 6 conflict "
        "(refresh running, disconnected).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--api-url", help="admin API base URL (default: $ADS_CONNECT_ADMIN_URL, else the stack output)"
    )
    parser.add_argument(
        "--stage",
        help=f"deployment stage: stack AmazonAdsConnect-<stage> (default: ${STAGE_ENV}, else prod)",
    )
    parser.add_argument(
        "--stack-name",
        help="CloudFormation stack to read AdminApiUrl from (default AmazonAdsConnect-<stage>)",
    )
    parser.add_argument("--profile", help="AWS profile for credentials")
    parser.add_argument("--region", help="AWS region for the stack look-up and signing")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait for the API")
    groups = parser.add_subparsers(dest="group", required=True, parser_class=_Parser)

    credentials = groups.add_parser("credentials", help="the LWA client id and secret").add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )
    cred_set = credentials.add_parser(
        "set", help="store the client id and secret (secret from stdin or a hidden prompt, never an argument)"
    )
    cred_set.add_argument("--client-id", required=True, help="the Security Profile's client id")
    cred_set.add_argument("--check", action="store_true", help="check them against Amazon afterwards")
    change = cred_set.add_mutually_exclusive_group()
    change.add_argument(
        "--add-client",
        action="store_true",
        help="make this client current for new consents and keep the stored ones for their grants "
        "(moving to another Security Profile)",
    )
    change.add_argument(
        "--replace-client",
        action="store_true",
        help="keep only this client: grants of the others pause (client_mismatch) until it is stored again",
    )
    credentials.add_parser("check", help="check the stored client id and secret against Amazon")

    sessions = groups.add_parser("sessions", help="connect sessions").add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )
    create = sessions.add_parser("create", help="create a connect session and print its consent URL")
    create.add_argument("tenant")
    create.add_argument("--region", dest="session_region", type=str.upper, help=REGION_HELP)
    create.add_argument("--display-name")
    create.add_argument("--return-url")
    create.add_argument("--lifetime", type=int, metavar="SECONDS", help="60 to 604800 (7 days)")
    create.add_argument(
        "--url-only", action="store_true", help="print only the consent URL (for scripts: URL=$(...))"
    )

    sessions_list = sessions.add_parser(
        "list", help="a tenant's connect sessions (open, used, revoked, expired)"
    )
    sessions_list.add_argument("tenant")
    revoke = sessions.add_parser("revoke", help="withdraw a connect session: its link stops working")
    revoke.add_argument("session", help="the reference `sessions list` shows, or the consent URL itself")

    connections = groups.add_parser("connections", help="connections").add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )
    listing = connections.add_parser("list", help="list connections (problems first)")
    listing.add_argument("--status", choices=STATUSES)
    _paging_options(listing, "connections")
    for name, help_text in (
        ("refresh", "refresh the access token now"),
        ("resync", "re-read the profiles now"),
    ):
        command = connections.add_parser(name, help=help_text)
        command.add_argument("tenant")
        command.add_argument("connection_region", metavar="REGION", type=str.upper, help=REGION_HELP)
    reactivate = connections.add_parser(
        "reactivate",
        help="one refresh with the grant's own client: a reauthorization_required connection whose "
        "refresh token still works becomes active again",
    )
    reactivate.add_argument("tenant", nargs="?")
    reactivate.add_argument(
        "connection_region", metavar="REGION", nargs="?", type=str.upper, help=REGION_HELP
    )
    reactivate.add_argument(
        "--all", action="store_true", help="every connection in --status (default reauthorization_required)"
    )
    reactivate.add_argument("--status", choices=STATUSES, default="reauthorization_required")
    disconnect = connections.add_parser(
        "disconnect", help="stop refreshing and delete the connection's secrets"
    )
    disconnect.add_argument("tenant")
    disconnect.add_argument("connection_region", metavar="REGION", type=str.upper, help=REGION_HELP)
    disconnect.add_argument("--recovery-days", type=int, default=7, help="secret recovery window, 7-30 days")
    disconnect.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    revocations = groups.add_parser(
        "revocations", help="revocations held by the mass-revocation breaker"
    ).add_subparsers(dest="command", required=True, parser_class=_Parser)
    revocations.add_parser("list", help="connections whose invalid_grant is held (still active, retried)")
    confirm = revocations.add_parser(
        "confirm", help="the held revocations are real: mark them reauthorization_required"
    )
    confirm.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    tenants = groups.add_parser("tenants", help="tenants").add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )
    tenants_list = tenants.add_parser(
        "list", help="list tenants with their connections, one line per tenant (problems first)"
    )
    tenants_list.add_argument(
        "--status", choices=STATUSES, help="only tenants with a connection in this status"
    )
    _paging_options(tenants_list, "tenants")
    show = tenants.add_parser("show", help="connections, profiles and recent refresh attempts of one tenant")
    show.add_argument("tenant")

    preflight = groups.add_parser(
        "preflight",
        help="before `cdk deploy`: read-only checks that the deploy can succeed (make deploy runs it)",
    )
    preflight.add_argument(
        "--needs", type=Path, metavar="FILE", help="what the configured stack needs (python -m stacks.needs)"
    )
    preflight.set_defaults(command="run")

    doctor = groups.add_parser(
        "doctor", help="check one deployment: a table of pass / warn / fail with the fix for each"
    )
    doctor.add_argument(
        "--local", metavar="URL", help="check a local-mode deployment (make local prints its URL)"
    )
    doctor.set_defaults(command="run")

    shells = groups.add_parser("completion", help="print a shell completion script").add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )
    shells.add_parser("bash", help="source <(ads-connect completion bash); zsh: run bashcompinit first")
    return parser


def _paging_options(parser: argparse.ArgumentParser, items: str) -> None:
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_PAGE_SIZE, help=f"{items} per page, 1-{MAX_PAGE_SIZE}"
    )
    parser.add_argument("--all", action="store_true", help="follow every page")
    parser.add_argument("--next-token", help="continue a previous listing (same --status)")


def default_client(args: argparse.Namespace, io: Io) -> AdminClient:
    aws = AwsContext(profile=args.profile, region=args.region)
    url = resolve_api_url(
        api_url=args.api_url, stack_name=args.stack_name, aws=aws, environ=io.environ, stage=args.stage
    )
    return AdminClient(url, aws, timeout=args.timeout)


def default_reads(args: argparse.Namespace) -> AwsReads:
    aws = AwsContext(profile=args.profile, region=args.region)
    return AwsReads(boto3.Session(botocore_session=aws.session))


def main(
    argv: Sequence[str] | None = None,
    *,
    io: Io | None = None,
    client_factory: ClientFactory = default_client,
    reads_factory: ReadsFactory = default_reads,
    http: requests.Session | None = None,
) -> int:
    io = io or Io()
    try:
        args = build_parser().parse_args(argv)
        args.stage = resolve_stage(args.stage, io.environ)
        _validate(args)
        if args.group == "preflight":
            return _preflight(args, io, reads_factory)
        if args.group == "doctor":
            return _doctor(args, io, reads_factory, http or requests.Session())
        return _run(args, io, client_factory)
    except CliError as exc:
        io.note(exc.render())
        return int(exc.exit_code)
    except KeyboardInterrupt:
        io.note("interrupted")
        return int(ExitCode.INTERRUPTED)


def _validate(args: argparse.Namespace) -> None:
    if args.timeout <= 0:
        raise CliError(ExitCode.USAGE, "--timeout must be positive")
    if args.command == "list" and args.group in ("connections", "tenants"):
        if not 1 <= args.limit <= MAX_PAGE_SIZE:
            raise CliError(ExitCode.USAGE, f"--limit must be between 1 and {MAX_PAGE_SIZE}")
        if args.all and args.next_token:
            raise CliError(ExitCode.USAGE, "--all and --next-token cannot be combined")
    if args.group == "sessions" and args.command == "create" and args.url_only and args.json:
        raise CliError(ExitCode.USAGE, "--url-only and --json cannot be combined")
    if args.group == "connections" and args.command == "reactivate":
        one = args.tenant is not None and args.connection_region is not None
        if one == args.all or (args.tenant is None) != (args.connection_region is None):
            raise CliError(ExitCode.USAGE, "give TENANT REGION, or --all (with --status), not both")
    if args.group == "connections" and args.command == "disconnect" and not 7 <= args.recovery_days <= 30:
        raise CliError(ExitCode.USAGE, "--recovery-days must be between 7 and 30")


def _run(args: argparse.Namespace, io: Io, client_factory: ClientFactory) -> int:
    handlers: dict[tuple[str, str], Callable[[argparse.Namespace, Io, ClientFactory], int]] = {
        ("credentials", "set"): _credentials_set,
        ("credentials", "check"): _credentials_check,
        ("sessions", "create"): _sessions_create,
        ("sessions", "list"): _sessions_list,
        ("sessions", "revoke"): _sessions_revoke,
        ("connections", "list"): _connections_list,
        ("connections", "refresh"): _connections_refresh,
        ("connections", "resync"): _connections_resync,
        ("connections", "reactivate"): _connections_reactivate,
        ("connections", "disconnect"): _connections_disconnect,
        ("revocations", "list"): _revocations_list,
        ("revocations", "confirm"): _revocations_confirm,
        ("tenants", "list"): _tenants_list,
        ("tenants", "show"): _tenants_show,
        ("completion", "bash"): _completion_bash,
    }
    return handlers[(args.group, args.command)](args, io, client_factory)


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def _doctor(args: argparse.Namespace, io: Io, reads_factory: ReadsFactory, http: requests.Session) -> int:
    target = DoctorTarget(args.stage, args.stack_name or stack_name_for(args.stage), args.local)

    def admin(url: str) -> AdminClient:
        aws = AwsContext(profile=args.profile, region=args.region)
        return AdminClient(admin_base_url(url), aws, timeout=args.timeout, http=http)

    findings = run_doctor(target, reads_factory(args), admin, http, args.timeout)
    where = f" (local mode at {args.local})" if args.local else ""
    io.print(
        render_json(findings)
        if args.json
        else render_table(f"Doctor of {target.stack_name}{where}", findings)
    )
    return int(exit_code(findings))


def _preflight(args: argparse.Namespace, io: Io, reads_factory: ReadsFactory) -> int:
    needs = (
        DeploymentNeeds.from_file(args.needs, args.stage)
        if args.needs
        else DeploymentNeeds.for_stage(args.stage)
    )
    findings = run_preflight(reads_factory(args), needs)
    io.print(
        render_json(findings) if args.json else render_table(f"Preflight of {needs.stack_name}", findings)
    )
    return int(exit_code(findings))


def _completion_bash(_args: argparse.Namespace, io: Io, _client_factory: ClientFactory) -> int:
    io.print(completion.bash_script(build_parser()))
    return int(ExitCode.OK)


def _read_secret(io: Io) -> str:
    interactive = io.stdin.isatty()
    secret = (
        io.getpass("LWA client secret (input hidden): ") if interactive else io.stdin.readline()
    ).strip()
    if not secret:
        raise CliError(ExitCode.USAGE, "no client secret given (pipe it on stdin or type it at the prompt)")
    return secret


def _credentials_set(args: argparse.Namespace, io: Io, client_factory: ClientFactory) -> int:
    # Fail fast, before asking for the secret: finding the API (stack look-up: exit 5 when it
    # is missing) and loading the AWS credentials to sign with (exit 4).
    client = client_factory(args, io)
    client.check_credentials()
    secret = _read_secret(io)
    body = {
        "client_id": args.client_id,
        "client_secret": secret,
        "add_client": args.add_client,
        "replace_client": args.replace_client,
    }
    written = client.request("PUT", ("client-credentials",), body=body).body
    if args.json and not args.check:
        io.print(output.as_json(written))
    elif not args.json:
        io.print(f"Stored the client secret for client id {output.cell(written.get('client_id'))}.")
        io.print(output.cell(written.get("message")))
        io.print(output.clients_text(written))
    if args.check:
        return _show_check(client, args, io)
    io.note("Run `ads-connect credentials check` to check them against Amazon.")
    return int(ExitCode.OK)


def _credentials_check(args: argparse.Namespace, io: Io, client_factory: ClientFactory) -> int:
    return _show_check(client_factory(args, io), args, io)


def _show_check(client: AdminClient, args: argparse.Namespace, io: Io) -> int:
    check = client.request("POST", ("client-credentials", "check")).body
    if args.json:
        io.print(output.as_json(check))
    else:
        verdict = "OK" if check.get("valid") else "FAILED"
        io.print(f"Credentials check {verdict}: {output.cell(check.get('message'))}")
        if check.get("amazon_error_code"):
            io.print(f"Amazon answered {output.cell(check.get('amazon_error_code'))} to the probe.")
        io.print(output.clients_text(check))
    # Accepted by Amazon is not enough: a stored client must exist for every active grant.
    ok = check.get("valid") and check.get("covers_all_grants", True)
    return int(ExitCode.OK if ok else ExitCode.API_ERROR)


def _sessions_create(args: argparse.Namespace, io: Io, client_factory: ClientFactory) -> int:
    body = {
        "region": args.session_region,
        "display_name": args.display_name,
        "return_url": args.return_url,
        "lifetime_seconds": args.lifetime,
    }
    created = (
        client_factory(args, io)
        .request(
            "POST",
            ("tenants", args.tenant, "connect-sessions"),
            body={k: v for k, v in body.items() if v is not None},
        )
        .body
    )
    if args.json:
        io.print(output.as_json(created))
        return int(ExitCode.OK)
    if args.url_only:
        io.print(output.cell(created.get("consent_url")))
        return int(ExitCode.OK)
    io.print(f"Connect session for tenant {output.cell(created.get('tenant_id'))}")
    io.print(f"Expires: {output.when(created.get('expires_at'))}")
    io.print("Consent URL (send it to the advertiser; it works once):")
    # Alone on its line so a terminal's click/copy picks exactly the URL.
    io.print(output.cell(created.get("consent_url")))
    return int(ExitCode.OK)


def _sessions_list(args: argparse.Namespace, io: Io, client_factory: ClientFactory) -> int:
    listed = client_factory(args, io).request("GET", ("tenants", args.tenant, "connect-sessions")).body
    io.print(output.as_json(listed) if args.json else output.sessions_table(listed.get("items") or []))
    return int(ExitCode.OK)


def session_ref(value: str) -> str:
    """The reference of a session: given as such, or computed from its consent URL (the SHA-256
    of the id in its last path segment, as the product stores it), so an operator can withdraw
    a link straight from the e-mail it went out in; the URL itself never leaves this machine."""
    value = value.strip()
    if re.fullmatch(r"[0-9a-f]{64}", value):
        return value
    session_id = urlsplit(value).path.rstrip("/").rsplit("/", 1)[-1]
    if not re.fullmatch(r"[A-Za-z0-9_-]{43}", session_id):
        raise CliError(ExitCode.USAGE, "give the session reference from `sessions list` or the consent URL")
    return hashlib.sha256(session_id.encode()).hexdigest()


def _sessions_revoke(args: argparse.Namespace, io: Io, client_factory: ClientFactory) -> int:
    ref = session_ref(args.session)
    result = client_factory(args, io).request("DELETE", ("connect-sessions", ref)).body
    if args.json:
        io.print(output.as_json(result))
    elif result.get("revoked"):
        io.print(
            f"Withdrew session {ref[:12]}… of {output.cell(result.get('tenant_id'))}: "
            "its link no longer works."
        )
    else:
        io.print(
            f"Session {ref[:12]}… was not open (it is {output.cell(result.get('state'))}); nothing changed."
        )
    return int(ExitCode.OK)


def _revocations_list(args: argparse.Namespace, io: Io, client_factory: ClientFactory) -> int:
    held = client_factory(args, io).request("GET", ("revocations",)).body
    items = held.get("items") or []
    if args.json:
        io.print(output.as_json(held))
    elif not items:
        io.print("No revocation is held.")
    else:
        io.print(output.connections_table(items))
        io.note(
            "These connections answered invalid_grant while many others did: they stay active and are "
            "retried every run (a success clears the hold). If the advertisers really revoked, run "
            "`revocations confirm`."
        )
    return int(ExitCode.OK)


def _revocations_confirm(args: argparse.Namespace, io: Io, client_factory: ClientFactory) -> int:
    if not args.yes:
        if not io.stdin.isatty():
            raise CliError(ExitCode.USAGE, "confirming revocations needs --yes when not run interactively")
        io.stderr.write("Mark every held connection reauthorization_required? Type 'confirm': ")
        io.stderr.flush()
        if io.stdin.readline().strip() != "confirm":
            io.note("Nothing confirmed.")
            return int(ExitCode.USAGE)
    result = client_factory(args, io).request("POST", ("revocations", "confirm")).body
    if args.json:
        io.print(output.as_json(result))
    else:
        io.print(f"Confirmed {len(result.get('confirmed') or [])} revocation(s).")
        if result.get("busy"):
            io.note(f"{result.get('busy')} connection(s) were being refreshed: run the command again.")
    return int(ExitCode.CONFLICT if result.get("busy") else ExitCode.OK)


def _fetch_pages(
    client: AdminClient,
    resource: str,
    *,
    status: str | None,
    limit: int,
    token: str | None,
    every_page: bool,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of ``GET /admin/<resource>`` (or every page): its items and the next token."""
    items: list[dict[str, Any]] = []
    while True:
        page = client.request(
            "GET", (resource,), query={"status": status, "limit": limit, "next_token": token}
        ).body
        items.extend(page.get("items") or [])
        token = page.get("next_token")
        if not every_page or not token:
            return items, token


def _list(args: argparse.Namespace, io: Io, client_factory: ClientFactory, resource: str) -> int:
    items, token = _fetch_pages(
        client_factory(args, io),
        resource,
        status=args.status,
        limit=args.limit,
        token=args.next_token,
        every_page=args.all,
    )
    if args.json:
        io.print(output.as_json({"items": items, "next_token": token}))
        return int(ExitCode.OK)
    render = output.connections_table if resource == "connections" else output.tenants_table
    io.print(render(items))
    if token:
        io.note(f"More {resource}: add --all, or --next-token {token}")
    return int(ExitCode.OK)


def _connections_list(args: argparse.Namespace, io: Io, client_factory: ClientFactory) -> int:
    return _list(args, io, client_factory, "connections")


def _tenants_list(args: argparse.Namespace, io: Io, client_factory: ClientFactory) -> int:
    return _list(args, io, client_factory, "tenants")


def _tenants_show(args: argparse.Namespace, io: Io, client_factory: ClientFactory) -> int:
    detail = client_factory(args, io).request("GET", ("tenants", args.tenant)).body
    io.print(output.as_json(detail) if args.json else output.tenant_text(detail))
    return int(ExitCode.OK)


def _connections_refresh(args: argparse.Namespace, io: Io, client_factory: ClientFactory) -> int:
    result = (
        client_factory(args, io)
        .request("POST", ("tenants", args.tenant, "connections", args.connection_region, "refresh"))
        .body
    )
    io.print(output.as_json(result) if args.json else output.refresh_text(result))
    succeeded = (result.get("attempt") or {}).get("outcome") == "succeeded"
    return int(ExitCode.OK if succeeded else ExitCode.API_ERROR)


def _connections_resync(args: argparse.Namespace, io: Io, client_factory: ClientFactory) -> int:
    result = (
        client_factory(args, io)
        .request("POST", ("tenants", args.tenant, "connections", args.connection_region, "resync-profiles"))
        .body
    )
    io.print(output.as_json(result) if args.json else output.resync_text(result))
    return int(ExitCode.OK)


def _connections_reactivate(args: argparse.Namespace, io: Io, client_factory: ClientFactory) -> int:
    client = client_factory(args, io)
    if args.all:
        listed, _ = _fetch_pages(
            client, "connections", status=args.status, limit=MAX_PAGE_SIZE, token=None, every_page=True
        )
        targets = [(str(c.get("tenant_id")), str(c.get("region"))) for c in listed]
    else:
        targets = [(args.tenant, args.connection_region)]
    results = [
        client.request("POST", ("tenants", tenant, "connections", region, "reactivate")).body
        for tenant, region in targets
    ]
    if args.json:
        io.print(output.as_json(results if args.all else results[0]))
    else:
        io.print(output.reactivation_text(results))
    failed = [r for r in results if not r.get("reactivated") and r.get("outcome") != "already_active"]
    return int(ExitCode.API_ERROR if failed else ExitCode.OK)


def _connections_disconnect(args: argparse.Namespace, io: Io, client_factory: ClientFactory) -> int:
    if not args.yes:
        if not io.stdin.isatty():
            raise CliError(ExitCode.USAGE, "disconnecting needs --yes when not run interactively")
        io.stderr.write(
            f"Disconnect {args.tenant}/{args.connection_region}? Refreshing stops and its secrets are "
            f"deleted after {args.recovery_days} days. Type the tenant id to confirm: "
        )
        io.stderr.flush()
        if io.stdin.readline().strip() != args.tenant:
            io.note("Not disconnected.")
            return int(ExitCode.USAGE)
    result = (
        client_factory(args, io)
        .request(
            "DELETE",
            ("tenants", args.tenant, "connections", args.connection_region),
            query={"recovery_days": args.recovery_days},
        )
        .body
    )
    if args.json:
        io.print(output.as_json(result))
    else:
        state = "was already disconnected" if result.get("already_disconnected") else "disconnected"
        io.print(
            f"{output.cell(result.get('tenant_id'))}/{output.cell(result.get('region'))} {state} at "
            f"{output.when(result.get('disconnected_at'))}; its secrets can be restored for "
            f"{output.cell(result.get('recovery_window_days'))} days. Unused connect sessions withdrawn: "
            f"{output.cell(result.get('sessions_revoked', 0))}."
        )
    return int(ExitCode.OK)
