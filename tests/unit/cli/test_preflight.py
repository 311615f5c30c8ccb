"""``preflight`` against moto: a clean account passes; each blocking leftover or limit gives its
finding, its fix and exit 1. moto answers STS, CloudFormation, SSM, Secrets Manager and DynamoDB;
it has no Lambda GetAccountSettings, so ``FakeConcurrencyReads`` answers that one call (the
adapter edge, ``AwsReads.lambda_concurrency``)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cli.aws_reads import AwsReads, LambdaConcurrency
from cli.main import Io, main
from cli.preflight import BOOTSTRAP_VERSION_PARAMETER

REGION = "us-east-1"
STACK_TEMPLATE = json.dumps({"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}})


class FakeConcurrencyReads(AwsReads):
    """moto has no GetAccountSettings: the account's Lambda concurrency is given here."""

    def __init__(self, session: boto3.Session, concurrency: LambdaConcurrency) -> None:
        super().__init__(session)
        self.concurrency = concurrency

    def lambda_concurrency(self) -> LambdaConcurrency:
        return self.concurrency


class Account:
    def __init__(self) -> None:
        self.concurrency = LambdaConcurrency(1000, 1000)
        self.session = boto3.Session(region_name=REGION)

    def bootstrap(self, version: str = "30") -> None:
        self.session.client("cloudformation").create_stack(
            StackName="CDKToolkit", TemplateBody=STACK_TEMPLATE
        )
        self.session.client("ssm").put_parameter(
            Name=BOOTSTRAP_VERSION_PARAMETER, Value=version, Type="String"
        )

    def run(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(
            list(argv),
            io=Io(stdout=out, stderr=err, environ={}),
            reads_factory=lambda _args: FakeConcurrencyReads(self.session, self.concurrency),
        )
        return code, out.getvalue(), err.getvalue()

    def findings(self, *argv: str) -> tuple[int, dict[str, dict[str, Any]]]:
        code, out, err = self.run("--json", *argv, "preflight")
        assert not err, err
        return code, {f["check"]: f for f in json.loads(out)["findings"]}


@pytest.fixture
def account(aws_env: None) -> Iterator[Account]:
    with mock_aws():
        yield Account()


def test_a_clean_bootstrapped_account_passes_with_a_table(account: Account) -> None:
    account.bootstrap()
    code, out, _ = account.run("preflight")
    assert code == 0, out
    assert out.startswith("Preflight of AmazonAdsConnect-prod")
    for check in ("account and region", "CDK bootstrap", "Lambda concurrency", "leftover LWA secret",
                  "retained table", "EventBridge Scheduler in region"):  # fmt: skip
        assert check in out
    assert "FAIL" not in out and "0 failed" in out
    assert "account 123456789012, region us-east-1" in out


def test_a_missing_bootstrap_is_a_finding_with_its_fix(account: Account) -> None:
    code, findings = account.findings()
    assert code == 1
    assert findings["CDK bootstrap"]["status"] == "fail"
    assert "make bootstrap" in findings["CDK bootstrap"]["fix"]


def test_an_old_bootstrap_version_fails(account: Account) -> None:
    account.bootstrap(version="5")
    code, findings = account.findings()
    assert (code, findings["CDK bootstrap"]["status"]) == (1, "fail")
    assert "version 5" in findings["CDK bootstrap"]["found"]


def test_a_low_concurrency_limit_fails_only_when_concurrency_is_reserved(
    account: Account, tmp_path: Path
) -> None:
    account.bootstrap()
    account.concurrency = LambdaConcurrency(10, 10)
    # Default: nothing reserved, so a new account's limit of 10 deploys (a warning, exit 0)
    code, findings = account.findings()
    assert code == 0 and findings["Lambda concurrency"]["status"] == "warn"
    # Opted in: 6 reserved of 10 would leave 4, below Lambda's 100
    needs = tmp_path / "needs.json"
    needs.write_text(
        json.dumps({"stage": "prod", "secret_prefix": "ads-connect/prod", "reserved_concurrency": 6})
    )
    out_code, out, _ = account.run("preflight", "--needs", str(needs))
    assert out_code == 1
    assert "reserve_concurrency needs 6, leaving 4" in out and "reserve_concurrency to false" in out


def test_a_colliding_lwa_secret_fails_with_the_adoption_setting(account: Account) -> None:
    account.bootstrap()
    arn = account.session.client("secretsmanager").create_secret(
        Name="ads-connect/prod/lwa-client", SecretString="{}"
    )["ARN"]
    code, findings = account.findings()
    assert code == 1
    secret = findings["leftover LWA secret"]
    assert secret["status"] == "fail" and "exists" in secret["found"]
    assert f"existing_lwa_secret_arn to {arn}" in secret["fix"]
    # Another stage's name is free
    code, findings = account.findings("--stage", "dev")
    assert code == 0 and findings["leftover LWA secret"]["status"] == "pass"


def test_a_leftover_client_id_copy_fails_unless_adopted_with_the_lwa_secret(
    account: Account, tmp_path: Path
) -> None:
    account.bootstrap()
    client = account.session.client("secretsmanager")
    client.create_secret(Name="ads-connect/prod/lwa-client-id", SecretString="{}")
    code, findings = account.findings()
    copy = findings["leftover client id copy"]
    assert code == 1 and copy["status"] == "fail" and "existing_lwa_secret_arn" in copy["fix"]
    arn = client.create_secret(Name="ads-connect/prod/lwa-client", SecretString="{}")["ARN"]
    needs = tmp_path / "needs.json"
    needs.write_text(
        json.dumps({"stage": "prod", "secret_prefix": "ads-connect/prod", "existing_lwa_secret_arn": arn})
    )
    code, out, _ = account.run("--json", "preflight", "--needs", str(needs))
    assert code == 0, out
    assert "is adopted with the LWA secret" in out
    # Adopting the LWA secret without its copy fails before CloudFormation does
    client.delete_secret(SecretId="ads-connect/prod/lwa-client-id", ForceDeleteWithoutRecovery=True)
    code, out, _ = account.run("--json", "preflight", "--needs", str(needs))
    assert code == 1 and "does not exist" in out


def test_a_secret_scheduled_for_deletion_fails_with_restore_or_force_delete(account: Account) -> None:
    account.bootstrap()
    client = account.session.client("secretsmanager")
    client.create_secret(Name="ads-connect/prod/lwa-client", SecretString="{}")
    client.delete_secret(SecretId="ads-connect/prod/lwa-client", RecoveryWindowInDays=7)
    code, findings = account.findings()
    assert code == 1
    secret = findings["leftover LWA secret"]
    assert "scheduled for deletion" in secret["found"]
    assert "restore-secret" in secret["fix"] and "--force-delete-without-recovery" in secret["fix"]


def test_a_retained_table_of_the_stage_fails_until_adopted(account: Account, tmp_path: Path) -> None:
    account.bootstrap()
    table = "AmazonAdsConnect-prod-AdsConnectDataTableA446D9C0-1XYZ"
    account.session.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    code, findings = account.findings()
    assert code == 1 and f"existing_table_name to {table}" in findings["retained table"]["fix"]
    needs = tmp_path / "needs.json"
    needs.write_text(
        json.dumps({"stage": "prod", "secret_prefix": "ads-connect/prod", "existing_table_name": table})
    )
    code, out, _ = account.run("--json", "preflight", "--needs", str(needs))
    assert code == 0, out
    assert f"existing_table_name adopts {table}" in out


def test_a_stack_left_in_rollback_complete_warns_that_the_deploy_recreates_it(account: Account) -> None:
    account.bootstrap()
    from unittest import mock

    from cli.aws_reads import StackInfo

    with mock.patch.object(
        AwsReads,
        "stack",
        lambda self, name: (
            StackInfo(name, "ROLLBACK_COMPLETE", {})
            if name.startswith("AmazonAdsConnect")
            else StackInfo(name, "CREATE_COMPLETE", {})
        ),
    ):
        code, findings = account.findings()
    assert code == 0 and findings["stack"]["status"] == "warn"
    assert "deletes it and creates it again" in findings["stack"]["fix"]


def test_a_bad_stage_or_needs_file_is_a_usage_error(account: Account, tmp_path: Path) -> None:
    code, _, err = account.run("--stage", "Prod!", "preflight")
    assert code == 2 and "--stage must be" in err
    wrong = tmp_path / "needs.json"
    wrong.write_text(json.dumps({"stage": "dev", "secret_prefix": "ads-connect/dev"}))
    code, _, err = account.run("preflight", "--needs", str(wrong))
    assert code == 2 and "is for stage 'dev'" in err


@pytest.mark.parametrize(("region", "code"), [("us-east-1", 0), ("ap-east-2", 1), ("ap-southeast-6", 1)])
def test_snapstart_is_checked_against_its_documented_regions(
    aws_env: None, tmp_path: Path, region: str, code: int
) -> None:
    needs = tmp_path / "needs.json"
    needs.write_text(
        json.dumps({"stage": "prod", "secret_prefix": "ads-connect/prod", "lambda_snapstart": True})
    )
    with mock_aws():
        account = Account()
        account.session = boto3.Session(region_name=region)
        account.bootstrap()
        got, out, _ = account.run("--json", "preflight", "--needs", str(needs))
    findings = {f["check"]: f for f in json.loads(out)["findings"]}
    assert got == code
    assert findings["Lambda SnapStart in region"]["status"] == ("pass" if code == 0 else "fail")
