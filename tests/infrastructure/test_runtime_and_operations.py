"""Functions, the refresh pipeline, alarms, quality gates (cdk-nag, cfn-lint), grants, config."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from ads_connect.models import settings as env
from ads_connect.table_schema import tenant_pk
from aws_cdk import aws_iam as iam

from stacks.config import ConfigError
from tests.infrastructure.conftest import (
    DEMO_CONTEXT,
    DEMO_SUPPORT_CONTACT,
    REPO_ROOT,
    Synthesized,
    run_app_as_cdk_synth,
    synthesize,
)
from tests.infrastructure.helpers import as_list, describe, role_permissions

KINDS = ("consent", "callback", "admin", "refresh_scheduler", "refresh_worker")
# Writes per second per account and region (PutSecretValue, CreateSecret, ...; not adjustable).
SECRETS_MANAGER_WRITE_QUOTA = 50


def function(synthesized: Synthesized, kind: str) -> dict:
    fn = synthesized.stack.ads_connect.functions[kind]
    return synthesized.resources[synthesized.logical_id(fn)]["Properties"]


# --- functions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_each_function_is_py312_arm64_traced_with_its_own_role_and_log_retention(synthesized, kind):
    props = function(synthesized, kind)
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == f"ads_connect.handlers.{kind}.handler"
    assert props["TracingConfig"] == {"Mode": "Active"}
    role = synthesized.logical_id(synthesized.stack.ads_connect.roles[kind])
    assert describe(props["Role"]) == f"{role}.Arn"
    log_group = synthesized.resources[describe(props["LoggingConfig"]["LogGroup"])]
    assert log_group["Properties"]["RetentionInDays"] == 90
    variables = props["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == "amazon-ads-connect"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "AmazonAdsConnect"
    assert env.ENDPOINTS_ENV_VAR not in variables  # deployed = Amazon's real hosts
    assert env.ENV_PUBLIC_BASE_URL not in variables  # deployed = derived from the request


def test_functions_roles_are_distinct_and_have_no_managed_policies(synthesized):
    roles = {describe(function(synthesized, kind)["Role"]) for kind in KINDS}
    assert len(roles) == len(KINDS)
    for role in roles:
        assert "ManagedPolicyArns" not in synthesized.resources[role.removesuffix(".Arn")]["Properties"]


def test_environment_uses_exactly_the_settings_names(synthesized):
    names = {value for key, value in vars(env).items() if key.startswith("ENV_")}
    expected = {
        "consent": env.PagesSettings,
        "callback": env.PagesSettings,
        "admin": env.AdminSettings,
        "refresh_scheduler": env.RefreshSettings,
        "refresh_worker": env.RefreshSettings,
    }
    for kind, model in expected.items():
        variables = set(function(synthesized, kind)["Environment"]["Variables"])
        ours = {v for v in variables if v.startswith("ADS_CONNECT_")}
        assert ours <= names, ours - names
        required = {
            name
            for klass in model.__mro__
            for field, name in getattr(klass, "ENV_NAMES", {}).items()
            if field in model.required_fields()
        }
        assert required <= ours, (kind, required - ours)
    assert env.ENV_WORK_QUEUE_URL in function(synthesized, "refresh_scheduler")["Environment"]["Variables"]


def test_timeouts_fit_the_jobs(synthesized):
    assert function(synthesized, "consent")["Timeout"] <= 10
    assert function(synthesized, "callback")["Timeout"] <= 29  # under API Gateway's 30 s
    # Over API Gateway's 30 s on purpose: "refresh now" must hold a whole rotated-token write
    assert function(synthesized, "admin")["Timeout"] == 90
    assert function(synthesized, "refresh_worker")["Timeout"] == 120
    # Half the default 5-minute schedule period: runs do not overlap (stacks/refresh.py).
    assert function(synthesized, "refresh_scheduler")["Timeout"] == 120


# --- refresh pipeline ---------------------------------------------------------------------------


def test_worker_concurrency_respects_the_secrets_manager_write_quota(synthesized):
    worker = function(synthesized, "refresh_worker")
    [mapping] = synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # The event source's maximum concurrency bounds the workers; nothing is reserved by default.
    assert props["ScalingConfig"]["MaximumConcurrency"] == 5
    # Each worker paces its secret writes at its share of the 40 writes/s budget: together they
    # stay within it, under the account's 50/s, however many refreshes rotate.
    pace = float(worker["Environment"]["Variables"][env.ENV_SECRET_WRITES_PER_SECOND])
    assert pace == 8
    assert props["ScalingConfig"]["MaximumConcurrency"] * pace <= SECRETS_MANAGER_WRITE_QUOTA - 10
    scheduler = function(synthesized, "refresh_scheduler")
    # One schedule run enqueues what the workers drain before the next: 5 x 300 s x 3/s.
    assert scheduler["Environment"]["Variables"][env.ENV_MAX_REFRESHES_PER_RUN] == str(5 * 300 * 3)


@pytest.mark.parametrize(
    ("overrides", "pace", "per_run"),
    [
        # 150,000 connections at lead 300 s need ~45.5 writes/s: the whole quota but 4, 16 workers.
        (
            {
                "secret_write_budget_per_second": 46,
                "worker_concurrency": 16,
                "refresh_lead_seconds": 300,
                "schedule_rate_minutes": 2,
                "stale_token_age_seconds": 3500,
            },
            46 / 16,
            int(16 * 120 * 46 / 16),
        ),
        # Workers slower than their write pace: the run is sized by their speed.
        ({"worker_refreshes_per_second": 2}, 8, 5 * 300 * 2),
    ],
    ids=["150k-connections", "speed-bound"],
)
def test_the_write_pace_and_the_run_cap_follow_the_config(overrides, pace, per_run):
    from stacks.config import AdsConnectConfig

    config = AdsConnectConfig.from_context(overrides, demo_support_contact=DEMO_SUPPORT_CONTACT)
    assert config.worker_secret_writes_per_second == pytest.approx(pace)
    assert config.refreshes_per_schedule_run == per_run


def test_work_queue_is_encrypted_tls_only_with_dlq_and_long_enough_visibility(synthesized):
    product = synthesized.stack.ads_connect
    queue = synthesized.resources[synthesized.logical_id(product.refresh.work_queue)]["Properties"]
    worker_timeout = function(synthesized, "refresh_worker")["Timeout"]
    assert queue["VisibilityTimeout"] > worker_timeout * 6
    assert queue["SqsManagedSseEnabled"] is True
    dlq = synthesized.logical_id(product.refresh.work_dlq)
    assert describe(queue["RedrivePolicy"]["deadLetterTargetArn"]) == f"{dlq}.Arn"
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    policies = synthesized.of_type("AWS::SQS::QueuePolicy").values()
    for policy in policies:
        [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(list(policies)) == 3


def test_schedule_rate_retry_policy_and_dead_letter_queue(synthesized):
    [schedule] = synthesized.of_type("AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "rate(5 minutes)"
    assert props["State"] == "ENABLED"
    target = props["Target"]
    scheduler_fn = synthesized.logical_id(synthesized.stack.ads_connect.functions["refresh_scheduler"])
    assert describe(target["Arn"]) == f"{scheduler_fn}.Arn"
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 60, "MaximumRetryAttempts": 2}
    # No Lambda-side retry of a failed run and no delivery older than a minute: with the 120 s
    # timeout a run ends before the next one starts (60 + 60 + 120 < 300 s), unreserved.
    [invoke_config] = synthesized.of_type("AWS::Lambda::EventInvokeConfig").values()
    assert invoke_config["Properties"]["FunctionName"] == {"Ref": scheduler_fn}
    assert invoke_config["Properties"]["MaximumRetryAttempts"] == 0
    assert invoke_config["Properties"]["MaximumEventAgeInSeconds"] == 60
    timeout = function(synthesized, "refresh_scheduler")["Timeout"]
    assert 60 + 60 + timeout < 5 * 60
    dlq = synthesized.logical_id(synthesized.stack.ads_connect.refresh.schedule_dlq)
    assert describe(target["DeadLetterConfig"]["Arn"]) == f"{dlq}.Arn"
    role = synthesized.resources[describe(target["RoleArn"]).removesuffix(".Arn")]
    assume = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert assume["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert "aws:SourceAccount" in json.dumps(assume["Condition"])


def test_event_bus_is_custom(synthesized):
    [bus] = synthesized.of_type("AWS::Events::EventBus").values()
    assert bus["Properties"]["Name"] != "default"


# --- monitoring ---------------------------------------------------------------------------------


def alarms(synthesized: Synthesized) -> dict[str, dict]:
    monitoring = synthesized.stack.ads_connect.monitoring
    return {
        name: synthesized.resources[synthesized.logical_id(a)]["Properties"]
        for name, a in monitoring.alarms.items()
    }


def test_product_alarms_watch_the_documented_metrics_with_their_thresholds(synthesized):
    found = alarms(synthesized)
    expected = {
        "ReauthorizationRequiredAlarm": ("ReauthorizationRequired", 1, "Sum"),
        "ClientCredentialsInvalidAlarm": ("ClientCredentialsInvalid", 1, "Sum"),
        "ClientMismatchAlarm": ("ClientMismatch", 1, "Sum"),
        "RevocationsHeldAlarm": ("RevocationsHeld", 1, "Sum"),
        "RefreshFailuresAlarm": ("RefreshFailed", 10, "Sum"),
        "RotatedTokenPersistFailedAlarm": ("RotatedTokenPersistFailed", 1, "Sum"),
        "RefreshFailingPersistentlyAlarm": ("RefreshFailingPersistently", 1, "Sum"),
        "EventPublishFailedAlarm": ("EventPublishFailed", 1, "Sum"),
        "StaleTokenAlarm": ("OldestTokenAgeSeconds", 3300, "Maximum"),
    }
    for name, (metric, threshold, statistic) in expected.items():
        props = found[name]
        assert props["Namespace"] == "AmazonAdsConnect"
        assert props["MetricName"] == metric
        assert props["Dimensions"] == [{"Name": "service", "Value": "amazon-ads-connect"}]
        assert props["Threshold"] == threshold
        assert props["Statistic"] == statistic
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_queue_and_worker_alarms_and_every_alarm_notifies_the_topic(synthesized):
    found = alarms(synthesized)
    for name in ("WorkDeadLetterAlarm", "ScheduleDeadLetterAlarm"):
        assert found[name]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert found[name]["Threshold"] == 1
    assert found["WorkerErrorsAlarm"]["MetricName"] == "Errors"
    assert found["WorkerThrottlesAlarm"]["MetricName"] == "Throttles"
    assert found["SchedulerNotRunningAlarm"]["TreatMissingData"] == "breaching"
    topic = synthesized.logical_id(synthesized.stack.ads_connect.monitoring.topic)
    for name, props in found.items():
        assert [describe(a) for a in props["AlarmActions"]] == [topic], name


def emitted_metric_names() -> set[str]:
    """Every product metric the runtime code emits (powertools ``add_metric(name="...")``)."""
    pattern = re.compile(r'add_metric\(\s*name="([A-Za-z]+)"')
    return {
        name for path in (REPO_ROOT / "lambdas").rglob("*.py") for name in pattern.findall(path.read_text())
    }


def test_every_emitted_metric_is_on_the_dashboard(synthesized):
    # A metric nobody can see is a failure mode nobody notices.
    [dashboard] = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    emitted = emitted_metric_names()
    assert {"RefreshSucceeded", "RotatedTokenPersistFailed", "EventPublishFailed"} <= emitted
    missing = sorted(name for name in emitted if f'\\"{name}\\"' not in body)
    assert missing == []


def test_alert_topic_is_encrypted_and_cloudwatch_can_use_its_key(synthesized):
    [topic] = synthesized.of_type("AWS::SNS::Topic").values()
    key_id = describe(topic["Properties"]["KmsMasterKeyId"]).removesuffix(".Arn")
    statements = synthesized.resources[key_id]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} for s in statements)
    assert not synthesized.of_type("AWS::SNS::Subscription")  # no e-mail configured by default


# --- quality gates ------------------------------------------------------------------------------


def test_cdk_nag_aws_solutions_reports_no_unacknowledged_finding(synthesized):
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    failures = [
        violation for plugin in report.get("pluginReports", []) for violation in plugin.get("violations", [])
    ]
    assert failures == []


def test_the_app_runs_cdk_nag_so_an_unacknowledged_wildcard_fails_synth(tmp_path):
    """The same app.build_app as `cdk synth`, plus one careless statement: synth must fail."""
    from app import build_app
    from tests.infrastructure.conftest import FAST_CONTEXT, cdk_json_context

    app = build_app(
        cdk.App(outdir=str(tmp_path), context={**cdk_json_context(), **FAST_CONTEXT, **DEMO_CONTEXT})
    )
    stack = app.node.find_child("AmazonAdsConnect-prod")
    role = iam.Role(stack, "Careless", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    with pytest.raises(Exception, match=r"(?i)validation"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rendered = json.dumps(report)
    assert "AwsSolutions-IAM5" in rendered and "Careless" in rendered


CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))
# W3005: CDK adds DependsOn on a function's role next to the GetAtt that already implies it;
# redundant, harmless, and not ours to remove. Every other warning fails the gate.
IGNORED_CFN_LINT = ("--ignore-checks=W3005",)


def test_cfn_lint_passes_on_the_synthesized_template(synthesized):
    template_file = synthesized.outdir / f"{synthesized.stack.stack_name}.template.json"
    result = subprocess.run(
        [CFN_LINT, "--format", "parseable", *IGNORED_CFN_LINT, str(template_file)],
        capture_output=True, text=True, timeout=240, check=False, cwd=REPO_ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


# --- grant helper -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grants(tmp_path_factory):
    """A consumer role granted one tenant, another granted all tenants (same stack, no nag)."""
    app = cdk.App(
        outdir=str(tmp_path_factory.mktemp("grants")), context={"aws:cdk:bundling-stacks": [], **DEMO_CONTEXT}
    )
    from stacks.stack import AmazonAdsConnectStack

    stack = AmazonAdsConnectStack(app)
    one = iam.Role(stack, "OneTenantConsumer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    every = iam.Role(stack, "AllTenantsConsumer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    stack.ads_connect.grant_tenant_read(one, "acme-42")
    stack.ads_connect.grant_tenant_read(every)
    template = app.synth().get_stack_by_name(stack.stack_name).template
    resolve = lambda construct: stack.resolve(stack.get_logical_id(construct.node.default_child))  # noqa: E731
    return template, stack, resolve(one), resolve(every)


def statements_of(template: dict, role_id: str) -> list[dict]:
    return [
        s
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"]["Roles"]
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]


@pytest.mark.parametrize(("which", "tenant"), [("one", "acme-42"), ("every", "*")])
def test_grant_tenant_read_allows_access_tokens_and_profile_queries_only(grants, which, tenant):
    template, stack, one, every = grants
    role = one if which == "one" else every
    pairs = role_permissions(template["Resources"], role)
    assert pairs == {
        (
            "secretsmanager:GetSecretValue",
            f"arn:AWS::Partition:secretsmanager:AWS::Region:AWS::AccountId:secret:ads-connect/prod/access/{tenant}/*",
        ),
        (
            "dynamodb:Query",
            f"{stack.resolve(stack.get_logical_id(stack.ads_connect.data.table.node.default_child))}.Arn",
        ),
    }
    [query] = [s for s in statements_of(template, role) if s["Action"] == "dynamodb:Query"]
    assert query["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [tenant_pk(tenant)]}}
    rendered = json.dumps(statements_of(template, role))
    assert "/refresh/" not in rendered and "lwa-client" not in rendered and "kms:" not in rendered


@pytest.mark.parametrize("bad", ["", "acme/*", "a*", "x#y", "?"])
def test_grant_tenant_read_rejects_patterns_in_tenant_ids(grants, bad):
    _, stack, _, _ = grants
    role = iam.Role(stack, f"Bad{abs(hash(bad))}", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    with pytest.raises(ValueError, match="tenant_id"):
        stack.ads_connect.grant_tenant_read(role, bad)


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("schedule_rate_minutes", 3, "allowed values: 1, 2, 5, 10"),
        ("log_retention_days", 8, "must be one of"),
        ("refresh_lead_seconds", 10, "300..3000"),
        ("alarm_email", "not-an-address", "e-mail"),
        ("secret_prefix", "bad prefix*", "letters, digits"),
        ("allowed_return_urls", ["http://insecure.example"], "https://"),
        ("worker_concurrency", 50, "2..20"),
        ("secret_write_budget_per_second", 60, "1..50"),
        ("no_such_setting", 1, "allowed keys"),
    ],
)
def test_a_bad_context_value_stops_synth_naming_the_key_and_allowed_values(tmp_path, setting, value, named):
    from stacks.stack import AmazonAdsConnectStack

    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    context["ads-connect"] = {**context["ads-connect"], setting: value}
    app = cdk.App(outdir=str(tmp_path), context=context)
    with pytest.raises(ConfigError) as caught:
        AmazonAdsConnectStack(app)
    assert f"'ads-connect.{setting}'" in str(caught.value)
    assert named in str(caught.value)


@pytest.mark.parametrize(
    ("setting", "value", "allowed"),
    [
        ("include_profile_scope", "maybe", "allowed values: true/false"),
        ("include_profile_scope", 5, "allowed values: true/false"),
        ("worker_concurrency", "many", "allowed values: an integer 2..20"),
        ("refresh_lead_seconds", 900.5, "allowed values: an integer 300..3000"),
        ("log_retention_days", "ninety", "allowed values: 1, 3, 5, 7, 14, 30"),
        ("allowed_return_urls", "https://app.example.com", "allowed values: a list of https URLs"),
        ("allowed_return_urls", [7], "allowed values: a list of https URLs"),
        ("app_name", 7, "allowed values: a string of 1..80 characters"),
        ("alarm_email", ["ops@example.com"], "allowed values: an e-mail address"),
        ("custom_domain", "connect.example.com", "an object with domain_name and certificate_arn, or null"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_allowed_values(setting, value, allowed):
    from stacks.config import AdsConnectConfig

    with pytest.raises(ConfigError) as caught:
        AdsConnectConfig.from_context({setting: value})
    assert f"'ads-connect.{setting}'" in str(caught.value)
    assert allowed in str(caught.value)


def test_a_missing_nested_key_names_what_the_object_needs():
    from stacks.config import AdsConnectConfig

    with pytest.raises(ConfigError) as caught:
        AdsConnectConfig.from_context({"custom_domain": {"domain_name": "connect.example.com"}})
    assert "'ads-connect.custom_domain.certificate_arn'" in str(caught.value)
    assert "domain_name and certificate_arn" in str(caught.value)


def test_cdk_synth_with_a_bad_setting_prints_one_line_and_exits_1(tmp_path):
    """app.py as `cdk synth` runs it (CDK_CONTEXT_JSON, CDK_OUTDIR): no Python traceback."""
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    context["ads-connect"] = {**context["ads-connect"], "include_profile_scope": "maybe"}
    returncode, lines = run_app_as_cdk_synth(context, tmp_path)
    assert returncode == 1, lines
    assert lines == [
        "error: context key 'ads-connect.include_profile_scope': Input should be a valid boolean,"
        " unable to interpret input (allowed values: true/false) (cdk.json, context 'ads-connect')"
    ]


def test_cross_field_rule_names_its_key(tmp_path):
    from stacks.config import AdsConnectConfig

    with pytest.raises(ConfigError, match=r"'ads-connect\.schedule_rate_minutes'.*refresh_lead_seconds"):
        AdsConnectConfig.from_context({"schedule_rate_minutes": 10, "refresh_lead_seconds": 900})


def test_a_write_budget_too_small_for_the_workers_stops_synth():
    from stacks.config import AdsConnectConfig

    # 20 workers sharing 10 writes/s would each wait 2 s per write: a batch could not finish.
    with pytest.raises(ConfigError, match=r"'ads-connect\.worker_concurrency'.*10 / 20 = 0\.50"):
        AdsConnectConfig.from_context({"worker_concurrency": 20, "secret_write_budget_per_second": 10})


def test_alarm_email_and_custom_domain_reach_the_template(tmp_path):
    synthesized = synthesize(
        tmp_path,
        {
            "ads-connect": {
                "alarm_email": "ops@example.com",
                "custom_domain": {
                    "domain_name": "connect.example.com",
                    "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/abc-123",
                },
                "schedule_rate_minutes": 2,
                "allowed_return_urls": ["https://app.example.com/done"],
            }
        },
        nag=False,
    )
    [subscription] = synthesized.of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"
    outputs = synthesized.template.to_json()["Outputs"]
    assert outputs["RedirectUri"]["Value"] == "https://connect.example.com/callback"
    [schedule] = synthesized.of_type("AWS::Scheduler::Schedule").values()
    assert schedule["Properties"]["ScheduleExpression"] == "rate(2 minutes)"
    consent = function(synthesized, "consent")["Environment"]["Variables"]
    assert json.loads(consent[env.ENV_ALLOWED_RETURN_URLS]) == ["https://app.example.com/done"]
    assert as_list(synthesized.of_type("AWS::ApiGatewayV2::ApiMapping"))
    # Every URL uses the custom host, and the execute-api host that could diverge from it is off
    assert outputs["ConsentBaseUrl"]["Value"] == "https://connect.example.com/"
    assert outputs["AdminApiUrl"]["Value"] == "https://connect.example.com/admin"
    [api] = synthesized.of_type("AWS::ApiGatewayV2::Api").values()
    assert api["Properties"]["DisableExecuteApiEndpoint"] is True


def test_without_a_custom_domain_the_execute_api_endpoint_serves(synthesized):
    [api] = synthesized.of_type("AWS::ApiGatewayV2::Api").values()
    assert api["Properties"].get("DisableExecuteApiEndpoint", False) is False
    redirect = synthesized.template.to_json()["Outputs"]["RedirectUri"]["Value"]
    assert "execute-api" in json.dumps(redirect)
