"""``list_profiles``: a tenant's advertising profile mappings, read straight from the table
(the consumer's role may ``dynamodb:Query`` its tenant's partition only)."""

from __future__ import annotations

from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

from ..adapters.aws import AWS_CLIENT_CONFIG
from ..table_schema import PARTITION_KEY, PROFILE_INDEX_SORT_KEY, SORT_KEY, profiles_sk_prefix, tenant_pk

# Key and bookkeeping attributes: the table's business, not the profile's.
_NOT_PROFILE_FIELDS = frozenset({PARTITION_KEY, SORT_KEY, PROFILE_INDEX_SORT_KEY, "entity"})
_deserializer = TypeDeserializer()


def list_profiles(tenant_id: str, *, table_name: str, dynamodb_client: Any = None) -> list[dict[str, Any]]:
    """The tenant's current (not gone) profile mappings in every region, each a plain dict
    (``profile_id`` is a string, numbers come back as ``decimal.Decimal``, maps and lists as
    dicts and lists, a NULL as ``None``: boto3's ``TypeDeserializer``), all pages read."""
    client = dynamodb_client or boto3.client("dynamodb", config=AWS_CLIENT_CONFIG)
    pages = client.get_paginator("query").paginate(
        TableName=table_name,
        KeyConditionExpression="#pk = :pk AND begins_with(#sk, :profile)",
        ExpressionAttributeNames={"#pk": PARTITION_KEY, "#sk": SORT_KEY},
        ExpressionAttributeValues={
            ":pk": {"S": tenant_pk(tenant_id)},
            ":profile": {"S": profiles_sk_prefix()},
        },
    )
    profiles: list[dict[str, Any]] = []
    for page in pages:
        for item in page.get("Items", []):
            profile = {
                name: _deserializer.deserialize(value)
                for name, value in item.items()
                if name not in _NOT_PROFILE_FIELDS
            }
            if profile.get("gone") is not True:
                profiles.append(profile)
    return profiles
