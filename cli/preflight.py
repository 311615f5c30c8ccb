"""``preflight``: before ``cdk deploy``, read-only checks that the deploy can succeed, each with
its fix (docs/deploy.md, step 2). ``make deploy`` runs it first; ``doctor`` repeats it.

What the deployment needs comes from ``--needs FILE`` (``python -m stacks.needs`` writes it from
cdk.json and ``-c stage``); without it, the defaults of the stage (nothing reserved, no adoption).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cli.aws_reads import AwsReads, StackInfo
from cli.errors import CliError, ExitCode
from cli.findings import Finding, failed, passed, warned
from cli.stages import secret_prefix_for, stack_name_for

BOOTSTRAP_STACK: Final = "CDKToolkit"
# The synthesized template's CheckBootstrapVersion rule refuses versions 1-5 (CDK v2 templates).
BOOTSTRAP_VERSION_PARAMETER: Final = "/cdk-bootstrap/hnb659fds/version"
MIN_BOOTSTRAP_VERSION: Final = 6
# Lambda keeps 100 of the account's concurrency unreserved
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
LAMBDA_UNRESERVED_MINIMUM: Final = 100
# Below this account limit (new accounts may start at 10) refreshes compete with every other
# function of the account: not blocking, but worth a quota request.
LAMBDA_COMFORTABLE_LIMIT: Final = 100
# Services the stack uses that are not in every region (botocore's endpoint data lists them).
REGIONAL_SERVICES: Final = {"scheduler": "EventBridge Scheduler"}
# "Lambda SnapStart is available in all commercial Regions except Asia Pacific (New Zealand) and
# Asia Pacific (Taipei)" (https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html, Supported Regions).
SNAPSTART_MISSING_REGIONS: Final = frozenset({"ap-southeast-6", "ap-east-2"})
_COMPLETE: Final = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE")


@dataclass(frozen=True)
class DeploymentNeeds:
    """What the configured stack needs of the account (``python -m stacks.needs``)."""

    stage: str
    secret_prefix: str
    reserved_concurrency: int = 0
    lambda_snapstart: bool = False
    existing_table_name: str | None = None
    existing_private_key_arn: str | None = None
    existing_lwa_secret_arn: str | None = None

    @classmethod
    def for_stage(cls, stage: str) -> DeploymentNeeds:
        return cls(stage=stage, secret_prefix=secret_prefix_for(stage))

    @classmethod
    def from_file(cls, path: Path, stage: str) -> DeploymentNeeds:
        try:
            data: Any = json.loads(path.read_text())
            needs = cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})
        except (OSError, ValueError, TypeError) as exc:
            raise CliError(
                ExitCode.USAGE, f"--needs {path}: not a needs file ({type(exc).__name__})"
            ) from None
        if needs.stage != stage:
            raise CliError(ExitCode.USAGE, f"--needs {path} is for stage {needs.stage!r}, not {stage!r}")
        return needs

    @property
    def stack_name(self) -> str:
        return stack_name_for(self.stage)

    @property
    def lwa_secret_name(self) -> str:
        return f"{self.secret_prefix}/lwa-client"

    @property
    def client_id_secret_name(self) -> str:
        # The public copy of the client id (docs/security.md); the stack's name for it.
        return f"{self.secret_prefix}/lwa-client-id"


def run_preflight(aws: AwsReads, needs: DeploymentNeeds) -> list[Finding]:
    aws.require_region()
    findings = [_account(aws)]
    stack = aws.stack(needs.stack_name)
    findings.append(_existing_stack(stack, needs))
    findings.extend(_bootstrap(aws))
    findings.append(_concurrency(aws, needs, stack))
    findings.append(_lwa_secret(aws, needs, stack))
    findings.append(_client_id_secret(aws, needs, stack))
    findings.append(_retained_table(aws, needs, stack))
    findings.extend(_services(aws, needs))
    return findings


def _account(aws: AwsReads) -> Finding:
    identity = aws.caller_identity()
    return passed(
        "account and region", f"account {identity['account']}, region {aws.region} as {identity['arn']}"
    )


def _existing_stack(stack: StackInfo | None, needs: DeploymentNeeds) -> Finding:
    if stack is None:
        return passed("stack", f"{needs.stack_name} does not exist yet: the deploy creates it")
    if stack.status == "ROLLBACK_COMPLETE":
        # The CDK CLI deletes a stack that failed creation before creating it again
        # (aws/aws-cdk#917); RetainExceptOnCreate took its retained resources with the rollback.
        return warned(
            "stack",
            f"{needs.stack_name} is ROLLBACK_COMPLETE (its first deploy failed; nothing of it was kept)",
            "read its events for the cause; `make deploy` deletes it and creates it again",
        )
    if stack.status.endswith("_IN_PROGRESS"):
        return failed("stack", f"{needs.stack_name} is {stack.status}", "wait until it finishes, then retry")
    if stack.status not in _COMPLETE:
        return failed(
            "stack", f"{needs.stack_name} is {stack.status}", "see its events in the CloudFormation console"
        )
    return passed("stack", f"{needs.stack_name} is {stack.status}: the deploy updates it")


def _bootstrap(aws: AwsReads) -> list[Finding]:
    stack = aws.stack(BOOTSTRAP_STACK)
    if stack is None:
        return [
            failed(
                "CDK bootstrap",
                f"no {BOOTSTRAP_STACK} stack in {aws.region}",
                "run `make bootstrap` once per account and region",
            )
        ]
    version = aws.ssm_parameter(BOOTSTRAP_VERSION_PARAMETER)
    if version is None or not version.isdigit():
        return [
            failed(
                "CDK bootstrap",
                f"{BOOTSTRAP_STACK} is {stack.status} but {BOOTSTRAP_VERSION_PARAMETER} is missing",
                "run `make bootstrap` again",
            )
        ]
    if int(version) < MIN_BOOTSTRAP_VERSION:
        return [
            failed(
                "CDK bootstrap",
                f"bootstrap version {version}; the template needs {MIN_BOOTSTRAP_VERSION} or newer",
                "run `make bootstrap` (the pinned CDK CLI upgrades it)",
            )
        ]
    return [passed("CDK bootstrap", f"{BOOTSTRAP_STACK} {stack.status}, bootstrap version {version}")]


def _concurrency(aws: AwsReads, needs: DeploymentNeeds, stack: StackInfo | None) -> Finding:
    account = aws.lambda_concurrency()
    found = f"account limit {account.account_limit}, unreserved {account.unreserved}"
    if needs.reserved_concurrency:
        left = account.unreserved - needs.reserved_concurrency
        if left < LAMBDA_UNRESERVED_MINIMUM and stack is not None:
            # A deployed stack's own reservation is already outside "unreserved": counted twice.
            return warned(
                "Lambda concurrency",
                f"{found}; reserve_concurrency needs {needs.reserved_concurrency} (already reserved by "
                f"{needs.stack_name} if an earlier deploy set it)",
                "if the deploy fails on concurrency, set reserve_concurrency to false",
            )
        if left < LAMBDA_UNRESERVED_MINIMUM:
            return failed(
                "Lambda concurrency",
                f"{found}; reserve_concurrency needs {needs.reserved_concurrency}, leaving {left} "
                f"(Lambda keeps at least {LAMBDA_UNRESERVED_MINIMUM} unreserved)",
                "set reserve_concurrency to false in cdk.json, or request a higher 'Concurrent "
                "executions' quota (Service Quotas, AWS Lambda)",
            )
        return passed("Lambda concurrency", f"{found}; reserving {needs.reserved_concurrency} leaves {left}")
    if account.account_limit < LAMBDA_COMFORTABLE_LIMIT:
        return warned(
            "Lambda concurrency",
            f"{found}: the deploy works (nothing is reserved), but every function of the account shares it",
            "request a higher 'Concurrent executions' quota (Service Quotas, AWS Lambda)",
        )
    return passed("Lambda concurrency", f"{found}; nothing reserved")


def _lwa_secret(aws: AwsReads, needs: DeploymentNeeds, stack: StackInfo | None) -> Finding:
    name = needs.lwa_secret_name
    secret = aws.secret(name)
    check = "leftover LWA secret"
    if secret is None:
        if needs.existing_lwa_secret_arn:
            return failed(
                check, f"existing_lwa_secret_arn names {name}, which does not exist", "remove the setting"
            )
        return passed(check, f"no secret named {name}: the deploy creates it")
    if stack is not None and stack.outputs.get("LwaSecretArn") == secret.arn:
        return passed(check, f"{name} belongs to {needs.stack_name}")
    if secret.deleted_at is not None:
        return failed(
            check,
            f"{name} is scheduled for deletion ({secret.deleted_at:%Y-%m-%d}); its name is taken until then",
            f"keep it: `aws secretsmanager restore-secret --secret-id {name}` and set "
            f"existing_lwa_secret_arn to {secret.arn}; or free the name now: "
            f"`aws secretsmanager delete-secret --secret-id {name} --force-delete-without-recovery`",
        )
    if needs.existing_lwa_secret_arn == secret.arn:
        return passed(check, f"{name} exists and existing_lwa_secret_arn adopts it")
    return failed(
        check,
        f"{name} exists (left by a destroyed deployment of stage {needs.stage}): creating it would fail",
        f"adopt it: set existing_lwa_secret_arn to {secret.arn} in cdk.json (docs/deploy.md, step 6)",
    )


def _client_id_secret(aws: AwsReads, needs: DeploymentNeeds, stack: StackInfo | None) -> Finding:
    """The client id's copy is created with the LWA secret and adopted with it (by name)."""
    name = needs.client_id_secret_name
    secret = aws.secret(name)
    check = "leftover client id copy"
    adopting = bool(needs.existing_lwa_secret_arn)
    if stack is not None and secret is not None and secret.deleted_at is None:
        return passed(check, f"{name} exists for {needs.stack_name}")
    if secret is None:
        if adopting and stack is None:
            return failed(
                check,
                f"existing_lwa_secret_arn adopts the LWA secret, but {name} (adopted with it) does not exist",
                f"create it: `aws secretsmanager create-secret --name {name} --secret-string "
                '\'{"client_id": ""}\'`, then run `credentials set` after the deploy',
            )
        return passed(check, f"no secret named {name}: the deploy creates it")
    if secret.deleted_at is not None:
        return failed(
            check,
            f"{name} is scheduled for deletion ({secret.deleted_at:%Y-%m-%d}); its name is taken until then",
            f"`aws secretsmanager restore-secret --secret-id {name}`, or free the name now: "
            f"`aws secretsmanager delete-secret --secret-id {name} --force-delete-without-recovery` "
            "(it holds only the client id, which `credentials set` writes again)",
        )
    if adopting:
        return passed(check, f"{name} exists and is adopted with the LWA secret")
    return failed(
        check,
        f"{name} exists (left by a destroyed deployment of stage {needs.stage}): creating it would fail",
        "adopt the LWA secret (existing_lwa_secret_arn, docs/deploy.md step 6), which adopts this copy "
        f"too; or delete it: `aws secretsmanager delete-secret --secret-id {name} "
        "--force-delete-without-recovery` (it holds only the client id)",
    )


def _retained_table(aws: AwsReads, needs: DeploymentNeeds, stack: StackInfo | None) -> Finding:
    check = "retained table"
    # CloudFormation names the table <stack>-<logical id>-<suffix>.
    tables = list(aws.table_names(f"{needs.stack_name}-"))
    in_use = stack.outputs.get("TableName") if stack is not None else None
    left = [t for t in tables if t != in_use]
    if needs.existing_table_name:
        if needs.existing_table_name in tables or needs.existing_table_name == in_use:
            return passed(check, f"existing_table_name adopts {needs.existing_table_name}")
        return failed(
            check,
            f"existing_table_name names {needs.existing_table_name}, which does not exist here",
            "fix the name, or remove the setting for a new, empty table",
        )
    if stack is not None:
        return passed(check, f"{needs.stack_name} uses {in_use}" if in_use else "the stack's own table")
    if left:
        return failed(
            check,
            f"{', '.join(left)} retained by a destroyed deployment of stage {needs.stage}: a new stack "
            "would start with an empty table while the tenants' secrets still exist",
            f"adopt it: set existing_table_name to {left[0]} in cdk.json (and existing_private_key_arn "
            "to the retained key, docs/deploy.md step 6)",
        )
    return passed(check, "none: the deploy creates the table")


def _services(aws: AwsReads, needs: DeploymentNeeds) -> list[Finding]:
    findings = []
    if needs.lambda_snapstart:
        commercial = aws.session.get_partition_for_region(aws.region or "") == "aws"
        if commercial and aws.region not in SNAPSTART_MISSING_REGIONS:
            findings.append(passed("Lambda SnapStart in region", f"offered in {aws.region}"))
        else:
            findings.append(
                failed(
                    "Lambda SnapStart in region",
                    f"not offered in {aws.region}",
                    "deploy to another region (docs.aws.amazon.com/lambda/latest/dg/snapstart.html)",
                )
            )
    for service, label in REGIONAL_SERVICES.items():
        if aws.region in aws.available_regions(service):
            findings.append(passed(f"{label} in region", f"{label} is offered in {aws.region}"))
        else:
            findings.append(
                failed(
                    f"{label} in region",
                    f"{label} is not offered in {aws.region}",
                    "deploy to another region",
                )
            )
    return findings
