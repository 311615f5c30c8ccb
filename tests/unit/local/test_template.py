"""Template -> local resources: the table, secrets, queues and bus created from CloudFormation
properties, function environments resolved to the local names, routes/schedule/event source."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from ads_connect.table_schema import create_table_kwargs
from moto import mock_aws

from local.template import (
    LOCAL_DEMO_BRAND,
    LocalProvisioner,
    Resolver,
    TemplateError,
    cdk_json_context,
    local_context,
    rate_seconds,
    read_queue_sources,
    read_routes,
    read_schedules,
)
from tests.unit.local.sample_template import sample_template

STACK = "AdsLocal"


@pytest.fixture
def moto_clients(monkeypatch: pytest.MonkeyPatch, static_aws_credentials: None) -> Iterator[Any]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield lambda service: boto3.client(service, region_name="us-east-1")


def provisioned(clients: Any, **kwargs: Any) -> LocalProvisioner:
    provisioner = LocalProvisioner(sample_template(), STACK, clients=clients, **kwargs)
    provisioner.provision()
    return provisioner


def test_the_table_matches_the_shared_schema(moto_clients: Any) -> None:
    provisioned(moto_clients)
    table = moto_clients("dynamodb").describe_table(TableName=f"{STACK}-Table")["Table"]
    expected = create_table_kwargs(f"{STACK}-Table")
    assert table["KeySchema"] == expected["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        expected["AttributeDefinitions"],  # type: ignore[arg-type]
        key=lambda a: a["AttributeName"],
    )
    indexes = {i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in table["GlobalSecondaryIndexes"]}
    assert indexes == {
        i["IndexName"]: (i["KeySchema"], i["Projection"])
        for i in expected["GlobalSecondaryIndexes"]  # type: ignore[attr-defined]
    }
    ttl = moto_clients("dynamodb").describe_time_to_live(TableName=f"{STACK}-Table")
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at_ttl"


def test_secret_queue_bus_and_key_are_created_with_their_properties(moto_clients: Any) -> None:
    p = provisioned(moto_clients, secret_overrides={"LwaSecret": '{"client_id": "a", "client_secret": "b"}'})
    value = moto_clients("secretsmanager").get_secret_value(SecretId="ads-connect/lwa-client")
    assert json.loads(value["SecretString"]) == {"client_id": "a", "client_secret": "b"}
    sqs = moto_clients("sqs")
    work_url = sqs.get_queue_url(QueueName=f"{STACK}-WorkQueue")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=work_url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "180"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(f":{STACK}-WorkDlq")
    assert int(redrive["maxReceiveCount"]) == 5
    assert (
        moto_clients("events").describe_event_bus(Name="ads-connect-events")["Name"] == "ads-connect-events"
    )
    assert {kind for kind, _ in p.created.values()} == {
        "AWS::DynamoDB::Table",
        "AWS::KMS::Key",
        "AWS::SecretsManager::Secret",
        "AWS::SQS::Queue",
        "AWS::Events::EventBus",
    }


def test_function_environment_resolves_references_to_local_names(moto_clients: Any) -> None:
    p = provisioned(moto_clients)
    function = p.function("Admin", {"ADS_CONNECT_PUBLIC_BASE_URL": "http://localhost:1"})
    env = function.environment
    assert env["ADS_CONNECT_TABLE_NAME"] == f"{STACK}-Table"
    assert env["ADS_CONNECT_LWA_SECRET_ID"].startswith(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
    )
    assert env["ADS_CONNECT_EVENT_BUS_NAME"] == "ads-connect-events"
    assert env["ADS_CONNECT_WORK_QUEUE_URL"].endswith(f"/123456789012/{STACK}-WorkQueue")
    key_id = env["ADS_CONNECT_PRIVATE_SECRET_KMS_KEY_ID"]
    assert moto_clients("kms").describe_key(KeyId=key_id)["KeyMetadata"]["Arn"] == key_id
    assert json.loads(env["ADS_CONNECT_PRIVATE_SECRET_READER_ARNS"]) == [
        f"arn:aws:iam::123456789012:role/{STACK}-WorkerRole"
    ]
    assert env["STACK_REGION"] == f"us-east-1-{STACK}-Table"
    assert env["ADS_CONNECT_PUBLIC_BASE_URL"] == "http://localhost:1"
    assert function.handler_path == "ads_connect.handlers.admin.handler"
    assert (function.timeout_seconds, function.memory_mb, function.name) == (29.0, 512, f"{STACK}-Admin")


def test_routes_schedule_and_event_source_come_from_the_template() -> None:
    template = sample_template()
    routes = {(r.route_key, r.function_logical_id, r.iam_authorized) for r in read_routes(template)}
    assert routes == {
        ("GET /connect/{session_id}", "Consent", False),
        ("POST /connect/{session_id}", "Consent", False),
        ("GET /callback", "Callback", False),
        ("GET /result/{result_id}", "Callback", False),
        ("ANY /admin/{proxy+}", "Admin", True),
    }
    [schedule] = read_schedules(template)
    assert (schedule.function_logical_id, schedule.rate_seconds) == ("Scheduler", 300)
    [source] = read_queue_sources(template)
    assert (source.function_logical_id, source.queue_logical_id, source.batch_size) == (
        "Worker",
        "WorkQueue",
        5,
    )
    assert source.report_batch_item_failures is True


def test_rate_expressions() -> None:
    assert rate_seconds("rate(1 minute)") == 60
    assert rate_seconds("rate(2 hours)") == 7200
    assert rate_seconds("cron(0 * * * ? *)") is None


def test_unsupported_intrinsics_and_unknown_references_fail_with_the_name() -> None:
    template: dict[str, Any] = {"Resources": {"Thing": {"Type": "AWS::SNS::Topic", "Properties": {}}}}
    resolver = Resolver(template, STACK, lambda *_: pytest.fail("nothing may be created"))
    with pytest.raises(TemplateError, match="Fn::ImportValue"):
        resolver.resolve({"Fn::ImportValue": "x"})
    with pytest.raises(TemplateError, match="Missing"):
        resolver.resolve({"Ref": "Missing"})


def test_a_reference_to_a_resource_without_local_equivalent_names_it(moto_clients: Any) -> None:
    template = sample_template()
    template["Resources"]["Topic"] = {"Type": "AWS::SNS::Topic", "Properties": {}}
    template["Resources"]["Admin"]["Properties"]["Environment"]["Variables"]["TOPIC"] = {"Ref": "Topic"}
    p = LocalProvisioner(template, STACK, clients=moto_clients)
    p.provision()
    with pytest.raises(
        TemplateError, match=r"Admin, environment variable TOPIC: .*Topic \(AWS::SNS::Topic\)"
    ):
        p.function("Admin", {})


def test_a_route_without_a_function_integration_is_refused() -> None:
    template = sample_template()
    template["Resources"]["AdminIntegration"]["Properties"]["IntegrationUri"] = "https://example.com"
    with pytest.raises(TemplateError, match="AdminIntegration"):
        read_routes(template)


def test_payload_format_1_is_refused() -> None:
    template = sample_template()
    template["Resources"]["ConsentIntegration"]["Properties"]["PayloadFormatVersion"] = "1.0"
    with pytest.raises(TemplateError, match=r"payload format 2\.0"):
        read_routes(template)


def test_cdk_json_context_is_read_like_the_cdk_cli(tmp_path: Any) -> None:
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "x", "context": {"k": {"a": 1}}}))
    assert cdk_json_context(tmp_path) == {"k": {"a": 1}}
    assert cdk_json_context(tmp_path / "missing") == {}


def test_local_mode_fills_every_unset_brand_setting_with_a_demo_value(tmp_path: Any) -> None:
    # Given a cdk.json that sets the accent and leaves the logo and the contact null
    settings = {
        "app_name": "Acme",
        "brand_accent_color": "#7a1fa2",
        "brand_logo": None,
        "support_contact": None,
    }
    (tmp_path / "cdk.json").write_text(json.dumps({"context": {"ads-connect": settings, "flag": True}}))
    context = local_context(tmp_path)
    # Then the operator's own values stay, and the rest are demo values local mode can show
    assert context["flag"] is True
    assert context["ads-connect"] == {
        "app_name": "Acme",
        "brand_accent_color": "#7a1fa2",
        "brand_logo": LOCAL_DEMO_BRAND["brand_logo"],
        "support_contact": "help@demo-operator.invalid",
    }
    assert LOCAL_DEMO_BRAND["support_contact"].endswith(".invalid")
    with open(LOCAL_DEMO_BRAND["brand_logo"], "rb") as logo:
        assert logo.read(8) == b"\x89PNG\r\n\x1a\n"
    assert local_context(tmp_path / "missing")["ads-connect"] == LOCAL_DEMO_BRAND


def test_the_lwa_secret_is_found_by_reference_or_by_name() -> None:
    from local.runner import _lwa_secret_logical_id

    by_reference = sample_template()
    assert _lwa_secret_logical_id(by_reference) == "LwaSecret"
    by_name = sample_template()
    for resource in by_name["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function" and resource["Properties"].get("Environment"):
            resource["Properties"]["Environment"]["Variables"]["ADS_CONNECT_LWA_SECRET_ID"] = (
                "ads-connect/lwa-client"
            )
    assert _lwa_secret_logical_id(by_name) == "LwaSecret"
    del by_name["Resources"]["LwaSecret"]
    assert _lwa_secret_logical_id(by_name) is None


def test_a_route_through_a_functions_alias_runs_that_function() -> None:
    # The SnapStart functions are invoked through their `live` alias (stacks/functions.py).
    template = sample_template()
    template["Resources"]["ConsentLive"] = {
        "Type": "AWS::Lambda::Alias",
        "Properties": {"FunctionName": {"Ref": "Consent"}, "FunctionVersion": "1", "Name": "live"},
    }
    template["Resources"]["ConsentIntegration"]["Properties"]["IntegrationUri"] = {"Ref": "ConsentLive"}
    routes = {r.route_key: r.function_logical_id for r in read_routes(template)}
    assert routes["GET /connect/{session_id}"] == "Consent"
    assert routes["POST /connect/{session_id}"] == "Consent"
    assert routes["ANY /admin/{proxy+}"] == "Admin"


def test_an_alias_of_a_function_outside_the_stack_is_refused() -> None:
    template = sample_template()
    template["Resources"]["ForeignLive"] = {
        "Type": "AWS::Lambda::Alias",
        "Properties": {
            "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:other",
            "Name": "live",
        },
    }
    template["Resources"]["ConsentIntegration"]["Properties"]["IntegrationUri"] = {"Ref": "ForeignLive"}
    with pytest.raises(TemplateError, match="ConsentIntegration"):
        read_routes(template)
