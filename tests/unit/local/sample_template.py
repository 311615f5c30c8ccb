"""A small hand-written CloudFormation template shaped like CDK's output for the stack:
one table, a KMS key, the LWA secret, work queue + DLQ, event bus, four functions, HTTP API
routes with Lambda integrations, a schedule and an SQS event source mapping."""

from __future__ import annotations

import copy
from typing import Any

from ads_connect.table_schema import create_table_kwargs

_TABLE = create_table_kwargs("unused")

FUNCTION_ENV: dict[str, Any] = {
    "ADS_CONNECT_TABLE_NAME": {"Ref": "Table"},
    "ADS_CONNECT_SECRET_PREFIX": "ads-connect",
    "ADS_CONNECT_LWA_SECRET_ID": {"Ref": "LwaSecret"},
    "ADS_CONNECT_EVENT_BUS_NAME": {"Ref": "Bus"},
    "ADS_CONNECT_WORK_QUEUE_URL": {"Ref": "WorkQueue"},
    "ADS_CONNECT_PRIVATE_SECRET_KMS_KEY_ID": {"Fn::GetAtt": ["Key", "Arn"]},
    "ADS_CONNECT_PRIVATE_SECRET_READER_ARNS": {
        "Fn::Join": ["", ['["', {"Fn::GetAtt": ["WorkerRole", "Arn"]}, '"]']]
    },
    "ADS_CONNECT_APP_NAME": "Sample App",
    "STACK_REGION": {"Fn::Sub": "${AWS::Region}-${Table}"},
}


def _function(handler: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Code": {"S3Bucket": {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}},
            "Handler": handler,
            "Runtime": "python3.12",
            "Role": {"Fn::GetAtt": ["WorkerRole", "Arn"]},
            "Layers": [{"Ref": "DepsLayer"}],
            "Timeout": 29,
            "MemorySize": 512,
            "Environment": {"Variables": copy.deepcopy(FUNCTION_ENV)},
        },
    }


def _route(key: str, integration: str, iam: bool = False) -> dict[str, Any]:
    props: dict[str, Any] = {
        "ApiId": {"Ref": "Api"},
        "RouteKey": key,
        "Target": {"Fn::Join": ["", ["integrations/", {"Ref": integration}]]},
        "AuthorizationType": "AWS_IAM" if iam else "NONE",
    }
    return {"Type": "AWS::ApiGatewayV2::Route", "Properties": props}


def _integration(function: str) -> dict[str, Any]:
    return {
        "Type": "AWS::ApiGatewayV2::Integration",
        "Properties": {
            "ApiId": {"Ref": "Api"},
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": {"Fn::GetAtt": [function, "Arn"]},
            "PayloadFormatVersion": "2.0",
        },
    }


def sample_template() -> dict[str, Any]:
    return {
        "Resources": {
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "KeySchema": _TABLE["KeySchema"],
                    "AttributeDefinitions": _TABLE["AttributeDefinitions"],
                    "GlobalSecondaryIndexes": _TABLE["GlobalSecondaryIndexes"],
                    "BillingMode": "PAY_PER_REQUEST",
                    "TimeToLiveSpecification": {"AttributeName": "expires_at_ttl", "Enabled": True},
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                },
                "UpdateReplacePolicy": "Retain",
                "DeletionPolicy": "Retain",
            },
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"Description": "private secrets"}},
            "LwaSecret": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {
                    "Name": "ads-connect/lwa-client",
                    "SecretString": '{"client_id": "", "client_secret": ""}',
                },
            },
            "WorkDlq": {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 1209600}},
            "WorkQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "VisibilityTimeout": 180,
                    "RedrivePolicy": {
                        "deadLetterTargetArn": {"Fn::GetAtt": ["WorkDlq", "Arn"]},
                        "maxReceiveCount": 5,
                    },
                },
            },
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "ads-connect-events"}},
            "WorkerRole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
            "DepsLayer": {"Type": "AWS::Lambda::LayerVersion", "Properties": {}},
            "Consent": _function("ads_connect.handlers.consent.handler"),
            "Callback": _function("ads_connect.handlers.callback.handler"),
            "Admin": _function("ads_connect.handlers.admin.handler"),
            "Scheduler": _function("ads_connect.handlers.refresh_scheduler.handler"),
            "Worker": _function("ads_connect.handlers.refresh_worker.handler"),
            "LogRetention": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Handler": "index.handler", "Runtime": "nodejs20.x"},
            },
            "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "HTTP"}},
            "ConsentIntegration": _integration("Consent"),
            "CallbackIntegration": _integration("Callback"),
            "AdminIntegration": _integration("Admin"),
            "ConnectGet": _route("GET /connect/{session_id}", "ConsentIntegration"),
            "ConnectPost": _route("POST /connect/{session_id}", "ConsentIntegration"),
            "CallbackGet": _route("GET /callback", "CallbackIntegration"),
            "ResultGet": _route("GET /result/{result_id}", "CallbackIntegration"),
            "AdminAny": _route("ANY /admin/{proxy+}", "AdminIntegration", iam=True),
            "Schedule": {
                "Type": "AWS::Scheduler::Schedule",
                "Properties": {
                    "ScheduleExpression": "rate(5 minutes)",
                    "FlexibleTimeWindow": {"Mode": "OFF"},
                    "Target": {"Arn": {"Fn::GetAtt": ["Scheduler", "Arn"]}, "RoleArn": "x"},
                },
            },
            "WorkerSource": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "EventSourceArn": {"Fn::GetAtt": ["WorkQueue", "Arn"]},
                    "FunctionName": {"Ref": "Worker"},
                    "BatchSize": 5,
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                },
            },
        }
    }
