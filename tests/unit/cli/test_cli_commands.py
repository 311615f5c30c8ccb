"""CLI commands: what each one sends, what it prints, which exit code it returns."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from cli.errors import ExitCode
from tests.unit.cli.conftest import API_URL, Cli, response

SECRET = "fake-lwa-secret-typed-by-operator"

CONNECTION = {
    "tenant_id": "acme",
    "region": "NA",
    "status": "active",
    "display_name": None,
    "connected_at": "2026-01-01T10:00:00Z",
    "profile_count": 2,
    "profiles_state": "ok",
    "profiles_state_reason": None,
    "view_only": False,
    "access_token_expires_at": "2026-01-01T12:40:00Z",
    "refresh_due_at": "2026-01-01T12:25:00Z",
    "last_refresh_success_at": "2026-01-01T11:40:00Z",
    "last_refresh_failure_at": None,
    "last_refresh_error_code": None,
    "consecutive_failures": 0,
    "reauthorization_required_at": None,
    "disconnected_at": None,
}


def path_and_query(url: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(url)
    return parts.path, parse_qs(parts.query)


# -- credentials ------------------------------------------------------------------------------


def test_secret_cannot_be_given_as_an_argument_and_is_not_echoed(cli: Cli) -> None:
    for argv in (
        ("credentials", "set", "--client-id", "cid", "--client-secret", SECRET),
        ("credentials", "set", "--client-id", "cid", f"--client-secret={SECRET}"),
        ("credentials", "set", "--client-id", "cid", SECRET),
    ):
        run = cli.run(*argv, stdin="")
        assert run.code == ExitCode.USAGE
        assert SECRET not in run.err + run.out
    assert cli.http.sent == []


def test_secret_is_read_from_piped_stdin(cli: Cli) -> None:
    cli.http.answers.append(response(200, {"client_id": "cid", "updated_at": "2026-01-01T12:00:00Z"}))

    run = cli.run("credentials", "set", "--client-id", "cid", stdin=SECRET + "\n")

    assert run.code == ExitCode.OK
    assert cli.http.json_body() == {"client_id": "cid", "client_secret": SECRET}
    assert cli.http.sent[0].method == "PUT"
    assert urlsplit(cli.http.sent[0].url).path == "/admin/client-credentials"
    assert SECRET not in run.out + run.err and SECRET not in cli.http.sent[0].url
    assert cli.prompts == []


def test_secret_is_read_from_a_hidden_prompt_on_a_terminal(cli: Cli) -> None:
    cli.http.answers.append(response(200, {"client_id": "cid", "updated_at": "2026-01-01T12:00:00Z"}))

    run = cli.run("credentials", "set", "--client-id", "cid", tty=True, typed=SECRET)

    assert run.code == ExitCode.OK
    assert len(cli.prompts) == 1 and "hidden" in cli.prompts[0]
    assert cli.http.json_body()["client_secret"] == SECRET


def test_empty_secret_is_a_usage_error(cli: Cli) -> None:
    run = cli.run("credentials", "set", "--client-id", "cid", stdin="\n")
    assert run.code == ExitCode.USAGE
    assert cli.http.sent == []


def test_set_with_check_runs_both(cli: Cli) -> None:
    cli.http.answers += [
        response(200, {"client_id": "cid", "updated_at": "2026-01-01T12:00:00Z"}),
        response(200, _check(valid=True)),
    ]
    run = cli.run("credentials", "set", "--client-id", "cid", "--check", stdin=SECRET)
    assert run.code == ExitCode.OK
    assert [urlsplit(s.url).path for s in cli.http.sent] == [
        "/admin/client-credentials",
        "/admin/client-credentials/check",
    ]
    assert "Credentials check OK" in run.out


def test_set_checks_the_aws_credentials_before_asking_for_the_secret(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)

    run = cli.run("credentials", "set", "--client-id", "cid", tty=True, typed=SECRET)

    assert run.code == ExitCode.AUTH and "no AWS credentials" in run.err
    assert cli.prompts == []  # never asked for a secret it could not have sent
    assert cli.http.sent == []


def test_set_finds_the_stack_before_asking_for_the_secret(aws_env: None) -> None:
    import io

    from moto import mock_aws

    from cli.main import Io, main
    from tests.unit.cli.conftest import FakeStdin

    prompts: list[str] = []
    err = io.StringIO()
    streams = Io(
        stdin=FakeStdin("", tty=True),
        stdout=io.StringIO(),
        stderr=err,
        getpass=lambda prompt: prompts.append(prompt) or SECRET,
        environ={},
    )
    with mock_aws():  # an account without the stack
        code = main(["credentials", "set", "--client-id", "cid"], io=streams)

    assert code == ExitCode.UNREACHABLE and "not found" in err.getvalue()
    assert prompts == []


def _check(*, valid: bool) -> dict[str, object]:
    return {
        "client_id": "cid",
        "result": "accepted" if valid else "rejected",
        "valid": valid,
        "amazon_error_code": "invalid_grant" if valid else "invalid_client",
        "pause_cleared": False,
        "message": "Amazon accepted the client id and secret." if valid else "Amazon rejected them.",
    }


def test_set_with_a_check_that_fails_exits_1_after_storing(cli: Cli) -> None:
    cli.http.answers += [
        response(200, {"client_id": "cid", "updated_at": "2026-01-01T12:00:00Z"}),
        response(200, _check(valid=False)),
    ]
    run = cli.run("--json", "credentials", "set", "--client-id", "cid", "--check", stdin=SECRET)
    assert run.code == ExitCode.API_ERROR
    assert len(cli.http.sent) == 2 and json.loads(run.out)["result"] == "rejected"
    assert SECRET not in run.out + run.err


@pytest.mark.parametrize(("valid", "code"), [(True, ExitCode.OK), (False, ExitCode.API_ERROR)])
def test_credentials_check_exit_code_follows_the_verdict(cli: Cli, valid: bool, code: ExitCode) -> None:
    cli.http.answers.append(response(200, _check(valid=valid)))
    run = cli.run("credentials", "check")
    assert run.code == code
    assert ("OK" if valid else "FAILED") in run.out


# -- sessions ---------------------------------------------------------------------------------


def test_sessions_create_sends_options_and_prints_the_url_alone_on_a_line(cli: Cli) -> None:
    url = "https://connect.example.com/connect/abcdef"
    cli.http.answers.append(
        response(
            201,
            {"tenant_id": "acme", "consent_url": url, "expires_at": "2026-01-01T13:00:00Z", "region": "EU"},
        )
    )

    run = cli.run(
        "sessions", "create", "acme", "--region", "eu", "--display-name", "Acme Inc", "--lifetime", "900"
    )

    assert run.code == ExitCode.OK
    assert urlsplit(cli.http.sent[0].url).path == "/admin/tenants/acme/connect-sessions"
    assert cli.http.json_body() == {"region": "EU", "display_name": "Acme Inc", "lifetime_seconds": 900}
    assert url in run.out.splitlines()
    assert "2026-01-01 13:00Z" in run.out


def test_sessions_create_url_only_prints_just_the_url(cli: Cli) -> None:
    url = "https://connect.example.com/connect/abcdef"
    cli.http.answers.append(
        response(201, {"tenant_id": "acme", "consent_url": url, "expires_at": "2026-01-01T13:00:00Z"})
    )
    run = cli.run("sessions", "create", "acme", "--url-only")
    assert run.code == ExitCode.OK
    assert run.out.startswith(url) and run.out.count("\n") == 1
    assert not any(c in run.out for c in CONTROLS), repr(run.out)


def test_tenant_ids_are_path_escaped(cli: Cli) -> None:
    cli.http.answers.append(
        response(404, {"error": {"code": "tenant_not_found", "message": "No", "reference": "r"}})
    )
    cli.run("tenants", "show", "a/b?c")
    assert urlsplit(cli.http.sent[0].url).path == "/admin/tenants/a%2Fb%3Fc"


# -- listing ----------------------------------------------------------------------------------


def test_connections_list_table(cli: Cli) -> None:
    failing = CONNECTION | {
        "tenant_id": "beta",
        "status": "reauthorization_required",
        "consecutive_failures": 3,
        "last_refresh_error_code": "invalid_grant",
        "profiles_state": "empty",
        "profile_count": 0,
    }
    cli.http.answers.append(response(200, {"items": [failing, CONNECTION], "next_token": None}))

    run = cli.run("connections", "list", "--status", "reauthorization_required", "--limit", "10")

    assert run.code == ExitCode.OK
    _, query = path_and_query(cli.http.sent[0].url)
    assert query == {"status": ["reauthorization_required"], "limit": ["10"]}
    lines = run.out.splitlines()
    assert lines[0].split()[:3] == ["TENANT", "REGION", "STATUS"]
    assert "beta" in lines[1] and "invalid_grant" in lines[1] and "0 (empty)" in lines[1]
    assert "2026-01-01 12:40Z" in lines[2]


def test_connections_list_all_follows_pages_and_json_output(cli: Cli) -> None:
    cli.http.answers += [
        response(200, {"items": [CONNECTION], "next_token": "tok-1"}),
        response(200, {"items": [CONNECTION | {"tenant_id": "zeta"}], "next_token": None}),
    ]

    run = cli.run("--json", "connections", "list", "--all", "--limit", "1")

    assert run.code == ExitCode.OK
    assert [path_and_query(s.url)[1].get("next_token") for s in cli.http.sent] == [None, ["tok-1"]]
    data = json.loads(run.out)
    assert [c["tenant_id"] for c in data["items"]] == ["acme", "zeta"] and data["next_token"] is None


def test_connections_list_single_page_says_how_to_continue(cli: Cli) -> None:
    cli.http.answers.append(response(200, {"items": [CONNECTION], "next_token": "tok-1"}))
    run = cli.run("connections", "list", "--limit", "1")
    assert len(cli.http.sent) == 1
    assert "--next-token tok-1" in run.err


def test_empty_listing(cli: Cli) -> None:
    cli.http.answers.append(response(200, {"items": [], "next_token": None}))
    assert cli.run("connections", "list").out.strip() == "No connections."


@pytest.mark.parametrize(
    "argv",
    [
        ("connections", "list", "--limit", "0"),
        ("connections", "list", "--limit", "101"),
        ("connections", "list", "--status", "broken"),
        ("connections", "list", "--all", "--next-token", "x"),
        ("tenants", "list", "--limit", "0"),
        ("tenants", "list", "--limit", "101"),
        ("tenants", "list", "--status", "broken"),
        ("tenants", "list", "--all", "--next-token", "x"),
        ("--json", "sessions", "create", "acme", "--url-only"),
        ("connections", "resync", "acme"),
        ("tenants", "show"),
        ("connections", "disconnect", "acme", "NA", "--recovery-days", "3", "--yes"),
        ("--timeout", "0", "connections", "list"),
        ("tenants",),
        (),
    ],
)
def test_usage_errors_exit_2_without_calling_the_api(cli: Cli, argv: tuple[str, ...]) -> None:
    run = cli.run(*argv)
    assert run.code == ExitCode.USAGE
    assert run.err.startswith("error: ")
    assert cli.http.sent == []


# -- tenant, refresh, resync, disconnect --------------------------------------------------------


def test_tenants_show_prints_connections_profiles_and_attempts(cli: Cli) -> None:
    detail = {
        "tenant_id": "acme",
        "connections": [CONNECTION],
        "profiles": [
            {
                "region": "NA",
                "profile_id": "12345678901234567890",
                "country_code": "US",
                "currency_code": "USD",
                "marketplace_id": "ATVPDKIKX0DER",
                "account_id": "A1",
                "account_type": "seller",
                "account_name": "Acme\tStore",
                "access_level": "view",
                "gone": True,
                "first_seen_at": "2026-01-01T10:00:00Z",
                "last_seen_at": "2026-01-01T11:00:00Z",
            }
        ],
        "refresh_attempts": [
            {
                "region": "NA",
                "attempted_at": "2026-01-01T11:40:00Z",
                "outcome": "transient_failure",
                "error_code": "server_error",
                "latency_ms": 812,
                "rotated": False,
                "trigger": "schedule",
            }
        ],
    }
    cli.http.answers.append(response(200, detail))

    run = cli.run("tenants", "show", "acme")

    assert run.code == ExitCode.OK
    assert "12345678901234567890" in run.out  # never rounded through a float
    assert "Acme Store" in run.out and "view" in run.out and "yes" in run.out
    assert "transient_failure" in run.out and "server_error" in run.out and "812" in run.out


@pytest.mark.parametrize(("outcome", "code"), [("succeeded", ExitCode.OK), ("reauthorization_required", 1)])
def test_refresh_prints_outcome_and_sets_exit_code(cli: Cli, outcome: str, code: int) -> None:
    attempt = {
        "region": "NA",
        "attempted_at": "2026-01-01T12:00:00Z",
        "outcome": outcome,
        "error_code": None if outcome == "succeeded" else "invalid_grant",
        "latency_ms": 120,
        "rotated": False,
        "trigger": "admin",
    }
    cli.http.answers.append(
        response(200, {"tenant_id": "acme", "region": "NA", "attempt": attempt, "connection": CONNECTION})
    )

    run = cli.run("connections", "refresh", "acme", "na")

    assert run.code == code
    assert cli.http.sent[0].method == "POST"
    assert urlsplit(cli.http.sent[0].url).path == "/admin/tenants/acme/connections/NA/refresh"
    assert outcome in run.out


def test_resync(cli: Cli) -> None:
    cli.http.answers.append(
        response(
            200,
            {
                "tenant_id": "acme",
                "region": "FE",
                "connection": CONNECTION | {"region": "FE"},
                "profiles": [],
            },
        )
    )
    run = cli.run("connections", "resync", "acme", "FE")
    assert run.code == ExitCode.OK
    assert urlsplit(cli.http.sent[0].url).path == "/admin/tenants/acme/connections/FE/resync-profiles"
    assert "Profiles of acme/FE: 2" in run.out


DISCONNECTED = {
    "tenant_id": "acme",
    "region": "NA",
    "status": "disconnected",
    "disconnected_at": datetime(2026, 1, 1, 12, tzinfo=UTC).isoformat(),
    "recovery_window_days": 9,
    "already_disconnected": False,
}


def test_disconnect_with_yes(cli: Cli) -> None:
    cli.http.answers.append(response(200, DISCONNECTED))
    run = cli.run("connections", "disconnect", "acme", "NA", "--recovery-days", "9", "--yes")
    assert run.code == ExitCode.OK
    sent = cli.http.sent[0]
    assert sent.method == "DELETE"
    assert path_and_query(sent.url) == ("/admin/tenants/acme/connections/NA", {"recovery_days": ["9"]})
    assert "restored for 9 days" in run.out


def test_disconnect_needs_yes_when_not_interactive(cli: Cli) -> None:
    run = cli.run("connections", "disconnect", "acme", "NA", stdin="acme\n")
    assert run.code == ExitCode.USAGE and "--yes" in run.err
    assert cli.http.sent == []


@pytest.mark.parametrize(("typed", "calls"), [("acme\n", 1), ("nope\n", 0)])
def test_disconnect_interactive_confirmation(cli: Cli, typed: str, calls: int) -> None:
    cli.http.answers.append(response(200, DISCONNECTED))
    run = cli.run("connections", "disconnect", "acme", "NA", stdin=typed, tty=True)
    assert len(cli.http.sent) == calls
    assert run.code == (ExitCode.OK if calls else ExitCode.USAGE)


# -- API errors -> exit codes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "code", "text"),
    [
        (
            404,
            {"error": {"code": "tenant_not_found", "message": "No connection.", "reference": "ref1"}},
            3,
            "ref1",
        ),
        (
            409,
            {"error": {"code": "refresh_in_progress", "message": "Busy.", "reference": "ref2"}},
            6,
            "Busy.",
        ),
        (
            400,
            {"error": {"code": "invalid_tenant_id", "message": "Bad id.", "reference": "ref3"}},
            2,
            "Bad id.",
        ),
        (403, {"message": "Forbidden"}, 4, "execute-api:Invoke"),
        (403, {"error": {"code": "forbidden", "message": "Sign it.", "reference": "r"}}, 4, "Sign it."),
        (500, {"error": {"code": "internal_error", "message": "Oops.", "reference": "ref5"}}, 1, "ref5"),
        (502, None, 1, "HTTP 502"),
        (503, {"error": {"code": "amazon_unavailable", "message": "Later.", "reference": "r"}}, 1, "Later."),
    ],
)
def test_api_errors_map_to_stable_exit_codes(
    cli: Cli, status: int, body: object, code: int, text: str
) -> None:
    cli.http.answers.append(response(status, body))
    run = cli.run("tenants", "show", "acme")
    assert run.code == code
    assert text in run.err and run.err.startswith("error: ")
    assert run.out == ""


@pytest.mark.parametrize(
    "argv",
    [("sessions", "create", "acme", "--region", "xx"), ("connections", "refresh", "acme", "xx")],
)
def test_an_unknown_region_is_refused_by_the_api_with_the_accepted_codes(
    cli: Cli, argv: tuple[str, ...]
) -> None:
    # The CLI keeps no region list (the product's region table is the one list): the admin API
    # answers 400 naming the accepted codes, and that is a usage error.
    message = "region must be one of NA, EU, FE."
    cli.http.answers.append(response(400, {"error": {"code": "unknown_region", "message": message}}))
    run = cli.run(*argv)
    assert run.code == ExitCode.USAGE and message in run.err
    sent = cli.http.sent[0]
    assert "/XX/" in sent.url or (cli.http.json_body() or {}).get("region") == "XX"


@pytest.mark.parametrize(
    ("failure", "text"),
    [
        (requests.ConnectionError("refused"), "could not reach"),
        (requests.ReadTimeout("slow"), "did not answer"),
    ],
)
def test_network_errors_exit_5(cli: Cli, failure: Exception, text: str) -> None:
    cli.http.answers.append(failure)
    run = cli.run("connections", "list")
    assert run.code == ExitCode.UNREACHABLE
    assert text in run.err


def test_non_json_success_is_an_api_error(cli: Cli) -> None:
    cli.http.answers.append(response(200, raw=b"<html>proxy</html>"))
    run = cli.run("connections", "list")
    assert run.code == ExitCode.API_ERROR


def test_every_request_has_a_timeout(cli: Cli) -> None:
    cli.http.answers.append(response(200, {"items": [], "next_token": None}))
    cli.run("--timeout", "7", "connections", "list")
    assert cli.http.sent[0].timeout == (5.0, 7.0)


def test_missing_aws_credentials_exit_4(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    run = cli.run("connections", "list")
    assert run.code == ExitCode.AUTH
    assert "no AWS credentials" in run.err
    assert cli.http.sent == []


def test_api_url_is_the_base(cli: Cli) -> None:
    cli.http.answers.append(response(200, {"items": [], "next_token": None}))
    cli.run("connections", "list")
    assert cli.http.sent[0].url.startswith(API_URL + "/admin/connections")


TENANT = {
    "tenant_id": "acme",
    "status": "reauthorization_required",
    "connections": [
        CONNECTION | {"region": "EU", "status": "reauthorization_required", "consecutive_failures": 4},
        CONNECTION,
    ],
    "profile_count": 4,
    "consecutive_failures": 4,
    "soonest_access_token_expires_at": "2026-01-01T12:40:00Z",
    "stalest_refresh_success_at": "2026-01-01T11:40:00Z",
}


def test_tenants_list_prints_one_page_of_tenants_and_how_to_continue(cli: Cli) -> None:
    cli.http.answers.append(response(200, {"items": [TENANT], "next_token": "tok-1"}))

    run = cli.run("tenants", "list", "--status", "active", "--limit", "1")

    assert run.code == ExitCode.OK
    assert len(cli.http.sent) == 1  # one page, not every page
    assert path_and_query(cli.http.sent[0].url) == (
        "/admin/tenants",
        {"status": ["active"], "limit": ["1"]},
    )
    lines = run.out.splitlines()
    assert lines[0].split() == [
        "TENANT", "STATUS", "CONNECTIONS", "PROFILES", "TOKEN", "EXPIRES", "LAST", "REFRESH", "FAILURES"
    ]  # fmt: skip
    assert lines[1].startswith("acme") and "EU reauthorization_required, NA active" in lines[1]
    assert "2026-01-01 12:40Z" in lines[1] and "2026-01-01 11:40Z" in lines[1]
    assert lines[1].split()[-1] == "4"
    assert "--next-token tok-1" in run.err


def test_tenants_list_continues_from_a_token(cli: Cli) -> None:
    cli.http.answers.append(response(200, {"items": [], "next_token": None}))
    run = cli.run("tenants", "list", "--next-token", "tok-1")
    assert run.code == ExitCode.OK and run.out.strip() == "No tenants."
    assert path_and_query(cli.http.sent[0].url)[1] == {"limit": ["50"], "next_token": ["tok-1"]}
    assert run.err == ""


def test_tenants_list_all_follows_every_page_and_json_output(cli: Cli) -> None:
    cli.http.answers += [
        response(200, {"items": [TENANT], "next_token": "tok-1"}),
        response(200, {"items": [], "next_token": "tok-2"}),  # a short page can still have more
        response(200, {"items": [TENANT | {"tenant_id": "zeta"}], "next_token": None}),
    ]

    run = cli.run("--json", "tenants", "list", "--all", "--limit", "1")

    assert run.code == ExitCode.OK
    assert [path_and_query(s.url)[1].get("next_token") for s in cli.http.sent] == [None, ["tok-1"], ["tok-2"]]
    data = json.loads(run.out)
    assert [t["tenant_id"] for t in data["items"]] == ["acme", "zeta"] and data["next_token"] is None


# -- server-provided text is inert on the terminal --------------------------------------------

HOSTILE = "Acme\x1b[2J\x1b]8;;https://evil.example\x07Store\rX\x9b31m\u202e\x00"
CONTROLS = ("\x1b", "\x07", "\r", "\x9b", "\u202e", "\x00")


def test_tables_and_messages_drop_control_characters_but_json_keeps_them(cli: Cli) -> None:
    # Given a tenant detail whose names and reasons carry escape sequences, bell, CR and bidi marks
    hostile_connection = {**CONNECTION, "tenant_id": HOSTILE, "profiles_state_reason": HOSTILE,
                          "last_refresh_error_code": HOSTILE, "access_token_expires_at": HOSTILE}  # fmt: skip
    detail = {
        "tenant_id": HOSTILE,
        "connections": [hostile_connection],
        "profiles": [{"region": "NA", "profile_id": "1", "account_name": HOSTILE, "gone": False}],
        "refresh_attempts": [{"region": "NA", "attempted_at": HOSTILE, "outcome": HOSTILE}],
    }
    cli.http.answers += [
        response(200, detail),
        response(200, {"items": [hostile_connection], "next_token": None}),
        response(200, detail),
    ]
    # When the operator reads it as tables
    shown = cli.run("tenants", "show", "acme")
    listed = cli.run("connections", "list")
    # Then no control character reaches the terminal, and the visible text is still there
    for run in (shown, listed):
        assert run.code == ExitCode.OK
        assert not any(c in run.out for c in CONTROLS), repr(run.out)
        assert "Acme" in run.out
    # And --json output stays exact (JSON escapes the characters itself)
    exact = cli.run("--json", "tenants", "show", "acme")
    assert json.loads(exact.out)["tenant_id"] == HOSTILE


def test_error_messages_from_the_server_drop_control_characters(cli: Cli) -> None:
    cli.http.answers.append(
        response(400, {"error": {"code": HOSTILE, "message": HOSTILE, "reference": HOSTILE}})
    )
    run = cli.run("tenants", "show", "acme")
    assert run.code == ExitCode.USAGE
    assert run.err.startswith("error: Acme") and not any(c in run.err for c in CONTROLS), repr(run.err)


def test_the_consent_url_is_printed_without_control_characters(cli: Cli) -> None:
    url = "https://connect.example.com/connect/abc"
    created = {"tenant_id": "acme", "consent_url": url + "\x1b[8m\r", "expires_at": "2026-01-01T12:00:00Z"}
    cli.http.answers.append(response(201, created))
    run = cli.run("sessions", "create", "acme", "--url-only")
    assert run.out.startswith(url) and run.out.count("\n") == 1
    assert not any(c in run.out for c in CONTROLS), repr(run.out)
