"""The product's DynamoDB table as a boto3 resource with the shared client configuration.

Apart from ``adapters/aws.py`` because that module ships in the consumer wheel, which needs no
DynamoDB resource (and no type stubs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3

from ads_connect.adapters.aws import AWS_CLIENT_CONFIG

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def dynamodb_table(table_name: str) -> Table:
    """Callers that hold several stores of one table pass them this one object (one client to
    build at cold start)."""
    return boto3.resource("dynamodb", config=AWS_CLIENT_CONFIG).Table(table_name)


def query_pages(table: Table, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every page of one query (a page holds at most 1 MB): each response, in order."""
    while True:
        response = table.query(**kwargs)
        yield dict(response)
        last = response.get("LastEvaluatedKey")
        if not last:
            return
        kwargs["ExclusiveStartKey"] = last
