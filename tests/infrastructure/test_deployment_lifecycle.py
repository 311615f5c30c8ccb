"""Issue 16: `cdk deploy` works on a brand-new account, again after a failed first deploy, and
after `cdk destroy` (adopting what the destroyed stage retained). docs/deploy.md walks each step.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stacks.config import AdsConnectConfig, ConfigError
from tests.infrastructure.conftest import DEMO_SUPPORT_CONTACT, Synthesized, cdk_json_context, synthesize
from tests.infrastructure.helpers import as_list, describe

ACCOUNT = "123456789012"
TABLE = "AmazonAdsConnect-prod-AdsConnectDataTableA446D9C0-1AB2C3D4E5F6"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:ads-connect/prod/lwa-client-AbC123"


def settings(**overrides: Any) -> dict[str, Any]:
    return {"ads-connect": {**cdk_json_context()["ads-connect"], **overrides}}


@pytest.fixture(scope="module")
def adopted(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(
        tmp_path_factory.mktemp("adopted"),
        settings(
            existing_table_name=TABLE, existing_private_key_arn=KEY_ARN, existing_lwa_secret_arn=SECRET_ARN
        ),
    )


@pytest.fixture(scope="module")
def dev_stage(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("dev"), {"stage": "dev"})


# --- a new account: no reserved concurrency ----------------------------------------------------


def test_the_default_template_reserves_no_concurrency(synthesized: Synthesized) -> None:
    for function in synthesized.of_type("AWS::Lambda::Function").values():
        assert "ReservedConcurrentExecutions" not in function["Properties"]


def test_reserved_concurrency_is_an_opt_in_validated_at_synth(tmp_path: Path) -> None:
    reserved = synthesize(tmp_path, settings(reserve_concurrency=True, worker_concurrency=4), nag=False)
    by_handler = {
        f["Properties"]["Handler"].split(".")[-2]: f["Properties"].get("ReservedConcurrentExecutions")
        for f in reserved.of_type("AWS::Lambda::Function").values()
    }
    assert by_handler == {
        "consent": None,
        "callback": None,
        "admin": None,
        "refresh_scheduler": 1,
        "refresh_worker": 4,
    }
    assert reserved.stack.config.reserved_concurrency_total == 5
    with pytest.raises(ConfigError, match=r"ads-connect\.reserve_concurrency.*true/false"):
        AdsConnectConfig.from_context({"reserve_concurrency": "yes please"})


# --- a failed first deploy leaves nothing behind ------------------------------------------------


def test_every_retained_resource_is_deleted_when_its_creation_rolls_back(synthesized: Synthesized) -> None:
    kept = {
        logical_id: resource["Type"]
        for logical_id, resource in synthesized.resources.items()
        if resource.get("DeletionPolicy", "Delete") != "Delete"
    }
    # The secrets: the LWA client and the client id's public copy (docs/security.md).
    assert sorted(kept.values()) == [
        "AWS::DynamoDB::Table",
        "AWS::KMS::Key",
        "AWS::SecretsManager::Secret",
        "AWS::SecretsManager::Secret",
    ]
    for logical_id in kept:
        assert synthesized.resources[logical_id]["DeletionPolicy"] == "RetainExceptOnCreate", logical_id


# ``*Name`` properties that name nothing account-wide: an inline policy's name is scoped to its
# role, a stage's to its API; a display name is a label; the metric names are the product's.
NOT_PHYSICAL_NAMES = {"PolicyName", "StageName", "DisplayName", "MetricName"}


def physical_names(synthesized: Synthesized) -> dict[str, str]:
    """Every name property the template spells itself (a string or a join with literals), by
    ``<type>.<property>``; references to other resources are not names."""
    found: dict[str, str] = {}
    for logical_id, resource in synthesized.resources.items():
        if resource["Type"] == "AWS::Lambda::Alias":
            continue  # an alias's name is scoped to its function
        for key, value in resource.get("Properties", {}).items():
            if not key.endswith("Name") or key in NOT_PHYSICAL_NAMES:
                continue
            if isinstance(value, str) or (isinstance(value, dict) and "Fn::Join" in value):
                found[f"{resource['Type']}.{key} ({logical_id})"] = describe(value)
    return found


def test_every_fixed_name_carries_the_stage(synthesized: Synthesized) -> None:
    names = physical_names(synthesized)
    assert names, "the stack names some resources (secret, roles, alias, bus)"
    for where, name in names.items():
        assert "prod" in name, (where, name)


def test_two_stages_synthesized_side_by_side_share_no_physical_name(
    synthesized: Synthesized, dev_stage: Synthesized
) -> None:
    assert (synthesized.stack.stack_name, dev_stage.stack.stack_name) == (
        "AmazonAdsConnect-prod",
        "AmazonAdsConnect-dev",
    )
    prod, dev = physical_names(synthesized), physical_names(dev_stage)
    assert len(prod) == len(dev)
    assert set(prod.values()) & set(dev.values()) == set()
    outputs = dev_stage.template.to_json()["Outputs"]
    assert outputs["SecretPrefix"]["Value"] == "ads-connect/dev"
    assert outputs["LwaSecretName"]["Value"] == "ads-connect/dev/lwa-client"
    assert outputs["Stage"]["Value"] == "dev"


@pytest.mark.parametrize("stage", ["Prod", "1st", "a" * 17, "dev_1", "", "dev/x"])
def test_a_bad_stage_stops_synth_naming_the_key(stage: str) -> None:
    with pytest.raises(ConfigError, match=r"context key 'stage': must match"):
        AdsConnectConfig.from_context({}, stage)


def test_the_stage_is_not_a_setting_of_the_ads_connect_object() -> None:
    with pytest.raises(ConfigError, match=r"'ads-connect\.stage'.*-c stage=NAME"):
        AdsConnectConfig.from_context({"stage": "dev"})


def test_an_explicit_secret_prefix_still_wins() -> None:
    config = AdsConnectConfig.from_context(
        {"secret_prefix": "acme/connect"}, "dev", demo_support_contact=DEMO_SUPPORT_CONTACT
    )
    assert (config.secret_prefix, config.lwa_secret_name) == ("acme/connect", "acme/connect/lwa-client")


# --- policies that do not race IAM -------------------------------------------------------------


def policy_documents(synthesized: Synthesized) -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for logical_id, resource in synthesized.resources.items():
        props = resource.get("Properties", {})
        for key in ("KeyPolicy", "ResourcePolicy", "PolicyDocument"):
            if isinstance(props.get(key), dict) and resource["Type"] != "AWS::IAM::Policy":
                documents.append((f"{logical_id}.{key}", props[key]))
    return documents


def test_no_key_or_resource_policy_names_a_role_of_this_stack_as_principal(synthesized: Synthesized) -> None:
    roles = set(synthesized.of_type("AWS::IAM::Role"))
    role_names = {
        describe(r["Properties"]["RoleName"])
        for r in synthesized.of_type("AWS::IAM::Role").values()
        if "RoleName" in r["Properties"]
    }
    documents = policy_documents(synthesized)
    assert {where.split(".")[1] for where, _ in documents} >= {"KeyPolicy", "ResourcePolicy"}
    for where, document in documents:
        for statement in document["Statement"]:
            principal = statement.get("Principal", {})
            assert not any(role in json.dumps(principal) for role in roles), (where, statement.get("Sid"))
            aws = principal.get("AWS", []) if isinstance(principal, dict) else principal
            rendered = [describe(p) for p in as_list(aws)]
            assert not any(name in p for p in rendered for name in role_names), (where, rendered)


# --- destroy + redeploy: adopt what the stage retained ------------------------------------------


def test_adoption_settings_reference_the_table_key_and_secret_instead_of_creating_them(
    adopted: Synthesized,
) -> None:
    types = [r["Type"] for r in adopted.resources.values()]
    assert "AWS::DynamoDB::Table" not in types
    assert "AWS::SecretsManager::Secret" not in types
    # The only key left is the alert topic's (deleted with the stack, never retained)
    [key] = adopted.of_type("AWS::KMS::Key").values()
    assert key.get("DeletionPolicy", "Delete") == "Delete"
    variables = next(iter(adopted.of_type("AWS::Lambda::Function").values()))["Properties"]["Environment"][
        "Variables"
    ]
    assert variables["ADS_CONNECT_TABLE_NAME"] == TABLE
    assert variables["ADS_CONNECT_PRIVATE_SECRET_KMS_KEY_ID"] == KEY_ARN
    # The stack still locks the adopted secret to its functions, and names the adopted key
    [policy] = adopted.of_type("AWS::SecretsManager::ResourcePolicy").values()
    assert policy["Properties"]["SecretId"] == SECRET_ARN
    [alias] = adopted.of_type("AWS::KMS::Alias").values()
    assert alias["Properties"]["TargetKeyId"] == KEY_ARN
    # The client id's public copy is adopted with the LWA secret, by name (its ARN suffix unknown)
    consent_role = adopted.logical_id(adopted.stack.ads_connect.roles["consent"])
    consent_resources = [
        describe(resource)
        for policy in adopted.of_type("AWS::IAM::Policy").values()
        if {"Ref": consent_role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "secretsmanager:GetSecretValue" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]
    assert [r.rsplit(":", 1)[-1] for r in consent_resources] == ["ads-connect/prod/lwa-client-id-??????"]
    outputs = adopted.template.to_json()["Outputs"]
    assert outputs["TableName"]["Value"] == TABLE
    assert outputs["PrivateTokenKeyArn"]["Value"] == KEY_ARN
    assert outputs["LwaSecretArn"]["Value"] == SECRET_ARN
    # The functions may use them exactly as they use created ones
    rendered = json.dumps([p["Properties"] for p in adopted.of_type("AWS::IAM::Policy").values()])
    assert f"table/{TABLE}/index/*" in rendered and KEY_ARN in rendered and SECRET_ARN in rendered


def test_adopted_roles_keep_the_arns_the_retained_key_and_secrets_admit(
    synthesized: Synthesized, adopted: Synthesized
) -> None:
    """The retained key's policy and every per-connection secret's policy name the roles' ARNs;
    a redeploy of the same stage gives the roles the same names, so they still match."""

    def role_names(synthesized: Synthesized) -> list[str]:
        roles = synthesized.of_type("AWS::IAM::Role").values()
        return sorted(describe(r["Properties"]["RoleName"]) for r in roles if "RoleName" in r["Properties"])

    names = role_names(synthesized)
    assert len(names) == 5 and names == role_names(adopted)
    assert all(len(name.replace("AWS::Region", "ap-southeast-3")) <= 64 for name in names)


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("existing_private_key_arn", "alias/ads-connect", "must be a KMS key ARN"),
        ("existing_lwa_secret_arn", "ads-connect/prod/lwa-client", "complete secret ARN"),
        (
            "existing_lwa_secret_arn",
            f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:ads-connect/dev/lwa-client-AbC123",
            "this stage's secret 'ads-connect/prod/lwa-client'",
        ),
        ("existing_table_name", "a b", "DynamoDB table name"),
    ],
)
def test_bad_adoption_settings_stop_synth(setting: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=rf"ads-connect\.{setting}.*{message}"):
        AdsConnectConfig.from_context({setting: value})


# --- preflight's inputs: the same rules as the stack -------------------------------------------


def test_the_cli_spells_stage_names_as_the_stack_does() -> None:
    """The CLI never imports stacks/: its copy of the naming rules must not drift."""
    from cli import stages
    from stacks import config

    assert stages.DEFAULT_STAGE == config.DEFAULT_STAGE
    assert stages.STAGE_PATTERN.pattern == config.STAGE_PATTERN.pattern
    for stage in ("prod", "dev", "team-a1"):
        assert stages.stack_name_for(stage) == config.stack_name_for(stage)
        built = AdsConnectConfig.from_context({}, stage, demo_support_contact=DEMO_SUPPORT_CONTACT)
        assert stages.secret_prefix_for(stage) == built.secret_prefix


# The stack outputs doctor and preflight read by name (cli/doctor.py, cli/preflight.py).
CLI_READ_OUTPUTS = (
    "LwaSecretArn",
    "RefreshLeadSeconds",
    "ScheduleName",
    "SecretPrefix",
    "SecretWriteBudget",
)


def test_the_outputs_the_cli_reads_are_the_stacks(synthesized: Synthesized) -> None:
    """The CLI never imports stacks/: the output ids and the client id copy's name it spells must
    be what the stack writes."""
    from ads_connect.adapters.secrets import client_id_secret_name

    from cli.doctor import NEEDED_OUTPUTS
    from cli.preflight import DeploymentNeeds

    outputs = synthesized.template.to_json()["Outputs"]
    assert set(NEEDED_OUTPUTS) | set(CLI_READ_OUTPUTS) <= set(outputs)
    needs = DeploymentNeeds.for_stage("dev")
    assert needs.client_id_secret_name == client_id_secret_name(needs.secret_prefix)


def test_stacks_needs_writes_what_preflight_reads(tmp_path: Path) -> None:
    from cli.preflight import DeploymentNeeds
    from stacks.needs import main as needs_main

    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(
        json.dumps(
            {
                "context": settings(
                    reserve_concurrency=True, existing_table_name=TABLE, support_contact="help@acme.example"
                )
            }
        )
    )
    out = tmp_path / "needs.json"
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert needs_main(["--stage", "dev", "--cdk-json", str(cdk_json)]) == 0
    out.write_text(buffer.getvalue())
    needs = DeploymentNeeds.from_file(out, "dev")
    assert needs.stack_name == "AmazonAdsConnect-dev"
    assert needs.lwa_secret_name == "ads-connect/dev/lwa-client"
    assert needs.reserved_concurrency == 6
    assert needs.existing_table_name == TABLE
    assert needs.lambda_snapstart is True  # read from the synthesized template (consent, callback)


def test_needs_sees_snapstart_in_a_template() -> None:
    from stacks.needs import uses_snapstart

    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {"SnapStart": {"ApplyOn": "PublishedVersions"}},
    }
    assert uses_snapstart({"Resources": {"F": function}})
    assert not uses_snapstart({"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {}}}})
