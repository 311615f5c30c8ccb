"""The one result shape of ``preflight`` and ``doctor``: a finding per check (pass / warn / fail,
what was found, and the fix), one table renderer, and the exit code the findings give."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum

from cli.errors import ExitCode
from cli.output import table


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 (a check outcome, not a password)
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    found: str
    fix: str = ""


def passed(check: str, found: str) -> Finding:
    return Finding(check, Status.PASS, found)


def warned(check: str, found: str, fix: str) -> Finding:
    return Finding(check, Status.WARN, found, fix)


def failed(check: str, found: str, fix: str) -> Finding:
    return Finding(check, Status.FAIL, found, fix)


def exit_code(findings: Sequence[Finding]) -> ExitCode:
    """Any fail is a failed check (exit 1); warnings alone are not."""
    return ExitCode.API_ERROR if any(f.status is Status.FAIL for f in findings) else ExitCode.OK


def render_table(title: str, findings: Sequence[Finding]) -> str:
    """``title``, the CLI's one table (status, check, what was found, the fix), and a count."""
    rows = [
        (f.status.value.upper(), f.check, f.found, f.fix if f.status is not Status.PASS else "")
        for f in findings
    ]
    counts = {s: sum(1 for f in findings if f.status is s) for s in Status}
    summary = f"{counts[Status.PASS]} passed, {counts[Status.WARN]} warnings, {counts[Status.FAIL]} failed"
    return "\n".join([title, table(["status", "check", "found", "fix"], rows), summary])


def render_json(findings: Sequence[Finding]) -> str:
    return json.dumps(
        {"findings": [{**asdict(f), "status": f.status.value} for f in findings]}, indent=2, sort_keys=True
    )
