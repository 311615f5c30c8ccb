"""Readable tables for people, JSON for machines (``--json``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from cli.text import inert


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


def when(value: Any) -> str:
    """ISO time from the API as ``2026-01-01 12:40Z``; ``-`` when absent."""
    if not value:
        return "-"
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return cell(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%d %H:%MZ")


def cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    # One line per row: a value with a newline or tab would break the columns; control
    # characters from the server never reach the terminal (cli/text.py).
    return " ".join(inert(" ".join(str(value).split())).split())


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    lines = ["  ".join(h.upper().ljust(widths[i]) for i, h in enumerate(headers)).rstrip()]
    lines += ["  ".join(v.ljust(widths[i]) for i, v in enumerate(row)).rstrip() for row in cells]
    return "\n".join(lines)


CONNECTION_HEADERS = (
    "tenant",
    "region",
    "status",
    "profiles",
    "token expires",
    "last refresh",
    "failures",
    "last error",
)


def connection_row(c: dict[str, Any], *, with_tenant: bool = True) -> list[Any]:
    row = [
        c.get("tenant_id"),
        c.get("region"),
        c.get("status"),
        _profiles(c),
        when(c.get("access_token_expires_at")),
        when(c.get("last_refresh_success_at")),
        c.get("consecutive_failures", 0),
        c.get("last_refresh_error_code"),
    ]
    return row if with_tenant else row[1:]


def _profiles(c: dict[str, Any]) -> str:
    count = str(c.get("profile_count", 0))
    state = c.get("profiles_state")
    if state and state != "ok":
        count += f" ({state})"
    if c.get("view_only"):
        count += " view-only"
    return count


def connections_table(items: Sequence[dict[str, Any]]) -> str:
    if not items:
        return "No connections."
    return table(CONNECTION_HEADERS, [connection_row(c) for c in items])


def tenant_text(detail: dict[str, Any]) -> str:
    parts = [f"Tenant {cell(detail.get('tenant_id'))}", ""]
    connections = detail.get("connections") or []
    parts.append("Connections")
    parts.append(table(CONNECTION_HEADERS[1:], [connection_row(c, with_tenant=False) for c in connections]))
    for c in connections:
        if c.get("profiles_state_reason"):
            parts.append(f"  {cell(c.get('region'))}: {cell(c.get('profiles_state_reason'))}")
    parts += ["", "Profiles"]
    profiles = detail.get("profiles") or []
    if profiles:
        parts.append(
            table(
                ("region", "profile id", "country", "account", "type", "access", "gone"),
                [
                    [
                        p.get("region"),
                        p.get("profile_id"),
                        p.get("country_code"),
                        p.get("account_name"),
                        p.get("account_type"),
                        p.get("access_level"),
                        p.get("gone"),
                    ]
                    for p in profiles
                ],
            )
        )
    else:
        parts.append("No profiles.")
    parts += ["", "Last refresh attempts"]
    attempts = detail.get("refresh_attempts") or []
    if attempts:
        parts.append(
            table(
                ("when", "region", "outcome", "error", "latency ms", "trigger"),
                [
                    [
                        when(a.get("attempted_at")),
                        a.get("region"),
                        a.get("outcome"),
                        a.get("error_code"),
                        a.get("latency_ms"),
                        a.get("trigger"),
                    ]
                    for a in attempts
                ],
            )
        )
    else:
        parts.append("No refresh attempts yet.")
    return "\n".join(parts)


def refresh_text(result: dict[str, Any]) -> str:
    attempt = result.get("attempt") or {}
    target = f"{cell(result.get('tenant_id'))}/{cell(result.get('region'))}"
    line = f"Refresh of {target}: {cell(attempt.get('outcome'))} in {cell(attempt.get('latency_ms'))} ms"
    if attempt.get("error_code"):
        line += f" (error {cell(attempt.get('error_code'))})"
    connection = result.get("connection")
    if connection:
        line += (
            f"\nStatus {cell(connection.get('status'))}; token expires "
            f"{when(connection.get('access_token_expires_at'))}"
        )
    return line


def resync_text(result: dict[str, Any]) -> str:
    connection = result.get("connection") or {}
    head = (
        f"Profiles of {cell(result.get('tenant_id'))}/{cell(result.get('region'))}: {_profiles(connection)}"
    )
    if connection.get("profiles_state_reason"):
        head += f" - {cell(connection.get('profiles_state_reason'))}"
    profiles = result.get("profiles") or []
    if not profiles:
        return head
    rows = [
        [
            p.get("profile_id"),
            p.get("country_code"),
            p.get("account_name"),
            p.get("access_level"),
            p.get("gone"),
        ]
        for p in profiles
    ]
    return head + "\n" + table(("profile id", "country", "account", "access", "gone"), rows)


def tenants_table(tenants: Sequence[dict[str, Any]]) -> str:
    """``GET /admin/tenants`` items: one line per tenant. Token expiry and last refresh are the
    API's tenant figures (soonest expiry and oldest last success among active connections)."""
    if not tenants:
        return "No tenants."
    rows = [
        [
            t.get("tenant_id"),
            t.get("status"),
            ", ".join(f"{c.get('region')} {c.get('status')}" for c in t.get("connections") or []),
            t.get("profile_count", 0),
            when(t.get("soonest_access_token_expires_at")),
            when(t.get("stalest_refresh_success_at")),
            t.get("consecutive_failures", 0),
        ]
        for t in tenants
    ]
    return table(
        ("tenant", "status", "connections", "profiles", "token expires", "last refresh", "failures"), rows
    )
