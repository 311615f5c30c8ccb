"""``AmazonAdsConnect``: the whole product as one construct another CDK app can embed.

Composition order matters: roles first (the KMS key policy and secret policies name them), then
data, secrets, events, the refresh queues, the functions, and finally the API and monitoring.
The functions' permissions on the product's resources are granted in ``_grant_permissions``
below. Four other places contribute, each next to the resource it concerns: a function's write to
its own log group (functions.py), the worker's SQS receive/delete through its event source
(refresh.py), the key and secret resource policies (secrets.py) and the alarm topic's key policy
(monitoring.py). tests/infrastructure pins the result per role.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Final

import ads_connect.table_schema as schema
from ads_connect.models.settings import (
    ENV_ALLOWED_RETURN_URLS,
    ENV_APP_NAME,
    ENV_BRAND_ACCENT_COLOR,
    ENV_BRAND_LOGO,
    ENV_BREAKER_MIN_CONNECTIONS,
    ENV_BREAKER_PERCENT,
    ENV_BREAKER_WINDOW_MINUTES,
    ENV_EVENT_BUS_NAME,
    ENV_INCLUDE_PROFILE_SCOPE,
    ENV_LWA_SECRET_ID,
    ENV_PRIVATE_SECRET_KMS_KEY_ID,
    ENV_PRIVATE_SECRET_READER_ARNS,
    ENV_REFRESH_LEAD_SECONDS,
    ENV_SECRET_PREFIX,
    ENV_SUPPORT_CONTACT,
    ENV_TABLE_NAME,
    ENV_WORK_QUEUE_URL,
)
from ads_connect.table_schema import tenant_pk
from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks import nag, packaging
from stacks.api import Api
from stacks.config import SECRET_PREFIX_ROOT, AdsConnectConfig
from stacks.data import DataStore
from stacks.events import LifecycleEvents
from stacks.functions import AdsFunction, FunctionRoles, FunctionSpec
from stacks.monitoring import Monitoring
from stacks.refresh import WORKER_TIMEOUT, RefreshPipeline, scheduler_timeout
from stacks.secrets import KEY_USE_ACTIONS, Secrets

ADMIN_TIMEOUT: Final = Duration.seconds(90)
# The functions that may write a connection's private refresh token and read the LWA client
# secret (the consent function reads only the client id's public copy).
PRIVATE_KINDS: Final = ("callback", "refresh_worker", "admin")

SPECS: Final = {
    "consent": FunctionSpec(
        "consent",
        "Hosted consent page: starts the LWA authorization (PKCE, state)",
        Duration.seconds(10),
        512,
        snap_start=True,
    ),
    "callback": FunctionSpec(
        "callback",
        "OAuth callback: code exchange, token storage, profile discovery",
        # Token exchange + profile discovery with bounded retries; API Gateway gives up at 30 s.
        Duration.seconds(29),
        512,
        snap_start=True,
    ),
    "admin": FunctionSpec(
        "admin",
        "IAM-authorized operator API",
        # Longer than API Gateway's 30 s on purpose: "refresh now" may start its token call only
        # while a whole rotated-token write still fits after it (docs/refresh.md, "Deadline").
        # Normally it answers in a second; in the worst case the gateway answers 503 at 30 s and
        # the function still stores what Amazon returned.
        ADMIN_TIMEOUT,
        512,
        reserved_concurrency=None,
    ),
    # Timeout set from the schedule rate (stacks/refresh.py scheduler_timeout): runs never overlap
    # without reserved concurrency (docs/refresh.md).
    "refresh_scheduler": FunctionSpec(
        "refresh_scheduler",
        "Finds due connections on the due-time index and enqueues them",
        Duration.minutes(2),
        1024,
    ),
    "refresh_worker": FunctionSpec(
        "refresh_worker", "Refreshes one connection per message under its lease", WORKER_TIMEOUT, 512
    ),
}

# Data-plane actions by need. Transactions are authorised per item (Put/Update/ConditionCheck).
DDB_READ_WRITE: Final = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchWriteItem",
)
# The consent page reads the session and writes the one-time state; the callback marks the
# session used.
DDB_CONSENT: Final = ("dynamodb:GetItem", "dynamodb:PutItem")
# The item families each public function may touch, as dynamodb:LeadingKeys patterns built by
# table_schema: the consent page never reaches a tenant's items or the operator's, the callback
# never the operator's. IAM cannot narrow the callback to one tenant (the tenant comes from the
# state record at run time): docs/decisions.md.
_SESSIONS_AND_STATES = (
    schema.consent_pk_pattern(schema.ConsentKind.SESSION),
    schema.consent_pk_pattern(schema.ConsentKind.STATE),
)
PUBLIC_LEADING_KEYS: Final = {
    "consent": _SESSIONS_AND_STATES,
    "callback": (*_SESSIONS_AND_STATES, schema.consent_pk_pattern(schema.ConsentKind.RESULT), tenant_pk("*")),
}
DDB_SCHEDULER_TABLE: Final = ("dynamodb:GetItem",)
DDB_SCHEDULER_INDEXES: Final = ("dynamodb:Query",)
SECRET_WRITE: Final = (
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:CreateSecret",
    "secretsmanager:TagResource",
)
# Only a re-consent brings back secrets a disconnect scheduled for deletion; the worker and the
# admin API never refresh a disconnected connection.
SECRET_RESTORE: Final = ("secretsmanager:RestoreSecret",)
SECRET_PRIVATE_EXTRA: Final = ("secretsmanager:PutResourcePolicy",)
SECRET_DELETE: Final = ("secretsmanager:DeleteSecret",)
CONSUMER_SECRET_ACTIONS: Final = ("secretsmanager:GetSecretValue",)
CONSUMER_TABLE_ACTIONS: Final = ("dynamodb:Query",)

WHY_XRAY: Final = (
    "Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions."
)
WHY_INDEXES: Final = "Only this table's own global secondary indexes (table ARN + /index/*)."
WHY_RUNTIME_SECRETS: Final = (
    "Per-connection secrets {kind}/<tenant>/<region> are created by the functions at runtime, so the names "
    "are unknown at deploy time; the pattern is scoped to this stack's prefix and secret family."
)


class AmazonAdsConnect(Construct):
    """The product. ``config`` comes from cdk.json context (``AdsConnectConfig.from_context``)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: AdsConnectConfig) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.roles = FunctionRoles(self, "Roles", name_root=f"{SECRET_PREFIX_ROOT}-{config.stage}")
        private_readers = [self.roles[kind] for kind in PRIVATE_KINDS]
        private_reader_arns = [self.roles.arn(kind) for kind in PRIVATE_KINDS]

        self.data = DataStore(self, "Data", existing_table_name=config.existing_table_name)
        self.secrets = Secrets(
            self,
            "Secrets",
            prefix=config.secret_prefix,
            private_reader_arns=private_reader_arns,
            lwa_reader_arns=private_reader_arns,
            existing_key_arn=config.existing_private_key_arn,
            existing_lwa_secret_arn=config.existing_lwa_secret_arn,
        )
        self.events = LifecycleEvents(self, "Events")
        self.refresh = RefreshPipeline(self, "Refresh", config=config)

        code = packaging.function_code()
        self.dependency_layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=packaging.dependency_layer_code(),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="Amazon Ads Connect runtime dependencies (requirements/runtime.lock minus boto3)",
        )
        core_env = {
            ENV_TABLE_NAME: self.data.table.table_name,
            ENV_SECRET_PREFIX: config.secret_prefix,
            ENV_LWA_SECRET_ID: config.lwa_secret_name,
            ENV_EVENT_BUS_NAME: self.events.bus.event_bus_name,
            ENV_REFRESH_LEAD_SECONDS: str(config.refresh_lead_seconds),
            ENV_BREAKER_MIN_CONNECTIONS: str(config.revocation_breaker_min_connections),
            ENV_BREAKER_PERCENT: str(config.revocation_breaker_percent),
            ENV_BREAKER_WINDOW_MINUTES: str(config.revocation_breaker_window_minutes),
            ENV_PRIVATE_SECRET_KMS_KEY_ID: self.secrets.private_key.key_arn,
            ENV_PRIVATE_SECRET_READER_ARNS: self._json_arns(private_readers),
        }
        pages_env = {
            ENV_APP_NAME: config.app_name,
            ENV_ALLOWED_RETURN_URLS: json.dumps(list(config.allowed_return_urls)),
            ENV_INCLUDE_PROFILE_SCOPE: "true" if config.include_profile_scope else "false",
        }
        # The brand only where pages are rendered (the logo is most of a function's 4 KB of
        # environment); the admin function builds no page.
        brand_env = {
            ENV_BRAND_ACCENT_COLOR: config.brand_accent_color,
            ENV_SUPPORT_CONTACT: config.support_contact or "",
            **({ENV_BRAND_LOGO: config.brand_logo} if config.brand_logo else {}),
        }
        refresh_env = {ENV_WORK_QUEUE_URL: self.refresh.work_queue.queue_url}
        environments = {
            "consent": {**core_env, **pages_env, **brand_env},
            "callback": {**core_env, **pages_env, **brand_env},
            "admin": {**core_env, **pages_env, **refresh_env},
            "refresh_scheduler": {**core_env, **refresh_env},
            "refresh_worker": {**core_env, **refresh_env},
        }
        self.functions: dict[str, lambda_.Function] = {}
        # What the API invokes: the SnapStart functions' live alias, else the function.
        self.invoke_targets: dict[str, lambda_.IFunction] = {}
        for kind, base_spec in SPECS.items():
            spec = base_spec
            # Reserved concurrency only when opted in: a new account (concurrency limit 10) cannot
            # reserve any (Lambda keeps 100 unreserved), and the deploy would roll back. Without
            # it the SQS event source's maximum concurrency bounds the workers (stacks/refresh.py).
            if kind == "refresh_worker" and config.reserve_concurrency:
                spec = dataclasses.replace(base_spec, reserved_concurrency=config.worker_concurrency)
            if kind == "refresh_scheduler":
                spec = dataclasses.replace(
                    base_spec,
                    timeout=scheduler_timeout(config.schedule_rate_minutes),
                    reserved_concurrency=1 if config.reserve_concurrency else None,
                )
            if spec.snap_start and not config.snap_start:
                spec = dataclasses.replace(spec, snap_start=False)
            built = AdsFunction(
                self,
                _pascal(kind),
                spec=spec,
                role=self.roles[kind],
                code=code,
                layer=self.dependency_layer,
                environment=environments[kind],
                log_retention=config.log_retention,
            )
            self.functions[kind] = built.function
            self.invoke_targets[kind] = built.invoke_target
        self._grant_permissions()
        self.refresh.connect(
            scheduler_function=self.functions["refresh_scheduler"],
            worker_function=self.functions["refresh_worker"],
        )
        self.api = Api(
            self,
            "Api",
            config=config,
            consent=self.invoke_targets["consent"],
            callback=self.invoke_targets["callback"],
            admin=self.invoke_targets["admin"],
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            worker=self.functions["refresh_worker"],
            functions=self.functions,
            dead_letter_queues={"Work": self.refresh.work_dlq, "Schedule": self.refresh.schedule_dlq},
        )
        self._acknowledge_wildcards()

    # --- public surface -----------------------------------------------------------------------

    @property
    def public_base_url(self) -> str:
        return self.api.url

    @property
    def redirect_uri(self) -> str:
        """What the operator registers in the LWA Security Profile's Allowed Return URLs."""
        return f"{self.api.url}callback"

    @property
    def admin_api_url(self) -> str:
        return f"{self.api.url}admin"

    def grant_tenant_read(self, grantee: iam.IGrantable, tenant_id: str | None = None) -> iam.Grant:
        """Let ``grantee`` read one tenant's (or every tenant's) access tokens and profiles.

        GetSecretValue on ``<prefix>/access/<tenant>/*`` and ``dynamodb:Query`` on the table with a
        ``dynamodb:LeadingKeys`` condition on ``TENANT#<tenant>``. Never the refresh tokens, the
        LWA client secret or the private-token KMS key.
        """
        if tenant_id is not None and (not tenant_id or any(c in tenant_id for c in "*?/#")):
            raise ValueError("tenant_id must be a plain tenant id (no wildcard, '/' or '#'), or None for all")
        tenant = tenant_id if tenant_id is not None else "*"
        secrets = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(CONSUMER_SECRET_ACTIONS),
            resource_arns=[self.secrets.pattern_arn(f"access/{tenant}")],
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(CONSUMER_TABLE_ACTIONS),
            resource_arns=[self.data.table.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [tenant_pk(tenant)]}},
        )
        return secrets

    # --- permissions ----------------------------------------------------------------------------

    def _allow(
        self,
        kind: str,
        actions: tuple[str, ...],
        resources: list[str],
        *,
        leading_keys: tuple[str, ...] = (),
    ) -> None:
        """``leading_keys``: allow only items whose partition key matches one of these patterns."""
        conditions = (
            {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(leading_keys)}}
            if leading_keys
            else None
        )
        self.roles[kind].add_to_principal_policy(
            iam.PolicyStatement(actions=list(actions), resources=resources, conditions=conditions)
        )

    def _grant_permissions(self) -> None:
        table = self.data.table.table_arn
        indexes = f"{table}/index/*"
        lwa = self.secrets.lwa_secret.secret_arn
        client_id = self.secrets.client_id_secret_arn_for_policies
        refresh_secrets = self.secrets.pattern_arn("refresh")
        access_secrets = self.secrets.pattern_arn("access")
        bus = self.events.bus.event_bus_arn
        due_indexes = [f"{table}/index/{name}" for name in (schema.DUE_INDEX, schema.PROFILE_SYNC_INDEX)]

        self._allow("consent", DDB_CONSENT, [table], leading_keys=PUBLIC_LEADING_KEYS["consent"])
        # The callback queries no index, so it gets none.
        self._allow("callback", DDB_READ_WRITE, [table], leading_keys=PUBLIC_LEADING_KEYS["callback"])
        self._allow("refresh_worker", DDB_READ_WRITE, [table, indexes])
        self._allow("admin", DDB_READ_WRITE, [table, indexes])
        self._allow("consent", ("secretsmanager:GetSecretValue",), [client_id])

        for kind in PRIVATE_KINDS:
            self._allow(kind, ("secretsmanager:GetSecretValue",), [lwa])
            lifecycle = {"admin": SECRET_DELETE, "callback": SECRET_RESTORE}.get(kind, ())
            self._allow(kind, SECRET_WRITE + SECRET_PRIVATE_EXTRA + lifecycle, [refresh_secrets])
            self._allow(kind, SECRET_WRITE + lifecycle, [access_secrets])
            self._allow(kind, ("events:PutEvents",), [bus])
        self._allow("admin", ("secretsmanager:PutSecretValue",), [lwa, client_id])

        # The key policy admits these roles through the account principal (stacks/secrets.py), so
        # their own policies must allow the use too: only through Secrets Manager here.
        for kind in PRIVATE_KINDS:
            self.roles[kind].add_to_principal_policy(
                iam.PolicyStatement(
                    actions=list(KEY_USE_ACTIONS),
                    resources=[self.secrets.private_key.key_arn],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"secretsmanager.{Aws.REGION}.amazonaws.com"}
                    },
                )
            )

        self._allow("refresh_scheduler", DDB_SCHEDULER_TABLE, [table])
        self._allow("refresh_scheduler", DDB_SCHEDULER_INDEXES, due_indexes)
        self._allow("refresh_scheduler", ("sqs:SendMessage",), [self.refresh.work_queue.queue_arn])

    def _acknowledge_wildcards(self) -> None:
        table = nag.resource_reference(self.data.table, f"dynamodb:table/{self.config.existing_table_name}")
        prefix = self.config.secret_prefix
        for kind, role in self.roles.roles.items():
            nag.acknowledge_wildcard(role, "*", WHY_XRAY)
            if kind in ("refresh_worker", "admin"):
                nag.acknowledge_wildcard(role, f"{table}/index/*", WHY_INDEXES)
            if kind in PRIVATE_KINDS:
                for family in ("refresh", "access"):
                    nag.acknowledge_wildcard(
                        role,
                        nag.secret_pattern(f"{prefix}/{family}/*"),
                        WHY_RUNTIME_SECRETS.format(kind=family),
                    )

    @staticmethod
    def _json_arns(roles: list[iam.Role]) -> str:
        return Stack.of(roles[0]).to_json_string([role.role_arn for role in roles])


def _pascal(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.split("_"))
