"""Threats T3 and T4 (docs/security.md): code execution in a public function (a dependency
compromised, a bug in a parser) gets that function's role. What could it do? Played against
the synthesized policies (evaluated as IAM would, with the conditions) and, for the consent
function, against moto: it works without any access to the client secret."""

from __future__ import annotations

from typing import Any

import botocore.client
import pytest
from ads_connect import table_schema as schema

from tests.fakes.browser import Browser
from tests.fixtures.aws import TEST_CLIENT_ID
from tests.infrastructure.conftest import Synthesized, synthesized
from tests.infrastructure.helpers import as_list, describe
from tests.infrastructure.test_deployed_permissions import _condition_holds
from tests.infrastructure.test_security import role_arn
from tests.security.conftest import Product

__all__ = ["synthesized"]


def allowed(
    synth: Synthesized, kind: str, action: str, resource_id: str, leading_key: str | None = None
) -> bool:
    """Whether the function's role allows ``action`` on the resource, for an item whose partition
    key is ``leading_key`` (and, for a secret, after the secret's own deny policy)."""
    product = synth.stack.ads_connect
    role_id = synth.logical_id(product.roles[kind])
    keys = (leading_key,) if leading_key else ()
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"].get("Roles", []):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if (
                action in as_list(statement["Action"])
                and any(describe(r).split(".")[0] == resource_id for r in as_list(statement["Resource"]))
                and _condition_holds(statement.get("Condition"), keys)
            ):
                return not _denied_by_secret_policy(synth, role_id, action, resource_id)
    return False


def _denied_by_secret_policy(synth: Synthesized, role_id: str, action: str, resource_id: str) -> bool:
    for policy in synth.of_type("AWS::SecretsManager::ResourcePolicy").values():
        if describe(policy["Properties"]["SecretId"]) != resource_id:
            continue
        for statement in policy["Properties"]["ResourcePolicy"]["Statement"]:
            exempt = {describe(a) for a in statement["Condition"]["StringNotEquals"]["aws:PrincipalArn"]}
            if statement["Effect"] == "Deny" and action in as_list(statement["Action"]):
                return role_arn(synth, role_id) not in exempt
    return False


@pytest.fixture(scope="module")
def ids(synthesized: Synthesized) -> dict[str, str]:
    product = synthesized.stack.ads_connect
    return {
        "table": synthesized.logical_id(product.data.table),
        "lwa": synthesized.logical_id(product.secrets.lwa_secret),
        "client_id": synthesized.logical_id(product.secrets.client_id_secret),
    }


TENANT_ITEM = schema.tenant_pk("acme")
SESSION_ITEM, STATE_ITEM, RESULT_ITEM = (
    schema.consent_key(kind, "x")[schema.PARTITION_KEY]
    for kind in (schema.ConsentKind.SESSION, schema.ConsentKind.STATE, schema.ConsentKind.RESULT)
)
OPERATOR_ITEM = schema.operator_key("client-credentials-invalid")[schema.PARTITION_KEY]


def test_t3_a_compromised_consent_function_cannot_read_the_client_secret(synthesized, ids) -> None:
    assert not allowed(synthesized, "consent", "secretsmanager:GetSecretValue", ids["lwa"])
    assert allowed(synthesized, "consent", "secretsmanager:GetSecretValue", ids["client_id"])
    # The callback exchanges codes, so it must: the consent page is the one that must not
    assert allowed(synthesized, "callback", "secretsmanager:GetSecretValue", ids["lwa"])


@pytest.mark.parametrize(
    ("kind", "action", "leading_key", "expected"),
    [
        ("consent", "dynamodb:GetItem", TENANT_ITEM, False),  # read a tenant's connection
        ("consent", "dynamodb:PutItem", TENANT_ITEM, False),  # plant a connection
        ("consent", "dynamodb:PutItem", OPERATOR_ITEM, False),  # pause every refresh
        (
            "consent",
            "dynamodb:GetItem",
            RESULT_ITEM,
            False,
        ),  # read results
        (
            "consent",
            "dynamodb:PutItem",
            STATE_ITEM,
            True,
        ),  # its own job
        (
            "consent",
            "dynamodb:GetItem",
            SESSION_ITEM,
            True,
        ),
        ("callback", "dynamodb:PutItem", OPERATOR_ITEM, False),
        ("callback", "dynamodb:DeleteItem", OPERATOR_ITEM, False),  # lift the operator's pause
        ("callback", "dynamodb:UpdateItem", TENANT_ITEM, True),  # residual: any tenant (decisions.md)
        (
            "callback",
            "dynamodb:DeleteItem",
            STATE_ITEM,
            True,
        ),
    ],
)
def test_t4_a_compromised_public_function_reaches_only_its_item_families(
    synthesized, ids, kind: str, action: str, leading_key: str, expected: bool
) -> None:
    assert allowed(synthesized, kind, action, ids["table"], leading_key) is expected


def test_t3_the_consent_page_works_without_any_access_to_the_client_secret(
    product: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the LWA client secret is unreadable to the consent function (as the deny policy makes it)
    read_by_consent: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def refuse_the_client_secret(self: Any, operation: str, params: Any) -> Any:
        if operation == "GetSecretValue":
            read_by_consent.append(str(params["SecretId"]))
            if params["SecretId"] == product.aws.lwa_secret_id:
                raise AssertionError("the consent function read the LWA client secret")
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refuse_the_client_secret)
    # When an advertiser opens the page and starts the flow
    browser = Browser()
    session = product.session("acme")
    assert browser.open_connect(session)["statusCode"] == 200
    started = browser.submit_region(session, "NA")
    # Then Amazon's authorization URL carries the client id, read from its public copy only
    assert started["statusCode"] == 302, started["body"][:300]
    assert f"client_id={TEST_CLIENT_ID}" in started["headers"]["Location"]
    assert read_by_consent == [f"{product.aws.secret_prefix}/lwa-client-id"]
