"""``doctor`` against moto: a healthy deployment passes; each problem gives its finding, its fix
and exit 1 (a warning alone exits 0). moto answers CloudFormation (the stack and its outputs),
SSM, Secrets Manager, DynamoDB, SQS, EventBridge Scheduler and CloudWatch; Lambda
GetAccountSettings comes from ``FakeConcurrencyReads`` (moto has none); the admin API and the
consent page answer through a recorded HTTP session."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from ads_connect import table_schema
from ads_connect.models.brand import DEFAULT_ACCENT_COLOR
from ads_connect.pages.render import security_headers, stylesheet
from moto import mock_aws

from cli import doctor
from cli.aws_reads import LambdaConcurrency
from cli.main import Io, main
from tests.unit.cli.conftest import response
from tests.unit.cli.test_preflight import FakeConcurrencyReads

REGION = "us-east-1"
STACK = "AmazonAdsConnect-prod"
CONSENT = "https://abc.execute-api.us-east-1.amazonaws.com/"


def page_headers() -> dict[str, str]:
    """What the product's pages answer with (their stylesheet's hash in the CSP)."""
    return security_headers(stylesheet(DEFAULT_ACCENT_COLOR).sha256)


def page(status: int = 404, *, drop: str | None = None) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer._content = b"<!doctype html><title>This link is not valid</title>"
    answer.headers.update({k: v for k, v in page_headers().items() if k != drop})
    return answer


class Web:
    """The admin API (SigV4-signed requests) and the public pages, answered in order."""

    def __init__(self) -> None:
        self.check: requests.Response = response(
            200, {"valid": True, "message": "Amazon accepted the client"}
        )
        self.page = page()
        self.requested: list[str] = []

    def request(self, method: str, url: str, **_: Any) -> requests.Response:
        self.requested.append(f"{method} {url}")
        return self.check

    def get(self, url: str, **_: Any) -> requests.Response:
        self.requested.append(f"GET {url}")
        return self.page


class Deployment:
    def __init__(self) -> None:
        self.session = boto3.Session(region_name=REGION)
        self.web = Web()
        cloudformation = self.session.client("cloudformation")
        cloudformation.create_stack(
            StackName="CDKToolkit", TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}})
        )
        self.session.client("ssm").put_parameter(
            Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String"
        )
        sqs = self.session.client("sqs")
        self.work = sqs.create_queue(QueueName="work")["QueueUrl"]
        self.dead = sqs.create_queue(QueueName="work-dlq")["QueueUrl"]
        self.table = f"{STACK}-AdsConnectDataTable-1ABC"
        self.session.client("dynamodb").create_table(**table_schema.create_table_kwargs(self.table))
        self.lwa = self.session.client("secretsmanager").create_secret(
            Name="ads-connect/prod/lwa-client", SecretString="{}"
        )["ARN"]
        self.session.client("scheduler").create_schedule(
            Name=f"{STACK}-Schedule-1ABC",
            ScheduleExpression="rate(5 minutes)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
                "RoleArn": "arn:aws:iam::123456789012:role/r",
            },
        )
        self.alarm("WorkerErrorsAlarm")
        outputs = {
            "AdminApiUrl": CONSENT + "admin",
            "ConsentBaseUrl": CONSENT,
            "TableName": self.table,
            "SecretPrefix": "ads-connect/prod",
            "LwaSecretArn": self.lwa,
            "WorkQueueUrl": self.work,
            "WorkDeadLetterQueueUrl": self.dead,
            "ScheduleName": f"{STACK}-Schedule-1ABC",
            "RefreshLeadSeconds": "900",
            "SecretWriteBudget": "40",
        }
        cloudformation.create_stack(
            StackName=STACK,
            TemplateBody=json.dumps(
                {
                    "Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
                    "Outputs": {key: {"Value": value} for key, value in outputs.items()},
                }
            ),
        )

    def alarm(self, name: str) -> str:
        full = f"{STACK}-{name}-1ABC"
        self.session.client("cloudwatch").put_metric_alarm(
            AlarmName=full,
            MetricName="Errors",
            Namespace="AWS/Lambda",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
        return full

    def connection(self, tenant: str, status: str) -> None:
        self.session.client("dynamodb").put_item(
            TableName=self.table,
            Item={
                **{name: {"S": value} for name, value in table_schema.connection_key(tenant, "NA").items()},
                doctor.STATUS_KEY: {"S": status},
                "tenant_region": {"S": table_schema.tenant_region(tenant, "NA")},
            },
        )

    def run(self, *argv: str) -> tuple[int, dict[str, dict[str, Any]], str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(
            ["--json", *argv, "doctor"],
            io=Io(stdout=out, stderr=err, environ={}),
            reads_factory=lambda _args: FakeConcurrencyReads(self.session, LambdaConcurrency(1000, 1000)),
            http=self.web,  # type: ignore[arg-type]
        )
        findings = {f["check"]: f for f in json.loads(out.getvalue())["findings"]} if out.getvalue() else {}
        return code, findings, err.getvalue()


@pytest.fixture
def deployment(aws_env: None) -> Iterator[Deployment]:
    with mock_aws():
        yield Deployment()


def test_a_healthy_deployment_passes_every_check(deployment: Deployment) -> None:
    deployment.connection("acme", "active")
    deployment.connection("globex", "disconnected")
    code, findings, err = deployment.run()
    assert code == 0, (findings, err)
    assert {name: f["status"] for name, f in findings.items() if f["status"] != "pass"} == {}
    assert set(findings) == {
        "stack", "account and region", "CDK bootstrap", "Lambda concurrency", "leftover LWA secret",
        "leftover client id copy",
        "retained table", "EventBridge Scheduler in region", "client credentials", "refresh schedule",
        "work queue", "dead-letter queue", "alarms", "consent page", "connections", "capacity",
        "monthly cost",
    }  # fmt: skip
    assert findings["connections"]["found"] == "active 1, reauthorization_required 0, disconnected 1"
    assert "1 active of 108000" in findings["capacity"]["found"]
    # The admin check was signed to the stack's API, and the page probe asked for a link that cannot exist
    assert deployment.web.requested[0].startswith(f"POST {CONSENT}admin/client-credentials/check")
    assert deployment.web.requested[1] == f"GET {CONSENT}{doctor.PROBE_PATH}"


def test_each_problem_is_a_finding_with_its_fix_and_exit_1(deployment: Deployment) -> None:
    deployment.session.client("scheduler").update_schedule(
        Name=f"{STACK}-Schedule-1ABC",
        State="DISABLED",
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "RoleArn": "arn:aws:iam::123456789012:role/r",
        },
    )
    firing = deployment.alarm("StaleTokenAlarm")
    deployment.session.client("cloudwatch").set_alarm_state(
        AlarmName=firing, StateValue="ALARM", StateReason="test"
    )
    deployment.session.client("sqs").send_message(QueueUrl=deployment.dead, MessageBody="{}")
    deployment.web.check = response(
        200, {"valid": False, "message": "Amazon rejected the client (invalid_client)"}
    )
    deployment.web.page = page(drop="Content-Security-Policy")
    deployment.connection("acme", "reauthorization_required")
    code, findings, _ = deployment.run()
    assert code == 1
    status = {name: f["status"] for name, f in findings.items()}
    assert status["refresh schedule"] == "fail" and "DISABLED" in findings["refresh schedule"]["found"]
    assert status["alarms"] == "fail" and firing in findings["alarms"]["found"]
    assert status["dead-letter queue"] == "warn" and "redrive" in findings["dead-letter queue"]["fix"]
    assert (
        status["client credentials"] == "fail" and "credentials set" in findings["client credentials"]["fix"]
    )
    assert status["consent page"] == "fail" and "Content-Security-Policy" in findings["consent page"]["found"]
    assert status["connections"] == "warn" and "sessions create" in findings["connections"]["fix"]


def test_a_page_that_errors_fails(deployment: Deployment) -> None:
    deployment.web.page = response(502, {"message": "Internal Server Error"})
    code, findings, _ = deployment.run()
    assert code == 1 and "HTTP 502" in findings["consent page"]["found"]


@pytest.mark.parametrize(
    ("answer", "fix"),
    [
        (response(403, {"message": "Forbidden"}), "execute-api:Invoke"),
        (
            response(
                409, {"error": {"code": "client_credentials_missing", "message": "No client credentials"}}
            ),
            "credentials set",
        ),
        (
            response(502, {"error": {"code": "amazon_unavailable", "message": "Amazon did not answer"}}),
            "retry",
        ),
    ],
)
def test_an_admin_api_refusal_is_a_finding_with_its_fix(
    deployment: Deployment, answer: requests.Response, fix: str
) -> None:
    deployment.web.check = answer
    code, findings, _ = deployment.run()
    assert code == 1 and fix in findings["client credentials"]["fix"]


def test_a_missing_stack_fails_naming_the_stage(deployment: Deployment) -> None:
    code, findings, _ = deployment.run("--stage", "dev")
    assert code == 1
    assert findings["stack"]["found"] == "AmazonAdsConnect-dev not found in us-east-1"
    assert "make deploy STAGE=dev" in findings["stack"]["fix"]


def test_capacity_warns_then_fails_against_the_write_budget() -> None:
    outputs = {"RefreshLeadSeconds": "900", "SecretWriteBudget": "0.01"}  # 27 refreshes per 2700 s
    assert doctor._capacity({"active": 20}, outputs).status == "pass"
    assert doctor._capacity({"active": 22}, outputs).status == "warn"
    assert doctor._capacity({"active": 27}, outputs).status == "fail"


def test_the_monthly_cost_of_1000_connections() -> None:
    cost = doctor.monthly_cost(1000, 900)
    # 2001 secrets; 1000 x 960 refreshes a month, 2 Secrets Manager calls and 1 KMS request each
    assert round(cost.secrets, 2) == 800.40
    assert round(cost.secrets_api, 2) == 9.60
    assert round(cost.kms, 2) == 4.88
    assert round(cost.total, 2) == 814.88


def test_the_names_doctor_reads_are_the_products() -> None:
    """The CLI does not import lambdas/: its copies of these names must not drift."""
    assert (doctor.STATUS_INDEX, doctor.STATUS_KEY) == (
        table_schema.STATUS_INDEX,
        table_schema.STATUS_INDEX_PARTITION_KEY,
    )
    assert set(doctor.SECURITY_HEADERS) <= set(page_headers())
    from ads_connect.models.records import ConnectionStatus

    assert set(doctor.STATUSES) == {s.value for s in ConnectionStatus}


def test_a_stack_without_the_outputs_stops_after_saying_so(deployment: Deployment) -> None:
    deployment.session.client("cloudformation").create_stack(
        StackName="AmazonAdsConnect-old",
        TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}),
    )
    code, findings, _ = deployment.run("--stage", "old")
    assert code == 1 and list(findings) == ["stack"]
    assert "lacks outputs AdminApiUrl" in findings["stack"]["found"]
