"""``list_profiles``: boto3's paginator over every page, ``TypeDeserializer`` for every
attribute type, gone profiles and key attributes left out. A real botocore client with a
``Stubber`` answers (no network)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
import pytest
from ads_connect.consumer import list_profiles
from ads_connect.table_schema import profile_key, profiles_sk_prefix, tenant_pk
from botocore.stub import Stubber

TABLE = "ads-connect-prod"


def _client() -> Any:
    return boto3.client(
        "dynamodb", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def _item(profile_id: str, **extra: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {
        **{name: {"S": value} for name, value in profile_key("acme", "EU", profile_id).items()},
        "entity": {"S": "profile"},
        "tenant_region": {"S": "acme#EU"},
        "profile_id": {"S": profile_id},
        "region": {"S": "EU"},
        "gone": {"BOOL": False},
    }
    item.update(extra)
    return item


def _expected_query(start: dict[str, Any] | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :profile)",
        "ExpressionAttributeNames": {"#pk": "pk", "#sk": "sk"},
        "ExpressionAttributeValues": {
            ":pk": {"S": tenant_pk("acme")},
            ":profile": {"S": profiles_sk_prefix()},
        },
    }
    if start is not None:
        params["ExclusiveStartKey"] = start
    return params


def test_every_page_is_read_and_gone_profiles_are_left_out() -> None:
    # Given three pages, the second holding a gone profile
    client = _client()
    first_key = {name: {"S": value} for name, value in profile_key("acme", "EU", "1").items()}
    second_key = {name: {"S": value} for name, value in profile_key("acme", "EU", "3").items()}
    with Stubber(client) as stub:
        stub.add_response("query", {"Items": [_item("1")], "LastEvaluatedKey": first_key}, _expected_query())
        stub.add_response(
            "query",
            {"Items": [_item("2", gone={"BOOL": True}), _item("3")], "LastEvaluatedKey": second_key},
            _expected_query(first_key),
        )
        stub.add_response("query", {"Items": [_item("4")]}, _expected_query(second_key))
        # When the consumer lists the tenant's profiles
        profiles = list_profiles("acme", table_name=TABLE, dynamodb_client=client)
        # Then it followed LastEvaluatedKey to the last page (the Stubber checked each request)
        stub.assert_no_pending_responses()
    assert [p["profile_id"] for p in profiles] == ["1", "3", "4"]
    assert profiles[0] == {"profile_id": "1", "region": "EU", "gone": False}


def test_every_attribute_type_is_decoded_as_boto3_decodes_it() -> None:
    # Given a mapping with a number, a map, a list, a null, a string set and a long profile id
    client = _client()
    item = _item(
        "12345678901234567890",
        daily_budget={"N": "12.50"},
        discovered={"N": "3"},
        account_info={"M": {"id": {"S": "ENTITY1"}, "valid": {"BOOL": True}, "rank": {"N": "2"}}},
        labels={"L": [{"S": "a"}, {"N": "1"}]},
        account_name={"NULL": True},
        tags={"SS": ["x", "y"]},
    )
    with Stubber(client) as stub:
        stub.add_response("query", {"Items": [item]}, _expected_query())
        [profile] = list_profiles("acme", table_name=TABLE, dynamodb_client=client)
    # Then each value has its Python type (the old first-value decoding gave strings and dicts)
    assert profile["profile_id"] == "12345678901234567890"
    assert profile["daily_budget"] == Decimal("12.50")
    assert profile["discovered"] == 3
    assert profile["account_info"] == {"id": "ENTITY1", "valid": True, "rank": Decimal(2)}
    assert profile["labels"] == ["a", Decimal(1)]
    assert profile["account_name"] is None
    assert profile["tags"] == {"x", "y"}
    assert {"pk", "sk", "entity", "tenant_region"}.isdisjoint(profile)


def test_an_aws_error_reaches_the_caller() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error("query", "AccessDeniedException", "not this partition", 400)
        with pytest.raises(client.exceptions.ClientError) as failure:
            list_profiles("acme", table_name=TABLE, dynamodb_client=client)
    assert failure.value.response["Error"]["Code"] == "AccessDeniedException"
