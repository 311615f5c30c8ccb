"""One Lambda function per job, each with its own role, log group and tracing.

Roles are created before anything else (``FunctionRoles``) because the KMS key policy, the LWA
secret's resource policy and the functions' own environment name them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ads_connect.observability import METRICS_NAMESPACE, SERVICE
from aws_cdk import Acknowledgment as Ack
from aws_cdk import Annotations, Aws, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.config import ConfigError

RUNTIME: Final = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE: Final = lambda_.Architecture.ARM_64
FUNCTION_KINDS: Final = ("consent", "callback", "admin", "refresh_scheduler", "refresh_worker")
LIVE_ALIAS: Final = "live"
# "Total size of environment variables set: 4 KB" (AWS Lambda quotas,
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html), names included.
LAMBDA_ENVIRONMENT_BYTES: Final = 4096
# What a reference (Ref / GetAtt of a table, bus, key or role) resolves to at deploy time, at
# most: a role ARN with a generated 64-character name is 95 bytes.
RESOLVED_REFERENCE_BYTES: Final = 110


def environment_bytes(resolved: Mapping[str, object]) -> int:
    """Names plus values of a function's environment as the template has it (references
    counted at their longest resolved size): what Lambda's 4 KB limit is measured on."""

    def size(value: object) -> int:
        if isinstance(value, str):
            return len(value.encode())
        if isinstance(value, dict) and "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return sum(size(part) for part in parts) + len(separator) * max(len(parts) - 1, 0)
        return RESOLVED_REFERENCE_BYTES

    return sum(len(name.encode()) + size(value) for name, value in resolved.items())


@dataclass(frozen=True)
class FunctionSpec:
    kind: str
    description: str
    timeout: Duration
    memory_mb: int
    reserved_concurrency: int | None = None
    # Lambda SnapStart: callers invoke a published version through the alias ``live``, restored
    # from a snapshot taken after the handler's import (docs/decisions.md, "Cold starts").
    snap_start: bool = False

    @property
    def handler(self) -> str:
        return f"ads_connect.handlers.{self.kind}.handler"


def role_name(name_root: str, kind: str) -> str:
    """``<name_root>-<region>-<kind>``, e.g. ``ads-connect-prod-us-east-1-refresh-worker`` (at most
    12 + 16 + 1 + 14 + 1 + 17 = 61 of IAM's 64 characters). Roles are account-wide, so the name
    carries the stage and the region. A fixed name keeps the role's ARN the same across a destroy
    and redeploy of the stage, so the retained key's policy and the per-connection secrets'
    resource policies (both name the ARN in an ``aws:PrincipalArn`` condition) keep admitting the
    new roles when the stack adopts them (docs/deploy.md). Roles are never retained: a rolled-back
    or destroyed stack leaves no role behind to collide with."""
    return f"{name_root}-{Aws.REGION}-{kind.replace('_', '-')}"


class FunctionRoles(Construct):
    """An execution role per function, with no managed policy: every permission is explicit."""

    def __init__(self, scope: Construct, construct_id: str, *, name_root: str) -> None:
        super().__init__(scope, construct_id)
        self.names = {kind: role_name(name_root, kind) for kind in FUNCTION_KINDS}
        self.roles: dict[str, iam.Role] = {
            kind: iam.Role(
                self,
                _pascal(kind),
                role_name=self.names[kind],
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"Amazon Ads Connect {kind.replace('_', ' ')} function",
            )
            for kind in FUNCTION_KINDS
        }

    def __getitem__(self, kind: str) -> iam.Role:
        return self.roles[kind]

    def arn(self, kind: str) -> str:
        """The role's ARN spelled from its name: a policy that names it in a condition needs no
        reference to the role resource (and so never waits on, or races, its creation)."""
        return Stack.of(self).format_arn(
            service="iam", region="", resource="role", resource_name=self.names[kind]
        )


class AdsFunction(Construct):
    """A function of the product: shared code asset and dependency layer, its own log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: FunctionSpec,
        role: iam.Role,
        code: lambda_.Code,
        layer: lambda_.ILayerVersion,
        environment: Mapping[str, str],
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        # The function writes only to its own log group.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{self.log_group.log_group_arn}"],
            )
        )
        variables = {
            **environment,
            "POWERTOOLS_SERVICE_NAME": SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            # Traces never carry payloads (tokens): see ads_connect.observability.
            "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
            "POWERTOOLS_TRACER_CAPTURE_ERROR": "false",
        }
        size = environment_bytes(Stack.of(self).resolve(variables))
        if size > LAMBDA_ENVIRONMENT_BYTES:
            # Deploying would fail late, in CloudFormation; the logo is what makes it large.
            raise ConfigError(
                f"context key 'ads-connect.brand_logo': the {spec.kind} function's environment would "
                f"be about {size} bytes, over Lambda's {LAMBDA_ENVIRONMENT_BYTES}: use a smaller logo "
                "(or fewer, shorter allowed_return_urls)"
            )
        self.function = lambda_.Function(
            self,
            "Function",
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=code,
            layers=[layer],
            role=role,
            timeout=spec.timeout,
            memory_size=spec.memory_mb,
            reserved_concurrent_executions=spec.reserved_concurrency,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if spec.snap_start else None,
            # A replaced version is deleted, not kept: every SnapStart version left active would
            # keep paying for its cached snapshot.
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY)
            if spec.snap_start
            else None,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            environment=variables,
        )
        Validations.of(self.function).acknowledge(
            Ack(
                id="AwsSolutions-L1",
                reason=(
                    "Python 3.12 is pinned on purpose: the dependency layer is built from cp312 aarch64 "
                    "wheels and the code is tested on 3.11+; a newer runtime is a deliberate change of "
                    "stacks/functions.py RUNTIME, stacks/packaging.py LAMBDA_PYTHON_VERSION and the pyodide "
                    "pin in package.json (the bytecode compiler) together."
                ),
            )
        )

        # What callers invoke: the alias of the current published version (SnapStart applies to
        # published versions only), else the function itself.
        self.invoke_target: lambda_.IFunction = self.function
        if spec.snap_start:
            self.invoke_target = lambda_.Alias(
                self, "Live", alias_name=LIVE_ALIAS, version=self.function.current_version
            )
            Annotations.of(self.function).acknowledge_warning(
                "@aws-cdk/aws-lambda:snapStartRequirePublish",
                "Published: the live alias points at current_version, and the API invokes the alias.",
            )

    @property
    def stack(self) -> Stack:
        return Stack.of(self)


def _pascal(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.split("_"))
