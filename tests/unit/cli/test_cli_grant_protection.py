"""The CLI side of grant protection: explicit client changes, coverage in the check, reactivation."""

from __future__ import annotations

from urllib.parse import urlsplit

from cli.errors import ExitCode
from tests.unit.cli.conftest import Cli, response

SECRET = "cli-fake-client-secret"
WRITTEN = {
    "client_id": "amzn1.application-oa2-client.dev",
    "updated_at": "2026-01-01T12:00:00Z",
    "change": "replace_client",
    "stored_client_ids": ["amzn1.application-oa2-client.dev"],
    "grants_by_client": {"amzn1.application-oa2-client.prod": 9},
    "uncovered_grants": {"amzn1.application-oa2-client.prod": 9},
    "mismatch_pause_cleared": False,
    "message": "Stored as the only client.",
}


def test_replace_client_is_sent_and_the_orphaned_grants_are_shown(cli: Cli) -> None:
    cli.http.answers.append(response(200, WRITTEN))
    run = cli.run(
        "credentials",
        "set",
        "--client-id",
        "amzn1.application-oa2-client.dev",
        "--replace-client",
        stdin=SECRET,
    )
    assert run.code == ExitCode.OK
    assert cli.http.json_body()["replace_client"] is True and cli.http.json_body()["add_client"] is False
    assert "9 active grant(s) have no stored client" in run.out
    assert "no: paused" in run.out and SECRET not in run.out + run.err


def test_add_and_replace_cannot_be_combined(cli: Cli) -> None:
    run = cli.run("credentials", "set", "--client-id", "x", "--add-client", "--replace-client", stdin=SECRET)
    assert run.code == ExitCode.USAGE and cli.http.sent == []


def test_a_refused_client_change_is_a_conflict_with_the_api_s_message(cli: Cli) -> None:
    message = "client amzn1.application-oa2-client.dev holds none of the active grants (9 with prod)"
    cli.http.answers.append(
        response(409, {"error": {"code": "client_change_refused", "message": message, "reference": "r" * 16}})
    )
    run = cli.run("credentials", "set", "--client-id", "amzn1.application-oa2-client.dev", stdin=SECRET)
    assert run.code == ExitCode.CONFLICT
    assert "holds none of the active grants" in run.err


def test_a_check_that_amazon_accepts_but_that_leaves_grants_uncovered_fails(cli: Cli) -> None:
    check = {
        "client_id": "amzn1.application-oa2-client.dev",
        "result": "accepted",
        "valid": True,
        "amazon_error_code": "invalid_grant",
        "pause_cleared": False,
        "message": "Amazon accepted the client id and secret.",
        "stored_client_ids": ["amzn1.application-oa2-client.dev"],
        "grants_by_client": {"amzn1.application-oa2-client.prod": 3},
        "uncovered_grants": {"amzn1.application-oa2-client.prod": 3},
        "covers_all_grants": False,
    }
    cli.http.answers.append(response(200, check))
    run = cli.run("credentials", "check")
    assert run.code == ExitCode.API_ERROR
    assert "Credentials check OK" in run.out and "3 active grant(s) have no stored client" in run.out


def _reactivation(tenant: str, reactivated: bool, outcome: str) -> dict[str, object]:
    return {
        "tenant_id": tenant,
        "region": "NA",
        "reactivated": reactivated,
        "outcome": outcome,
        "error_code": None if reactivated else "invalid_grant",
        "message": "m",
        "connection": None,
    }


def test_reactivate_one_connection(cli: Cli) -> None:
    cli.http.answers.append(response(200, _reactivation("acme", True, "succeeded")))
    run = cli.run("connections", "reactivate", "acme", "na")
    assert run.code == ExitCode.OK
    assert urlsplit(cli.http.sent[0].url).path == "/admin/tenants/acme/connections/NA/reactivate"


def test_reactivate_all_walks_the_listing_and_reports_the_ones_that_stay(cli: Cli) -> None:
    listing = {"items": [{"tenant_id": "acme", "region": "NA"}, {"tenant_id": "globex", "region": "NA"}]}
    cli.http.answers += [
        response(200, {**listing, "next_token": None}),
        response(200, _reactivation("acme", True, "succeeded")),
        response(200, _reactivation("globex", False, "reauthorization_required")),
    ]
    run = cli.run("connections", "reactivate", "--all")
    assert "status=reauthorization_required" in cli.http.sent[0].url
    assert [urlsplit(s.url).path for s in cli.http.sent[1:]] == [
        "/admin/tenants/acme/connections/NA/reactivate",
        "/admin/tenants/globex/connections/NA/reactivate",
    ]
    assert run.code == ExitCode.API_ERROR and "globex" in run.out


def test_reactivate_needs_a_connection_or_all_but_not_both(cli: Cli) -> None:
    assert cli.run("connections", "reactivate").code == ExitCode.USAGE
    assert cli.run("connections", "reactivate", "acme").code == ExitCode.USAGE
    assert cli.run("connections", "reactivate", "acme", "NA", "--all").code == ExitCode.USAGE


def test_sessions_revoke_accepts_the_consent_url_and_sends_only_its_hash(cli: Cli) -> None:
    import hashlib

    session_id = "A" * 43
    ref = hashlib.sha256(session_id.encode()).hexdigest()
    cli.http.answers.append(
        response(200, {"session_ref": ref, "tenant_id": "acme", "revoked": True, "state": "revoked"})
    )
    run = cli.run("sessions", "revoke", f"https://connect.example.com/connect/{session_id}")
    assert run.code == ExitCode.OK
    assert urlsplit(cli.http.sent[0].url).path == f"/admin/connect-sessions/{ref}"
    assert session_id not in cli.http.sent[0].url and "Withdrew" in run.out


def test_sessions_revoke_refuses_what_is_neither_a_reference_nor_a_consent_url(cli: Cli) -> None:
    assert cli.run("sessions", "revoke", "not-a-session").code == ExitCode.USAGE
    assert cli.http.sent == []


def test_sessions_list_shows_states_not_links(cli: Cli) -> None:
    item = {
        "session_ref": "f" * 64,
        "tenant_id": "acme",
        "region": None,
        "display_name": "Acme",
        "created_at": "2026-01-01T12:00:00Z",
        "expires_at": "2026-01-08T12:00:00Z",
        "used_at": None,
        "revoked_at": None,
        "state": "open",
    }
    cli.http.answers.append(response(200, {"items": [item]}))
    run = cli.run("sessions", "list", "acme")
    assert run.code == ExitCode.OK and "open" in run.out and "any" in run.out
    assert urlsplit(cli.http.sent[0].url).path == "/admin/tenants/acme/connect-sessions"
