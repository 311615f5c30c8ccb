"""``doctor``: is one deployment healthy? A finding per check, each with its fix (docs/deploy.md,
step 7): the stack and its outputs; the preflight checks of the account; client credentials
stored and accepted by Amazon; the refresh schedule enabled; work queue and dead-letter queue
depth; alarms in ALARM; the consent page answering with its security headers; connections by
status; capacity against the Secrets Manager write budget; a monthly cost estimate.

Against local mode (``--local URL``) the outputs come from ``GET URL/__local__/stack`` instead of
CloudFormation, and the account checks (bootstrap, concurrency) are skipped: local mode has none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import requests

from cli.aws_reads import AwsReads, StackInfo
from cli.client import AdminClient
from cli.errors import CliError, ExitCode
from cli.findings import Finding, Status, failed, passed, warned
from cli.preflight import DeploymentNeeds, run_preflight

# The table's status index (lambdas/ads_connect/table_schema.py; the CLI does not import it, a
# test pins the copy) and the statuses it holds.
STATUS_INDEX: Final = "status-index"
STATUS_KEY: Final = "connection_status"
STATUSES: Final = ("active", "reauthorization_required", "disconnected")
# Every page the product serves carries these (lambdas/ads_connect/pages/render.py).
SECURITY_HEADERS: Final = (
    "Content-Security-Policy",
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
)
# A consent link that cannot exist: the page must answer it with its friendly error page.
PROBE_PATH: Final = "connect/doctor-probe-not-a-session"
ACCESS_TOKEN_SECONDS: Final = 3600
CAPACITY_WARN_SHARE: Final = 0.8
MONTH_SECONDS: Final = 30 * 86400
# Prices in us-east-1 (USD), before free tiers:
# Secrets Manager $0.40 per secret-month and $0.05 per 10,000 API calls
# (https://aws.amazon.com/secrets-manager/pricing/); KMS $1 per customer-managed key-month and
# $0.03 per 10,000 requests (https://aws.amazon.com/kms/pricing/).
SECRET_MONTH_USD: Final = 0.40
SECRETS_API_PER_10K_USD: Final = 0.05
KMS_KEY_MONTH_USD: Final = 1.00
KMS_REQUESTS_PER_10K_USD: Final = 0.03
KMS_KEYS: Final = 2  # the private-token key and the alert topic's key
# Per refresh: GetSecretValue of the refresh token + PutSecretValue of the access token; the
# refresh-token read decrypts with the private-token key once.
SECRETS_CALLS_PER_REFRESH: Final = 2
KMS_REQUESTS_PER_REFRESH: Final = 1
# The outputs every other check reads.
NEEDED_OUTPUTS: Final = (
    "AdminApiUrl",
    "ConsentBaseUrl",
    "TableName",
    "WorkQueueUrl",
    "WorkDeadLetterQueueUrl",
)


@dataclass(frozen=True)
class DoctorTarget:
    stage: str
    stack_name: str
    local_url: str | None = None


@dataclass(frozen=True)
class MonthlyCost:
    secrets: float
    secrets_api: float
    kms: float

    @property
    def total(self) -> float:
        return self.secrets + self.secrets_api + self.kms


def monthly_cost(connections: int, refresh_lead_seconds: int) -> MonthlyCost:
    """What the stored tokens cost a month: two secrets per connection plus the LWA secret, the
    Secrets Manager and KMS calls of its refreshes (one every 3600 - lead seconds), two keys."""
    refreshes = connections * MONTH_SECONDS / (ACCESS_TOKEN_SECONDS - refresh_lead_seconds)
    return MonthlyCost(
        secrets=(2 * connections + 1) * SECRET_MONTH_USD,
        secrets_api=refreshes * SECRETS_CALLS_PER_REFRESH / 10_000 * SECRETS_API_PER_10K_USD,
        kms=KMS_KEYS * KMS_KEY_MONTH_USD
        + refreshes * KMS_REQUESTS_PER_REFRESH / 10_000 * KMS_REQUESTS_PER_10K_USD,
    )


def run_doctor(
    target: DoctorTarget,
    aws: AwsReads,
    admin: Callable[[str], AdminClient],
    http: requests.Session,
    timeout: float,
) -> list[Finding]:
    aws.require_region()
    stack = _local_stack(target, http, timeout) if target.local_url else aws.stack(target.stack_name)
    if stack is None:
        return [
            failed(
                "stack",
                f"{target.stack_name} not found in {aws.region}",
                f"deploy it (make deploy STAGE={target.stage}), or pass --stage / --region",
            )
        ]
    findings = [_stack(stack)]
    if any(not stack.outputs.get(key) for key in NEEDED_OUTPUTS):
        return findings  # nothing else can be looked up
    outputs = stack.outputs
    if target.local_url:
        findings.append(passed("account checks", "skipped: local mode has no CDK bootstrap or Lambda quota"))
    else:
        needs = DeploymentNeeds(stage=target.stage, secret_prefix=outputs.get("SecretPrefix", ""))
        # The account as preflight sees it; the stack's own secret and table pass as its own.
        findings += [f for f in run_preflight(aws, needs) if f.check != "stack"]
    findings.append(_credentials(outputs, admin))
    findings.append(_schedule(aws, outputs))
    findings += _queues(aws, outputs)
    findings.append(_alarms(aws, target))
    findings.append(_consent_page(outputs, http, timeout))
    counts = _counts(aws, outputs)
    findings.append(_connections(counts))
    findings.append(_capacity(counts, outputs))
    findings.append(_cost(counts, outputs))
    return findings


def _local_stack(target: DoctorTarget, http: requests.Session, timeout: float) -> StackInfo | None:
    url = f"{str(target.local_url).rstrip('/')}/__local__/stack"
    try:
        response = http.get(url, timeout=(5, timeout))
    except requests.RequestException as exc:
        raise CliError(
            ExitCode.UNREACHABLE, f"could not reach local mode at {url}: {type(exc).__name__}"
        ) from None
    if response.status_code != 200:
        return None
    try:
        body: dict[str, Any] = response.json()
        return StackInfo(
            str(body["StackName"]), str(body["StackStatus"]), {k: str(v) for k, v in body["Outputs"].items()}
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CliError(ExitCode.API_ERROR, f"{url} did not answer a local mode's stack description") from None


def _stack(stack: StackInfo) -> Finding:
    missing = [key for key in NEEDED_OUTPUTS if not stack.outputs.get(key)]
    if missing:
        return failed(
            "stack",
            f"{stack.name} {stack.status} lacks outputs {', '.join(missing)}",
            "redeploy this version",
        )
    if stack.status.endswith("_FAILED") or (
        "ROLLBACK" in stack.status and stack.status != "UPDATE_ROLLBACK_COMPLETE"
    ):
        return failed(
            "stack", f"{stack.name} is {stack.status}", "see its events in the CloudFormation console"
        )
    if stack.status == "UPDATE_ROLLBACK_COMPLETE":
        return warned(
            "stack", f"{stack.name}: the last update rolled back", "see its events, fix, deploy again"
        )
    return passed("stack", f"{stack.name} {stack.status} with {len(stack.outputs)} outputs")


def _credentials(outputs: dict[str, str], admin: Callable[[str], AdminClient]) -> Finding:
    check = "client credentials"
    try:
        answer = admin(outputs["AdminApiUrl"]).request("POST", ("client-credentials", "check")).body
    except CliError as exc:
        return failed(check, f"the admin API refused the check: {exc.message}", _credentials_fix(exc))
    if isinstance(answer, dict) and answer.get("valid"):
        return passed(check, f"stored and accepted by Amazon ({answer.get('message', 'ok')})")
    message = str(answer.get("message") if isinstance(answer, dict) else "no answer")
    return failed(
        check,
        f"not accepted: {message}",
        "store them: ads-connect credentials set --client-id amzn1.application-oa2-client... --check",
    )


def _credentials_fix(error: CliError) -> str:
    if error.code == "client_credentials_missing":
        return "store them: ads-connect credentials set --client-id amzn1.application-oa2-client... --check"
    if error.exit_code is ExitCode.AUTH:
        return "the caller needs execute-api:Invoke on the admin API (docs/operator-cli.md)"
    if error.exit_code is ExitCode.UNREACHABLE:
        return "check the network path to the AdminApiUrl output (custom domain DNS?)"
    return "retry; if it persists, read the admin function's log line with the reference"


def _schedule(aws: AwsReads, outputs: dict[str, str]) -> Finding:
    check = "refresh schedule"
    if "LocalScheduleSeconds" in outputs:
        seconds = float(outputs["LocalScheduleSeconds"])
        if seconds > 0:
            return passed(check, f"local timer every {seconds:g} s")
        return warned(
            check, "local timer off (--schedule-seconds 0)", "POST /__local__/run-schedule runs a round"
        )
    name = outputs.get("ScheduleName")
    state = aws.schedule_state(name) if name else None
    if state == "ENABLED":
        return passed(check, f"{name} ENABLED")
    if state is None:
        return failed(check, f"schedule {name or '(no ScheduleName output)'} not found", "redeploy the stack")
    return failed(
        check,
        f"{name} is {state}: no connection is refreshed",
        f"aws scheduler update-schedule --name {name} --state ENABLED ... (or redeploy)",
    )


def _queues(aws: AwsReads, outputs: dict[str, str]) -> list[Finding]:
    work = aws.queue_depth(outputs["WorkQueueUrl"])
    dead = aws.queue_depth(outputs["WorkDeadLetterQueueUrl"])
    found = []
    if work is None:
        found.append(failed("work queue", "the work queue does not exist", "redeploy the stack"))
    else:
        found.append(passed("work queue", f"{work} message(s) waiting or in flight"))
    if dead is None:
        found.append(
            failed("dead-letter queue", "the dead-letter queue does not exist", "redeploy the stack")
        )
    elif dead:
        found.append(
            warned(
                "dead-letter queue",
                f"{dead} message(s): refreshes that failed 5 deliveries",
                "read the worker's log for their tenants, then redrive them (SQS console, Start DLQ redrive)",
            )
        )
    else:
        found.append(passed("dead-letter queue", "empty"))
    return found


def _alarms(aws: AwsReads, target: DoctorTarget) -> Finding:
    # CloudFormation names the stack's alarms <stack>-<logical id>-<suffix>.
    states = aws.alarms(f"{target.stack_name}-")
    firing = sorted(name for name, state in states.items() if state == "ALARM")
    if firing:
        return failed(
            "alarms",
            f"{len(firing)} of {len(states)} in ALARM: {', '.join(firing)}",
            "read each alarm's description (it says what to do); docs/refresh.md, Outcomes",
        )
    if not states and not target.local_url:
        return warned("alarms", "no alarm of the stack found", "redeploy the stack")
    return passed("alarms", f"none of {len(states)} in ALARM")


def _consent_page(outputs: dict[str, str], http: requests.Session, timeout: float) -> Finding:
    check = "consent page"
    url = outputs["ConsentBaseUrl"].rstrip("/") + "/" + PROBE_PATH
    try:
        response = http.get(url, timeout=(5, timeout), allow_redirects=False)
    except requests.RequestException as exc:
        return failed(
            check, f"{url} did not answer ({type(exc).__name__})", "check the API and its domain/DNS"
        )
    missing = [h for h in SECURITY_HEADERS if h not in response.headers]
    html = "text/html" in response.headers.get("Content-Type", "")
    if response.status_code >= 500 or not html:
        return failed(
            check,
            f"an unknown consent link got HTTP {response.status_code} "
            f"({response.headers.get('Content-Type', '-')})",
            "read the consent function's log (its error page carries a reference id)",
        )
    if missing:
        return failed(check, f"answers without {', '.join(missing)}", "redeploy: every page sets them")
    return passed(
        check,
        f"answers (HTTP {response.status_code}, HTML) with its {len(SECURITY_HEADERS)} security headers",
    )


def _counts(aws: AwsReads, outputs: dict[str, str]) -> dict[str, int] | None:
    counts = {}
    for status in STATUSES:
        count = aws.count(outputs["TableName"], STATUS_INDEX, STATUS_KEY, status)
        if count is None:
            return None
        counts[status] = count
    return counts


def _connections(counts: dict[str, int] | None) -> Finding:
    if counts is None:
        return failed("connections", "the table does not exist", "redeploy (or adopt the retained table)")
    found = ", ".join(f"{status} {count}" for status, count in counts.items())
    if counts["reauthorization_required"]:
        return warned(
            "connections",
            found,
            "each such tenant must consent again: ads-connect sessions create <tenant> "
            "(tenants list --status reauthorization_required shows them)",
        )
    return passed("connections", found)


def _capacity(counts: dict[str, int] | None, outputs: dict[str, str]) -> Finding:
    check = "capacity"
    if counts is None or "RefreshLeadSeconds" not in outputs or "SecretWriteBudget" not in outputs:
        return warned(
            check, "not computed (no table or no RefreshLeadSeconds/SecretWriteBudget output)", "redeploy"
        )
    lead, budget = int(outputs["RefreshLeadSeconds"]), float(outputs["SecretWriteBudget"])
    # Each active connection is refreshed once every (3600 - lead) s, one secret write each
    # (two when Amazon rotates the refresh token, which halves the capacity).
    capacity = int(budget * (ACCESS_TOKEN_SECONDS - lead))
    active = counts["active"]
    found = (
        f"{active} active of {capacity} the budget of {budget:g} writes/s refreshes at lead {lead} s "
        f"({capacity // 2} if every refresh rotates)"
    )
    fix = (
        "raise secret_write_budget_per_second (at most 50/s, shared) or lower refresh_lead_seconds "
        "(docs/refresh.md)"
    )
    if active >= capacity:
        return failed(check, found, fix)
    if active >= CAPACITY_WARN_SHARE * capacity:
        return warned(check, found, fix)
    return passed(check, found)


def _cost(counts: dict[str, int] | None, outputs: dict[str, str]) -> Finding:
    if counts is None:
        return warned("monthly cost", "not computed (no table)", "redeploy")
    connections = counts["active"] + counts["reauthorization_required"]
    cost = monthly_cost(connections, int(outputs.get("RefreshLeadSeconds", "900")))
    return Finding(
        "monthly cost",
        Status.PASS,
        f"~${cost.total:,.2f}/month for {connections} connection(s): secrets ${cost.secrets:,.2f}, "
        f"Secrets Manager calls ${cost.secrets_api:,.2f}, KMS ${cost.kms:,.2f} (us-east-1 prices, "
        "before free tiers; Lambda, DynamoDB, SQS and consumers' reads not included)",
    )
