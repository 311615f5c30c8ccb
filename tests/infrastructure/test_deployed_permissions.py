"""The deployed roles allow what the code really does: the product's flows run through the real
handlers on moto, each handler with *its* function's environment from the synthesized template,
and every AWS call a handler makes is checked against that function's role, the private-token
key policy and the LWA secret's resource policy, as IAM would on deploy.

moto does not enforce IAM, so without this a handler that starts calling (say) DescribeSecret
passes every other test and fails with AccessDenied only in a real account.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Any

import boto3
import botocore.client
import pytest
from ads_connect import table_schema as schema
from ads_connect.adapters.connection_store import DynamoConnectionStore
from ads_connect.adapters.secrets import client_id_secret_name
from ads_connect.clock import SystemClock
from ads_connect.handlers import admin, callback, consent, dependencies, refresh_scheduler, refresh_worker
from ads_connect.regions import ENDPOINTS_ENV_VAR, Region
from boto3.dynamodb.conditions import ConditionBase, Key

from emulator import seller_profile
from local.schedule import sqs_event
from tests.fakes.browser import Browser
from tests.fakes.http_api import FakeLambdaContext, http_event
from tests.fixtures.amazon import RunningEmulator
from tests.fixtures.aws import SECRET_PREFIX, TEST_CLIENT_ID, TEST_CLIENT_SECRET, AwsResources
from tests.infrastructure.conftest import Synthesized, cdk_json_context, synthesize
from tests.infrastructure.helpers import as_list

ACCOUNT = "123456789012"
REGION = "us-east-1"
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
}
HANDLER_MODULES = {
    "consent": consent,
    "callback": callback,
    "admin": admin,
    "refresh_scheduler": refresh_scheduler,
    "refresh_worker": refresh_worker,
}
# DynamoDB transactions are authorised per item, by the item action.
TRANSACT_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}
# Secrets Manager calls the key on the caller's behalf for a key-encrypted secret.
KMS_NEEDS = {
    "secretsmanager:GetSecretValue": "kms:Decrypt",
    "secretsmanager:PutSecretValue": "kms:GenerateDataKey",
    "secretsmanager:CreateSecret": "kms:GenerateDataKey",
}
SQS_ACTIONS = {"SendMessageBatch": "sqs:SendMessage", "DeleteMessageBatch": "sqs:DeleteMessage"}


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The stack with the secret prefix the moto resources use (tests/fixtures/aws.py)."""
    settings = {**cdk_json_context()["ads-connect"], "secret_prefix": SECRET_PREFIX}
    return synthesize(tmp_path_factory.mktemp("cdk-out"), {"ads-connect": settings})


# --- the template, resolved against the moto resources ---------------------------------------


@dataclass
class Deployment:
    """The synthesized template with its references resolved to the moto resources' names."""

    resources: dict[str, Any]
    names: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value
    arns: dict[str, str] = field(default_factory=dict)  # logical id -> Fn::GetAtt Arn

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            ref = value["Ref"]
            return PSEUDO.get(ref) or self.names.get(ref, f"<unresolved Ref {ref}>")
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            assert attribute == "Arn", value
            return self.arns.get(logical_id, f"<unresolved {logical_id}.Arn>")
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return str(separator).join(str(self.resolve(part)) for part in parts)
        return {key: self.resolve(item) for key, item in value.items()}

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == kind}

    def function(self, kind: str) -> dict[str, Any]:
        handler = f"ads_connect.handlers.{kind}.handler"
        (function,) = [
            f for f in self.of_type("AWS::Lambda::Function").values() if f["Properties"]["Handler"] == handler
        ]
        return function

    def role_id(self, kind: str) -> str:
        role = self.function(kind)["Properties"]["Role"]["Fn::GetAtt"]
        return str(role[0])

    def environment(self, kind: str) -> dict[str, str]:
        variables = self.function(kind)["Properties"]["Environment"]["Variables"]
        return {name: str(self.resolve(value)) for name, value in variables.items()}

    def statements(self, role_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for policy in self.of_type("AWS::IAM::Policy").values():
            if {"Ref": role_id} in policy["Properties"].get("Roles", []):
                found += policy["Properties"]["PolicyDocument"]["Statement"]
        role = self.resources[role_id]["Properties"]
        for inline in role.get("Policies", []):
            found += inline["PolicyDocument"]["Statement"]
        assert not role.get("ManagedPolicyArns"), "function roles carry no managed policy"
        return [self.resolve(statement) for statement in found]


def _by_env_ref(deployment: Deployment, variable: str) -> str:
    """The logical id a function environment variable references (Ref or GetAtt)."""
    for function in deployment.of_type("AWS::Lambda::Function").values():
        value = function["Properties"]["Environment"]["Variables"].get(variable)
        if isinstance(value, dict) and "Ref" in value:
            return str(value["Ref"])
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    raise AssertionError(f"no function environment references a resource through {variable}")


def _deployment(synthesized: Synthesized, aws: AwsResources, kms_key_arn: str) -> Deployment:
    deployment = Deployment(dict(synthesized.template.to_json()["Resources"]))
    (table_id,) = deployment.of_type("AWS::DynamoDB::Table")
    deployment.names[table_id] = aws.table_name
    deployment.arns[table_id] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{aws.table_name}"
    bus_id = _by_env_ref(deployment, "ADS_CONNECT_EVENT_BUS_NAME")
    deployment.names[bus_id] = aws.event_bus_name
    deployment.arns[bus_id] = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{aws.event_bus_name}"
    queue_id = _by_env_ref(deployment, "ADS_CONNECT_WORK_QUEUE_URL")
    deployment.names[queue_id] = aws.work_queue_url
    deployment.arns[queue_id] = _queue_arn(aws.work_queue_url)
    key_id = _by_env_ref(deployment, "ADS_CONNECT_PRIVATE_SECRET_KMS_KEY_ID")
    deployment.arns[key_id] = kms_key_arn
    secrets = boto3.client("secretsmanager", region_name=REGION)
    code_names = {aws.lwa_secret_id, client_id_secret_name(aws.secret_prefix)}
    for secret_id, secret in deployment.of_type("AWS::SecretsManager::Secret").items():
        name = secret["Properties"]["Name"]
        assert name in code_names, f"the secret name {name} is the code's"
        deployment.names[secret_id] = secrets.describe_secret(SecretId=name)["ARN"]
    for role_id, role in deployment.of_type("AWS::IAM::Role").items():
        name = deployment.resolve(role["Properties"].get("RoleName")) or role_id
        deployment.arns[role_id] = f"arn:aws:iam::{ACCOUNT}:role/{name}"
    return deployment


def _queue_arn(url: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{url.rstrip('/').rsplit('/', 1)[1]}"


# --- recording: which handler made which AWS call ---------------------------------------------


@dataclass(frozen=True)
class Need:
    """One permission a recorded call needs: IAM action on a resource ARN (for DynamoDB, with
    the partition keys it touches: the ``dynamodb:LeadingKeys`` a condition sees)."""

    function: str
    action: str
    resource: str
    call: str
    leading_keys: tuple[str, ...] = ()


@dataclass
class Recorder:
    deployment: Deployment
    secret_arns: dict[str, str]
    current: list[str] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)
    cmk_secrets: set[str] = field(default_factory=set)  # created with the private-token key
    calls: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def secret_arn(self, secret_id: str) -> str:
        if secret_id.startswith("arn:"):
            return secret_id
        # A name moto has not seen yet (CreateSecret) gets the 6-character suffix AWS adds.
        return self.secret_arns.get(
            secret_id, f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret_id}-AbCdEf"
        )

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        if not self.current:
            return  # test set-up, not a function
        function = self.current[-1]
        call = f"{service}:{operation}"
        self.calls[function].add(call)
        for action, resource, *keys in self._requirements(service, operation, params):
            self.needs.append(Need(function, action, resource, call, tuple(keys)))

    def _requirements(self, service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, ...]]:
        if service == "dynamodb":
            return self._dynamodb(operation, params)
        if service == "secretsmanager":
            name = str(params.get("SecretId") or params["Name"])
            arn = self.secret_arn(name)
            needs = [(f"secretsmanager:{operation}", arn)]
            if operation == "CreateSecret":
                if params.get("Tags"):
                    needs.append(("secretsmanager:TagResource", arn))
                if params.get("KmsKeyId"):
                    self.cmk_secrets.add(name)
            return needs
        if service == "events":
            buses = {str(entry.get("EventBusName", "default")) for entry in params["Entries"]}
            return [
                ("events:PutEvents", bus if bus.startswith("arn:") else self._bus_arn(bus)) for bus in buses
            ]
        if service == "sqs":
            action = SQS_ACTIONS.get(operation, f"sqs:{operation}")
            return [(action, _queue_arn(str(params["QueueUrl"])))]
        if service == "sts" and operation == "GetCallerIdentity":
            return []  # needs no permission
        if service == "cloudwatch" and operation == "PutMetricData":
            return [("cloudwatch:PutMetricData", "*")]
        raise AssertionError(f"unmapped AWS call {service}:{operation}: teach this test its IAM action")

    def _bus_arn(self, name: str) -> str:
        return f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"

    def _dynamodb(self, operation: str, params: dict[str, Any]) -> list[tuple[str, ...]]:
        def arn(table: str, index: str | None = None) -> str:
            base = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
            return f"{base}/index/{index}" if index else base

        if operation in ("TransactWriteItems", "TransactGetItems"):
            needs: list[tuple[str, ...]] = []
            for item in params["TransactItems"]:
                ((kind, body),) = item.items()
                needs.append((TRANSACT_ITEM_ACTIONS[kind], arn(body["TableName"]), *_partition_keys(body)))
            return needs
        if operation in ("BatchWriteItem", "BatchGetItem"):
            return [
                (f"dynamodb:{operation}", arn(table), *_batch_partition_keys(requests))
                for table, requests in params["RequestItems"].items()
            ]
        resource = arn(params["TableName"], params.get("IndexName"))
        return [(f"dynamodb:{operation}", resource, *_partition_keys(params))]


def _partition_keys(body: dict[str, Any]) -> tuple[str, ...]:
    """The partition key one request touches (what IAM evaluates as ``dynamodb:LeadingKeys``).
    The recorder sees boto3's resource-level parameters (plain values, condition objects) or
    client-level ones (typed values, expression strings)."""
    for field_name in ("Key", "Item"):
        if field_name in body:
            return (_plain(body[field_name][schema.PARTITION_KEY]),)
    expression = body.get("KeyConditionExpression")
    if isinstance(expression, ConditionBase):
        return tuple(_condition_partition_keys(expression))
    if expression:
        names = body.get("ExpressionAttributeNames", {})
        values = body.get("ExpressionAttributeValues", {})
        for name_ref, value_ref in re.findall(r"(#?\w+) = (:\w+)", str(expression)):
            if names.get(name_ref, name_ref) == schema.PARTITION_KEY:
                return (_plain(values[value_ref]),)
    return ()  # a Scan or an index query by another key: no leading key of the table


def _plain(value: Any) -> str:
    return str(value["S"]) if isinstance(value, dict) else str(value)


def _condition_partition_keys(condition: ConditionBase) -> list[str]:
    expression = condition.get_expression()
    values = expression["values"]
    subject = values[0]
    if expression["operator"] == "=" and isinstance(subject, Key) and subject.name == schema.PARTITION_KEY:
        return [str(values[1])]
    return [key for v in values if isinstance(v, ConditionBase) for key in _condition_partition_keys(v)]


def _batch_partition_keys(requests: Any) -> tuple[str, ...]:
    """BatchWriteItem: ``[{"PutRequest": {"Item"}} | {"DeleteRequest": {"Key"}}]``;
    BatchGetItem: ``{"Keys": [key, ...]}``."""
    if isinstance(requests, dict):
        bodies = [{"Key": key} for key in requests["Keys"]]
    else:
        bodies = [body for request in requests for body in request.values()]
    return tuple(key for body in bodies for key in _partition_keys(body))


def _condition_holds(condition: dict[str, Any] | None, leading_keys: tuple[str, ...]) -> bool:
    """The one condition the roles use, evaluated as IAM does: ``ForAllValues:StringLike`` on
    ``dynamodb:LeadingKeys`` (every key must match a pattern; ``*`` any run, ``?`` one character).
    Any other condition is not understood here, so it allows nothing."""
    if condition is None:
        return True
    if set(condition) != {"ForAllValues:StringLike"} or set(condition["ForAllValues:StringLike"]) != {
        "dynamodb:LeadingKeys"
    }:
        return False
    patterns = [
        re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in str(p)), re.S)
        for p in as_list(condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"])
    ]
    return all(any(p.fullmatch(key) for p in patterns) for key in leading_keys)


def _allows(
    statements: list[dict[str, Any]], action: str, resource: str, leading_keys: tuple[str, ...] = ()
) -> bool:
    for statement in statements:
        if statement["Effect"] != "Allow" or not _condition_holds(statement.get("Condition"), leading_keys):
            continue
        actions = [str(a).lower() for a in as_list(statement["Action"])]
        if not any(fnmatchcase(action.lower(), pattern) for pattern in actions):
            continue
        if any(fnmatchcase(resource, str(pattern)) for pattern in as_list(statement["Resource"])):
            return True
    return False


def _key_policy_allows(deployment: Deployment, key_id: str, role_arn: str, action: str) -> bool:
    """The key policy admits the role: by name as principal, or (what the stack does) the account
    as principal with the role in an ``aws:PrincipalArn`` condition, which KMS honours only when
    the role's own IAM policy allows the action on the key too."""
    policy = deployment.resolve(deployment.resources[key_id]["Properties"]["KeyPolicy"])
    for statement in policy["Statement"]:
        principals = as_list(statement.get("Principal", {}).get("AWS", []))
        actions = [str(a).lower() for a in as_list(statement["Action"])]
        equals = statement.get("Condition", {}).get("StringEquals", {})
        if (
            statement["Effect"] != "Allow"
            or not any(fnmatchcase(action.lower(), pattern) for pattern in actions)
            or equals.get("kms:ViaService") not in (None, f"secretsmanager.{REGION}.amazonaws.com")
        ):
            continue
        if role_arn in principals:
            return True
        if f"arn:aws:iam::{ACCOUNT}:root" in principals and role_arn in as_list(
            equals.get("aws:PrincipalArn", [])
        ):
            return _role_may_use_key(deployment, role_arn, key_id, action)
    return False


def _role_may_use_key(deployment: Deployment, role_arn: str, key_id: str, action: str) -> bool:
    (role_id,) = [k for k in deployment.of_type("AWS::IAM::Role") if deployment.arns[k] == role_arn]
    key_arn = deployment.arns[key_id]
    for statement in deployment.statements(role_id):
        via = statement.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
        if (
            statement.get("Effect", "Allow") == "Allow"
            and action in as_list(statement["Action"])
            and key_arn in as_list(statement["Resource"])
            and via in (None, f"secretsmanager.{REGION}.amazonaws.com")
        ):
            return True
    return False


def _denied_by_lwa_policy(deployment: Deployment, role_arn: str, action: str) -> bool:
    for policy in deployment.of_type("AWS::SecretsManager::ResourcePolicy").values():
        document = deployment.resolve(policy["Properties"]["ResourcePolicy"])
        for statement in document["Statement"]:
            if statement["Effect"] != "Deny":
                continue
            if not any(fnmatchcase(action, str(a)) for a in as_list(statement["Action"])):
                continue
            exempt = statement.get("Condition", {}).get("StringNotEquals", {}).get("aws:PrincipalArn", [])
            if role_arn not in as_list(exempt):
                return True
    return False


# --- driving the product through the handlers ------------------------------------------------


@dataclass
class Flows:
    aws: AwsResources
    amazon: RunningEmulator
    recorder: Recorder
    deployment: Deployment

    def admin(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        response = admin.handler(http_event(method, path, **kwargs), FakeLambdaContext())  # type: ignore[arg-type]
        return int(response["statusCode"]), json.loads(response["body"])

    def session_id(self, tenant: str) -> str:
        status, body = self.admin("POST", f"/admin/tenants/{tenant}/connect-sessions", body={})
        assert status == 201, body
        return str(body["consent_url"]).rsplit("/", 1)[1]

    def connect(self, tenant: str, region: str) -> None:
        page = Browser().connect(self.session_id(tenant), region)
        assert page["statusCode"] == 200 and "connected" in page["body"], page["body"][:500]

    def make_due(self, tenant: str, region: Region, *, profile_sync: bool = False) -> None:
        store = DynamoConnectionStore(self.aws.table_name, clock=SystemClock())
        connection = store.get_connection(tenant, region)
        assert connection is not None
        past = connection.connected_at - timedelta(seconds=1)
        update = {"profile_sync_due_at": past} if profile_sync else {"refresh_due_at": past}
        store.save_connection(connection.replace(**update), expected_grant_version=connection.grant_version)

    def schedule_and_work(self) -> dict[str, Any]:
        summary = refresh_scheduler.handler({}, FakeLambdaContext())  # type: ignore[arg-type]
        sqs = boto3.client("sqs", region_name=REGION)
        records = []
        while batch := sqs.receive_message(QueueUrl=self.aws.work_queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            records += sqs_event(batch, _queue_arn(self.aws.work_queue_url))["Records"]
            for m in batch:
                sqs.delete_message(QueueUrl=self.aws.work_queue_url, ReceiptHandle=m["ReceiptHandle"])
        result = refresh_worker.handler({"Records": records}, FakeLambdaContext())  # type: ignore[arg-type]
        assert result == {"batchItemFailures": []}
        return dict(summary)


def _reset_handlers() -> None:
    dependencies.reset()
    refresh_scheduler.reset()
    refresh_worker.reset()
    admin.reset()


@pytest.fixture
def flows(
    synthesized: Synthesized,
    aws: AwsResources,
    amazon_emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Flows]:
    kms_key_arn = boto3.client("kms", region_name=REGION).create_key(Description="private tokens")[
        "KeyMetadata"
    ]["Arn"]
    deployment = _deployment(synthesized, aws, kms_key_arn)
    client = boto3.client("secretsmanager", region_name=REGION)
    original_call = botocore.client.BaseClient._make_api_call

    def current_secret_arns() -> dict[str, str]:
        # Straight to moto, past the recorder: this look-up is the test's, not a function's.
        listed = original_call(client, "ListSecrets", {"IncludePlannedDeletion": True})["SecretList"]
        return {s["Name"]: s["ARN"] for s in listed}

    recorder = Recorder(deployment, current_secret_arns())

    def recording_call(self: Any, operation_name: str, api_params: Any) -> Any:
        service = self.meta.service_model.service_name
        if service == "secretsmanager" and recorder.current:
            recorder.secret_arns = current_secret_arns()
        recorder.record(service, operation_name, dict(api_params))
        return original_call(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording_call)

    # Each handler runs with exactly its function's environment from the template.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ADS_CONNECT_", "POWERTOOLS_"))}
    base[ENDPOINTS_ENV_VAR] = amazon_emulator.endpoints_json

    last_function: list[str] = []

    def as_function(kind: str, original: Callable[..., Any]) -> Callable[..., Any]:
        environment = {**base, **deployment.environment(kind)}

        def invoke(event: Any, context: Any) -> Any:
            if last_function and last_function[-1] != kind:
                _reset_handlers()  # another function: its own process, nothing cached
            last_function[:] = [kind]
            saved = dict(os.environ)
            os.environ.clear()
            os.environ.update(environment)
            recorder.current.append(kind)
            try:
                return original(event, context)
            finally:
                recorder.current.pop()
                os.environ.clear()
                os.environ.update(saved)

        return invoke

    for kind, module in HANDLER_MODULES.items():
        monkeypatch.setattr(module, "handler", as_function(kind, module.handler))
    amazon_emulator.emu.headless = "allow"
    _reset_handlers()
    yield Flows(aws, amazon_emulator, recorder, deployment)
    _reset_handlers()


def _walk_the_product(flows: Flows) -> None:
    """Every function, every kind of write: connect, refresh (rotating), revoke, re-consent, admin."""
    emu = flows.amazon.emu
    emu.add_user("adv", profiles={"NA": [seller_profile(101, "US")], "EU": [seller_profile(201, "DE")]})
    assert (
        flows.admin(
            "PUT",
            "/admin/client-credentials",
            body={"client_id": TEST_CLIENT_ID, "client_secret": TEST_CLIENT_SECRET},
        )[0]
        == 200
    )
    assert flows.admin("POST", "/admin/client-credentials/check")[0] == 200
    flows.connect("acme", "NA")
    flows.connect("globex", "EU")

    emu.rotation = "rotate_strict"
    flows.make_due("acme", Region.NA)
    assert flows.schedule_and_work()["refreshes_enqueued"] == 1

    assert flows.admin("GET", "/admin/connections")[0] == 200
    assert flows.admin("GET", "/admin/tenants/acme")[0] == 200
    assert flows.admin("POST", "/admin/tenants/acme/connections/NA/refresh")[0] == 200
    assert flows.admin("POST", "/admin/tenants/acme/connections/NA/resync-profiles")[0] == 200
    flows.make_due("acme", Region.NA, profile_sync=True)
    assert flows.schedule_and_work()["profile_syncs_enqueued"] == 1

    emu.revoke("adv")
    flows.make_due("globex", Region.EU)
    assert flows.schedule_and_work()["refreshes_enqueued"] == 1

    status, body = flows.admin("DELETE", "/admin/tenants/acme/connections/NA", query={"recovery_days": "7"})
    assert status == 200, body
    # Re-consent after a disconnect restores the secrets scheduled for deletion.
    emu.add_user("adv2", profiles={"NA": [seller_profile(102, "US")]})
    emu.sign_in("adv2")
    flows.connect("acme", "NA")


def role_denials(recorder: Recorder, deployment: Deployment) -> list[str]:
    """Recorded needs the function's role does not allow."""
    denied = []
    for need in recorder.needs:
        statements = deployment.statements(deployment.role_id(need.function))
        if not _allows(statements, need.action, need.resource, need.leading_keys):
            denied.append(f"{need.function}: {need.action} on {need.resource} (call {need.call})")
    return sorted(set(denied))


def policy_denials(recorder: Recorder, deployment: Deployment, lwa_secret_id: str) -> list[str]:
    """Recorded secret calls the LWA secret's resource policy or the private-token key refuses."""
    key_id = _by_env_ref(deployment, "ADS_CONNECT_PRIVATE_SECRET_KMS_KEY_ID")
    problems = []
    for need in recorder.needs:
        if not need.action.startswith("secretsmanager:"):
            continue
        role_arn = deployment.arns[deployment.role_id(need.function)]
        name = re.sub(r"^arn:aws:secretsmanager:[^:]+:\d+:secret:", "", need.resource)
        name = re.sub(r"-[A-Za-z0-9]{6}$", "", name)
        if name == lwa_secret_id and _denied_by_lwa_policy(deployment, role_arn, need.action):
            problems.append(f"{need.function}: the LWA secret's policy denies {need.action}")
        kms_action = KMS_NEEDS.get(need.action)
        if (
            kms_action
            and name in recorder.cmk_secrets
            and not _key_policy_allows(deployment, key_id, role_arn, kms_action)
        ):
            problems.append(f"{need.function}: the key policy refuses {kms_action} for {name}")
    return sorted(set(problems))


def test_every_aws_call_of_every_function_is_allowed_where_it_is_deployed(flows: Flows) -> None:
    # Given the product's flows run through the five handlers, each with its deployed environment
    # and its own cold start (no cache shared between functions)
    _walk_the_product(flows)
    recorder, deployment = flows.recorder, flows.deployment
    # Then the walk reached every function and the refresh tokens were created under the key
    assert set(recorder.calls) == set(HANDLER_MODULES), dict(recorder.calls)
    assert recorder.cmk_secrets and all("/refresh/" in name for name in recorder.cmk_secrets)
    # And the function's role allows every call it made
    denied = role_denials(recorder, deployment)
    assert not denied, "calls the deployed roles would refuse:\n" + "\n".join(denied)
    # And neither the LWA secret's resource policy nor the key policy stands in the way
    refused = policy_denials(recorder, deployment, flows.aws.lwa_secret_id)
    assert not refused, "\n".join(refused)
    # And every function that read a refresh token is on the reader list the secrets are locked to
    readers = set(
        json.loads(deployment.environment("refresh_worker")["ADS_CONNECT_PRIVATE_SECRET_READER_ARNS"])
    )
    readers_needed = {
        deployment.arns[deployment.role_id(need.function)]
        for need in recorder.needs
        if need.action == "secretsmanager:GetSecretValue" and "/refresh/" in need.resource
    }
    assert readers_needed and readers_needed <= readers


def test_the_check_refuses_what_the_roles_do_not_grant(synthesized: Synthesized, aws: AwsResources) -> None:
    # Given the deployment and calls no role should be allowed to make
    key_arn = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    deployment = _deployment(synthesized, aws, key_arn)
    recorder = Recorder(deployment, {})
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ads-connect"
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{aws.table_name}"
    forbidden = [
        Need("consent", "secretsmanager:GetSecretValue", f"{secret}/refresh/acme/NA-AbCdEf", "t"),
        Need("refresh_scheduler", "dynamodb:PutItem", table, "t"),
        Need("refresh_worker", "secretsmanager:DeleteSecret", f"{secret}/refresh/acme/NA-AbCdEf", "t"),
        Need("callback", "secretsmanager:GetSecretValue", f"{secret}/other/x-AbCdEf", "t"),
        Need("admin", "dynamodb:Query", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/another-table", "t"),
    ]
    allowed = [Need("callback", "secretsmanager:CreateSecret", f"{secret}/refresh/acme/NA-AbCdEf", "t")]
    recorder.needs = [*forbidden, *allowed]
    # When the role check runs
    denied = role_denials(recorder, deployment)
    # Then it names exactly the forbidden calls
    assert len(denied) == len(forbidden)
    assert all(any(n.function in d and n.action in d for d in denied) for n in forbidden)
    # And the policy check refuses the consent role the private-token key
    recorder.needs = [
        Need("consent", "secretsmanager:GetSecretValue", f"{secret}/refresh/acme/NA-AbCdEf", "t")
    ]
    recorder.cmk_secrets = {"ads-connect/refresh/acme/NA"}
    assert policy_denials(recorder, deployment, aws.lwa_secret_id) == [
        "consent: the key policy refuses kms:Decrypt for ads-connect/refresh/acme/NA"
    ]


# Granted but not reached by the walk, each for a reason; everything else granted must be used.
# The platform uses the function's role for these (logs, traces, the SQS event source mapping).
PLATFORM_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTelemetryRecords",
                    "xray:PutTraceSegments"}  # fmt: skip
EVENT_SOURCE_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                        "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}  # fmt: skip
# The vault's one write path creates a missing secret (with its policy, for a private one): a
# consumer secret deleted by hand comes back on the next refresh. The admin API's refresh-now
# shares that path with the worker.
RECREATE_CONSUMER_SECRET = {"secretsmanager:CreateSecret", "secretsmanager:TagResource",
                            "secretsmanager:PutResourcePolicy"}  # fmt: skip
# Secrets Manager uses the private-token key on the caller's behalf; the key policy admits the
# roles through the account, so their IAM policies allow it too (policy_denials checks both).
KEY_THROUGH_SECRETS_MANAGER = {"kms:Decrypt", "kms:GenerateDataKey"}
GRANTED_FOR_PATHS_THE_WALK_DOES_NOT_TAKE = {
    "consent": PLATFORM_ACTIONS,
    "callback": PLATFORM_ACTIONS | KEY_THROUGH_SECRETS_MANAGER,
    "admin": PLATFORM_ACTIONS | RECREATE_CONSUMER_SECRET | KEY_THROUGH_SECRETS_MANAGER,
    "refresh_scheduler": PLATFORM_ACTIONS,
    "refresh_worker": PLATFORM_ACTIONS
    | EVENT_SOURCE_ACTIONS
    | RECREATE_CONSUMER_SECRET
    | KEY_THROUGH_SECRETS_MANAGER,
}


def test_every_granted_action_is_used_or_has_a_stated_reason(flows: Flows) -> None:
    # Given the walk of every flow through the five functions
    _walk_the_product(flows)
    used: dict[str, set[str]] = defaultdict(set)
    for need in flows.recorder.needs:
        used[need.function].add(need.action)
    for kind in HANDLER_MODULES:
        # When the actions each role allows are compared with the actions the function needed
        granted = {
            action
            for statement in flows.deployment.statements(flows.deployment.role_id(kind))
            if statement.get("Effect", "Allow") == "Allow"
            for action in as_list(statement["Action"])
        }
        # Then nothing is granted "just in case": each unused action is one the table above explains
        assert granted - used[kind] == GRANTED_FOR_PATHS_THE_WALK_DOES_NOT_TAKE[kind], kind
