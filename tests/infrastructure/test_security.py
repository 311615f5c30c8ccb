"""Security-relevant properties of the synthesized stack: roles, keys, secrets, data, API."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

import pytest
from ads_connect import table_schema as schema
from ads_connect.models import settings as env

from tests.infrastructure.conftest import Synthesized
from tests.infrastructure.helpers import actions_on, as_list, describe, resources_of, role_permissions

SECRET_ARN = "arn:AWS::Partition:secretsmanager:AWS::Region:AWS::AccountId:secret:"
WRITE = {
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:CreateSecret",
    "secretsmanager:TagResource",
}
DDB_FULL = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchWriteItem",
}


@pytest.fixture(scope="module")
def ids(synthesized: Synthesized) -> dict[str, str]:
    product = synthesized.stack.ads_connect
    names = {f"role:{kind}": synthesized.logical_id(role) for kind, role in product.roles.roles.items()}
    names |= {f"fn:{kind}": synthesized.logical_id(fn) for kind, fn in product.functions.items()}
    names["table"] = synthesized.logical_id(product.data.table)
    names["lwa"] = synthesized.logical_id(product.secrets.lwa_secret)
    names["client_id"] = synthesized.logical_id(product.secrets.client_id_secret)
    names["key"] = synthesized.logical_id(product.secrets.private_key)
    names["bus"] = synthesized.logical_id(product.events.bus)
    names["queue"] = synthesized.logical_id(product.refresh.work_queue)
    names["dlq"] = synthesized.logical_id(product.refresh.work_dlq)
    names["schedule_dlq"] = synthesized.logical_id(product.refresh.schedule_dlq)
    return names


def perms(synthesized: Synthesized, ids: dict[str, str], kind: str) -> set[tuple[str, str]]:
    return role_permissions(synthesized.resources, ids[f"role:{kind}"])


# --- roles: exact actions on exact resources --------------------------------------------------


def test_consent_role_reads_the_client_id_and_its_session_items_only(synthesized, ids):
    pairs = perms(synthesized, ids, "consent")
    table = f"{ids['table']}.Arn"
    assert {a for a, r in pairs if r == table} == {"dynamodb:GetItem", "dynamodb:PutItem"}
    assert resources_of(pairs, "secretsmanager") == {ids["client_id"]}
    assert actions_on(pairs, ids["client_id"]) == {"secretsmanager:GetSecretValue"}
    assert not any(a.startswith(("kms:", "events:", "sqs:")) for a, _ in pairs)
    assert not any("/index/" in r for _, r in pairs)


def test_scheduler_role_queries_due_indexes_and_enqueues_without_any_secret(synthesized, ids):
    pairs = perms(synthesized, ids, "refresh_scheduler")
    table = f"{ids['table']}.Arn"
    assert {r for a, r in pairs if a == "dynamodb:Query"} == {
        f"{table}/index/{schema.DUE_INDEX}",
        f"{table}/index/{schema.PROFILE_SYNC_INDEX}",
    }
    assert {a for a, r in pairs if r == table} == {"dynamodb:GetItem"}
    assert {(a, r) for a, r in pairs if a.startswith("sqs:")} == {("sqs:SendMessage", f"{ids['queue']}.Arn")}
    assert not any(a.startswith(("secretsmanager:", "kms:", "events:")) for a, _ in pairs)


@pytest.mark.parametrize("kind", ["callback", "refresh_worker", "admin"])
def test_token_writing_roles_are_scoped_to_the_stack_prefix(synthesized, ids, kind):
    pairs = perms(synthesized, ids, kind)
    table = f"{ids['table']}.Arn"
    assert {a for a, r in pairs if r == table} == DDB_FULL
    # The callback queries no index (its table actions carry LeadingKeys: test_public_roles.py).
    assert {a for a, r in pairs if r == f"{table}/index/*"} == (set() if kind == "callback" else DDB_FULL)
    refresh = actions_on(pairs, f"{SECRET_ARN}ads-connect/prod/refresh/*")
    access = actions_on(pairs, f"{SECRET_ARN}ads-connect/prod/access/*")
    lifecycle = {"admin": {"secretsmanager:DeleteSecret"}, "callback": {"secretsmanager:RestoreSecret"}}
    extra = lifecycle.get(kind, set())
    assert refresh == WRITE | {"secretsmanager:PutResourcePolicy"} | extra
    assert access == WRITE | extra
    lwa = actions_on(pairs, ids["lwa"])
    assert lwa == ({"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"} if kind == "admin"
                   else {"secretsmanager:GetSecretValue"})  # fmt: skip
    # Only the admin API writes the client id's public copy (with the secret); nobody else touches it.
    assert actions_on(pairs, ids["client_id"]) == ({"secretsmanager:PutSecretValue"} if kind == "admin"
                                                   else set())  # fmt: skip
    assert resources_of(pairs, "secretsmanager") - {ids["client_id"]} == {
        ids["lwa"], f"{SECRET_ARN}ads-connect/prod/refresh/*", f"{SECRET_ARN}ads-connect/prod/access/*"
    }  # fmt: skip
    assert {(a, r) for a, r in pairs if a.startswith("events:")} == {
        ("events:PutEvents", f"{ids['bus']}.Arn")
    }


def test_no_role_has_a_wildcard_action_or_an_unexplained_star_resource(synthesized, ids):
    for kind in ("consent", "callback", "admin", "refresh_scheduler", "refresh_worker"):
        for action, resource in perms(synthesized, ids, kind):
            assert "*" not in action, (kind, action)
            if resource == "*":
                assert action.startswith("xray:"), (kind, action)


def test_only_the_worker_consumes_the_queue_and_only_the_scheduler_sends(synthesized, ids):
    for kind in ("consent", "callback", "admin"):
        assert not any(a.startswith("sqs:") for a, _ in perms(synthesized, ids, kind))
    worker = perms(synthesized, ids, "refresh_worker")
    assert {r for a, r in worker if a == "sqs:ReceiveMessage"} == {f"{ids['queue']}.Arn"}
    assert not any(a == "sqs:SendMessage" for a, _ in worker)


# --- KMS key and secrets ------------------------------------------------------------------------


def role_arn(synthesized: Synthesized, role_id: str) -> str:
    """The role's ARN spelled from its RoleName, as the stack writes it into policy conditions."""
    name = describe(synthesized.resources[role_id]["Properties"]["RoleName"])
    return f"arn:AWS::Partition:iam::AWS::AccountId:role/{name}"


def test_private_token_key_rotates_and_only_three_function_roles_use_it(synthesized, ids):
    key = synthesized.resources[ids["key"]]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "RetainExceptOnCreate"
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    users = [s for s in statements if "kms:Decrypt" in as_list(s["Action"])]
    assert len(users) == 1
    # The account as principal, the roles in an aws:PrincipalArn condition (no fresh-role principal)
    assert {describe(p) for p in as_list(users[0]["Principal"]["AWS"])} == {ACCOUNT_ROOT}
    readers = {describe(a) for a in users[0]["Condition"]["StringEquals"]["aws:PrincipalArn"]}
    assert readers == {
        role_arn(synthesized, ids[f"role:{k}"]) for k in ("callback", "refresh_worker", "admin")
    }
    assert json.dumps(users[0]["Condition"]).count("secretsmanager.") == 1  # kms:ViaService
    for statement in statements:
        actions = set(as_list(statement["Action"]))
        assert "kms:*" not in actions
        if statement is not users[0]:
            assert not actions & {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"}


# Every KMS action that uses key material, or hands out its use (a grant bypasses kms:ViaService).
KEY_USE_OR_GRANT = (
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateRandom",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateMac",
    "kms:Sign",
    "kms:DeriveSharedSecret",
    "kms:ImportKeyMaterial",
)
KEY_ADMINISTRATION = (
    "kms:PutKeyPolicy",
    "kms:EnableKeyRotation",
    "kms:CreateAlias",
    "kms:ScheduleKeyDeletion",
)
ACCOUNT_ROOT = "arn:AWS::Partition:iam::AWS::AccountId:root"


def allows(statement: dict[str, Any], action: str) -> bool:
    """Whether an Allow statement's Action (wildcards expanded as IAM does) covers ``action``."""
    assert "NotAction" not in statement and "NotPrincipal" not in statement
    return statement["Effect"] == "Allow" and any(
        fnmatchcase(action.lower(), str(pattern).lower()) for pattern in as_list(statement["Action"])
    )


def key_statements(synthesized: Synthesized, key_id: str) -> list[dict[str, Any]]:
    return list(synthesized.resources[key_id]["Properties"]["KeyPolicy"]["Statement"])


def test_no_one_but_the_reader_functions_may_use_or_grant_the_private_token_key(synthesized, ids):
    readers = {role_arn(synthesized, ids[f"role:{k}"]) for k in ("callback", "refresh_worker", "admin")}
    statements = key_statements(synthesized, ids["key"])
    for statement in statements:
        principals = {describe(p) for p in as_list(statement["Principal"].get("AWS", []))}
        assert "Service" not in statement["Principal"]
        condition = statement.get("Condition", {}).get("StringEquals", {})
        admitted = {describe(a) for a in as_list(condition.get("aws:PrincipalArn", []))}
        if admitted and admitted <= readers:
            assert not allows(statement, "kms:CreateGrant")
            continue
        granted = [action for action in KEY_USE_OR_GRANT if allows(statement, action)]
        assert granted == [], f"{statement.get('Sid')} lets {principals} {granted}"
    # ... and the account still administers it (CloudFormation updates its policy, aliases, rotation)
    admin = [s for s in statements if {describe(p) for p in as_list(s["Principal"]["AWS"])} == {ACCOUNT_ROOT}]
    assert [a for a in KEY_ADMINISTRATION if not any(allows(s, a) for s in admin)] == []


def test_alert_topic_key_serves_only_this_accounts_cloudwatch_alarms(synthesized):
    [topic] = synthesized.of_type("AWS::SNS::Topic").values()
    key_id = describe(topic["Properties"]["KmsMasterKeyId"]).removesuffix(".Arn")
    statements = key_statements(synthesized, key_id)
    services = [s for s in statements if "Service" in s["Principal"]]
    assert [s["Principal"] for s in services] == [{"Service": "cloudwatch.amazonaws.com"}]
    [cloudwatch] = services
    assert cloudwatch["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert describe(cloudwatch["Condition"]["ArnLike"]["aws:SourceArn"]) == (
        "arn:AWS::Partition:cloudwatch:AWS::Region:AWS::AccountId:alarm:*"
    )
    for statement in statements:
        if statement is cloudwatch:
            continue
        granted = [action for action in KEY_USE_OR_GRANT if allows(statement, action)]
        assert granted == [], f"{statement.get('Sid')} lets {statement['Principal']} {granted}"
    assert [a for a in KEY_ADMINISTRATION if not any(allows(s, a) for s in statements)] == []


def test_function_environment_names_the_key_and_the_reader_roles(synthesized, ids):
    for kind in ("callback", "refresh_worker", "admin", "consent", "refresh_scheduler"):
        variables = synthesized.resources[ids[f"fn:{kind}"]]["Properties"]["Environment"]["Variables"]
        assert describe(variables[env.ENV_PRIVATE_SECRET_KMS_KEY_ID]) == f"{ids['key']}.Arn"
        readers = json.dumps(variables[env.ENV_PRIVATE_SECRET_READER_ARNS])
        for reader in ("callback", "refresh_worker", "admin"):
            assert ids[f"role:{reader}"] in readers
        assert ids["role:consent"] not in readers and ids["role:refresh_scheduler"] not in readers


def test_lwa_secret_starts_unconfigured_is_retained_and_only_functions_read_it(synthesized, ids):
    secret = synthesized.resources[ids["lwa"]]
    assert secret["DeletionPolicy"] == "RetainExceptOnCreate"
    assert secret["Properties"]["Name"] == "ads-connect/prod/lwa-client"
    generated = secret["Properties"]["GenerateSecretString"]
    assert json.loads(generated["SecretStringTemplate"]) == {"client_id": "", "client_secret": ""}
    assert "SecretString" not in secret["Properties"]
    [policy] = synthesized.of_type("AWS::SecretsManager::ResourcePolicy").values()
    [statement] = policy["Properties"]["ResourcePolicy"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == {"AWS": "*"}
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    allowed = {describe(a) for a in statement["Condition"]["StringNotEquals"]["aws:PrincipalArn"]}
    # The consent function is not exempt: it reads the client id's public copy only.
    kinds = ("callback", "refresh_worker", "admin")
    assert allowed == {role_arn(synthesized, ids[f"role:{k}"]) for k in kinds}


def test_placeholder_secret_is_what_the_vault_reads_as_not_configured():
    from ads_connect.adapters.secrets import SecretsManagerVault
    from ads_connect.logic.ports import ClientCredentialsMissingError

    from stacks.secrets import LWA_PLACEHOLDER

    with pytest.raises(ClientCredentialsMissingError):
        SecretsManagerVault._parse_credentials(json.dumps({**LWA_PLACEHOLDER, "placeholder": "x1"}))


def test_client_id_copy_starts_unconfigured_is_retained_and_read_as_not_configured(synthesized, ids):
    from ads_connect.adapters.secrets import client_id_secret_name

    from stacks.secrets import CLIENT_ID_PLACEHOLDER

    secret = synthesized.resources[ids["client_id"]]
    assert secret["DeletionPolicy"] == "RetainExceptOnCreate"
    name = client_id_secret_name("ads-connect/prod")
    assert secret["Properties"]["Name"] == name == "ads-connect/prod/lwa-client-id"
    generated = secret["Properties"]["GenerateSecretString"]
    assert json.loads(generated["SecretStringTemplate"]) == CLIENT_ID_PLACEHOLDER == {"client_id": ""}


# --- data ---------------------------------------------------------------------------------------


def test_table_matches_the_shared_schema_and_is_protected(synthesized, ids):
    table = synthesized.resources[ids["table"]]
    props = table["Properties"]
    assert table["DeletionPolicy"] == "RetainExceptOnCreate" and table["UpdateReplacePolicy"] == "Retain"
    assert props["DeletionProtectionEnabled"] is True
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True}
    expected: dict[str, Any] = schema.create_table_kwargs("x")
    assert props["KeySchema"] == expected["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(expected["AttributeDefinitions"], key=str)
    indexes = {i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in props["GlobalSecondaryIndexes"]}
    assert indexes == {
        i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in expected["GlobalSecondaryIndexes"]
    }


# --- API ----------------------------------------------------------------------------------------


def test_only_admin_route_is_iam_authorized_and_public_routes_are_exactly_the_pages(synthesized):
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in synthesized.of_type("AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {
        "GET /connect/{session_id}",
        "POST /connect/{session_id}",
        "GET /callback",
        "GET /result/{result_id}",
        "ANY /admin/{proxy+}",
    }
    for key, props in routes.items():
        expected = "AWS_IAM" if key.startswith("ANY /admin") else "NONE"
        assert props["AuthorizationType"] == expected, key


def test_api_is_http_payload_v2_throttled_and_access_logged_without_query_strings(synthesized):
    [integration, *_] = synthesized.of_type("AWS::ApiGatewayV2::Integration").values()
    assert integration["Properties"]["PayloadFormatVersion"] == "2.0"
    [stage] = synthesized.of_type("AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "$default" and props["AutoDeploy"] is True
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] == 50
    assert props["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 100
    log_format = props["AccessLogSettings"]["Format"]
    json.loads(log_format)
    for leaky in ("$context.path", "querystring", "$input", "$request"):
        assert leaky not in log_format


def test_outputs_have_stable_ids_and_the_redirect_uri_is_the_callback(synthesized):
    outputs = synthesized.template.to_json()["Outputs"]
    assert {"ConsentBaseUrl", "RedirectUri", "AdminApiUrl", "TableName", "SecretPrefix", "LwaSecretName",
            "EventBusName", "EventSource"} <= set(outputs)  # fmt: skip
    assert describe(outputs["RedirectUri"]["Value"]).endswith("/callback")
    assert describe(outputs["AdminApiUrl"]["Value"]).endswith("/admin")
    assert outputs["LwaSecretName"]["Value"] == "ads-connect/prod/lwa-client"
    assert outputs["EventSource"]["Value"] == "amazon-ads-connect"
