"""The read-only AWS calls ``preflight`` and ``doctor`` make, behind one small class.

Each method answers plain data, or ``None`` for "not there"; an AWS failure that is not "not
there" becomes ``CliError`` (exit 4 for credentials/denied, 5 unreachable, 1 otherwise) naming
the operation and AWS's error code, never a message that could echo a value. Tests run it
against moto; where moto lacks a call (Lambda GetAccountSettings) they override that one method.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from cli.errors import CliError, ExitCode

NO_REGION = "no AWS region configured: pass --region or set AWS_REGION"
# Every call gives up within seconds (connect 5 s, read 10 s, 3 attempts).
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})
_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "ExpiredToken",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
}


@dataclass(frozen=True)
class StackInfo:
    name: str
    status: str
    outputs: dict[str, str]


@dataclass(frozen=True)
class SecretInfo:
    arn: str
    deleted_at: datetime | None


@dataclass(frozen=True)
class LambdaConcurrency:
    account_limit: int
    unreserved: int


class AwsReads:
    def __init__(self, session: boto3.Session) -> None:
        self.session = session
        self._clients: dict[str, Any] = {}

    @property
    def region(self) -> str | None:
        return self.session.region_name

    def require_region(self) -> str:
        """The region every check is about (STS alone would answer without one)."""
        if not self.region:
            raise CliError(ExitCode.USAGE, NO_REGION)
        return self.region

    def client(self, service: str) -> Any:
        if service not in self._clients:
            try:
                self._clients[service] = self.session.client(service, config=CLIENT_CONFIG)  # type: ignore[call-overload]
            except NoRegionError:
                raise CliError(ExitCode.USAGE, NO_REGION) from None
        return self._clients[service]

    def call(self, service: str, operation: str, missing: tuple[str, ...] = (), **params: Any) -> Any:
        """One AWS call; ``None`` when AWS answers one of the ``missing`` error codes."""
        try:
            return getattr(self.client(service), operation)(**params)
        except NoCredentialsError:
            raise CliError(
                ExitCode.AUTH, "no AWS credentials found: set AWS_PROFILE or run `aws sso login`"
            ) from None
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in missing:
                return None
            if code in _DENIED:
                raise CliError(ExitCode.AUTH, f"AWS denied {service}:{operation} ({code})") from None
            raise CliError(
                ExitCode.API_ERROR, f"{service}:{operation} failed ({code or 'unknown'})"
            ) from None
        except BotoCoreError as exc:
            raise CliError(ExitCode.UNREACHABLE, f"could not reach {service}: {type(exc).__name__}") from None

    # --- the reads ------------------------------------------------------------------------------

    def caller_identity(self) -> dict[str, str]:
        answer = self.call("sts", "get_caller_identity")
        return {"account": str(answer["Account"]), "arn": str(answer["Arn"])}

    def stack(self, name: str) -> StackInfo | None:
        # CloudFormation's only ValidationError for DescribeStacks by name: no such stack.
        answer = self.call("cloudformation", "describe_stacks", ("ValidationError",), StackName=name)
        if not answer or not answer.get("Stacks"):
            return None
        stack = answer["Stacks"][0]
        outputs = {str(o["OutputKey"]): str(o.get("OutputValue", "")) for o in stack.get("Outputs", [])}
        return StackInfo(name, str(stack["StackStatus"]), outputs)

    def ssm_parameter(self, name: str) -> str | None:
        answer = self.call("ssm", "get_parameter", ("ParameterNotFound",), Name=name)
        return str(answer["Parameter"]["Value"]) if answer else None

    def lambda_concurrency(self) -> LambdaConcurrency:
        limit = self.call("lambda", "get_account_settings")["AccountLimit"]
        return LambdaConcurrency(
            int(limit["ConcurrentExecutions"]), int(limit["UnreservedConcurrentExecutions"])
        )

    def secret(self, secret_id: str) -> SecretInfo | None:
        answer = self.call(
            "secretsmanager", "describe_secret", ("ResourceNotFoundException",), SecretId=secret_id
        )
        if not answer:
            return None
        return SecretInfo(str(answer["ARN"]), answer.get("DeletedDate"))

    def table_names(self, prefix: str) -> Iterator[str]:
        """Tables whose name starts with ``prefix`` (every page of ListTables, filtered here)."""
        params: dict[str, Any] = {}
        while True:
            page = self.call("dynamodb", "list_tables", **params)
            yield from (str(name) for name in page.get("TableNames", []) if name.startswith(prefix))
            if not page.get("LastEvaluatedTableName"):
                return
            params["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]

    def available_regions(self, service: str) -> list[str]:
        """The regions botocore's endpoint data lists for ``service`` (no call)."""
        return list(self.session.get_available_regions(service))

    def schedule_state(self, name: str) -> str | None:
        answer = self.call("scheduler", "get_schedule", ("ResourceNotFoundException",), Name=name)
        return str(answer["State"]) if answer else None

    def queue_depth(self, url: str) -> int | None:
        """Messages waiting plus in flight; ``None`` when the queue does not exist."""
        answer = self.call(
            "sqs",
            "get_queue_attributes",
            ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"),
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )
        if not answer:
            return None
        attributes = answer.get("Attributes", {})
        return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
            attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
        )

    def alarms(self, name_prefix: str) -> dict[str, str]:
        """Alarm name -> state of the alarms whose name starts with ``name_prefix``."""
        states: dict[str, str] = {}
        params: dict[str, Any] = {
            "AlarmNamePrefix": name_prefix,
            "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
        }
        while True:
            page = self.call("cloudwatch", "describe_alarms", **params)
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                states[str(alarm["AlarmName"])] = str(alarm["StateValue"])
            if not page.get("NextToken"):
                return states
            params["NextToken"] = page["NextToken"]

    def count(self, table: str, index: str, key: str, value: str) -> int | None:
        """Items of ``index`` whose partition key ``key`` is ``value`` (Select=COUNT, every page);
        ``None`` when the table does not exist."""
        total = 0
        params: dict[str, Any] = {
            "TableName": table,
            "IndexName": index,
            "KeyConditionExpression": "#k = :v",
            "ExpressionAttributeNames": {"#k": key},
            "ExpressionAttributeValues": {":v": {"S": value}},
            "Select": "COUNT",
        }
        while True:
            page = self.call("dynamodb", "query", ("ResourceNotFoundException",), **params)
            if page is None:
                return None
            total += int(page.get("Count", 0))
            if not page.get("LastEvaluatedKey"):
                return total
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
