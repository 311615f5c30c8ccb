"""The two functions anyone on the internet can reach (consent, callback), read from the template:
the consent role has no path to the LWA client secret, and every DynamoDB action either public
role has is limited by ``dynamodb:LeadingKeys`` to the item families that function needs
(docs/security.md, threats T3 and T4)."""

from __future__ import annotations

from typing import Any

import pytest
from ads_connect import table_schema as schema

from tests.infrastructure.conftest import Synthesized
from tests.infrastructure.helpers import as_list, describe

CONSENT_ITEMS = {
    schema.consent_pk_pattern(kind) for kind in (schema.ConsentKind.SESSION, schema.ConsentKind.STATE)
}
PUBLIC_FAMILIES = {
    "consent": CONSENT_ITEMS,
    "callback": CONSENT_ITEMS | {schema.consent_pk_pattern(schema.ConsentKind.RESULT), schema.tenant_pk("*")},
}
# With ForAllValues an empty set of leading keys satisfies the condition, so an action that
# carries none (a Scan, PartiQL) would slip through it: a public role must have none of them.
ACTIONS_WITHOUT_LEADING_KEYS = ("dynamodb:Scan", "dynamodb:PartiQL", "dynamodb:*")


def _statements(synthesized: Synthesized, kind: str) -> list[dict[str, Any]]:
    product = synthesized.stack.ads_connect
    role_id = synthesized.logical_id(product.roles[kind])
    found: list[dict[str, Any]] = []
    for resource in synthesized.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} in resource["Properties"].get("Roles", []):
            found += resource["Properties"]["PolicyDocument"]["Statement"]
    assert not synthesized.resources[role_id]["Properties"].get("Policies"), "no inline role policy"
    return found


def test_consent_role_has_no_path_to_the_client_secret(synthesized: Synthesized) -> None:
    product = synthesized.stack.ads_connect
    lwa_id = synthesized.logical_id(product.secrets.lwa_secret)
    client_id_copy = synthesized.logical_id(product.secrets.client_id_secret)
    consent_role = f"{synthesized.logical_id(product.roles['consent'])}.Arn"
    # Given the consent role's identity policy
    secret_grants = [
        (action, describe(resource))
        for statement in _statements(synthesized, "consent")
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
        if action.startswith("secretsmanager:") or action in ("*", "kms:Decrypt", "sts:AssumeRole")
    ]
    # Then it reads exactly one secret, the client id's public copy, and nothing names the LWA secret
    assert secret_grants == [("secretsmanager:GetSecretValue", client_id_copy)]
    assert all(lwa_id not in describe(s["Resource"]) for s in _statements(synthesized, "consent"))
    # And the LWA secret's resource policy denies the consent role even if a grant were added
    [policy] = synthesized.of_type("AWS::SecretsManager::ResourcePolicy").values()
    [deny] = policy["Properties"]["ResourcePolicy"]["Statement"]
    assert deny["Effect"] == "Deny" and describe(policy["Properties"]["SecretId"]) == lwa_id
    exempt = {describe(arn) for arn in deny["Condition"]["StringNotEquals"]["aws:PrincipalArn"]}
    assert consent_role not in exempt


@pytest.mark.parametrize("kind", sorted(PUBLIC_FAMILIES))
def test_every_dynamodb_action_of_a_public_role_is_limited_to_its_key_families(
    synthesized: Synthesized, kind: str
) -> None:
    # Given every statement of the public role that allows a DynamoDB action
    dynamodb = [
        s
        for s in _statements(synthesized, kind)
        if any(str(a).startswith("dynamodb:") for a in as_list(s["Action"]))
    ]
    assert dynamodb, f"{kind} has DynamoDB permissions"
    for statement in dynamodb:
        # Then none can act without a leading key, and none reaches an index
        assert not any(str(a).startswith(ACTIONS_WITHOUT_LEADING_KEYS) for a in as_list(statement["Action"]))
        assert not any("/index/" in describe(r) for r in as_list(statement["Resource"]))
        # And each carries exactly the LeadingKeys condition of the families the function needs
        condition = statement.get("Condition", {})
        assert set(condition) == {"ForAllValues:StringLike"}, statement
        assert set(condition["ForAllValues:StringLike"]) == {"dynamodb:LeadingKeys"}
        patterns = set(as_list(condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]))
        assert patterns == PUBLIC_FAMILIES[kind]
