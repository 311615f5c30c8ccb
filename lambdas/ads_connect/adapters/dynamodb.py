"""The product's DynamoDB table as a boto3 resource with the shared client configuration.

Apart from ``adapters/aws.py`` because that module ships in the consumer wheel, which needs no
DynamoDB resource (and no type stubs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

from ads_connect.adapters.aws import AWS_CLIENT_CONFIG

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def dynamodb_table(table_name: str) -> Table:
    """Callers that hold several stores of one table pass them this one object (one client to
    build at cold start)."""
    return boto3.resource("dynamodb", config=AWS_CLIENT_CONFIG).Table(table_name)
